/**
 * The concurrent collector: waits for one reply from every member, then sends the completion
 * (one reply per member, in member order) to the end executor.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import { sendCommand, type AgentIdLike, type MessageEvent } from '../runtime/index.js';
import type { AgentResponse, Completion } from './protocol.js';
import { finalReply } from './replies.js';

export interface CollectorInput {
  members: string[];
  end: AgentIdLike;
}

interface CollectorContext extends CollectorInput {
  replies: Record<string, ChatMessage[]>;
}

/**
 * The concurrent collector's machine.
 *
 * @example
 * createActor(collectorMachine, { input: { members: ['Physicist', 'Chemist'], end: endId } });
 */
export const collectorMachine = setup({
  types: {
    context: {} as CollectorContext,
    input: {} as CollectorInput,
    events: {} as MessageEvent<AgentResponse>,
  },
  guards: {
    isAwaitedMember: ({ context, event }) => context.members.includes(event.message.agent) && !(event.message.agent in context.replies),
    hasEveryReply: ({ context }) => context.members.every((m) => m in context.replies),
  },
  actions: {
    recordReply: assign({
      replies: ({ context, event }) => ({ ...context.replies, [event.message.agent]: finalReply(event.message) }),
    }),
    completeWithAllReplies: enqueueActions(({ context, enqueue }) => {
      const completion: Completion = { type: 'completion', reason: 'completed', messages: context.members.flatMap((m) => context.replies[m]) };
      enqueue.emit(sendCommand(completion, context.end));
    }),
  },
}).createMachine({
  id: 'collector',
  context: ({ input }) => ({ ...input, replies: {} }),
  initial: 'collecting',
  states: {
    collecting: {
      on: {
        agent_response: { guard: 'isAwaitedMember', target: 'checking', actions: 'recordReply' },
      },
    },
    checking: {
      always: [
        { guard: 'hasEveryReply', target: 'done', actions: 'completeWithAllReplies' },
        { target: 'collecting' },
      ],
    },
    done: {},
  },
});
