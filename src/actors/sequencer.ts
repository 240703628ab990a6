/**
 * The sequential coordinator: when member i has answered, asks member i+1 to speak; after the
 * last member, sends the completion (the last reply) to the end executor.
 */
import { and, enqueueActions, setup } from 'xstate';
import { sendCommand, type AgentIdLike, type MessageEvent } from '../runtime/index.js';
import { turnRequest, type AgentResponse, type Completion } from './protocol.js';
import { finalReply } from './replies.js';

export interface SequencerInput {
  members: Array<{ name: string; id: AgentIdLike }>;
  end: AgentIdLike;
}

/**
 * The sequential coordinator's machine.
 *
 * @example
 * createActor(sequencerMachine, { input: { members: [{ name: 'Writer', id: writerId }], end: endId } });
 */
export const sequencerMachine = setup({
  types: {
    context: {} as SequencerInput & { next: number },
    input: {} as SequencerInput,
    events: {} as MessageEvent<AgentResponse>,
  },
  guards: {
    isCurrentSpeaker: ({ context, event }) => event.message.agent === context.members[context.next]?.name,
    isLastMember: ({ context }) => context.next === context.members.length - 1,
  },
  actions: {
    askNextMember: enqueueActions(({ context, enqueue }) => {
      const next = context.next + 1;
      enqueue.assign({ next });
      enqueue.emit(sendCommand(turnRequest(), context.members[next].id));
    }),
    completeWithLastReply: enqueueActions(({ context, event, enqueue }) => {
      const completion: Completion = { type: 'completion', reason: 'completed', messages: finalReply(event.message), lastAgent: event.message.agent };
      enqueue.emit(sendCommand(completion, context.end));
    }),
  },
}).createMachine({
  id: 'sequencer',
  context: ({ input }) => ({ ...input, next: 0 }),
  initial: 'running',
  states: {
    running: {
      on: {
        agent_response: [
          { guard: and(['isCurrentSpeaker', 'isLastMember']), target: 'done', actions: 'completeWithLastReply' },
          { guard: 'isCurrentSpeaker', actions: 'askNextMember' },
        ],
      },
    },
    done: {},
  },
});
