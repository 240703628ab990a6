import type { AnyActorLogic } from 'xstate';
import type { ChatCompletionAgent } from '../agents/chat-completion-agent.js';
import type { AgentActorHooks } from '../actors/agent-actor.js';
import { COMPLETE_CONTROL, COMPLETE_TASK_TOOL, transferToolName, type ControlTool, type HandoffControl } from '../actors/control-tools.js';
import { handoffCoordinatorMachine, type HandoffCoordinatorInput, type ResumeWith } from '../actors/handoff-coordinator.js';
import { INTENT_ROUTER_NAME, intentRouterMachine, type IntentRouterInput } from '../actors/intent-router.js';
import type { ResponseFilter, ToolCallFilterMode } from '../actors/tool-call-filter.js';
import { OrchestrationConfigError } from './errors.js';
import { OrchestrationHandoffs, type HandoffGraph } from './handoff-graph.js';
import type { RunIds } from './invocation.js';
import type { AgentIdLike } from '../runtime/index.js';
import { handoffTopology, intentRouterTopology } from './handoff-topology.js';
import { boundaryLine, classifyActor, resolveRouter, type IntentRouterOptions } from './intent-routing.js';
import type { TopologyDiagram } from './topology.js';
import { Orchestration, type InvokeOptions, type MemberBinding, type OrchestrationOptions, type OrchestrationOutput } from './orchestration.js';

/** One outgoing edge of an agent, as its transfer tool offers it. */
export interface HandoffEdge {
  toolName: string;
  target: string;
  description?: string;
}

/** What a target agent sees of the turns before it (see {@link HandoffOptions.toolCallFilter}). */
export type ToolCallFilter = ToolCallFilterMode | ResponseFilter;

export interface AutonomousOptions {
  /** Agents (or names) that continue without the user; default: every member. */
  agents?: Array<ChatCompletionAgent | string>;
  /** How many times an agent may continue on its own before the user is asked (default 3). */
  turnLimit?: number | Record<string, number>;
  /** The user message that asks it to go on. */
  continuationPrompt?: string;
}

export interface HandoffOptions<TOut, TIn> extends OrchestrationOptions<TOut, TIn> {
  /** Who may hand off to whom. Default: start with the first member; everyone may reach everyone. */
  handoffs?: OrchestrationHandoffs | HandoffGraph;
  /**
   * Who answers the user's next message: `asker` (default; also called `previous`) — the agent
   * that asked, i.e. the last active agent; `start` — the start agent, every user turn.
   */
  resumeWith?: ResumeWith;
  /**
   * What an agent sees of other agents' turns: `handoffOnly` (default) hides handoff calls and
   * their results, `all` hides every tool call and result, `none` hides nothing; or a function.
   */
  toolCallFilter?: ToolCallFilter;
  /** Send each model only the last N messages (bounds tokens on long conversations). */
  contextWindow?: number;
  /** Agents that continue without asking the user (`true`: every member, default limits). */
  autonomous?: boolean | AutonomousOptions;
  /** Give every agent a `complete_task(summary)` tool that ends the conversation. */
  completeTask?: boolean;
  /** Handoffs allowed in one invocation before it ends with reason `max_handoffs` (default 10). */
  maxHandoffs?: number;
  /**
   * Appended to the instructions of every agent that can hand off. A function gets the agent's
   * routes; `false` appends nothing. The default explains the transfer tools.
   */
  handoffInstructions?: false | string | ((agent: string, routes: HandoffEdge[]) => string);
  /**
   * Routing by intent instead of transfer tools (the lazy classification proposed on Agent
   * Framework PR #1469): the first user message is classified and the chosen specialist talks
   * with the user directly, turn after turn, with no other model call. Specialists get no
   * transfer tools, only a boundary line: "if a request is outside your area, reply exactly:
   * <phrase>". A reply containing the phrase is withheld (no event, no transcript entry, no other
   * agent sees it); the latest user message is classified with the last `contextTurns` turns, a
   * `handoff { from, to, reason: 'classified' }` event follows, and the chosen specialist —
   * given those turns, not the whole transcript — answers it. If the classifier names the
   * specialist that declined, or a second specialist declines the same message, the user is
   * asked to rephrase. Not combinable with `handoffs`, `resumeWith`, `handoffInstructions` or
   * `autonomous`.
   *
   * @example
   * const support = new HandoffOrchestration({
   *   members: [billing, security, products],          // each with a description
   *   router: { classifier: new OpenAIChatClient({ model: 'gpt-4.1-mini' }) },
   * });
   * // or a function: router: { classifier: ({ messages }) => (/password/i.test(messages.at(-1)!.content) ? 'Security' : 'Billing') }
   */
  router?: IntentRouterOptions;
}

