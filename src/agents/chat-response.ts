import type { ChatResponse } from './chat-client.js';
import type { ToolCall, Usage } from './chat-message.js';
import { InvalidChatResponseError } from './errors.js';

/**
 * Checks what a `ChatClient` returned before anything relies on it, and returns a clean
 * {@link ChatResponse} (a new object: only the known fields, tool calls copied).
 *
 * Harmless gaps are filled in: a missing `toolCalls` becomes `[]`; a missing or null `usage`
 * becomes zeros (and a missing `totalTokens` the sum of the other two); `text` undefined or null
 * becomes `''` (Chat Completions sends `content: null` when the model only called tools);
 * `finishReason`/`model` undefined or null are left out. Anything else that does not fit
 * throws an {@link InvalidChatResponseError} naming `agent` and the field — for example
 * `toolCalls: null`, which is not the same as "no tool calls" in every client and is more
 * likely a bug than an intent.
 *
 * @example
 * const response = validateChatResponse(await client.complete(request), 'Refund');
 */
export function validateChatResponse(value: unknown, agent: string): ChatResponse {
  const fail = (field: string, got: unknown, expected: string): never => {
    const shown = field === '(response)' ? describe(got) : `${field} = ${describe(got)}`;
    throw new InvalidChatResponseError(agent, field, `The ChatClient for agent "${agent}" returned ${shown}; expected ${expected}.`);
  };
  if (!isObject(value)) return fail('(response)', value, 'a ChatResponse object ({ text, toolCalls, usage })');

  const { text, toolCalls, usage, finishReason, model } = value;
  if (text !== undefined && text !== null && typeof text !== 'string') fail('text', text, 'a string');
  if (toolCalls !== undefined && !Array.isArray(toolCalls)) {
    fail('toolCalls', toolCalls, toolCalls === null ? 'an array (use [] for no tool calls)' : 'an array');
  }
  const calls: ToolCall[] = ((toolCalls ?? []) as unknown[]).map((call, i) => {
    const at = `toolCalls[${i}]`;
    if (!isObject(call)) return fail(at, call, 'an object { id, name, arguments }');
    if (typeof call.id !== 'string' || call.id === '') fail(`${at}.id`, call.id, 'a non-empty string');
    if (typeof call.name !== 'string' || call.name === '') fail(`${at}.name`, call.name, 'a non-empty string');
    if (typeof call.arguments !== 'string') fail(`${at}.arguments`, call.arguments, 'the arguments as a JSON string');
    return { id: call.id as string, name: call.name as string, arguments: call.arguments as string };
  });

  const response: ChatResponse = { text: (text as string | null | undefined) ?? '', toolCalls: calls, usage: usageOf(usage, fail) };
  if (finishReason !== undefined && finishReason !== null) {
    if (typeof finishReason !== 'string') fail('finishReason', finishReason, 'a string');
    response.finishReason = finishReason as string;
  }
  if (model !== undefined && model !== null) {
    if (typeof model !== 'string') fail('model', model, 'a string');
    response.model = model as string;
  }
  return response;
}

function usageOf(usage: unknown, fail: (field: string, got: unknown, expected: string) => never): Usage {
  if (usage === undefined || usage === null) return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  if (!isObject(usage)) return fail('usage', usage, 'an object { inputTokens, outputTokens, totalTokens }');
  const count = (key: keyof Usage): number | undefined => {
    const n = usage[key];
    if (n === undefined || n === null) return undefined;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) fail(`usage.${key}`, n, 'a token count (a number ≥ 0)');
    return n as number;
  };
  const inputTokens = count('inputTokens') ?? 0;
  const outputTokens = count('outputTokens') ?? 0;
  return { inputTokens, outputTokens, totalTokens: count('totalTokens') ?? inputTokens + outputTokens };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${String(value)} (${typeof value})`;
  if (Array.isArray(value)) return `an array`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
