import { z } from 'zod';
import { nanoid } from 'nanoid';

/** A tool call an assistant message asks for. `arguments` is the raw JSON text from the model. */
export const ToolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.string(),
  /**
   * Set by troupe on calls that were orchestration controls (a handoff, `complete_task`), so a
   * transcript says what each call was — filters never guess from a tool's name. Not sent to models.
   */
  control: z.enum(['handoff', 'complete']).optional(),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

/**
 * One message of a conversation: plain JSON. `metadata` is carried unchanged across every hop,
 * broadcast and checkpoint.
 */
export const ChatMessageSchema = z.object({
  id: z.string(),
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  /** Who said it: the agent's name for assistant messages, optionally the user's for user messages. */
  name: z.string().optional(),
  toolCalls: z.array(ToolCallSchema).optional(),
  /** For role "tool": the call this message answers. */
  toolCallId: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;
export type ChatRole = ChatMessage['role'];

/** Token counts. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** No tokens. */
export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 }) as Usage;

/** The sum of two token counts (`b` may be missing). */
export function addUsage(a: Usage, b: Usage | undefined): Usage {
  if (!b) return a;
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}

type MessageFields = Partial<Omit<ChatMessage, 'role' | 'content'>>;

/**
 * Builds a {@link ChatMessage} with a fresh id.
 *
 * @example
 * chatMessage('user', 'Where is my order #123?')
 */
export function chatMessage(role: ChatRole, content: string, fields: MessageFields = {}): ChatMessage {
  return { id: fields.id ?? nanoid(), role, content, ...withoutUndefined(fields) };
}

function withoutUndefined<T extends object>(fields: T): T {
  const out = {} as T;
  for (const key in fields) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}