const DEFAULT_MAX_HANDOFFS = 10;
const DEFAULT_TURN_LIMIT = 3;
const DEFAULT_CONTINUATION = 'Continue with the task on your own if you can; answer the user when you are done or need them.';
const FILTER_MODES: readonly string[] = ['handoffOnly', 'all', 'none'];

function defaultHandoffInstructions(_agent: string, routes: HandoffEdge[]): string {
  const lines = routes.map((r) => `- ${r.toolName}: ${r.target}${r.description ? ` (${r.description})` : ''}`);
  return `You are part of a team. When another agent is better suited, call its transfer tool instead of answering; do not announce the transfer in text.\nTransfer tools:\n${lines.join('\n')}`;
}

/**
 * Agents hand the conversation to each other (triage → specialists), asking the user whenever
 * an agent answers without handing off.
 *
 * @example
 * const support = new HandoffOrchestration({
 *   members: [triage, refund, orderStatus],
 *   handoffs: OrchestrationHandoffs.startWith(triage).addMany(triage, [refund, orderStatus]).add(refund, triage),
 *   resumeWith: 'asker',
 * });
 * const result = await support.invoke('I want my money back for order 42', runtime);
 * for await (const event of result.events) {
 *   if (event.type === 'human_input_requested') result.respond(event.requestId, await ask(event.message?.content));
 * }
 * const { messages, lastAgent } = await result.get();
 */
export class HandoffOrchestration<TOut = OrchestrationOutput, TIn = unknown> extends Orchestration<TOut, TIn> {
  readonly handoffs: OrchestrationHandoffs;
  private readonly routes = new Map<string, HandoffEdge[]>();
  private readonly controls = new Map<string, ControlTool[]>();
  private readonly autonomy: Record<string, number>;
  private readonly settings: HandoffOptions<TOut, TIn>;
  /** Routing by intent, with defaults applied (undefined: transfer tools). */
  private readonly router: ReturnType<typeof resolveRouter> | undefined;

  constructor(options: HandoffOptions<TOut, TIn>) {
    super('HandoffOrchestration', options);
    this.settings = options;
    const names = this.members.map((m) => m.name);
    this.router = options.router === undefined ? undefined : this.validateRouter(options);
    this.handoffs = options.handoffs ? OrchestrationHandoffs.from(options.handoffs) : fullMesh(this.members);
    this.validate(names);
    for (const member of this.members) {
      // Routing by intent: no transfer tools (complete_task stays available when asked for).
      const routes = this.router ? [] : this.buildRoutes(member);
      this.routes.set(member.name, routes);
      // Built once per member: the agent machine memoises tool definitions on this array.
      const handoffs: ControlTool[] = routes.map((r): HandoffControl => ({ name: r.toolName, kind: 'handoff', target: r.target, ...(r.description ? { description: r.description } : {}) }));
      this.controls.set(member.name, options.completeTask ? [...handoffs, COMPLETE_CONTROL] : handoffs);
    }
    this.autonomy = autonomyLimits(options.autonomous, names);
  }

  /**
   * Starts a conversation, or continues one with `{ continueFrom: previousOutput }`.
   *
   * @example
   * const first = await (await support.invoke('Refund order 42', runtime)).get();
   * const next = await support.invoke('And order 43?', runtime, { continueFrom: first });
   */
  override invoke(task: TIn, runtime: Parameters<Orchestration<TOut, TIn>['invoke']>[1], options: InvokeOptions = {}) {
    const prior = options.continueFrom;
    if (prior?.lastAgent !== undefined && !this.members.some((m) => m.name === prior.lastAgent)) {
      return Promise.reject(new OrchestrationConfigError(`HandoffOrchestration: continueFrom.lastAgent "${prior.lastAgent}" is not a member.`));
    }
    return super.invoke(task, runtime, options);
  }

  protected override memberInput(member: MemberBinding) {
    const base = super.memberInput(member);
    const routes = this.routes.get(member.name)!;
    const extra = this.router ? boundaryLine(this.router.outOfScopePhrase) : this.instructionsFor(member.name, routes);
    const filter = this.settings.toolCallFilter;
    return {
      ...base,
      ...(this.router ? { outOfScopePhrase: this.router.outOfScopePhrase } : {}),
      instructions: [base.instructions, extra].filter(Boolean).join('\n\n') || undefined,
      controlTools: this.controls.get(member.name)!,
      toolCallFilter: typeof filter === 'string' ? filter : 'handoffOnly' as const,
      contextWindow: this.settings.contextWindow ?? null,
    };
  }

