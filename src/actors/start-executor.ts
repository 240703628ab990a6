/**
 * The start executor: receives the (already transformed) task, broadcasts the earlier transcript
 * (when a conversation continues) and the task to every participant — so every agent has them
 * before anyone speaks — then hands control to the manager (`kickoff`), which picks the first
 * speaker.
 */
import { enqueueActions, setup } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import { publishCommand, sendCommand, type AgentIdLike, type MessageEvent, type TopicIdLike } from '../runtime/index.js';
import { conversation, type HistoryMessage, type Kickoff } from './protocol.js';

/** What starts a run: the per-run data travels in this message, never in a factory. */
export type StartMessage = {
  type: 'start';
  messages: ChatMessage[];
  /** Continuing a conversation: its transcript so far, and who spoke last. */
  history?: ChatMessage[];
  lastAgent?: string;
};

export interface StartExecutorInput {
  topic: TopicIdLike;
  manager: AgentIdLike;
}

/**
 * The start executor's machine: on `start`, publishes the history and the task, sends the
 * manager `kickoff`, then reaches its final state.
 *
 * @example
 * createActor(startExecutorMachine, { input: { topic, manager: managerId } });
 */
export const startExecutorMachine = setup({
  types: {
    context: {} as StartExecutorInput,
    input: {} as StartExecutorInput,
    events: {} as MessageEvent<StartMessage>,
  },
  actions: {
    broadcastTaskAndKickOff: enqueueActions(({ context, event, enqueue }) => {
      const { messages, history, lastAgent } = event.message;
      if (history && history.length > 0) {
        const prior: HistoryMessage = { type: 'history', messages: history };
        enqueue.emit(publishCommand(prior, context.topic));
      }
      if (messages.length > 0) enqueue.emit(publishCommand(conversation(messages), context.topic));
      const kickoff: Kickoff = lastAgent === undefined ? { type: 'kickoff' } : { type: 'kickoff', lastAgent };
      enqueue.emit(sendCommand(kickoff, context.manager));
    }),
  },
}).createMachine({
  id: 'start',
  context: ({ input }) => input,
  initial: 'ready',
  states: {
    ready: {
      on: { start: { target: 'started', actions: 'broadcastTaskAndKickOff' } },
    },
    /** Final: its work is done, so the runtime retires it (an idle conversation does not keep it). */
    started: { type: 'final' },
  },
});
