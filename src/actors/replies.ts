import type { ChatMessage } from '../agents/chat-message.js';
import type { AgentResponse } from './protocol.js';

/** The reply of a turn: its last assistant message, as a one-element list (empty if none). */
export function finalReply(response: AgentResponse): ChatMessage[] {
  for (let i = response.messages.length - 1; i >= 0; i--) {
    if (response.messages[i].role === 'assistant') return [response.messages[i]];
  }
  return [];
}
