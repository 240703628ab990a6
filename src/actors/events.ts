/**
 * Events actors report to the invocation that hosts them (through the `report` action their
 * factory provides). The orchestration tags each with the invocation id and streams them.
 */
import type { ChatMessage, ToolCall, Usage } from '../agents/chat-message.js';

export type ActorEvent =
  | { type: 'agent_response'; agent: string; message: ChatMessage; messages: ChatMessage[]; usage: Usage }
  | { type: 'agent_response_delta'; agent: string; delta: string }
  | { type: 'tool_call'; agent: string; toolCall: ToolCall }
  | { type: 'tool_result'; agent: string; toolCallId: string; name: string; content: string; isError: boolean }
  | { type: 'handoff'; from: string; to: string; reason?: string }
  | { type: 'human_input_requested'; requestId: string; agent: string; message?: ChatMessage }
  | { type: 'approval_requested'; requestId: string; agent: string; toolCall: ToolCall }
  | { type: 'group_chat_turn'; round: number; speaker: string; reason?: string }
  | { type: 'magentic_plan'; facts: string; plan: string; reset: number }
  | { type: 'magentic_progress'; round: number; ledger: Record<string, unknown> };

export type ActorEventType = ActorEvent['type'];

/** The `report` action with its event, for use inside `enqueueActions` (typed loosely there). */
export function reportAction(event: ActorEvent): never {
  return { type: 'report', params: event } as never;
}
