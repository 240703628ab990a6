/**
 * The start executor: receives the (already transformed) task, broadcasts it to every
 * participant — so every agent has it before anyone speaks — then asks the first speaker(s) to
 * speak.
 */
import { enqueueActions, setup } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import { publishCommand, sendCommand, type AgentIdLike, type MessageEvent, type TopicIdLike } from '../runtime/index.js';
import { conversation, turnRequest } from './protocol.js';

export type StartMessage = {
  type: 'start';
  messages: ChatMessage[];
};

export interface StartExecutorInput {
  topic: TopicIdLike;
  firstSpeakers: AgentIdLike[];
}

/**
 * The start executor's machine: on `start`, publishes the task and sends each first speaker a
 * turn request, then reaches its final state.
 *
 * @example
 * createActor(startExecutorMachine, { input: { topic, firstSpeakers: [triageId] } });
 */
export const startExecutorMachine = setup({
  types: {
    context: {} as StartExecutorInput & { started: boolean },
    input: {} as StartExecutorInput,
    events: {} as MessageEvent<StartMessage>,
  },
  actions: {
    broadcastTaskAndAskFirstSpeakers: enqueueActions(({ context, event, enqueue }) => {
      const { messages } = event.message;
      if (messages.length > 0) enqueue.emit(publishCommand(conversation(messages), context.topic));
      for (const speaker of context.firstSpeakers) enqueue.emit(sendCommand(turnRequest(), speaker));
      enqueue.assign({ started: true });
    }),
  },
}).createMachine({
  id: 'start',
  context: ({ input }) => ({ ...input, started: false }),
  initial: 'ready',
  states: {
    ready: {
      on: { start: { target: 'started', actions: 'broadcastTaskAndAskFirstSpeakers' } },
    },
    /** Final: its work is done, so the runtime retires it (an idle conversation does not keep it). */
    started: { type: 'final' },
  },
});
