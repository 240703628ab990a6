/**
 * What managers share about ending a run early: the provided `checkTermination` actor (the
 * user's `terminationCondition`), how a manager keeps the transcript it is judged on, and the
 * guard that reads its answer.
 */
import { fromPromise } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import type { MessageEvent } from '../runtime/index.js';
import type { AgentResponse, ConversationMessage, HistoryMessage } from './protocol.js';

export interface TerminationInput {
  conversation: ChatMessage[];
}

/** Placeholder for the provided termination condition: never ends the run. */
export const checkTerminationActor = fromPromise<boolean, TerminationInput>(async () => false);

/** The messages an event adds to the transcript (history, conversation or an agent's turn). */
export function heardMessages(event: { type: string }): ChatMessage[] {
  return (event as MessageEvent<ConversationMessage | HistoryMessage | AgentResponse>).message.messages;
}

/** Whether the finished `checkTermination` said to stop. */
export function terminated({ event }: { event: unknown }): boolean {
  return (event as { output?: unknown }).output === true;
}

/** The error a failed `checkTermination` (or other invoked decision) ended with. */
export function invokeError(event: unknown): unknown {
  return (event as { error: unknown }).error;
}
