/**
 * What managers share about ending a run early: the provided `checkTermination` effect (the
 * user's `terminationCondition`, performed by the host and answered with `checkTermination.done`
 * `{ output: boolean }` / `checkTermination.error` `{ error }`), how a manager keeps the
 * transcript it is judged on, and the guard that reads its answer.
 */
import { BUSY_TAG, cancelEffect, type EffectEvents } from '../runtime/index.js';
import type { ChatMessage } from '../agents/chat-message.js';
import type { MessageEvent } from '../runtime/index.js';
import type { AgentResponse, ConversationMessage, HistoryMessage } from './protocol.js';

export interface TerminationInput {
  conversation: ChatMessage[];
}

/** The answers of the `checkTermination` effect (add them to a manager's events). */
export type TerminationEvents = EffectEvents<'checkTermination', boolean>;

/** The messages an event adds to the transcript (history, conversation or an agent's turn). */
export function heardMessages(event: { type: string }): ChatMessage[] {
  return (event as MessageEvent<ConversationMessage | HistoryMessage | AgentResponse>).message.messages;
}

/** Whether the finished `checkTermination` said to stop. */
export function terminated({ event }: { event: unknown }): boolean {
  return (event as { output?: unknown }).output === true;
}

/** The error a failed `checkTermination` (or other invoked decision or effect) ended with. */
export function invokeError(event: unknown): unknown {
  return (event as { error: unknown }).error;
}

type Transition = { target: string; guard?: string; actions?: unknown };

/**
 * A busy state that performs the `checkTermination` effect on `context.conversation` (and cancels
 * it if the state is left otherwise): true goes to `done` with the machine's `completeTerminated`
 * (or to `options.terminated`), false takes the first of `next` whose guard holds, a throw goes to
 * `done` (or to `options.failed`) with `failWithError`. With `options.copy` the condition is handed
 * a deep copy (`structuredClone`) of the conversation, so changing it changes nothing.
 * Shared by every manager that checks; the machine declares a `checkTermination` action (an
 * `effect('checkTermination', …)` placeholder the orchestration replaces) and
 * {@link TerminationEvents} among its events.
 *
 * @example
 * checkingTermination: checkingTerminationState([{ target: 'waitingForMember', actions: 'askNextMember' }]),
 */
export function checkingTerminationState<
  const Next extends ReadonlyArray<Transition>,
  const Terminated extends Transition = { target: 'done'; actions: 'completeTerminated' },
  const Failed extends string = 'done',
>(next: Next, options: { copy?: boolean; terminated?: Terminated; failed?: Failed } = {}) {
  // NoInfer below: without options, the defaults must hold, not whatever the machine config would accept.
  const onTerminated = options.terminated ?? { target: 'done', actions: 'completeTerminated' };
  const copy = options.copy === true;
  return {
    tags: [BUSY_TAG],
    entry: {
      type: 'checkTermination',
      params: ({ context }: { context: { conversation: ChatMessage[] } }): TerminationInput => ({
        conversation: copy ? structuredClone(context.conversation) : context.conversation,
      }),
    },
    exit: cancelEffect('checkTermination'),
    on: {
      'checkTermination.done': [{ guard: 'isTerminated', ...onTerminated }, ...next] as [NoInfer<Terminated> & { guard: 'isTerminated' }, ...Next],
      'checkTermination.error': { target: (options.failed ?? 'done') as NoInfer<Failed>, actions: 'failWithError' },
    },
  } as const;
}
