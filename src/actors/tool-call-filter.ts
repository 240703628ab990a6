import type { ChatMessage } from '../agents/chat-message.js';

/**
 * What an agent keeps of another agent's turn:
 * - `handoffOnly` (default): hide orchestration controls (handoff / complete_task calls and their
 *   results); keep ordinary tool calls and results;
 * - `all`: hide every tool call and tool result, keep only what was said;
 * - `none`: keep everything.
 */
export type ToolCallFilterMode = 'handoffOnly' | 'all' | 'none';

/** Applies a filter mode to messages; `controlIds` are the tool call ids that were controls. */
export function filterToolCalls(messages: ChatMessage[], mode: ToolCallFilterMode, controlIds: readonly string[] = []): ChatMessage[] {
  if (mode === 'none') return messages;
  if (mode === 'handoffOnly' && controlIds.length === 0) return messages;
  const hidden = (id: string) => mode === 'all' || controlIds.includes(id);
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === 'tool') {
      if (m.toolCallId === undefined || !hidden(m.toolCallId)) out.push(m);
      continue;
    }
    if (!m.toolCalls || m.toolCalls.length === 0) {
      out.push(m);
      continue;
    }
    const kept = m.toolCalls.filter((c) => !hidden(c.id));
    if (kept.length === m.toolCalls.length) out.push(m);
    else if (kept.length > 0) out.push({ ...m, toolCalls: kept });
    else if (m.content.length > 0) {
      const { toolCalls: _dropped, ...rest } = m;
      out.push(rest);
    }
  }
  return out;
}

/**
 * The last `size` messages, never starting with a tool result whose call was cut off (a provider
 * rejects a tool message without its call).
 */
export function contextWindow(messages: ChatMessage[], size: number | null | undefined): ChatMessage[] {
  if (!size || messages.length <= size) return messages;
  let start = messages.length - size;
  while (start < messages.length && messages[start].role === 'tool') start++;
  return messages.slice(start);
}

/** Decides what an agent keeps of another agent's turn (see {@link filterToolCalls}). */
export type ResponseFilter = (messages: ChatMessage[], info: { mode: ToolCallFilterMode; controlToolCallIds: string[]; from: string; to: string }) => ChatMessage[];

/** The built-in modes as a {@link ResponseFilter}. */
export const filterByMode: ResponseFilter = (messages, info) => filterToolCalls(messages, info.mode, info.controlToolCallIds);

/**
 * What agent `to` keeps of an earlier transcript (a conversation continued with `continueFrom`),
 * exactly as if it had heard it turn by turn: its own turns whole; every other agent's turn (an
 * assistant message with the tool results after it) through `filter`, told who spoke (`from`) and
 * which calls were controls — known from the calls' `control` mark, never from a tool's name, so an
 * ordinary tool called `transfer_to_…` stays visible. User and system messages are kept.
 */
export function filterTranscript(messages: ChatMessage[], to: string, mode: ToolCallFilterMode, filter: ResponseFilter = filterByMode): ChatMessage[] {
  if (mode === 'none' && filter === filterByMode) return messages;
  const out: ChatMessage[] = [];
  let segment: ChatMessage[] = [];
  const flush = () => {
    if (segment.length === 0) return;
    const head = segment[0];
    const from = head.name ?? '';
    if (head.role !== 'assistant' || from === to) out.push(...segment);
    else {
      const controlToolCallIds = (head.toolCalls ?? []).filter((c) => c.control !== undefined).map((c) => c.id);
      out.push(...filter(segment, { mode, controlToolCallIds, from, to }));
    }
    segment = [];
  };
  for (const m of messages) {
    // A turn is an assistant message and the tool results after it; its next message starts another.
    if (m.role !== 'tool') flush();
    segment.push(m);
  }
  flush();
  return out;
}
