/**
 * Prints a conversation as it happens, from the invocation's event stream:
 *
 *   Customer: Where is my order 123?
 *     [handoff] Triage → OrderStatus (The customer wants to know where their order is.)
 *     [tool] check_order_status({"order_id":"123"}) → Order 123 (…) is delivered: …
 *   OrderStatus: I checked for you: …
 */
import type { OrchestrationEvent, OrchestrationOutput, ToolCall } from '../../src/index.js';

export type Print = (line: string) => void;

function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Handoffs are shown as `[handoff]` lines, so their transfer tool calls are not shown as tools. */
const isControl = (name: string) => name.startsWith('transfer_to_') || name === 'complete_task';

/** Returns a function that prints one event (call it with every event of `result.events`). */
export function createPrinter(print: Print): (event: OrchestrationEvent<unknown>) => void {
  const calls = new Map<string, ToolCall>();
  return (event) => {
    switch (event.type) {
      case 'agent_response':
        // A turn that only handed off has no text; its `[handoff]` line tells the story.
        if (event.message.content.trim()) print(`${event.agent}: ${event.message.content}`);
        break;
      case 'tool_call':
        if (!isControl(event.toolCall.name)) calls.set(event.toolCall.id, event.toolCall);
        break;
      case 'tool_result': {
        const call = calls.get(event.toolCallId);
        if (!call) break;
        calls.delete(event.toolCallId);
        print(`  [tool] ${call.name}(${oneLine(call.arguments)}) → ${event.isError ? 'ERROR ' : ''}${oneLine(event.content)}`);
        break;
      }
      case 'handoff':
        print(`  [handoff] ${event.from} → ${event.to}${event.reason ? ` (${event.reason})` : ''}`);
        break;
      case 'approval_requested':
        print(`  [approval] ${event.agent} wants to run ${event.toolCall.name}(${oneLine(event.toolCall.arguments)})`);
        break;
      case 'failed':
        print(`  [failed] ${event.error instanceof Error ? event.error.message : String(event.error)}`);
        break;
      default:
        break;
    }
  };
}

/** The end of the run: why it ended, who spoke last, and the token totals. */
export function printSummary(output: OrchestrationOutput, print: Print): void {
  const { total, byAgent } = output.usage;
  print('');
  print(`Conversation ended: ${output.reason}${output.lastAgent ? ` (last agent: ${output.lastAgent})` : ''}`);
  print(`Tokens: ${total.inputTokens} in + ${total.outputTokens} out = ${total.totalTokens}`);
  for (const [agent, usage] of Object.entries(byAgent)) {
    print(`  ${agent.padEnd(12)} ${String(usage.inputTokens).padStart(6)} in ${String(usage.outputTokens).padStart(5)} out`);
  }
}
