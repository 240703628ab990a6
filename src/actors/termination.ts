/**
 * What managers share about ending a run early: the provided `checkTermination` actor (the
 * user's `terminationCondition`), how a manager keeps the transcript it is judged on, and the
 * guard that reads its answer.
 */
import { fromPromise } from 'xstate';
import { BUSY_TAG } from '../runtime/index.js';
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

/**
 * A busy state that runs the provided `checkTermination` on `context.conversation`: true goes to
 * `done` with the machine's `completeTerminated`, false takes the first of `next` whose guard
 * holds, a throw goes to `done` with `failWithError`. Shared by every manager that checks.
 */
export function checkingTerminationState<const Next extends ReadonlyArray<{ target: string; guard?: string; actions?: string }>>(...next: Next) {
  return {
    tags: [BUSY_TAG],
    invoke: {
      id: 'checkTermination',
      src: 'checkTermination',
      input: ({ context }: { context: { conversation: ChatMessage[] } }) => ({ conversation: context.conversation }),
      onDone: [
        { guard: 'isTerminated', target: 'done', actions: 'completeTerminated' },
        ...next,
      ],
      onError: { target: 'done', actions: 'failWithError' },
    },
  } as const;
}
