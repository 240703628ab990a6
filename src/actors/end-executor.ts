/**
 * The end executor: keeps the transcript and token usage from what is broadcast, and on a
 * completion applies the output transform (a provided `finalize` actor, which may call a model)
 * and settles the invocation (a provided `settle` action). A failure settles it as failed.
 */
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { addUsage, ZERO_USAGE, type ChatMessage, type Usage } from '../agents/chat-message.js';
import type { MessageEvent } from '../runtime/index.js';
import type { AgentResponse, Completion, ConversationMessage, Failure } from './protocol.js';

/** Token totals per agent and overall. */
export interface UsageReport {
  total: Usage;
  byAgent: Record<string, Usage>;
}

/** What every orchestration produces before any output transform. */
export interface OrchestrationOutput {
  /** The orchestration's answer (e.g. the last reply; one reply per member for concurrent). */
  messages: ChatMessage[];
  /** The whole transcript, task included, tool calls included. */
  conversation: ChatMessage[];
  /** Why it ended (e.g. `completed`, `user_ended`, `terminated`, `max_handoffs`). */
  reason: string;
  lastAgent?: string;
  usage: UsageReport;
}

export interface EndExecutorContext {
  conversation: ChatMessage[];
  usage: UsageReport;
  lastAgent: string | null;
}

type EndEvent = MessageEvent<ConversationMessage> | MessageEvent<AgentResponse> | MessageEvent<Completion> | MessageEvent<Failure>;

/** `report` plus `usage` for `agent`, in total and per agent. */
export function addAgentUsage(report: UsageReport, agent: string, usage: Usage | undefined): UsageReport {
  if (!usage) return report;
  return { total: addUsage(report.total, usage), byAgent: { ...report.byAgent, [agent]: addUsage(report.byAgent[agent] ?? ZERO_USAGE, usage) } };
}

/**
 * The end executor's machine. Provide `finalize` (the output transform) and `settle` /
 * `settleFailure` (how the result is delivered) with `.provide(...)`.
 *
 * @example
 * const end = endExecutorMachine.provide({ actions: { settle: (_, output) => resolve(output) } });
 */
export const endExecutorMachine = setup({
  types: {
    context: {} as EndExecutorContext,
    input: {} as { conversation?: ChatMessage[] } | undefined,
    events: {} as EndEvent,
  },
  actors: {
    /** Provided by the orchestration: output transform / structured output. Default: identity. */
    finalize: fromPromise<unknown, OrchestrationOutput>(async ({ input }) => input),
  },
  actions: {
    /** Provided by the orchestration: resolves the invocation's result. */
    settle: (_, _output: unknown) => {},
    /** Provided by the orchestration: rejects the invocation's result. */
    settleFailure: (_, _error: unknown) => {},
    recordConversation: assign({
      conversation: ({ context, event }) => [...context.conversation, ...(event as MessageEvent<ConversationMessage>).message.messages],
    }),
    recordResponse: assign(({ context, event }) => {
      const response = (event as MessageEvent<AgentResponse>).message;
      return {
        conversation: [...context.conversation, ...response.messages],
        usage: addAgentUsage(context.usage, response.agent, response.usage),
        lastAgent: response.agent,
      };
    }),
    settleWithOutput: enqueueActions(({ event, enqueue }) => {
      enqueue({ type: 'settle', params: (event as unknown as { output: unknown }).output } as never);
    }),
    settleWithError: enqueueActions(({ event, enqueue }) => {
      const e = event as unknown as { error?: unknown; message?: Failure };
      const error = e.error ?? Object.assign(new Error(e.message!.error.message), { name: e.message!.error.name, code: e.message!.error.code });
      enqueue({ type: 'settleFailure', params: error } as never);
    }),
  },
}).createMachine({
  id: 'end',
  context: ({ input }) => ({ conversation: input?.conversation ?? [], usage: { total: ZERO_USAGE, byAgent: {} }, lastAgent: null }),
  initial: 'collecting',
  states: {
    collecting: {
      on: {
        conversation: { actions: 'recordConversation' },
        agent_response: { actions: 'recordResponse' },
        completion: { target: 'finalizing' },
        failure: { target: 'settled', actions: 'settleWithError' },
      },
    },
    finalizing: {
      tags: ['busy'],
      invoke: {
        id: 'finalize',
        src: 'finalize',
        input: ({ context, event }) => {
          const completion = (event as MessageEvent<Completion>).message;
          const lastAgent = completion.lastAgent ?? context.lastAgent ?? undefined;
          return {
            messages: completion.messages,
            conversation: context.conversation,
            reason: completion.reason,
            ...(lastAgent ? { lastAgent } : {}),
            usage: context.usage,
          };
        },
        onDone: { target: 'settled', actions: 'settleWithOutput' },
        onError: { target: 'settled', actions: 'settleWithError' },
      },
    },
    /** Settled: later messages (late broadcasts) are ignored. */
    settled: {},
  },
});
