/**
 * The concurrent manager: on `kickoff` asks every member at once, then waits for one reply from
 * each and sends the completion (one reply per member, in member order) to the end executor. A
 * termination condition, if any, is checked after each reply and ends the run with the replies
 * so far.
 */
import { and, assign, emit, enqueueActions, setup } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import { effect, errorCommand, sendCommand, type AgentIdLike, type MessageEvent } from '../runtime/index.js';
import { turnRequest, type AgentResponse, type Completion, type ConversationMessage, type HistoryMessage, type Kickoff } from './protocol.js';
import { finalReply } from './replies.js';
import { checkingTerminationState, heardMessages, invokeError, terminated, type TerminationEvents, type TerminationInput } from './termination.js';

export interface CollectorInput {
  members: Array<{ name: string; id: AgentIdLike }>;
  end: AgentIdLike;
  checkTermination?: boolean;
}

export interface CollectorContext extends CollectorInput {
  replies: Record<string, ChatMessage[]>;
  /**
   * How many members have replied, so the last reply is known without counting `replies` (an
   * O(members) scan per reply). Absent from contexts saved before it existed: then counted once.
   */
  replied?: number;
  conversation: ChatMessage[];
}

/** How many members have replied. */
function repliedCount(context: CollectorContext): number {
  return context.replied ?? Object.keys(context.replies).length;
}

type CollectorEvent = MessageEvent<Kickoff> | MessageEvent<AgentResponse> | MessageEvent<ConversationMessage> | MessageEvent<HistoryMessage> | TerminationEvents;

function completion(context: CollectorContext, reason: string): Completion {
  return { type: 'completion', reason, messages: context.members.flatMap((m) => (Object.hasOwn(context.replies, m.name) ? context.replies[m.name] : [])) };
}

/**
 * The concurrent manager's machine.
 *
 * @example
 * createActor(collectorMachine, { input: { members: [{ name: 'Physicist', id }, { name: 'Chemist', id: id2 }], end: endId } });
 */
export const collectorMachine = setup({
  types: {
    context: {} as CollectorContext,
    input: {} as CollectorInput,
    events: {} as CollectorEvent,
  },
  guards: {
    isAwaitedMember: ({ context, event }) => {
      const { agent } = (event as MessageEvent<AgentResponse>).message;
      // Own keys only: a member may be called `toString`.
      return !Object.hasOwn(context.replies, agent) && context.members.some((m) => m.name === agent);
    },
    /** The reply being handled (an awaited member's) is the last one missing. */
    isLastReply: ({ context }) => repliedCount(context) + 1 === context.members.length,
    hasEveryReply: ({ context }) => repliedCount(context) === context.members.length,
    hasTerminationCondition: ({ context }) => context.checkTermination === true,
    isTerminated: terminated,
  },
  actions: {
    // Never ends the run; the orchestration provides the user's condition (see `effect` for the untyped `_options`).
    checkTermination: effect('checkTermination', (_input: TerminationInput, _options): boolean => false),
    recordHeard: assign({ conversation: ({ context, event }) => (context.checkTermination ? [...context.conversation, ...heardMessages(event)] : context.conversation) }),
    recordReply: assign(({ context, event }) => {
      const response = (event as MessageEvent<AgentResponse>).message;
      return { replies: { ...context.replies, [response.agent]: finalReply(response) }, replied: repliedCount(context) + 1 };
    }),
    // Every member is asked at once: wall time is the slowest member's, not the sum.
    askEveryMember: enqueueActions(({ context, enqueue }) => {
      for (const member of context.members) enqueue.emit(sendCommand(turnRequest(), member.id));
    }),
    completeWithAllReplies: emit(({ context }) => sendCommand(completion(context, 'completed'), context.end)),
    completeTerminated: emit(({ context }) => sendCommand(completion(context, 'terminated'), context.end)),
    failWithError: emit(({ event }) => errorCommand(invokeError(event))),
  },
}).createMachine({
  id: 'collector',
  context: ({ input }) => Object.assign({}, input, { replies: {}, conversation: [] }),
  initial: 'waitingForKickoff',
  on: {
    history: { actions: 'recordHeard' },
    conversation: { actions: 'recordHeard' },
  },
  states: {
    waitingForKickoff: {
      on: { kickoff: { target: 'collecting', actions: 'askEveryMember' } },
    },
    collecting: {
      on: {
        // Without a termination condition a reply is one transition, without leaving the state:
        // a fan-out of N members handles N replies, so each costs as little as XState allows.
        agent_response: [
          { guard: and(['isAwaitedMember', 'hasTerminationCondition']), target: 'checkingTermination', actions: ['recordHeard', 'recordReply'] },
          { guard: and(['isAwaitedMember', 'isLastReply']), target: 'done', actions: ['recordReply', 'completeWithAllReplies'] },
          { guard: 'isAwaitedMember', actions: 'recordReply' },
        ],
      },
    },
    checkingTermination: checkingTerminationState([{ target: 'checking' }]),
    /** After a termination check said go on: complete if that was the last reply, else wait for more. */
    checking: {
      always: [
        { guard: 'hasEveryReply', target: 'done', actions: 'completeWithAllReplies' },
        { target: 'collecting' },
      ],
    },
    done: {},
  },
});