  protected override agentHooks(): AgentActorHooks {
    const filter = this.settings.toolCallFilter;
    return { ...super.agentHooks(), ...(typeof filter === 'function' ? { filter } : {}) };
  }

  /**
   * In routing by intent, members hear no one else's replies: a specialist chosen after an
   * out-of-scope answer is given the last turns by the router instead.
   */
  protected override membersHearReplies(): boolean {
    return !this.router;
  }

  /** The handoff graph inside the topology: who may hand off to whom, the start agent marked. */
  protected override topology(): TopologyDiagram {
    if (this.router) {
      return intentRouterTopology({
        members: this.topologyMembers(),
        classifier: typeof this.router.classifier === 'function' ? 'function' : 'model',
        phrase: this.router.outOfScopePhrase,
        completeTask: Boolean(this.settings.completeTask),
      });
    }
    return handoffTopology({
      members: this.topologyMembers(),
      start: this.handoffs.start,
      routes: this.routes,
      completeTask: Boolean(this.settings.completeTask),
    });
  }

  protected managerLogic(): AnyActorLogic {
    if (this.router) {
      const router = this.router;
      return this.cachedLogic(intentRouterMachine, () => intentRouterMachine.provide({ actors: { classify: classifyActor(router) }, actions: { checkTermination: this.terminationEffect() } }));
    }
    return this.cachedLogic(handoffCoordinatorMachine, () => handoffCoordinatorMachine.provide({ actions: { checkTermination: this.terminationEffect() } }));
  }

  protected managerInput(ids: RunIds): HandoffCoordinatorInput | IntentRouterInput {
    if (this.router) {
      return {
        ...this.managerIds(ids),
        members: this.membersByName(ids),
        candidates: this.members.map((m) => ({ name: m.name, description: m.description })),
        contextTurns: this.router.contextTurns,
        rephraseMessage: this.router.rephraseMessage,
        maxHandoffs: this.settings.maxHandoffs ?? DEFAULT_MAX_HANDOFFS,
        checkTermination: Boolean(this.settings.terminationCondition),
      };
    }
    return {
      invocationId: ids.key,
      self: ids.manager,
      boundary: ids.boundary,
      members: this.membersByName(ids),
      startAgent: this.handoffs.start,
      resumeWith: this.settings.resumeWith ?? 'asker',
      gateway: ids.gateway,
      end: ids.end,
      maxHandoffs: this.settings.maxHandoffs ?? DEFAULT_MAX_HANDOFFS,
      autonomous: this.autonomy,
      continuationPrompt: this.continuationPrompt(),
      checkTermination: Boolean(this.settings.terminationCondition),
    };
  }

  /**
   * The members as the manager addresses them in one run, by name. The coordinator keeps this
   * record while its conversation waits; its type strings are the ones `memberIds` builds once per prefix.
   */
  private membersByName(ids: RunIds): Record<string, AgentIdLike> {
    return Object.fromEntries(this.memberIds(ids).map((m) => [m.name, m.id]));
  }

  private continuationPrompt(): string {
    const autonomous = this.settings.autonomous;
    return (typeof autonomous === 'object' && autonomous.continuationPrompt) || DEFAULT_CONTINUATION;
  }

  private instructionsFor(agent: string, routes: HandoffEdge[]): string | undefined {
    const custom = this.settings.handoffInstructions;
    if (custom === false || routes.length === 0) return undefined;
    if (typeof custom === 'string') return custom;
    return (custom ?? defaultHandoffInstructions)(agent, routes);
  }

  /** `router` and the options it replaces are exclusive; a model classifier reads descriptions. */
  private validateRouter(options: HandoffOptions<TOut, TIn>) {
    const router = resolveRouter('HandoffOrchestration', options.router!);
    for (const option of ['resumeWith', 'handoffs', 'handoffInstructions', 'autonomous'] as const) {
      if (options[option] !== undefined) {
        throw new OrchestrationConfigError(`HandoffOrchestration: "${option}" does not apply with "router" (routing by intent: the classifier picks the specialist, who keeps the conversation until it declines); remove one of them.`);
      }
    }
    if (this.members.some((m) => m.name === INTENT_ROUTER_NAME)) {
      throw new OrchestrationConfigError(`HandoffOrchestration: a member is named "${INTENT_ROUTER_NAME}", like the intent router (its classifier's token usage goes under that name); rename the member.`);
    }
    if (typeof router.classifier !== 'function') {
      const missing = this.members.find((m) => !m.description.trim());
      if (missing) throw new OrchestrationConfigError(`HandoffOrchestration: member "${missing.name}" has no description; a model classifier ("router.classifier") picks specialists by their descriptions.`);
    }
    return router;
  }

