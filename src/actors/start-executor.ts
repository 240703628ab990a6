/**
 * The start executor: receives the (already transformed) task, broadcasts the earlier transcript
 * (when a conversation continues) and the task to every participant — so every agent has them
 * before anyone speaks — then hands control to the manager (`kickoff`), which picks the first
 * speaker. It holds nothing of a run (the `start` message says where the run's topic and manager
 * are), so one instance serves every run of an orchestration on a runtime.
 */
import { enqueueActions, setup } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import { publishCommand, sendCommand, type AgentIdLike, type MessageEvent, type TopicIdLike } from '../runtime/index.js';
import { conversation, type HistoryMessage, type Kickoff } from './protocol.js';

/** What starts a run: the per-run data travels in this message, never in a factory. */
export type StartMessage = {
  type: 'start';
  /** The run being started (what names it when delivery of this message fails). */
  invocationId: string;
  /** The run's conversation topic: where the history and the task are broadcast. */
  topic: TopicIdLike;
  /** The run's manager: who is sent `kickoff`. */
  manager: AgentIdLike;
  messages: ChatMessage[];
  /** Continuing a conversation: its transcript so far, and who spoke last. */
  history?: ChatMessage[];
  lastAgent?: string;
};

/** The start executor takes no input: everything of a run is in its `start` message. */
export type StartExecutorInput = Record<string, never>;

/**
 * The start executor's machine: on each `start`, publishes that run's history and task on its
 * topic and sends its manager `kickoff`; it stays `ready` for the next run.
 *
 * @example
 * const starter = createActor(startExecutorMachine);
 * // then, per run: { type: 'start', invocationId, topic, manager, messages } as a message event
 */
export const startExecutorMachine = setup({
  types: {
    context: {} as StartExecutorInput,
    events: {} as MessageEvent<StartMessage>,
  },
  actions: {
    broadcastTaskAndKickOff: enqueueActions(({ event, enqueue }) => {
      const { messages, history, lastAgent, topic, manager } = event.message;
      if (history && history.length > 0) {
        const prior: HistoryMessage = { type: 'history', messages: history };
        enqueue.emit(publishCommand(prior, topic));
      }
      if (messages.length > 0) enqueue.emit(publishCommand(conversation(messages), topic));
      const kickoff: Kickoff = lastAgent === undefined ? { type: 'kickoff' } : { type: 'kickoff', lastAgent };
      enqueue.emit(sendCommand(kickoff, manager));
    }),
  },
}).createMachine({
  id: 'start',
  context: {},
  initial: 'ready',
  states: {
    /** Long-lived: it serves every run, so it never reaches a final state. */
    ready: {
      on: { start: { actions: 'broadcastTaskAndKickOff' } },
    },
  },
});
