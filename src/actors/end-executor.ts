/**
 * The end executor: keeps the transcript and token usage from what is broadcast, and on a
 * completion applies the output transform (a provided `finalize` actor, which may call a model)
 * and settles the run by a message to its boundary. A failure settles it as failed.
 */
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { ZERO_USAGE, type ChatMessage } from '../agents/chat-message.js';
import { BUSY_TAG, sendCommand, type AgentIdLike, type MessageEvent } from '../runtime/index.js';
import type { AgentResponse, Completion, ConversationMessage, Failure, HistoryMessage } from './protocol.js';
import type { BoundaryMessage } from './events.js';
import { addAgentUsage, type OrchestrationOutput, type UsageReport } from './output.js';

export interface EndExecutorInput {
  /** The run it ends: the boundary is shared by every run, so the settlement names it. */
  invocationId: string;
  /** Where the run settles (the orchestration's boundary actor). */
  boundary: AgentIdLike;
  /**
   * Whether the output goes through the provided `finalize` actor (an output transform or
   * structured output). Default true; false settles with the default output at once, without
   * invoking an actor (what an orchestration without a transform does).
   */
  finalize?: boolean;
}

export interface EndExecutorContext extends EndExecutorInput {
  finalize: boolean;
  conversation: ChatMessage[];
  usage: UsageReport;
  lastAgent: string | null;
}

type EndEvent = MessageEvent<ConversationMessage> | MessageEvent<HistoryMessage> | MessageEvent<AgentResponse> | MessageEvent<Completion> | MessageEvent<Failure>;

function settled(context: EndExecutorContext, settlement: { type: 'invocation_settled'; output: unknown } | { type: 'invocation_failed'; error: unknown }) {
  // A snapshot saved before the end executor knew its run has none: its boundary was keyed by the run then.
  const message: BoundaryMessage = Object.assign({}, settlement, { invocationId: context.invocationId ?? context.boundary.key });
  return sendCommand(message, context.boundary);
}

/** The default output: the completion, the transcript and the usage the end executor kept. */
function defaultOutput(context: EndExecutorContext, event: EndEvent): OrchestrationOutput {
  const completion = (event as MessageEvent<Completion>).message;
  const lastAgent = completion.lastAgent ?? context.lastAgent ?? undefined;
  return {
    messages: completion.messages,
    conversation: context.conversation,
    reason: completion.reason,
    ...(lastAgent ? { lastAgent } : {}),
    usage: Object.entries(completion.usage ?? {}).reduce((report, [name, usage]) => addAgentUsage(report, name, usage), context.usage),
  };
}

/**
 * The end executor's machine. Provide `finalize` (the output transform) with `.provide(...)`.
 *
 * @example
 * const end = endExecutorMachine.provide({ actors: { finalize: fromPromise(async ({ input }) => input.messages) } });
 * createActor(end, { input: { invocationId, boundary } });
 */
export const endExecutorMachine = setup({
  types: {
    context: {} as EndExecutorContext,
    input: {} as EndExecutorInput,
    events: {} as EndEvent,
  },
  actors: {
    /** Provided by the orchestration: output transform / structured output. Default: identity. */
    finalize: fromPromise<unknown, OrchestrationOutput>(async ({ input }) => input),
  },
  actions: {
    recordConversation: assign({
      conversation: ({ context, event }) => context.conversation.concat((event as MessageEvent<ConversationMessage | HistoryMessage>).message.messages),
    }),
    recordResponse: assign(({ context, event }) => {
      const response = (event as MessageEvent<AgentResponse>).message;
      // An out-of-scope answer (routing by intent) cost tokens but was never part of the conversation.
      if (response.outcome.kind === 'out_of_scope') return { usage: addAgentUsage(context.usage, response.agent, response.usage) };
      return {
        conversation: context.conversation.concat(response.messages),
        usage: addAgentUsage(context.usage, response.agent, response.usage),
        lastAgent: response.agent,
      };
    }),
    settleWithDefaultOutput: enqueueActions(({ context, event, enqueue }) => {
      enqueue.emit(settled(context, { type: 'invocation_settled', output: defaultOutput(context, event) }));
    }),
    settleWithOutput: enqueueActions(({ context, event, enqueue }) => {
      enqueue.emit(settled(context, { type: 'invocation_settled', output: (event as unknown as { output: unknown }).output }));
    }),
    settleWithError: enqueueActions(({ context, event, enqueue }) => {
      const e = event as unknown as { error?: unknown; message?: Failure };
      const error = e.error ?? Object.assign(new Error(e.message!.error.message), { name: e.message!.error.name, code: e.message!.error.code });
      enqueue.emit(settled(context, { type: 'invocation_failed', error }));
    }),
  },
  guards: {
    hasNoTransform: ({ context }) => !context.finalize,
  },
}).createMachine({
  id: 'end',
  context: ({ input }) => ({ invocationId: input.invocationId, boundary: input.boundary, finalize: input.finalize ?? true, conversation: [], usage: { total: ZERO_USAGE, byAgent: {} }, lastAgent: null }),
  initial: 'collecting',
  states: {
    collecting: {
      on: {
        history: { actions: 'recordConversation' },
        conversation: { actions: 'recordConversation' },
        agent_response: { actions: 'recordResponse' },
        completion: [
          { guard: 'hasNoTransform', target: 'settled', actions: 'settleWithDefaultOutput' },
          { target: 'finalizing' },
        ],
        failure: { target: 'settled', actions: 'settleWithError' },
      },
    },
    finalizing: {
      tags: [BUSY_TAG],
      invoke: {
        id: 'finalize',
        src: 'finalize',
        input: ({ context, event }) => defaultOutput(context, event),
        onDone: { target: 'settled', actions: 'settleWithOutput' },
        onError: { target: 'settled', actions: 'settleWithError' },
      },
    },
    /** Settled: later messages (late broadcasts) are ignored. */
    settled: {},
  },
});

export type { OrchestrationOutput, UsageReport };