  private validate(names: string[]): void {
    const known = new Set(names);
    const { settings } = this;
    if (!known.has(this.handoffs.start)) throw new OrchestrationConfigError(`HandoffOrchestration: the start agent "${this.handoffs.start}" is not a member (members: ${names.join(', ')}).`);
    for (const [source, targets] of this.handoffs.edges) {
      if (!known.has(source)) throw new OrchestrationConfigError(`HandoffOrchestration: handoff source "${source}" is not a member (members: ${names.join(', ')}).`);
      for (const target of targets.keys()) {
        if (!known.has(target)) throw new OrchestrationConfigError(`HandoffOrchestration: "${source}" hands off to "${target}", which is not a member (members: ${names.join(', ')}).`);
      }
    }
    if (settings.resumeWith !== undefined && !['asker', 'previous', 'start'].includes(settings.resumeWith)) {
      throw new OrchestrationConfigError(`HandoffOrchestration: "resumeWith" must be 'asker', 'previous' or 'start', got ${JSON.stringify(settings.resumeWith)}.`);
    }
    const filter = settings.toolCallFilter;
    if (filter !== undefined && typeof filter !== 'function' && !FILTER_MODES.includes(filter)) {
      throw new OrchestrationConfigError(`HandoffOrchestration: "toolCallFilter" must be 'handoffOnly', 'all', 'none' or a function, got ${JSON.stringify(filter)}.`);
    }
    positiveInteger(settings.maxHandoffs, 'maxHandoffs', 0);
    positiveInteger(settings.contextWindow, 'contextWindow', 1);
  }

  /** One `transfer_to_<target>` tool per outgoing edge, checked against the agent's own tools. */
  private buildRoutes(member: ChatCompletionAgent): HandoffEdge[] {
    const targets = this.handoffs.edges.get(member.name) ?? new Map<string, string | undefined>();
    const own = new Set(member.tools.map((t) => t.name));
    if (this.settings.completeTask && own.has(COMPLETE_TASK_TOOL)) {
      throw new OrchestrationConfigError(`HandoffOrchestration: agent "${member.name}" has its own tool "${COMPLETE_TASK_TOOL}", which clashes with completeTask.`);
    }
    const routes: HandoffEdge[] = [];
    const used = new Map<string, string>();
    for (const [target, description] of targets) {
      const toolName = transferToolName(target);
      if (own.has(toolName)) throw new OrchestrationConfigError(`HandoffOrchestration: agent "${member.name}" has its own tool "${toolName}", which clashes with the handoff to "${target}".`);
      const clash = used.get(toolName);
      if (clash) throw new OrchestrationConfigError(`HandoffOrchestration: agent "${member.name}" hands off to "${clash}" and "${target}", which both become the tool name "${toolName}"; rename one of them.`);
      used.set(toolName, target);
      const targetAgent = this.members.find((m) => m.name === target)!;
      routes.push({ toolName, target, description: description ?? (targetAgent.description || undefined) });
    }
    return routes;
  }
}

function fullMesh(members: readonly ChatCompletionAgent[]): OrchestrationHandoffs {
  const graph = OrchestrationHandoffs.startWith(members[0]);
  for (const source of members) for (const target of members) if (source !== target) graph.add(source, target);
  return graph;
}

function autonomyLimits(autonomous: HandoffOptions<unknown, unknown>['autonomous'], names: string[]): Record<string, number> {
  if (!autonomous) return {};
  const config: AutonomousOptions = autonomous === true ? {} : autonomous;
  const agents = (config.agents ?? names).map((a) => (typeof a === 'string' ? a : a.name));
  const limits: Record<string, number> = {};
  for (const agent of agents) {
    if (!names.includes(agent)) throw new OrchestrationConfigError(`HandoffOrchestration: autonomous agent "${agent}" is not a member (members: ${names.join(', ')}).`);
    const limit = typeof config.turnLimit === 'object' ? config.turnLimit[agent] ?? DEFAULT_TURN_LIMIT : config.turnLimit ?? DEFAULT_TURN_LIMIT;
    positiveInteger(limit, `autonomous.turnLimit for "${agent}"`, 0);
    limits[agent] = limit;
  }
  return limits;
}

function positiveInteger(value: number | undefined, option: string, min: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
    throw new OrchestrationConfigError(`HandoffOrchestration: "${option}" must be an integer >= ${min}, got ${value}.`);
  }
}
