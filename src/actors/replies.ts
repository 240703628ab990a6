import type { ChatMessage } from '../agents/chat-message.js';
import type { AgentResponse } from './protocol.js';

/** The reply of a turn: its last assistant message, as a one-element list (empty if none). */
export function finalReply(response: AgentResponse): ChatMessage[] {
  for (let i = response.messages.length - 1; i >= 0; i--) {
    if (response.messages[i].role === 'assistant') return [response.messages[i]];
  }
  return [];
}

/**
 * What a `complete_task` turn leaves as the answer: the turn's own words when it had some, else
 * its summary as an assistant message (an id derived from the reply, so it is unique).
 */
export function completionAnswer(lastReply: ChatMessage[], response: AgentResponse, invocationId: string): ChatMessage[] {
  const reply = lastReply[0];
  if (reply && reply.content.trim() !== '') return lastReply;
  const summary = response.outcome.kind === 'complete' ? response.outcome.summary : response.text;
  return [{ id: `${reply?.id ?? `${invocationId}:${response.agent}`}:summary`, role: 'assistant', name: response.agent, content: summary }];
}
