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

/**
 * Filters a finished transcript, where control calls are known only by their tool names. Each
 * assistant message is filtered together with the results that follow it, so two agents whose
 * providers reused a tool-call id cannot hide each other's calls.
 */
export function filterTranscript(messages: ChatMessage[], mode: ToolCallFilterMode, isControl: (toolName: string) => boolean): ChatMessage[] {
  if (mode === 'none') return messages;
  const out: ChatMessage[] = [];
  let segment: ChatMessage[] = [];
  const flush = () => {
    if (segment.length === 0) return;
    const head = segment[0];
    const controlIds = (head.toolCalls ?? []).filter((c) => isControl(c.name)).map((c) => c.id);
    out.push(...filterToolCalls(segment, mode, controlIds));
    segment = [];
  };
  for (const m of messages) {
    if (m.role !== 'tool') flush();
    segment.push(m);
  }
  flush();
  return out;
}
