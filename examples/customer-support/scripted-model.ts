/**
 * A built-in model for the example, so it runs offline: one `ScriptedChatClient` per agent, each
 * with a responder that reads the conversation it is sent and answers the way a sensible model
 * would (hand off, call its tool, answer from the tool's result). Because it reacts to what it
 * sees instead of replaying a fixed list, the same model plays the conversation under every
 * `resumeWith`, tool-call filter and context window.
 */
import type { ChatMessage, ChatRequest } from '../../src/index.js';
import { ScriptedChatClient, type ScriptedResponder, type ScriptedStep } from '../../src/testing/index.js';
import type { AgentName } from './support-team.js';

type Intent = 'status' | 'refund' | 'return' | 'thanks' | 'other';

/** What the customer wants, from their latest message. */
function intentOf(text: string): Intent {
  const t = text.toLowerCase();
  if (/refund|money back/.test(t)) return 'refund';
  if (/\breturn|send (it|them) back/.test(t)) return 'return';
  if (/where|status|arriv|track|shipped/.test(t)) return 'status';
  if (/thank|that's all|bye/.test(t)) return 'thanks';
  return 'other';
}

function latestUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i].content;
  return '';
}

/** The most recent order number any user message mentions. */
function orderIdIn(messages: ChatMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const match = messages[i].role === 'user' ? /#?(\d{3,})\b/.exec(messages[i].content) : null;
    if (match) return match[1];
  }
  return undefined;
}

/** If the request ends with the result of this agent's own `toolName` call, that result. */
function ownToolResult(messages: ChatMessage[], toolName: string): string | undefined {
  const last = messages[messages.length - 1];
  if (last?.role !== 'tool') return undefined;
  for (let i = messages.length - 2; i >= 0; i--) {
    const call = messages[i].toolCalls?.find((c) => c.id === last.toolCallId);
    if (call) return call.name === toolName ? last.content : undefined;
  }
  return undefined;
}

/**
 * Gives every tool call an id unique across the whole conversation, as real providers do
 * (ScriptedChatClient's default, `call_<callIndex>_<i>`, is unique per client only, and this
 * model is four clients).
 */
function withCallIds(agent: AgentName, respond: (request: ChatRequest) => ScriptedStep): ScriptedResponder {
  return (request, callIndex) => {
    const step = respond(request);
    return step.toolCalls ? { ...step, toolCalls: step.toolCalls.map((c, i) => ({ ...c, id: `call_${agent}_${callIndex}_${i}` })) } : step;
  };
}

const reasonFor: Record<Intent, string> = {
  status: 'The customer wants to know where their order is.',
  refund: 'The customer asks for a refund.',
  return: 'The customer wants to return an order.',
  thanks: 'The customer is wrapping up.',
  other: 'The request is outside my area.',
};

function triage(request: ChatRequest): ScriptedStep {
  const intent = intentOf(latestUserText(request.messages));
  const transfer = (target: AgentName): ScriptedStep => ({ toolCalls: [{ name: `transfer_to_${target}`, arguments: { reason: reasonFor[intent] } }] });
  switch (intent) {
    case 'status': return transfer('OrderStatus');
    case 'refund': return transfer('Refund');
    case 'return': return transfer('Returns');
    case 'thanks': return { text: "You're welcome! Have a great day." };
    default: return { text: 'Hello, and thanks for contacting support! How can I help you today?' };
  }
}

interface Specialist {
  intent: Intent;
  tool: string;
  /** Arguments for the tool, from the order number and the customer's words. */
  args: (orderId: string, said: string) => Record<string, string>;
  /** The answer, from the tool's result. */
  answer: (result: string) => string;
}

function specialist({ intent, tool, args, answer }: Specialist) {
  return (request: ChatRequest): ScriptedStep => {
    const { messages } = request;
    const result = ownToolResult(messages, tool);
    if (result !== undefined) return { text: answer(result) };
    const said = latestUserText(messages);
    const wants = intentOf(said);
    if (wants === intent) {
      const orderId = orderIdIn(messages);
      if (!orderId) return { text: 'Happy to help. What is your order number?' };
      return { toolCalls: [{ name: tool, arguments: args(orderId, said) }] };
    }
    if (wants === 'thanks') return { text: "You're welcome — have a great day!" };
    // Routing by intent gives no transfer tools: say the phrase from the boundary line instead.
    if (!request.tools?.some((t) => t.name === 'transfer_to_Triage')) return { text: OUT_OF_SCOPE };
    return { toolCalls: [{ name: 'transfer_to_Triage', arguments: { reason: reasonFor[wants] } }] };
  };
}

/** The reason a customer gave, shortened to one clause for the tool's `reason` argument. */
function reasonFromWords(said: string): string {
  return /broken|damaged|cracked/i.test(said) ? 'Arrived broken' : 'Customer request';
}

/** A fresh scripted model per agent (fresh, so each conversation's call counts start at zero). */
export function createScriptedModel(): Record<AgentName, ScriptedChatClient> {
  return {
    Triage: new ScriptedChatClient(withCallIds('Triage', triage)),
    OrderStatus: new ScriptedChatClient(withCallIds('OrderStatus', specialist({
      intent: 'status',
      tool: 'check_order_status',
      args: (order_id) => ({ order_id }),
      answer: (result) => `I checked for you: ${result} Is there anything else I can help with?`,
    }))),
    Refund: new ScriptedChatClient(withCallIds('Refund', specialist({
      intent: 'refund',
      tool: 'process_refund',
      args: (order_id, said) => ({ order_id, reason: reasonFromWords(said) }),
      answer: (result) => `I'm sorry about that. ${result} Anything else I can do for you?`,
    }))),
    Returns: new ScriptedChatClient(withCallIds('Returns', specialist({
      intent: 'return',
      tool: 'process_return',
      args: (order_id, said) => ({ order_id, reason: reasonFromWords(said) }),
      answer: (result) => `Done. ${result} Anything else I can do for you?`,
    }))),
  };
}

/** What a specialist says when a request is outside its area (routing by intent's default phrase). */
const OUT_OF_SCOPE = 'This is outside my area.';

const specialistFor: Record<Intent, AgentName> = { status: 'OrderStatus', refund: 'Refund', return: 'Returns', thanks: 'OrderStatus', other: 'OrderStatus' };

/**
 * The scripted classifier for `--routing intent`: reads the last `[user]` line of the
 * conversation the router shows it and answers `{"agent": …}`, as a model with structured output would.
 */
export function createScriptedClassifier(): ScriptedChatClient {
  return new ScriptedChatClient((request) => {
    const users = (request.messages.at(-1)?.content ?? '').split('\n').filter((line) => line.startsWith('[user] '));
    return { text: JSON.stringify({ agent: specialistFor[intentOf(users.at(-1) ?? '')] }) };
  });
}

/** How many model calls a scripted model received, in all. */
export function modelCalls(model: Record<AgentName, ScriptedChatClient>): number {
  return Object.values(model).reduce((sum, client) => sum + client.callCount, 0);
}

