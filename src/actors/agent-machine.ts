/**
 * The agent actor: one participant of one invocation. It caches what it hears, and on a turn
 * request calls the model and runs the tool loop until a final answer, a handoff, a
 * `complete_task`, or the per-turn limit. Pure logic: the model call and the tools are invoked
 * actors its factory provides (`createAgentActor`), and everything it wants done is an emitted
 * runtime command or a `report` action — so a test can step it with `transition()`.
 */
import { assign, enqueueActions, fromPromise, setup, type ActorRefFrom } from 'xstate';
import { addUsage, ZERO_USAGE, type ChatMessage, type ToolCall, type Usage } from '../agents/chat-message.js';
import type { ChatResponse, ToolDefinition } from '../agents/chat-client.js';
import { publishCommand, replyCommand, replyErrorCommand, type MessageEvent, type TopicIdLike } from '../runtime/index.js';
import type { AgentResponse, ConversationMessage, Handoff, ToolApprovalDecision, ToolApprovalRequest, TurnRequest } from './protocol.js';
import type { ActorEvent } from './events.js';
import { contextWindow, filterToolCalls, type ToolCallFilterMode } from './tool-call-filter.js';
import { finalReply } from './replies.js';
import { reportAction } from './events.js';
import { AgentTurnError, TurnLimitError } from './errors.js';

/** A generated handoff tool: calling `toolName` hands the conversation to `target`. */
export interface HandoffEdge {
  toolName: string;
  target: string;
  description?: string;
}

export const COMPLETE_TASK_TOOL = 'complete_task';

/** JSON input of the agent actor. */
export interface AgentActorInput {
  agent: string;
  instructions?: string;
  /** Where the agent publishes its responses (null: it only replies and reports). */
  topic: TopicIdLike | null;
  /** Definitions of the agent's own tools (their code is in the provided `runTools`). */
  tools?: ToolDefinition[];
  handoffs?: HandoffEdge[];
  completeTool?: boolean;
  maxToolIterations?: number;
  toolCallFilter?: ToolCallFilterMode;
  /** `latestResponse`: keep only the most recent other agent's response (sequential option). */
  keep?: 'all' | 'latestResponse';
  /** Send only the last N messages of the history to the model. */
  contextWindow?: number | null;
  /** Messages the agent starts with (continuing a conversation). */
  history?: ChatMessage[];
}

interface ToolOutcome {
  content: string;
  isError: boolean;
}

/** The tool loop of one turn. */
export interface TurnState {
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
  handoff?: Handoff;
  completion?: { summary: string };
  controlIds: string[];
}

export interface AgentContext {
  agent: string;
  instructions?: string;
  topic: TopicIdLike | null;
  tools: ToolDefinition[];
  handoffs: HandoffEdge[];
  completeTool: boolean;
  maxToolIterations: number;
  toolCallFilter: ToolCallFilterMode;
  keep: 'all' | 'latestResponse';
  contextWindow: number | null;
  /** What the agent had seen up to the end of its last turn. */
  history: ChatMessage[];
  /** What it has received since it last spoke. */
  cache: ChatMessage[];
  turn: TurnState | null;
}

/** What the provided `callModel` actor receives. */
export interface ModelCallInput {
  agent: string;
  /** The calling agent actor's id, so what the call reports (streamed deltas) names its actor. */
  caller: string;
  messages: ChatMessage[];
  tools: ToolDefinition[];
}

