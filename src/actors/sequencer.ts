/**
 * The sequential manager: on `kickoff` asks the first member to speak; when member i has
 * answered (and the termination condition, if any, says go on), asks member i+1; after the last
 * member, sends the completion (the last reply) to the end executor.
 */
import { and, assign, emit, enqueueActions, setup } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import { effect, errorCommand, sendCommand, type AgentIdLike, type MessageEvent } from '../runtime/index.js';
import { turnRequest, type AgentResponse, type Completion, type ConversationMessage, type HistoryMessage, type Kickoff } from './protocol.js';
import { finalReply } from './replies.js';
import { checkingTerminationState, heardMessages, invokeError, terminated, type TerminationEvents, type TerminationInput } from './termination.js';

export interface SequencerInput {
  members: Array<{ name: string; id: AgentIdLike }>;
  end: AgentIdLike;
  /** Whether a termination condition is configured (the provided `checkTermination` effect runs). */
  checkTermination?: boolean;
}

export interface SequencerContext extends SequencerInput {
  next: number;
  lastReply: ChatMessage[];
  /** The transcript, kept only when a termination condition needs it. */
  conversation: ChatMessage[];
}

type SequencerEvent = MessageEvent<Kickoff> | MessageEvent<AgentResponse> | MessageEvent<ConversationMessage> | MessageEvent<HistoryMessage> | TerminationEvents;

function completion(context: SequencerContext, reason: string): Completion {
  const last = context.members[Math.min(context.next, context.members.length - 1)].name;
  return { type: 'completion', reason, messages: context.lastReply, lastAgent: last };
}

/**
 * The sequential manager's machine.
 *
 * @example
 * createActor(sequencerMachine, { input: { members: [{ name: 'Writer', id: writerId }], end: endId } });
 */
export const sequencerMachine = setup({
  types: {
    context: {} as SequencerContext,
    input: {} as SequencerInput,
    events: {} as SequencerEvent,
  },
  guards: {
    isCurrentSpeaker: ({ context, event }) => (event as MessageEvent<AgentResponse>).message.agent === context.members[context.next]?.name,
    isLastMember: ({ context }) => context.next === context.members.length - 1,
    hasTerminationCondition: ({ context }) => context.checkTermination === true,
    isTerminated: terminated,
  },
  actions: {
    /** Provided by the orchestration: the user's termination condition. */
    // Never ends the run; the orchestration provides the user's condition. (Declared here, with an
    // untyped `_options`, so XState still infers this machine's action types: see `effect`.)
    checkTermination: effect('checkTermination', (_input: TerminationInput, _options): boolean => false),
    recordHeard: assign({ conversation: ({ context, event }) => (context.checkTermination ? [...context.conversation, ...heardMessages(event)] : context.conversation) }),
    recordReply: assign({ lastReply: ({ event }) => finalReply((event as MessageEvent<AgentResponse>).message) }),
    askFirstMember: emit(({ context }) => sendCommand(turnRequest(), context.members[0].id)),
    askNextMember: enqueueActions(({ context, enqueue }) => {
      const next = context.next + 1;
      enqueue.assign({ next });
      enqueue.emit(sendCommand(turnRequest(), context.members[next].id));
    }),
    completeWithLastReply: emit(({ context }) => sendCommand(completion(context, 'completed'), context.end)),
    completeTerminated: emit(({ context }) => sendCommand(completion(context, 'terminated'), context.end)),
    /** A termination condition that throws fails the invocation with its error. */
    failWithError: emit(({ event }) => errorCommand(invokeError(event))),
  },
}).createMachine({
  id: 'sequencer',
  // Not `{ ...input, … }`: on Node 20's V8, adding fields to a spread copy makes new hidden
  // classes on every call; Object.assign reuses them.
  context: ({ input }) => Object.assign({}, input, { next: 0, lastReply: [], conversation: [] }),
  initial: 'waitingForKickoff',
  on: {
    history: { actions: 'recordHeard' },
    conversation: { actions: 'recordHeard' },
  },
  states: {
    waitingForKickoff: {
      on: { kickoff: { target: 'waitingForMember', actions: 'askFirstMember' } },
    },
    waitingForMember: {
      on: {
        agent_response: [
          { guard: and(['isCurrentSpeaker', 'hasTerminationCondition']), target: 'checkingTermination', actions: ['recordHeard', 'recordReply'] },
          { guard: and(['isCurrentSpeaker', 'isLastMember']), target: 'done', actions: ['recordReply', 'completeWithLastReply'] },
          { guard: 'isCurrentSpeaker', actions: ['recordReply', 'askNextMember'] },
        ],
      },
    },
    checkingTermination: checkingTerminationState([
      { guard: 'isLastMember', target: 'done', actions: 'completeWithLastReply' },
      { target: 'waitingForMember', actions: 'askNextMember' },
    ]),
    done: {},
  },
});
