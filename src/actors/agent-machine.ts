/**
 * The agent actor: one participant of one invocation. It caches what it hears, and on a turn
 * request calls the model and runs the tool loop until a final answer, a control call (handoff,
 * `complete_task`), or the per-turn limit. With `review`, a person reviews the final answer
 * before anyone else hears it. Pure logic: the model call and the tool run are effects (see
 * `runtime/effects.ts`) — the machine asks with a `callModel` / `runTools` action whose params are
 * the call's input, its factory (`createAgentActor`) performs them, and the answer comes back as a
 * `callModel.done` / `callModel.error` (`runTools.done` / `runTools.error`) event; everything else
 * it wants done is an emitted runtime command — so a test can step it with `transition()`. It
 * knows no orchestration: its control tools are data (`controlTools`, see `control-tools.ts`).
 */
import { and, assign, emit, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import { addUsage, ZERO_USAGE, type ChatMessage, type ToolCall, type Usage } from '../agents/chat-message.js';
import type { ChatResponse, ToolDefinition } from '../agents/chat-client.js';
import { BUSY_TAG, cancelEffect, effect, publishCommand, replyCommand, replyErrorCommand, sendCommand, type AgentIdLike, type EffectEvents, type MessageEvent, type TopicIdLike } from '../runtime/index.js';
import type {
  AgentResponse, ConversationMessage, HistoryMessage, HumanInputRequest, Reset, ToolApprovalDecision, ToolApprovalRequest,
  TurnOutcome, TurnRequest, UserReply,
} from './protocol.js';
import { reportAction, reportCommand, type ActorEvent } from './events.js';
import { contextWindow, filterByMode, filterTranscript, type ResponseFilter, type ToolCallFilterMode } from './tool-call-filter.js';
import { interceptControlCalls, toolsWithControls, type ControlTool, type ToolOutcome } from './control-tools.js';
import { finalReply } from './replies.js';
import { AgentTurnError, TurnLimitError } from './errors.js';

/** JSON input of the agent actor. */
export interface AgentActorInput {
  agent: string;
  /**
   * The run this actor belongs to (request ids are unique across runs because of it). The four
   * ids below are always given by orchestrations; their defaults (`run`, and `agent`, `boundary`,
   * `gateway` actors keyed by it) only make stepping a lone machine in a test shorter.
   */
  invocationId?: string;
  /** This actor's own id: where the gateway sends answers to its requests. */
  self?: AgentIdLike;
  /** The run's boundary actor: where reports go. */
  boundary?: AgentIdLike;
  /** The run's human gateway (approvals, reviews). */
  gateway?: AgentIdLike;
  instructions?: string;
  /** Where the agent publishes its responses (null: it only replies and reports). */
  topic: TopicIdLike | null;
  /** Definitions of the agent's own tools (their code is in the provided `runTools`). */
  tools?: ToolDefinition[];
  /** Tools that end the turn instead of running (handoffs, complete_task). */
  controlTools?: ControlTool[];
  maxToolIterations?: number;
  toolCallFilter?: ToolCallFilterMode;
  /** `latestResponse`: keep only the most recent other agent's response (sequential option). */
  keep?: 'all' | 'latestResponse';
  /** Send only the last N messages of the history to the model. */
  contextWindow?: number | null;
  /** A person reviews each final answer before it is published (`humanReview`). */
  review?: boolean;
  /**
   * Routing by intent: a final answer containing this phrase (case-insensitive, anywhere) ends the
   * turn with outcome `out_of_scope` — published for the manager, but not reported as an
   * `agent_response` event, not reviewed, and kept by no other agent that hears it.
   */
  outOfScopePhrase?: string;
  /**
   * The agent streams its answers (the orchestration has a `streamingAgentResponseCallback`): an
   * out-of-scope answer's text has already gone out as deltas, so the turn reports an
   * `agent_response_abandoned` (error name `OutOfScope`) to take it back. Default false.
   */
  streams?: boolean;
}

/** The tool loop of one turn. */
export interface TurnState {
  /** The turn request's envelope id: message ids of the turn derive from it (unique per runtime). */
  id: string;
  messages: ChatMessage[];
  usage: Usage;
  modelCalls: number;
  /** Tool calls of the latest assistant message, in order (results are appended in this order). */
  calls: ToolCall[];
  results: Record<string, ToolOutcome>;
  /** Ordinary calls still to run (after approval, when needed). */
  pending: ToolCall[];
  approvedIds: string[];
  approvals: Array<{ requestId: string; toolCall: ToolCall; decided: boolean }>;
  outcome?: TurnOutcome;
  controlIds: string[];
  /** The open review request, while a person reviews the answer. */
  reviewId?: string;
}

export interface AgentContext {
  agent: string;
  /** Its own id; `self.key` is the run (the invocation id) — not a field of its own, see `runOf`. */
  self: AgentIdLike;
  boundary: AgentIdLike;
  gateway: AgentIdLike;
  instructions?: string;
  topic: TopicIdLike | null;
  /**
   * Own tools then control tools: what the model is offered. (The own tools are not kept apart:
   * XState copies the context on every assign, and V8 turns a copy of 20 or more properties into
   * a slow dictionary object, several times larger — keep this context under 20 fields.)
   */
  tools: ToolDefinition[];
  controlTools: ControlTool[];
  maxToolIterations: number;
  toolCallFilter: ToolCallFilterMode;
  keep: 'all' | 'latestResponse';
  contextWindow: number | null;
  review: boolean;
  /** See {@link AgentActorInput.outOfScopePhrase} (lower-cased; null: none). */
  outOfScopePhrase: string | null;
  /** See {@link AgentActorInput.streams}. */
  streams: boolean;
  /** What the agent had seen up to the end of its last turn. */
  history: ChatMessage[];
  /** What it has received since it last spoke. */
  cache: ChatMessage[];
  turn: TurnState | null;
  /**
   * Messages that arrived while the agent waited at rest for a person (a turn request, a reset, a
   * history) — handled, in order, once it is idle again: the runtime hands them over because the
   * agent is not busy, and none may be dropped.
   */
  deferred: AgentEvent[];
}

/** The input of the `callModel` effect (its action's params). */
export interface ModelCallInput {
  agent: string;
  /** The run, so what the call reports (streamed deltas) reaches its invocation. */
  invocationId: string;
  messages: ChatMessage[];
  tools: ToolDefinition[];
}

/** The input and output of the `runTools` effect. */
export interface RunToolsInput {
  agent: string;
  /** The run, so the tool calls are traced in their invocation. */
  invocationId: string;
  calls: ToolCall[];
  /** Calls the human already approved: run them without asking again. */
  approvedIds: string[];
}
export interface RunToolsOutput {
  results: Array<{ toolCallId: string; name: string } & ToolOutcome>;
  /** Calls that need a human decision first (not run). */
  needApproval: ToolCall[];
}

export type AgentEvent =
  | MessageEvent<ConversationMessage>
  | MessageEvent<HistoryMessage>
  | MessageEvent<AgentResponse>
  | MessageEvent<TurnRequest>
  | MessageEvent<Reset>
  | MessageEvent<ToolApprovalDecision>
  | MessageEvent<UserReply>;

/**
 * Every event the machine takes: the messages the runtime delivers, and the answers of its two
 * effects (`callModel.done` `{ output: ChatResponse }`, `callModel.error` `{ error }`, and the
 * same for `runTools` with a {@link RunToolsOutput}).
 */
export type AgentMachineEvent = AgentEvent | EffectEvents<'callModel', ChatResponse> | EffectEvents<'runTools', RunToolsOutput>;

const DEFAULT_MAX_TOOL_ITERATIONS = 10;
const NO_TOOLS: ToolDefinition[] = [];
const NO_CONTROLS: ControlTool[] = [];
/** Why a streamed out-of-scope answer is abandoned (`agent_response_abandoned.error`). */
const OUT_OF_SCOPE = {
  name: 'OutOfScope',
  message: 'The agent answered that the request is outside its area; this answer is withdrawn and another agent answers (or the user is asked to rephrase).',
} as const;

function emptyTurn(id: string): TurnState {
  return { id, messages: [], usage: ZERO_USAGE, modelCalls: 0, calls: [], results: {}, pending: [], approvedIds: [], approvals: [], controlIds: [] };
}

/** A message id unique within the conversation: the turn's envelope id and the position in it. */
function turnMessageId(context: AgentContext, turn: TurnState, suffix = ''): string {
  return `${context.agent}:${turn.id}:${turn.messages.length}${suffix}`;
}

function toolMessages(context: AgentContext, turn: TurnState): ChatMessage[] {
  // Keyed by the calling message, not the call id alone: providers reuse call ids across agents.
  const caller = turn.messages[turn.messages.length - 1]?.id ?? turn.id;
  return turn.calls.map((call, i) => ({
    id: `${caller}:result:${i}`,
    role: 'tool' as const,
    content: turn.results[call.id]?.content ?? 'Error: no result.',
    toolCallId: call.id,
    name: call.name,
  }));
}

function buildResponse(context: AgentContext, turn: TurnState): AgentResponse {
  const final = turn.messages[turn.messages.length - 1];
  const outcome = turn.outcome ?? { kind: 'reply' as const };
  const text = outcome.kind === 'complete' ? outcome.summary : final?.role === 'assistant' ? final.content : '';
  return {
    type: 'agent_response',
    agent: context.agent,
    messages: turn.messages,
    text,
    usage: turn.usage,
    outcome,
    ...(turn.controlIds.length > 0 ? { controlToolCallIds: turn.controlIds } : {}),
  };
}

type DoneEvent<T> = { output: T };
type ErrorEvent = { error: unknown };

/**
 * What the agent's context becomes when it hears another agent's turn, through `filter`. The
 * machine's `cacheResponse` uses the built-in modes; a factory can provide one on a custom filter.
 */
export function hearResponse(context: AgentContext, event: AgentMachineEvent, filter: ResponseFilter): Partial<AgentContext> {
  const response = (event as MessageEvent<AgentResponse>).message;
  // An out-of-scope answer is not an answer: nobody else keeps any of it.
  if (response.outcome.kind === 'out_of_scope') return {};
  const heard = filter(response.messages, { mode: context.toolCallFilter, controlToolCallIds: response.controlToolCallIds ?? [], from: response.agent, to: context.agent });
  // Kept lists grow with `concat`: on V8 a `[...a, ...b]` copy reserves spare slots (≈ 128 B per list kept).
  if (context.keep === 'all') return { cache: context.cache.concat(heard) };
  // latestResponse: keep what users and the system said and the agent's own words; the newest
  // response replaces every earlier agent's.
  const keepIt = (m: ChatMessage) => m.role === 'user' || m.role === 'system' || m.name === context.agent;
  return { cache: [...keepWithResults(context.cache, keepIt), ...heard], history: keepWithResults(context.history, keepIt) };
}

/** What the agent's history becomes from an earlier transcript, through `filter` (see `filterTranscript`). */
export function hearHistory(context: AgentContext, event: AgentMachineEvent, filter: ResponseFilter): Partial<AgentContext> {
  const { messages } = (event as MessageEvent<HistoryMessage>).message;
  return { history: context.history.concat(filterTranscript(messages, context.agent, context.toolCallFilter, filter)) };
}

/** The id of the approval request for one tool call of one agent in one run. */
/**
 * The run an agent acts for: its key. Derived, not stored: on V8 a context of 20 or more fields
 * becomes a slow object on every XState update (see test/actors/agent-context-size.test.ts).
 */
export function runOf(context: Pick<AgentContext, 'self'>): string {
  return context.self.key;
}

export function approvalRequestId(invocationId: string, agent: string, toolCallId: string): string {
  return `${invocationId}:approval:${agent}:${toolCallId}`;
}

/** Keeps the messages `keep` accepts; a tool result goes with the message that called it. */
function keepWithResults(messages: ChatMessage[], keep: (m: ChatMessage) => boolean): ChatMessage[] {
  const out: ChatMessage[] = [];
  let keptCaller = false;
  for (const m of messages) {
    if (m.role === 'tool') {
      if (keptCaller) out.push(m);
      continue;
    }
    keptCaller = keep(m);
    if (keptCaller) out.push(m);
  }
  return out;
}

/** Whether an answer says the request is outside the agent's area (its `outOfScopePhrase`, case-insensitive). */
function isOutOfScope(context: Pick<AgentContext, 'outOfScopePhrase'>, text: string): boolean {
  return context.outOfScopePhrase !== null && text.toLowerCase().includes(context.outOfScopePhrase);
}

/** What the model is sent: the instructions, then the history and the turn so far (within the context window). */
function modelCallInput(context: AgentContext): ModelCallInput {
  const turn = context.turn!;
  const messages = contextWindow([...context.history, ...turn.messages], context.contextWindow);
  const system: ChatMessage[] = context.instructions ? [{ id: `${context.agent}:instructions`, role: 'system', content: context.instructions }] : [];
  return { agent: context.agent, invocationId: runOf(context), messages: [...system, ...messages], tools: context.tools };
}

/**
 * The agent actor's machine (see the file comment). Step it in tests:
 *
 * @example
 * const [idle] = initialTransition(agentMachine, { agent: 'Refund', topic: null });
 * const [busy, actions] = transition(agentMachine, idle, messageEvent({ type: 'turn_request' }));
 * effectsOf(actions); // [{ name: 'callModel', input: { agent, invocationId, messages, tools } }]
 * const [done] = transition(agentMachine, busy, effectDone('callModel', { text: 'Refunded.', toolCalls: [], usage }));
 */
export const agentMachine = setup({
  types: {
    context: {} as AgentContext,
    input: {} as AgentActorInput,
    events: {} as AgentMachineEvent,
  },
  actions: {
    // Placeholders: `createAgentActor` provides the real ones.
    callModel: effect('callModel', (_input: ModelCallInput, _options): Promise<ChatResponse> => {
      throw new Error('No model is attached to this agent actor: create it with createAgentActor().');
    }),
    runTools: effect('runTools', (_input: RunToolsInput, _options): Promise<RunToolsOutput> => {
      throw new Error('No tools are attached to this agent actor: create it with createAgentActor().');
    }),
    report: emit(({ context }, event: ActorEvent) => reportCommand(context.boundary, runOf(context), event)),
    cacheConversation: assign({
      cache: ({ context, event }) => context.cache.concat((event as MessageEvent<ConversationMessage>).message.messages),
    }),
    cacheResponse: assign(({ context, event }) => hearResponse(context, event, filterByMode)),
    loadHistory: assign(({ context, event }) => hearHistory(context, event, filterByMode)),
    forgetEverything: assign({ history: [], cache: [] }),
    startTurn: assign(({ context, event }) => {
      const { message, envelope } = event as MessageEvent<TurnRequest>;
      const heard = message.instruction
        ? [...context.cache, { id: `${context.agent}:${envelope.id}:instruction`, role: 'user' as const, content: message.instruction }]
        : context.cache;
      return { history: context.history.concat(heard), cache: [], turn: emptyTurn(envelope.id) };
    }),
    recordModelReply: assign({
      turn: ({ context, event }) => {
        const reply = (event as unknown as DoneEvent<ChatResponse>).output;
        const turn = context.turn!;
        const assistant: ChatMessage = {
          id: turnMessageId(context, turn),
          role: 'assistant',
          content: reply.text ?? '',
          name: context.agent,
        };
        // Copies are `Object.assign`ed, not `{ ...turn, more }`: on Node 20's V8 a spread copy with
        // fields added gets fresh hidden classes on every call (several times the bytes and time).
        const next: TurnState = Object.assign({}, turn, { usage: addUsage(turn.usage, reply.usage), modelCalls: turn.modelCalls + 1, calls: [], results: {}, pending: [] });
        if (reply.toolCalls.length === 0) {
          next.messages = turn.messages.concat([assistant]);
          if (isOutOfScope(context, assistant.content)) next.outcome = { kind: 'out_of_scope' };
          return next;
        }
        // `tools` lists the controls too, but a control's call is recognised before the own tools are looked at.
        const intercepted = interceptControlCalls(context.controlTools, context.tools, reply.toolCalls, turn.outcome);
        assistant.toolCalls = intercepted.calls;
        return Object.assign(next, {
          messages: turn.messages.concat([assistant]),
          calls: intercepted.calls,
          results: intercepted.results,
          pending: intercepted.pending,
          approvedIds: [],
          approvals: [],
          outcome: intercepted.outcome,
          controlIds: turn.controlIds.concat(intercepted.controlIds),
        });
      },
    }),
    reportToolCalls: enqueueActions(({ context, enqueue }) => {
      for (const toolCall of context.turn!.calls) enqueue(reportAction({ type: 'tool_call', agent: context.agent, toolCall }));
    }),
    recordToolResults: assign({
      turn: ({ context, event }) => {
        const { results, needApproval } = (event as unknown as DoneEvent<RunToolsOutput>).output;
        const turn = context.turn!;
        const merged = { ...turn.results };
        for (const r of results) merged[r.toolCallId] = { content: r.content, isError: r.isError };
        // Deterministic ids (stepping tests and checkpoints can name them), unique across runs.
        const approvals = needApproval.map((toolCall) => ({ requestId: approvalRequestId(runOf(context), context.agent, toolCall.id), toolCall, decided: false }));
        return { ...turn, results: merged, pending: needApproval, approvals };
      },
    }),
    requestApprovals: enqueueActions(({ context, enqueue }) => {
      for (const { requestId, toolCall } of context.turn!.approvals) {
        const request: ToolApprovalRequest = { type: 'tool_approval_request', requestId, agent: context.agent, toolCall, replyTo: context.self };
        enqueue.emit(sendCommand(request, context.gateway));
      }
    }),
    recordApprovalDecision: assign({
      turn: ({ context, event }) => {
        const decision = (event as MessageEvent<ToolApprovalDecision>).message;
        const turn = context.turn!;
        const approval = turn.approvals.find((a) => a.requestId === decision.requestId)!;
        const approvals = turn.approvals.map((a) => (a === approval ? { ...a, decided: true } : a));
        if (decision.approved) return { ...turn, approvals, approvedIds: [...turn.approvedIds, approval.toolCall.id] };
        const content = `Rejected by the user${decision.reason ? `: ${decision.reason}` : '.'} The tool was not run.`;
        return {
          ...turn,
          approvals,
          pending: turn.pending.filter((c) => c.id !== approval.toolCall.id),
          results: { ...turn.results, [approval.toolCall.id]: { content, isError: true } },
        };
      },
    }),
    appendToolResults: enqueueActions(({ context, enqueue }) => {
      const turn = context.turn!;
      const results = toolMessages(context, turn);
      for (const m of results) {
        const outcome = turn.results[m.toolCallId!];
        enqueue(reportAction({ type: 'tool_result', agent: context.agent, toolCallId: m.toolCallId!, name: m.name!, content: m.content, isError: outcome?.isError ?? true }));
      }
      enqueue.assign({ turn: Object.assign({}, turn, { messages: turn.messages.concat(results), calls: [], results: {}, pending: [], approvals: [], approvedIds: [] }) });
    }),
    requestReview: enqueueActions(({ context, enqueue }) => {
      const turn = context.turn!;
      const requestId = `${runOf(context)}:review:${context.agent}:${turn.id}:${turn.messages.length}`;
      const [draft] = finalReply(buildResponse(context, turn));
      const request: HumanInputRequest = { type: 'human_input_request', requestId, kind: 'review', agent: context.agent, ...(draft ? { message: draft } : {}), replyTo: context.self };
      enqueue.emit(sendCommand(request, context.gateway));
      enqueue.assign({ turn: { ...turn, reviewId: requestId } });
    }),
    /** The reviewer's words join the turn as a user message; the agent answers them. */
    recordFeedback: assign({
      turn: ({ context, event }) => {
        const feedback = (event as MessageEvent<UserReply>).message.message!;
        const turn = context.turn!;
        const { reviewId: _answered, ...rest } = turn;
        return { ...rest, messages: [...turn.messages, { ...feedback, role: 'user' as const }], modelCalls: 0 };
      },
    }),
    respond: enqueueActions(({ context, enqueue }) => {
      const turn = context.turn!;
      const response = buildResponse(context, turn);
      const [final] = finalReply(response);
      // Its deltas were shown: take them back before the manager hears of it (and hands off).
      if (response.outcome.kind === 'out_of_scope' && context.streams && final) enqueue(reportAction({ type: 'agent_response_abandoned', agent: context.agent, error: OUT_OF_SCOPE }));
      if (context.topic) enqueue.emit(publishCommand(response, context.topic));
      enqueue.emit(replyCommand(response));
      if (final && response.outcome.kind !== 'out_of_scope') enqueue(reportAction({ type: 'agent_response', agent: context.agent, message: final, messages: turn.messages, usage: turn.usage }));
      enqueue.assign({ history: context.history.concat(turn.messages), turn: null });
    }),
    failTurn: enqueueActions(({ context, event, enqueue }) => {
      // The caller of an RPC gets it; otherwise the runtime reports it on its error channel.
      enqueue.emit(replyErrorCommand(new AgentTurnError(context.agent, { cause: (event as unknown as ErrorEvent).error })));
      enqueue.assign({ turn: null });
    }),
    deferMessage: assign({ deferred: ({ context, event }) => [...context.deferred, event as AgentEvent] }),
    handleDeferred: enqueueActions(({ context, enqueue }) => {
      if (context.deferred.length === 0) return;
      for (const event of context.deferred) enqueue.raise(event);
      enqueue.assign({ deferred: [] });
    }),
    failTurnLimit: enqueueActions(({ context, enqueue }) => {
      enqueue.emit(replyErrorCommand(new TurnLimitError(context.agent, context.maxToolIterations)));
      enqueue.assign({ turn: null });
    }),
  },
  guards: {
    hasToolCalls: ({ event }) => ((event as unknown as DoneEvent<ChatResponse>).output.toolCalls?.length ?? 0) > 0,
    hasPendingTools: ({ context }) => (context.turn?.pending.length ?? 0) > 0,
    needsApproval: ({ event }) => (event as unknown as DoneEvent<RunToolsOutput>).output.needApproval.length > 0,
    endsTurn: ({ context }) => context.turn?.outcome !== undefined && context.turn.outcome.kind !== 'reply',
    reachedToolLimit: ({ context }) => (context.turn?.modelCalls ?? 0) >= context.maxToolIterations,
    /** A plain answer (no tool calls) a person must review: reviewed agents, unless it is out of scope. */
    answerNeedsReview: ({ context, event }) => {
      return context.review && !isOutOfScope(context, (event as unknown as DoneEvent<ChatResponse>).output.text ?? '');
    },
    isPendingApproval: ({ context, event }) => {
      const decision = (event as MessageEvent<ToolApprovalDecision>).message;
      return Boolean(context.turn?.approvals.some((a) => a.requestId === decision.requestId && !a.decided));
    },
    isLastPendingApproval: ({ context, event }) => {
      const decision = (event as MessageEvent<ToolApprovalDecision>).message;
      const open = context.turn?.approvals.filter((a) => !a.decided) ?? [];
      return open.length === 1 && open[0].requestId === decision.requestId;
    },
    answersReview: ({ context, event }) => (event as MessageEvent<UserReply>).message.requestId === context.turn?.reviewId,
    approvesAnswer: ({ event }) => (event as MessageEvent<UserReply>).message.message === null,
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => {
    const ownTools = input.tools ?? NO_TOOLS;
    const controlTools = input.controlTools ?? NO_CONTROLS;
    const invocationId = input.invocationId ?? 'run';
    return {
      agent: input.agent,
      self: input.self ?? { type: 'agent', key: invocationId },
      boundary: input.boundary ?? { type: 'boundary', key: invocationId },
      gateway: input.gateway ?? { type: 'gateway', key: invocationId },
      instructions: input.instructions,
      topic: input.topic,
      tools: toolsWithControls(ownTools, controlTools),
      controlTools,
      maxToolIterations: input.maxToolIterations ?? DEFAULT_MAX_TOOL_ITERATIONS,
      toolCallFilter: input.toolCallFilter ?? 'handoffOnly',
      keep: input.keep ?? 'all',
      contextWindow: input.contextWindow ?? null,
      review: input.review ?? false,
      outOfScopePhrase: input.outOfScopePhrase ? input.outOfScopePhrase.toLowerCase() : null,
      streams: input.streams ?? false,
      history: [],
      cache: [],
      turn: null,
      deferred: [],
    };
  },
  initial: 'idle',
  on: {
    conversation: { actions: 'cacheConversation' },
    agent_response: { actions: 'cacheResponse' },
  },
  states: {
    idle: {
      entry: 'handleDeferred',
      on: {
        history: { actions: 'loadHistory' },
        reset: { actions: 'forgetEverything' },
        turn_request: { target: 'working', actions: 'startTurn' },
      },
    },
    working: {
      tags: [BUSY_TAG],
      initial: 'callingModel',
      states: {
        callingModel: {
          entry: { type: 'callModel', params: ({ context }) => modelCallInput(context) },
          exit: cancelEffect('callModel'),
          on: {
            'callModel.done': [
              { guard: 'hasToolCalls', target: 'actingOnToolCalls', actions: ['recordModelReply', 'reportToolCalls'] },
              // A plain answer ends the turn here: reviewed first (unless out of scope), else published.
              { guard: 'answerNeedsReview', target: '#agent.awaitingReview', actions: ['recordModelReply', 'requestReview'] },
              { target: '#agent.idle', actions: ['recordModelReply', 'respond'] },
            ],
            'callModel.error': { target: '#agent.idle', actions: 'failTurn' },
          },
        },
        actingOnToolCalls: {
          always: [
            { guard: 'hasPendingTools', target: 'runningTools' },
            { target: 'toolsAnswered' },
          ],
        },
        runningTools: {
          entry: {
            type: 'runTools',
            params: ({ context }) => ({ agent: context.agent, invocationId: runOf(context), calls: context.turn!.pending, approvedIds: context.turn!.approvedIds }),
          },
          exit: cancelEffect('runTools'),
          on: {
            'runTools.done': [
              { guard: 'needsApproval', target: '#agent.awaitingApproval', actions: 'recordToolResults' },
              { target: 'toolsAnswered', actions: 'recordToolResults' },
            ],
            'runTools.error': { target: '#agent.idle', actions: 'failTurn' },
          },
        },
        toolsAnswered: {
          entry: 'appendToolResults',
          always: [
            // A control ended the turn (handoff, complete): published at once, never reviewed.
            { guard: 'endsTurn', target: '#agent.idle', actions: 'respond' },
            { guard: 'reachedToolLimit', target: '#agent.idle', actions: 'failTurnLimit' },
            { target: 'callingModel' },
          ],
        },
      },
    },
    /** At rest (not busy): tool calls wait for a human decision. */
    awaitingApproval: {
      entry: 'requestApprovals',
      on: {
        turn_request: { actions: 'deferMessage' },
        reset: { actions: 'deferMessage' },
        history: { actions: 'deferMessage' },
        tool_approval_decision: [
          { guard: 'isLastPendingApproval', target: 'resumingTools', actions: 'recordApprovalDecision' },
          { guard: 'isPendingApproval', actions: 'recordApprovalDecision' },
        ],
      },
    },
    resumingTools: {
      always: [
        { guard: 'hasPendingTools', target: 'working.runningTools' },
        { target: 'working.toolsAnswered' },
      ],
    },
    /** At rest: a person reviews the answer. Approval publishes it; feedback gets another answer. */
    awaitingReview: {
      on: {
        turn_request: { actions: 'deferMessage' },
        reset: { actions: 'deferMessage' },
        history: { actions: 'deferMessage' },
        user_reply: [
          { guard: and(['answersReview', 'approvesAnswer']), target: 'idle', actions: 'respond' },
          { guard: 'answersReview', target: 'working.callingModel', actions: 'recordFeedback' },
        ],
      },
    },
  },
});

export type AgentActorRef = ActorRefFrom<typeof agentMachine>;