/** What the provided `runTools` actor receives and returns. */
export interface RunToolsInput {
  agent: string;
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
  | MessageEvent<AgentResponse>
  | MessageEvent<TurnRequest>
  | MessageEvent<ToolApprovalDecision>;

const DEFAULT_MAX_TOOL_ITERATIONS = 10;

function emptyTurn(): TurnState {
  return { messages: [], usage: ZERO_USAGE, modelCalls: 0, calls: [], results: {}, pending: [], approvedIds: [], approvals: [], controlIds: [] };
}

const NO_TOOLS: ToolDefinition[] = [];
const controlToolCache = new WeakMap<object, { plain?: ToolDefinition[]; withComplete?: ToolDefinition[] }>();
const toolListCache = new WeakMap<object, WeakMap<object, ToolDefinition[]>>();

/**
 * The agent's own tools plus its control tools (handoffs, complete_task). Memoised on the input's
 * arrays, which orchestrations share across invocations, so idle conversations share them too.
 */
function agentTools(input: AgentActorInput): ToolDefinition[] {
  const own = input.tools ?? NO_TOOLS;
  const control = controlToolDefinitions(input.handoffs ?? NO_EDGES, input.completeTool ?? false);
  if (control.length === 0) return own;
  let byControl = toolListCache.get(own);
  if (!byControl) toolListCache.set(own, (byControl = new WeakMap()));
  let all = byControl.get(control);
  if (!all) byControl.set(control, (all = [...own, ...control]));
  return all;
}

const NO_EDGES: HandoffEdge[] = [];

function controlToolDefinitions(handoffs: HandoffEdge[], completeTool: boolean): ToolDefinition[] {
  let cached = controlToolCache.get(handoffs);
  if (!cached) controlToolCache.set(handoffs, (cached = {}));
  const key = completeTool ? 'withComplete' : 'plain';
  const hit = cached[key];
  if (hit) return hit;
  const reason = { type: 'object', properties: { reason: { type: ['string', 'null'], description: 'Why, in one sentence.' } }, required: ['reason'], additionalProperties: false };
  const defs: ToolDefinition[] = handoffs.map((h) => ({
    name: h.toolName,
    description: h.description ? `Transfer the conversation to ${h.target}: ${h.description}` : `Transfer the conversation to ${h.target}.`,
    parameters: reason,
    strict: true,
  }));
  if (completeTool) {
    defs.push({
      name: COMPLETE_TASK_TOOL,
      description: 'Call when the task is done, with a short summary of the outcome.',
      parameters: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'], additionalProperties: false },
      strict: true,
    });
  }
  cached[key] = defs;
  return defs;
}

function parseArgs(raw: string): Record<string, unknown> {
  try {
    const value = JSON.parse(raw || '{}');
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

/** Sorts a model reply's tool calls: controls are answered here, ordinary ones go to `runTools`. */
function planToolCalls(context: AgentContext, turn: TurnState, calls: ToolCall[]): TurnState {
  const results: Record<string, ToolOutcome> = {};
  const pending: ToolCall[] = [];
  let { handoff, completion } = turn;
  const controlIds = [...turn.controlIds];
  const edges = new Map(context.handoffs.map((h) => [h.toolName, h]));
  for (const call of calls) {
    const edge = edges.get(call.name);
    if (edge) {
      controlIds.push(call.id);
      if (handoff || completion) {
        results[call.id] = { content: `Ignored: only one handoff per turn (already ${handoff ? `transferring to ${handoff.target}` : 'completing the task'}).`, isError: false };
      } else {
        const reason = parseArgs(call.arguments).reason;
        handoff = { target: edge.target, toolCallId: call.id, ...(typeof reason === 'string' && reason ? { reason } : {}) };
        results[call.id] = { content: `Transferred to ${edge.target}.`, isError: false };
      }
    } else if (call.name === COMPLETE_TASK_TOOL && context.completeTool) {
      controlIds.push(call.id);
      if (handoff || completion) {
        results[call.id] = { content: 'Ignored: the turn already ends with a handoff or completion.', isError: false };
      } else {
        const summary = parseArgs(call.arguments).summary;
        completion = { summary: typeof summary === 'string' ? summary : '' };
        results[call.id] = { content: 'Task completed.', isError: false };
      }
    } else if (call.name.startsWith('transfer_to_') && context.handoffs.length > 0 && !context.tools.some((t) => t.name === call.name)) {
      // A hallucinated target: tell the model which transfers exist, and let it try again.
      const valid = context.handoffs.map((h) => h.target).join(', ');
      results[call.id] = { content: `Error: "${call.name}" is not an available handoff. You can transfer to: ${valid}.`, isError: true };
    } else {
      pending.push(call);
    }
  }
  return { ...turn, calls, results, pending, approvedIds: [], approvals: [], handoff, completion, controlIds };
}

function toolMessages(turn: TurnState): ChatMessage[] {
  return turn.calls.map((call) => ({
    id: `${call.id}:result`,
    role: 'tool' as const,
    content: turn.results[call.id]?.content ?? 'Error: no result.',
    toolCallId: call.id,
    name: call.name,
  }));
}

function buildResponse(context: AgentContext, turn: TurnState): AgentResponse {
  const final = turn.messages[turn.messages.length - 1];
  const text = turn.completion?.summary ?? (final?.role === 'assistant' ? final.content : '');
  return {
    type: 'agent_response',
    agent: context.agent,
    messages: turn.messages,
    text,
    usage: turn.usage,
    ...(turn.handoff ? { handoff: turn.handoff } : {}),
    ...(turn.completion ? { completion: turn.completion } : {}),
    ...(turn.controlIds.length > 0 ? { controlToolCallIds: turn.controlIds } : {}),
  };
}

type DoneEvent<T> = { output: T };

/** Decides what an agent keeps of another agent's turn (see `filterToolCalls`). */
export type ResponseFilter = (messages: ChatMessage[], info: { mode: ToolCallFilterMode; controlToolCallIds: string[]; from: string; to: string }) => ChatMessage[];

const filterToolCallsByMode: ResponseFilter = (messages, info) => filterToolCalls(messages, info.mode, info.controlToolCallIds);

/**
 * What the agent's context becomes when it hears another agent's turn, through `filter`. The
 * machine's `cacheResponse` uses the built-in modes; a factory can provide one on a custom filter.
 */
export function hearResponse(context: AgentContext, event: AgentEvent, filter: ResponseFilter): Partial<AgentContext> {
  const response = (event as MessageEvent<AgentResponse>).message;
  const heard = filter(response.messages, { mode: context.toolCallFilter, controlToolCallIds: response.controlToolCallIds ?? [], from: response.agent, to: context.agent });
  if (context.keep === 'all') return { cache: [...context.cache, ...heard] };
  // latestResponse: keep what users and the system said and the agent's own words; the newest
  // response replaces every earlier agent's.
  const keepIt = (m: ChatMessage) => m.role === 'user' || m.role === 'system' || m.name === context.agent;
  return { cache: [...keepWithResults(context.cache, keepIt), ...heard], history: keepWithResults(context.history, keepIt) };
}

/** The id of the approval request for one tool call of one agent. */
export function approvalRequestId(agent: string, toolCallId: string): string {
  return `approval:${agent}:${toolCallId}`;
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
type ErrorEvent = { error: unknown };

/**
 * The agent actor's machine (see the file comment). Step it in tests:
 *
 * @example
 * const [idle] = initialTransition(agentMachine, { agent: 'Refund', topic: null });
 * const [busy, actions] = transition(agentMachine, idle, messageEvent({ type: 'turn_request' }));
 * invokedOf(actions)[0].input; // what callModel receives
 */
export const agentMachine = setup({
  types: {
    context: {} as AgentContext,
    input: {} as AgentActorInput,
    events: {} as AgentEvent,
  },
  actors: {
    callModel: fromPromise<ChatResponse, ModelCallInput>(async () => {
      throw new Error('No model is attached to this agent actor: create it with createAgentActor().');
    }),
    runTools: fromPromise<RunToolsOutput, RunToolsInput>(async () => {
      throw new Error('No tools are attached to this agent actor: create it with createAgentActor().');
    }),
  },
  actions: {
    /** Provided by the factory: hands an event to the invocation's event stream. */
    report: (_, _event: ActorEvent) => {},
    cacheConversation: assign({
      cache: ({ context, event }) => [...context.cache, ...(event as MessageEvent<ConversationMessage>).message.messages],
    }),
    cacheResponse: assign(({ context, event }) => hearResponse(context, event, filterToolCallsByMode)),
    startTurn: assign(({ context, event }) => {
      const { message, envelope } = event as MessageEvent<TurnRequest>;
      const heard = message.instruction
        ? [...context.cache, { id: `${envelope.id}:instruction`, role: 'user' as const, content: message.instruction }]
        : context.cache;
      return { history: [...context.history, ...heard], cache: [], turn: emptyTurn() };
    }),
    recordModelReply: assign({
      turn: ({ context, event }) => {
        const reply = (event as unknown as DoneEvent<ChatResponse>).output;
        const turn = context.turn!;
        const assistant: ChatMessage = {
          id: `${context.agent}:${context.history.length + turn.messages.length}`,
          role: 'assistant',
          content: reply.text ?? '',
          name: context.agent,
          ...(reply.toolCalls.length > 0 ? { toolCalls: reply.toolCalls } : {}),
        };
        const next: TurnState = { ...turn, messages: [...turn.messages, assistant], usage: addUsage(turn.usage, reply.usage), modelCalls: turn.modelCalls + 1, calls: [], results: {}, pending: [] };
        return reply.toolCalls.length > 0 ? planToolCalls(context, next, reply.toolCalls) : next;
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
        // Deterministic ids: stepping tests and checkpoints can name them.
        // Deterministic, and unique per invocation: providers reuse tool-call ids across agents.
        const approvals = needApproval.map((toolCall) => ({ requestId: approvalRequestId(context.agent, toolCall.id), toolCall, decided: false }));
        return { ...turn, results: merged, pending: needApproval, approvals };
      },
    }),
    requestApprovals: enqueueActions(({ context, enqueue }) => {
      for (const { requestId, toolCall } of context.turn!.approvals) {
        const request: ToolApprovalRequest = { type: 'tool_approval_request', requestId, agent: context.agent, toolCall };
        if (context.topic) enqueue.emit(publishCommand(request, context.topic));
        enqueue(reportAction({ type: 'approval_requested', requestId, agent: context.agent, toolCall }));
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
      const results = toolMessages(turn);
      for (const m of results) {
        const outcome = turn.results[m.toolCallId!];
        enqueue(reportAction({ type: 'tool_result', agent: context.agent, toolCallId: m.toolCallId!, name: m.name!, content: m.content, isError: outcome?.isError ?? true }));
      }
      enqueue.assign({ turn: { ...turn, messages: [...turn.messages, ...results], calls: [], results: {}, pending: [], approvals: [], approvedIds: [] } });
    }),
    respond: enqueueActions(({ context, enqueue }) => {
      const turn = context.turn!;
      const response = buildResponse(context, turn);
      if (context.topic) enqueue.emit(publishCommand(response, context.topic));
      enqueue.emit(replyCommand(response));
      const [final] = finalReply(response);
      if (final) enqueue(reportAction({ type: 'agent_response', agent: context.agent, message: final, messages: turn.messages, usage: turn.usage }));
      enqueue.assign({ history: [...context.history, ...turn.messages], turn: null });
    }),
    failTurn: enqueueActions(({ context, event, enqueue }) => {
      // The caller of an RPC gets it; otherwise the runtime reports it on its error channel.
      enqueue.emit(replyErrorCommand(new AgentTurnError(context.agent, { cause: (event as unknown as ErrorEvent).error })));
      enqueue.assign({ turn: null });
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
    endsTurn: ({ context }) => Boolean(context.turn?.handoff || context.turn?.completion),
    reachedToolLimit: ({ context }) => (context.turn?.modelCalls ?? 0) >= context.maxToolIterations,
    isPendingApproval: ({ context, event }) => {
      const decision = (event as MessageEvent<ToolApprovalDecision>).message;
      return Boolean(context.turn?.approvals.some((a) => a.requestId === decision.requestId && !a.decided));
    },
    isLastPendingApproval: ({ context, event }) => {
      const decision = (event as MessageEvent<ToolApprovalDecision>).message;
      const open = context.turn?.approvals.filter((a) => !a.decided) ?? [];
      return open.length === 1 && open[0].requestId === decision.requestId;
    },
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => ({
    agent: input.agent,
    instructions: input.instructions,
    topic: input.topic,
    tools: agentTools(input),
    handoffs: input.handoffs ?? [],
    completeTool: input.completeTool ?? false,
    maxToolIterations: input.maxToolIterations ?? DEFAULT_MAX_TOOL_ITERATIONS,
    toolCallFilter: input.toolCallFilter ?? 'handoffOnly',
    keep: input.keep ?? 'all',
    contextWindow: input.contextWindow ?? null,
    history: input.history ?? [],
    cache: [],
    turn: null,
  }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        conversation: { actions: 'cacheConversation' },
        agent_response: { actions: 'cacheResponse' },
        turn_request: { target: 'working', actions: 'startTurn' },
      },
    },
    working: {
      tags: ['busy'],
      initial: 'callingModel',
      states: {
        callingModel: {
          invoke: {
            id: 'callModel',
            src: 'callModel',
            input: ({ context, self }) => {
              const turn = context.turn!;
              const messages = contextWindow([...context.history, ...turn.messages], context.contextWindow);
              const system: ChatMessage[] = context.instructions ? [{ id: `${context.agent}:instructions`, role: 'system', content: context.instructions }] : [];
              return { agent: context.agent, caller: self.id, messages: [...system, ...messages], tools: context.tools };
            },
            onDone: [
              { guard: 'hasToolCalls', target: 'actingOnToolCalls', actions: ['recordModelReply', 'reportToolCalls'] },
              { target: '#agent.idle', actions: ['recordModelReply', 'respond'] },
            ],
            onError: { target: '#agent.idle', actions: 'failTurn' },
          },
        },
        actingOnToolCalls: {
          always: [
            { guard: 'hasPendingTools', target: 'runningTools' },
            { target: 'toolsAnswered' },
          ],
        },
        runningTools: {
          invoke: {
            id: 'runTools',
            src: 'runTools',
            input: ({ context }) => ({ agent: context.agent, calls: context.turn!.pending, approvedIds: context.turn!.approvedIds }),
            onDone: [
              { guard: 'needsApproval', target: '#agent.awaitingApproval', actions: 'recordToolResults' },
              { target: 'toolsAnswered', actions: 'recordToolResults' },
            ],
            onError: { target: '#agent.idle', actions: 'failTurn' },
          },
        },
        toolsAnswered: {
          entry: 'appendToolResults',
          always: [
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
        tool_approval_decision: [
          { guard: 'isLastPendingApproval', target: 'resumingTools', actions: 'recordApprovalDecision' },
          { guard: 'isPendingApproval', actions: 'recordApprovalDecision' },
        ],
        conversation: { actions: 'cacheConversation' },
        agent_response: { actions: 'cacheResponse' },
      },
    },
    resumingTools: {
      always: [
        { guard: 'hasPendingTools', target: 'working.runningTools' },
        { target: 'working.toolsAnswered' },
      ],
    },
  },
});

export type AgentActorRef = ActorRefFrom<typeof agentMachine>;
