/**
 * What every orchestration shares. An orchestration registers its actor types on a runtime once
 * (`<id>.<member slug>`, `<id>.manager`, `<id>.gateway`, `<id>.start`, `<id>.end`,
 * `<id>.boundary`) and its subscriptions (`<id>.conversation`, `<id>.replies`); each invocation is
 * an `AgentId` key and a `TopicId` source. The start executor and the boundary hold nothing of a
 * run, so they are one long-lived actor each (key {@link SHARED_ACTOR_KEY}) serving every run. Per-run
 * data travels in messages, so a fresh process with the same orchestration registered can host a
 * run saved elsewhere.
 */
import { z } from 'zod';
import { fromCallback, fromPromise, type AnyActorLogic } from 'xstate';
import type { ChatClient } from '../agents/chat-client.js';
import { ChatMessageSchema, type ChatMessage } from '../agents/chat-message.js';
import type { ChatCompletionAgent } from '../agents/chat-completion-agent.js';
import { createAgentActor, createTracedAgentActor, type AgentActorHooks } from '../actors/agent-actor.js';
import type { AgentActorInput } from '../actors/agent-machine.js';
import { endExecutorMachine } from '../actors/end-executor.js';
import type { OrchestrationOutput } from '../actors/output.js';
import { startExecutorMachine, type StartMessage } from '../actors/start-executor.js';
import { humanGatewayMachine, type AskHumanInput, type HumanReply, type OpenRequest } from '../actors/human-gateway.js';
import type { ActorEvent, BoundaryMessage } from '../actors/events.js';
import type { TerminationInput } from '../actors/termination.js';
import { effect } from '../runtime/effects.js';
import {
  DuplicateAgentTypeError, RuntimeStateError, TypeSubscription, sanitizeName,
  type AgentIdLike, type AgentRuntime,
} from '../runtime/index.js';
import { InvocationStateError, OrchestrationConfigError } from './errors.js';
import { Invocation, type RunIds } from './invocation.js';
import { CheckpointError } from '../persistence/errors.js';
import type { Checkpoint } from '../persistence/checkpoint.js';
import type { CheckpointStore } from '../persistence/store.js';
import { AutoSave, checkCheckpoint, restoredState, takeCheckpoint, type DurableRun } from './durable.js';
import type { OrchestrationResult } from './result.js';
import { extractStructuredOutput } from './structured-output.js';
import { renderFlowchart } from './mermaid.js';
import { TOPOLOGY_NODES, orchestrationTopology, type TopologyDiagram, type TopologyMember } from './topology.js';
import { taskMessages } from './task.js';
import { OrchestrationTracing, type TracingOptions } from './tracing.js';

export type { OrchestrationOutput };

/** What a `humanResponse` callback is asked: the run, the request, who asks and why. */
export type HumanRequest = AskHumanInput;

/** Options every orchestration accepts. */
export interface OrchestrationOptions<TOut = OrchestrationOutput, TIn = unknown> {
  members: readonly ChatCompletionAgent[];
  /**
   * Names this orchestration's actor types on a runtime (`<id>.<member>`…). Default: derived from
   * the kind and the member names, so every process derives the same one. Give one when two
   * orchestrations of one kind with the same members share a runtime.
   */
  id?: string;
  /** Turns the task into the first messages (required when the task is not a string/ChatMessage). */
  inputTransform?: (task: TIn) => ChatMessage[] | Promise<ChatMessage[]>;
  /** Maps the default output to your type. */
  outputTransform?: (output: OrchestrationOutput) => TOut | Promise<TOut>;
  /** Asks a model for the output as JSON matching this schema (structured output), validated. */
  outputSchema?: z.ZodType<TOut>;
  /** The model `outputSchema` uses; default: the first member's client. */
  outputClient?: ChatClient;
  /** Called with each agent's final reply of a turn. */
  agentResponseCallback?: (response: Extract<ActorEvent, { type: 'agent_response' }>) => void | Promise<void>;
  /**
   * Called with each streamed text delta; setting it makes agents stream. When a model call fails
   * after some deltas, `result.events` carries an `agent_response_abandoned` event: that call's
   * text will not become a response (the run then fails as usual). In routing by intent, an
   * out-of-scope answer's deltas are taken back the same way (`error.name` `'OutOfScope'`).
   *
   * @example
   * streamingAgentResponseCallback: (delta) => process.stdout.write(delta.delta),
   */
  streamingAgentResponseCallback?: (delta: Extract<ActorEvent, { type: 'agent_response_delta' }>) => void;
  /** Model calls an agent may make in one turn before it fails (default 10). */
  maxToolIterations?: number;
  /**
   * Answers people's requests (a user turn, a review) instead of `result.respond`; it is told the
   * `invocationId`, so one orchestration object can serve many conversations. Null or '' means
   * "nothing to say" (for a handoff user turn: the user ended the conversation; for a review:
   * approved).
   */
  humanResponse?: (request: HumanRequest) => HumanReply | Promise<HumanReply>;
  /**
   * A person reviews these agents' answers (`true`: every member) before anyone else hears them:
   * a `human_input_requested` event with `kind: 'review'`; an empty reply approves, any other
   * reply is feedback the agent answers again, until approved.
   */
  humanReview?: boolean | ReadonlyArray<ChatCompletionAgent | string>;
  /** Checked after every reply (and, for handoff, every user reply); true ends with reason `terminated`. */
  terminationCondition?: (conversation: ChatMessage[]) => boolean | Promise<boolean>;
  /**
   * OpenTelemetry spans for every run, when `@opentelemetry/api` is installed and an SDK is
   * registered (see {@link TracingOptions}; nothing to install or pay otherwise). Default `{}`:
   * traced, without message contents. `false`: never traced.
   *
   * @example
   * new SequentialOrchestration({ members, tracing: { captureContent: true } });
   */
  tracing?: TracingOptions | false;
}

export interface InvokeOptions {
  /** Aborting it cancels the invocation. */
  signal?: AbortSignal;
  /** Cancels the invocation if it has not finished by then. */
  timeoutMs?: number;
  /**
   * Continue a conversation: the previous invocation's output. Its transcript becomes every
   * agent's history and the start of this output's `conversation`; for handoff, its `lastAgent`
   * is who `resumeWith` may route the new message to.
   */
  continueFrom?: OrchestrationOutput;
  /**
   * Save the run to this store at every rest point (waiting on people, nothing queued or busy)
   * and delete it once the run settles; `resume(invocationId, …)` carries on from it, in this
   * process or another.
   */
  checkpointStore?: CheckpointStore;
}

/** Options of {@link Orchestration.resume}. */
export type ResumeOptions = Omit<InvokeOptions, 'continueFrom'>;

/** A member as the orchestration wires it. */
export interface MemberBinding {
  readonly agent: ChatCompletionAgent;
  readonly name: string;
  /** Unique, sanitised: the agent type suffix. */
  readonly slug: string;
}

/**
 * The `AgentId` key of the actors one registration shares between its runs (the start executor
 * and the boundary): created on first use, kept across runs (`retireKey(invocationId)` does not
 * touch them), retired by `unregister()` or the runtime's `close()`.
 */
export const SHARED_ACTOR_KEY = '_shared';

const RESERVED_SLUGS = ['manager', 'gateway', 'start', 'end', 'boundary', 'conversation', 'replies'];
const ORCHESTRATION_ID = /^[A-Za-z0-9_-]+$/;

/** Agent-type suffixes for member names: sanitised, and unique even when sanitising collides. */
function uniqueSlugs(names: string[]): string[] {
  const used = new Set(RESERVED_SLUGS);
  return names.map((name) => {
    const base = sanitizeName(name);
    let slug = base;
    for (let n = 2; used.has(slug); n++) slug = `${base}_${n}`;
    used.add(slug);
    return slug;
  });
}

/** A short stable hash (FNV-1a) so the default id is the same in every process. */
function stableHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

function priorConversation(prior: OrchestrationOutput, kind: string): ChatMessage[] {
  const parsed = z.array(ChatMessageSchema).safeParse(prior?.conversation);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OrchestrationConfigError(`${kind}: continueFrom.conversation is not a list of ChatMessages (${issue.path.join('.') || '(root)'}: ${issue.message}); pass the output of a previous invocation.`);
  }
  return prior.conversation;
}

interface Registration {
  /** The actor-type prefix on this runtime (the orchestration's id, or a suffixed one). */
  prefix: string;
  factories: string[];
  subscriptions: string[];
}

function removeRegistration(runtime: AgentRuntime, registration: Registration): void {
  for (const id of registration.subscriptions.splice(0)) runtime.removeSubscription(id);
  for (const type of registration.factories.splice(0)) runtime.unregisterFactory(type);
}

/**
 * Removes the registrations of an orchestration object that was garbage-collected (one built per
 * request, say). Only idle registrations can be left then: a live run's actors keep their
 * orchestration alive.
 */
const collected = new FinalizationRegistry<{ runtime: WeakRef<AgentRuntime>; registration: Registration }>(({ runtime, registration }) => {
  const target = runtime.deref();
  if (target) removeRegistration(target, registration);
});

export abstract class Orchestration<TOut = OrchestrationOutput, TIn = unknown> {
  /**
   * Prefix of every actor type and topic type this orchestration registers (`<id>.<member>`…);
   * see {@link OrchestrationOptions.id}.
   */
  readonly id: string;
  readonly members: readonly ChatCompletionAgent[];
  protected readonly options: OrchestrationOptions<TOut, TIn>;
  protected readonly bindings: readonly MemberBinding[];
  /** Invocations not yet torn down, by id: how the boundary finds the invocation it serves. */
  private readonly live = new Map<string, Invocation<TOut>>();
  private readonly registrations = new WeakMap<AgentRuntime, Registration>();
  /** `<prefix>.<part>` strings by registration prefix and part (see {@link partType}). */
  private readonly partTypes = new Map<string, Map<string, string>>();
  /** The ids of the shared actors (start executor, boundary), by registration prefix. */
  private readonly sharedIds = new Map<string, { start: AgentIdLike; boundary: AgentIdLike }>();
  private readonly memberInputs = new Map<ChatCompletionAgent, Omit<AgentActorInput, 'topic' | 'invocationId' | 'self' | 'boundary' | 'gateway'>>();
  /** Actor logic built once per orchestration (building a machine with `provide` is costly). */
  private readonly logicCache = new Map<unknown, AnyActorLogic>();
  private readonly reviewed: ReadonlySet<string>;
  private readonly tracing: OrchestrationTracing;
  /** Live runs that save themselves to a checkpoint store. */
  private readonly autosaves = new Map<string, AutoSave>();

  protected constructor(protected readonly kind: string, options: OrchestrationOptions<TOut, TIn>) {
    if (!options || !Array.isArray(options.members) || options.members.length === 0) {
      throw new OrchestrationConfigError(`${kind}: "members" must be a non-empty array of agents.`);
    }
    const seen = new Set<string>();
    for (const [i, member] of options.members.entries()) {
      if (!member || typeof member.name !== 'string' || !member.client) {
        throw new OrchestrationConfigError(`${kind}: members[${i}] is not an agent (expected a ChatCompletionAgent).`);
      }
      if (seen.has(member.name)) throw new OrchestrationConfigError(`${kind}: two members are named "${member.name}"; member names must be unique.`);
      seen.add(member.name);
    }
    if (options.outputSchema && options.outputTransform) {
      throw new OrchestrationConfigError(`${kind}: give "outputSchema" or "outputTransform", not both.`);
    }
    if (options.maxToolIterations !== undefined && !(Number.isInteger(options.maxToolIterations) && options.maxToolIterations >= 1)) {
      throw new OrchestrationConfigError(`${kind}: "maxToolIterations" must be an integer >= 1, got ${options.maxToolIterations}.`);
    }
    for (const name of ['humanResponse', 'terminationCondition', 'inputTransform', 'outputTransform', 'agentResponseCallback', 'streamingAgentResponseCallback'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw new OrchestrationConfigError(`${kind}: "${name}" must be a function.`);
    }
    if (options.id !== undefined && (typeof options.id !== 'string' || !ORCHESTRATION_ID.test(options.id))) {
      throw new OrchestrationConfigError(`${kind}: "id" must be letters, digits, '_' or '-', got ${JSON.stringify(options.id)}.`);
    }
    this.members = options.members;
    this.options = options;
    const names = options.members.map((m) => m.name);
    const slugs = uniqueSlugs(names);
    this.bindings = options.members.map((agent, i) => ({ agent, name: agent.name, slug: slugs[i] }));
    this.id = options.id ?? `${kind.replace(/Orchestration$/, '').toLowerCase()}_${stableHash(`${kind}\u0000${names.join('\u0000')}`)}`;
    this.reviewed = reviewedAgents(kind, options.humanReview, names);
    this.tracing = new OrchestrationTracing(kind, options.tracing);
  }

  /**
   * Starts a run on `runtime` and returns its handle at once. The runtime must be started.
   *
   * @example
   * runtime.start();
   * const result = await orchestration.invoke('Summarise this ticket', runtime, { timeoutMs: 60_000 });
   * const output = await result.get();
   */
  async invoke(task: TIn, runtime: AgentRuntime, options: InvokeOptions = {}): Promise<OrchestrationResult<TOut>> {
    if (!runtime.isRunning) {
      throw new RuntimeStateError(`${this.kind}.invoke: the runtime is not running; call runtime.start() first (a run on a stopped runtime would wait forever).`);
    }
    // Only the first run waits, while the optional OpenTelemetry API loads.
    const tracingReady = this.tracing.ready();
    if (tracingReady) await tracingReady;
    const messages = this.options.inputTransform ? await this.options.inputTransform(task) : taskMessages(task);
    const history = options.continueFrom === undefined ? [] : priorConversation(options.continueFrom, this.kind);
    const invocation = this.open(runtime, undefined, options);
    // An already-aborted signal cancels the run before anything is sent: no actor, no model call.
    if (invocation.result.status !== 'running') return invocation.result;
    const start: StartMessage = {
      type: 'start',
      invocationId: invocation.id,
      topic: invocation.ids.conversation,
      manager: invocation.ids.manager,
      messages,
      ...(history.length > 0 ? { history } : {}),
      ...(options.continueFrom?.lastAgent !== undefined ? { lastAgent: options.continueFrom.lastAgent } : {}),
    };
    invocation.sendStart(start, invocation.ids.start);
    return invocation.result;
  }

  /**
   * Continues, on `runtime`, an invocation whose actors were loaded with
   * `runtime.loadState(saved)` (saved with `saveState({ key: invocationId })`, in this process or
   * another). Its open requests are re-emitted as events and listed in `result.pending`.
   *
   * @example
   * support.register(fresh);
   * await fresh.loadState(saved);
   * const result = await support.attach(saved.key!, fresh);
   * result.respond(result.pending[0].requestId, 'yes please');
   */
  async attach(invocationId: string, runtime: AgentRuntime, options: ResumeOptions = {}): Promise<OrchestrationResult<TOut>> {
    if (!runtime.isRunning) throw new RuntimeStateError(`${this.kind}.attach: the runtime is not running; call runtime.start() first.`);
    if (this.live.has(invocationId)) throw new InvocationStateError(`${this.kind}.attach: invocation ${invocationId} is already running in this process.`);
    const tracingReady = this.tracing.ready();
    if (tracingReady) await tracingReady;
    this.register(runtime);
    // A run must have been loaded: asking a gateway that does not exist would create an empty one.
    const saved = await runtime.saveState({ key: invocationId });
    if (saved.actors.length === 0) {
      throw new InvocationStateError(`${this.kind}.attach: this runtime hosts no actor of invocation ${invocationId}; call runtime.loadState(saved) first.`);
    }
    return this.carryOn(this.open(runtime, invocationId, options));
  }

  /** A run whose actors are on the runtime: re-emits its open requests, then lets it go on. */
  private async carryOn(invocation: Invocation<TOut>): Promise<OrchestrationResult<TOut>> {
    if (invocation.result.status !== 'running') return invocation.result;
    let open: OpenRequest[];
    try {
      open = await invocation.runtime.sendMessage<OpenRequest[]>({ type: 'list_requests' }, invocation.ids.gateway);
    } catch (error) {
      invocation.fail(error);
      throw error;
    }
    for (const request of open) {
      invocation.openRequest({ requestId: request.requestId, kind: request.kind, agent: request.agent, recipient: request.replyTo });
      invocation.report(requestEvent(request));
    }
    this.autosaves.get(invocation.id)?.touch();
    return invocation.result;
  }

  /**
   * Carries on an invocation from its checkpoint (`result.checkpoint()`, or what a
   * `checkpointStore` saved — give its invocation id and the store), on `runtime`, in this process
   * or another. The result has the same `invocationId`; its open requests, with the same ids, are
   * in `result.pending` and re-emitted as events; answering them continues the run as if it had
   * never stopped. The run uses this orchestration's configuration (instructions, tools,
   * callbacks, clients); its members must be the saved run's. Rejects with a
   * {@link CheckpointError} naming the problem (another kind, changed members, an unsupported
   * version, a malformed field, an unknown id, a run already live on `runtime`), leaving nothing
   * on the runtime.
   *
   * @example
   * const store = new SqliteCheckpointStore('conversations.db');
   * const resumed = await support.resume(invocationId, runtime, { checkpointStore: store });
   * resumed.respond(resumed.pending[0].requestId, 'order 42');
   * const output = await resumed.get();
   */
  async resume(checkpoint: Checkpoint | string, runtime: AgentRuntime, options: ResumeOptions = {}): Promise<OrchestrationResult<TOut>> {
    if (!runtime.isRunning) throw new RuntimeStateError(`${this.kind}.resume: the runtime is not running; call runtime.start() first.`);
    let value: unknown = checkpoint;
    if (typeof checkpoint === 'string') {
      if (!options.checkpointStore) throw new CheckpointError('not_found', `${this.kind}.resume("${checkpoint}"): give the checkpointStore to load invocation ${checkpoint} from.`);
      value = await options.checkpointStore.load(checkpoint);
      if (value === undefined) throw new CheckpointError('not_found', `${this.kind}.resume: no checkpoint for invocation "${checkpoint}" in the store (it settled, or was never saved there).`);
    }
    const saved = checkCheckpoint(value, this.kind, this.bindings);
    const id = saved.invocationId;
    if (runtime.keyStatus(id).actors > 0) {
      throw new CheckpointError('already_running', `${this.kind}.resume: invocation ${id} is already running on this runtime; resume it once per runtime.`);
    }
    if (this.live.has(id)) {
      throw new CheckpointError('already_running', `${this.kind}.resume: invocation ${id} is already running in this process (on another runtime); settle it there first.`);
    }
    // An already-aborted signal cancels the run before anything is loaded (the checkpoint stays).
    if (options.signal?.aborted) return this.open(runtime, id, options).result;
    const registration = this.acquire(runtime);
    try {
      const state = restoredState(saved, this.durableRun(registration.prefix, id));
      await runtime.loadState(state, { key: id });
    } catch (error) {
      runtime.retireKey(id);
      if (error instanceof CheckpointError) throw error;
      throw new CheckpointError('restore', `${this.kind}.resume: invocation ${id} could not be restored: ${(error as Error)?.message ?? error}`, { cause: error });
    }
    const tracingReady = this.tracing.ready();
    if (tracingReady) await tracingReady;
    return this.carryOn(this.open(runtime, id, options));
  }

  /**
   * Registers this orchestration's actor types and subscriptions on `runtime` (once; `invoke`
   * does it on demand). They stay — every later run reuses them — until {@link unregister}, or
   * until this orchestration object is garbage-collected. Needed before `runtime.loadState` of a
   * saved run in a fresh runtime.
   *
   * @example
   * support.register(runtime);
   * await runtime.loadState(saved);
   */
  register(runtime: AgentRuntime): void {
    this.acquire(runtime);
  }

  /**
   * Removes what {@link register} (or `invoke`) added to `runtime`: its factories, subscriptions
   * and any actor still running (a run in flight fails). Afterwards `runtime.stats` counts
   * nothing of this orchestration.
   */
  unregister(runtime: AgentRuntime): void {
    const registration = this.registrations.get(runtime);
    if (!registration) return;
    // Its runs cannot go on without their actor types: they fail now rather than wait forever.
    for (const invocation of [...this.live.values()]) {
      if (invocation.runtime === runtime) invocation.fail(new InvocationStateError(`Invocation ${invocation.id} failed: ${this.kind} "${registration.prefix}" was unregistered from its runtime.`));
    }
    this.registrations.delete(runtime);
    removeRegistration(runtime, registration);
    collected.unregister(registration);
  }

  /**
   * The registration on `runtime`, made if needed. Its prefix is this orchestration's `id`, or —
   * when another orchestration object already uses that id there and no `id` option was given —
   * `<id>_2`, `<id>_3`…
   */
  private acquire(runtime: AgentRuntime): Registration {
    const existing = this.registrations.get(runtime);
    if (existing) return existing;
    for (let n = 1; ; n++) {
      const prefix = n === 1 ? this.id : `${this.id}_${n}`;
      const registration: Registration = { prefix, factories: [], subscriptions: [] };
      try {
        this.registerAll(runtime, registration);
      } catch (error) {
        removeRegistration(runtime, registration);
        if (!(error instanceof DuplicateAgentTypeError)) throw error;
        if (this.options.id !== undefined) {
          throw new OrchestrationConfigError(`${this.kind}: another orchestration already registered actor types with id "${this.id}" on this runtime; give each a distinct "id".`);
        }
        continue;
      }
      this.registrations.set(runtime, registration);
      // An orchestration made per request and dropped must not leave its types behind forever.
      collected.register(this, { runtime: new WeakRef(runtime), registration }, registration);
      return registration;
    }
  }

  private registerAll(runtime: AgentRuntime, registration: Registration): void {
    const { prefix } = registration;
    // Factories hold this orchestration weakly (see `collected`): the runtime must not keep it alive.
    const self = new WeakRef(this);
    const factory = (part: string, options?: { createOnSend: boolean }) => {
      const type = `${prefix}.${part}`;
      runtime.registerFactory(type, ({ id }) => {
        const orchestration = self.deref();
        if (!orchestration) throw new OrchestrationConfigError(`The orchestration that registered "${type}" no longer exists.`);
        return orchestration.partSpec(part, orchestration.idsFor(prefix, id.key));
      }, options);
      registration.factories.push(type);
    };
    // A member is created when first asked something (a turn request, a reset: always sent); the
    // conversation published before that waits for it, parked, so one never asked costs no actor.
    for (const member of this.bindings) factory(member.slug, { createOnSend: true });
    for (const part of ['manager', 'gateway', 'start', 'end', 'boundary']) factory(part);
    const subscribe = (topic: string, parts: string[]) => {
      for (const part of parts) {
        const subscription = new TypeSubscription(`${prefix}.${topic}`, `${prefix}.${part}`);
        runtime.addSubscription(subscription);
        registration.subscriptions.push(subscription.id);
      }
    };
    const members = this.bindings.map((m) => m.slug);
    subscribe('conversation', [...members, 'manager', 'end']);
    subscribe('replies', [...(this.membersHearReplies() ? members : []), 'manager', 'end']);
  }

  /** What checkpoints need to know of run `key` under `prefix`. */
  private durableRun(prefix: string, key: string): DurableRun {
    const ids = this.idsFor(prefix, key);
    return { kind: this.kind, prefix, bindings: this.bindings, ids, spec: (part) => this.partSpec(part, ids) };
  }

  /**
   * The actor topology as a Mermaid `flowchart`: the start executor, the manager, every member
   * (name and description), the human gateway when people take part, the end executor and the
   * invocation boundary, with what flows between them. Deterministic: same orchestration, same
   * string. Orchestrations override {@link topology} to draw how their manager drives members.
   *
   * @example
   * console.log(support.toMermaid()); // paste into a ```mermaid block (GitHub renders it)
   */
  toMermaid(): string {
    return renderFlowchart(this.topology().chart);
  }

  /** The diagram {@link toMermaid} renders; by default the manager asks members and hears replies. */
  protected topology(): TopologyDiagram {
    return orchestrationTopology({
      manager: 'manager',
      members: this.topologyMembers(),
      drive: (d) => {
        d.edge(TOPOLOGY_NODES.manager, TOPOLOGY_NODES.members, 'turn request');
        d.edge(TOPOLOGY_NODES.members, TOPOLOGY_NODES.manager, 'reply');
      },
    });
  }

  /** The members as diagrams show them (who is reviewed, who may need a tool approved). */
  protected topologyMembers(): TopologyMember[] {
    return this.bindings.map(({ agent, name }) => ({
      name,
      ...(agent.description ? { description: agent.description } : {}),
      ...(this.reviewed.has(name) ? { review: true } : {}),
      ...(agent.tools.some((t) => t.needsApproval !== false) ? { approval: true } : {}),
    }));
  }

  /** The actor logic of the manager: decides who speaks (sequencer, collector, coordinator…). */
  protected abstract managerLogic(): AnyActorLogic;

  /** The manager's input for one run (JSON). */
  protected abstract managerInput(ids: RunIds): unknown;

  /** Whether members hear each other's responses (true unless they work independently). */
  protected membersHearReplies(): boolean {
    return true;
  }

  /** Hooks for the agent actors (streaming; handoff adds a custom filter). Shared by every run. */
  protected agentHooks(): AgentActorHooks {
    return {
      onDelta: (event, invocationId) => this.live.get(invocationId)?.report(event),
      stream: Boolean(this.options.streamingAgentResponseCallback),
    };
  }

  /**
   * The agent actor's input for `member`, apart from the run's ids; orchestrations extend it
   * (control tools, filters…). Computed once per member: every run shares it.
   */
  protected memberInput(member: MemberBinding): Omit<AgentActorInput, 'topic' | 'invocationId' | 'self' | 'boundary' | 'gateway'> {
    return {
      agent: member.name,
      instructions: member.agent.instructions,
      tools: member.agent.tools.map((t) => t.definition),
      maxToolIterations: this.options.maxToolIterations,
      ...(this.reviewed.has(member.name) ? { review: true } : {}),
      // The agent machine must know its text went out as deltas (to take back a withheld answer).
      ...(this.options.streamingAgentResponseCallback ? { streams: true } : {}),
    };
  }

  /** What every manager is told of its run: its own id and where the run's other parts are. */
  protected managerIds(ids: RunIds) {
    return { invocationId: ids.key, self: ids.manager, boundary: ids.boundary, gateway: ids.gateway, end: ids.end, topic: ids.conversation };
  }

  /** The members as the manager addresses them in one run. */
  protected memberIds(ids: RunIds): Array<{ name: string; id: AgentIdLike }> {
    return this.bindings.map((m) => ({ name: m.name, id: { type: this.partType(ids.prefix, m.slug), key: ids.key } }));
  }

  /** The provided `checkTermination` effect: the user's `terminationCondition` (every manager that checks performs it). */
  protected terminationEffect() {
    const condition = this.options.terminationCondition;
    return effect('checkTermination', async (input: TerminationInput) => Boolean(await condition?.(input.conversation)));
  }

  /** Applies the output transform or structured output; the default output otherwise. */
  protected finalize(output: OrchestrationOutput, signal: AbortSignal): Promise<TOut> | TOut {
    const { outputSchema, outputTransform } = this.options;
    if (outputSchema) return extractStructuredOutput(outputSchema, this.options.outputClient ?? this.members[0].client, output, signal);
    if (outputTransform) return outputTransform(output);
    return output as unknown as TOut;
  }

  /** `build()` once per orchestration and `key`; the logic must not capture a run. */
  protected cachedLogic<L extends AnyActorLogic>(key: unknown, build: () => L): L {
    let logic = this.logicCache.get(key) as L | undefined;
    if (!logic) this.logicCache.set(key, (logic = build()));
    return logic;
  }

  /** The ids of one run's actors and topics (one object per live run, shared by its actors). */
  private idsFor(prefix: string, key: string): RunIds {
    const live = this.live.get(key)?.ids;
    if (live?.prefix === prefix) return live;
    let shared = this.sharedIds.get(prefix);
    if (!shared) {
      const at = (part: string): AgentIdLike => ({ type: this.partType(prefix, part), key: SHARED_ACTOR_KEY });
      this.sharedIds.set(prefix, (shared = { start: at('start'), boundary: at('boundary') }));
    }
    return {
      prefix,
      key,
      manager: { type: this.partType(prefix, 'manager'), key },
      gateway: { type: this.partType(prefix, 'gateway'), key },
      start: shared.start,
      end: { type: this.partType(prefix, 'end'), key },
      boundary: shared.boundary,
      conversation: { type: this.partType(prefix, 'conversation'), source: key },
      replies: { type: this.partType(prefix, 'replies'), source: key },
    };
  }

  /** The logic and input of one part of a run (`<member slug>`, `manager`, `gateway`, `start`, `end`, `boundary`). */
  private partSpec(part: string, ids: RunIds): { logic: AnyActorLogic; input: unknown } {
    switch (part) {
      case 'manager': return { logic: this.managerLogic(), input: this.managerInput(ids) };
      case 'gateway': return { logic: this.gatewayLogic(), input: { invocationId: ids.key, topic: ids.conversation, boundary: ids.boundary, useCallback: Boolean(this.options.humanResponse) } };
      // Shared by every run (whatever key they are created under): no input of a run.
      case 'start': return { logic: startExecutorMachine, input: {} };
      case 'boundary': return { logic: this.boundaryLogic(), input: {} };
      case 'end': return { logic: this.endLogic(), input: { invocationId: ids.key, boundary: ids.boundary, ...(this.options.outputSchema || this.options.outputTransform ? {} : { finalize: false }) } };
    }
    const member = this.bindings.find((m) => m.slug === part);
    if (!member) throw new OrchestrationConfigError(`${this.kind}: no part "${part}".`);
    return { logic: this.agentLogic(member, this.tracing.isTraced(ids.key)), input: this.agentInput(member, ids) };
  }

  /** A run handle on `runtime` (registering this orchestration there first, if needed). */
  private open(runtime: AgentRuntime, id: string | undefined, options: ResumeOptions): Invocation<TOut> {
    const registration = this.acquire(runtime);
    const checkpoint = (key: string) => takeCheckpoint(runtime, this.durableRun(registration.prefix, key));
    let autosave: AutoSave | undefined;
    const invocation: Invocation<TOut> = new Invocation<TOut>(runtime, {
      id,
      ids: (key) => this.idsFor(registration.prefix, key),
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      callbackAnswers: Boolean(this.options.humanResponse),
      onEvent: (event) => {
        this.tracing.event(invocation.id, event);
        return this.onEvent(event, invocation.id);
      },
      checkpoint,
      saved: () => autosave?.flushed() ?? Promise.resolve(),
    });
    if (invocation.result.status !== 'running') return invocation;
    this.live.set(invocation.id, invocation);
    // Before any actor of the run exists: its agents are created with the traced logic.
    this.tracing.start(invocation as Invocation<unknown>, this.kind, this.id);
    const store = options.checkpointStore;
    if (store) this.autosaves.set(invocation.id, (autosave = new AutoSave(store, invocation as Invocation<unknown>, () => checkpoint(invocation.id))));
    invocation.onCleanup(() => {
      this.live.delete(invocation.id);
      this.autosaves.delete(invocation.id);
    });
    return invocation;
  }

  private agentInput(member: MemberBinding, ids: RunIds): AgentActorInput {
    let shared = this.memberInputs.get(member.agent);
    if (!shared) this.memberInputs.set(member.agent, (shared = this.memberInput(member)));
    // Not `{ ...shared, … }`: on Node 20's V8, adding fields to a spread copy makes new hidden
    // classes on every call (≈ 2 KB per member per run); a copy by Object.assign reuses them.
    const input = Object.assign({}, shared) as AgentActorInput;
    input.invocationId = ids.key;
    input.self = { type: this.partType(ids.prefix, member.slug), key: ids.key };
    input.boundary = ids.boundary;
    input.gateway = ids.gateway;
    input.topic = ids.replies;
    return input;
  }

  /** `<prefix>.<part>` (a member slug, `manager`, `conversation`…), built once per prefix and part. */
  private partType(prefix: string, part: string): string {
    let types = this.partTypes.get(prefix);
    if (!types) this.partTypes.set(prefix, (types = new Map()));
    let type = types.get(part);
    if (type === undefined) types.set(part, (type = `${prefix}.${part}`));
    return type;
  }

  /** The agent actor's logic: built once per member (and once more for traced runs), shared by every run. */
  private agentLogic(member: MemberBinding, traced: boolean): AnyActorLogic {
    if (traced) return this.tracing.agentLogic(member.agent, () => createTracedAgentActor(member.agent, this.agentHooks(), this.tracing.lookup));
    return this.cachedLogic(member.agent, () => createAgentActor(member.agent, this.agentHooks()));
  }

  private endLogic(): AnyActorLogic {
    return this.cachedLogic(endExecutorMachine, () => endExecutorMachine.provide({
      actors: { finalize: fromPromise<unknown, OrchestrationOutput>(async ({ input, signal }) => this.finalize(input, signal)) },
    }));
  }

  private gatewayLogic(): AnyActorLogic {
    const callback = this.options.humanResponse;
    return this.cachedLogic(humanGatewayMachine, () => humanGatewayMachine.provide({
      actors: { askHuman: fromPromise<HumanReply, AskHumanInput>(async ({ input }) => callback!(input)) },
    }));
  }

  /** Where runs meet the code that awaits them: events and settling arrive here as messages. */
  private boundaryLogic(): AnyActorLogic {
    return this.cachedLogic('boundary', () => Orchestration.sharedBoundary(new WeakRef(this as Orchestration<unknown, unknown>)));
  }

  /**
   * The boundary's logic, holding the orchestration weakly: the boundary lives as long as the
   * registration and must not keep a dropped orchestration alive (see `collected`). Static, so its
   * closure cannot capture `this`.
   */
  private static sharedBoundary(orchestration: WeakRef<Orchestration<unknown, unknown>>): AnyActorLogic {
    return fromCallback<{ type: string; message: BoundaryMessage }>(({ receive }) => {
      receive((event) => orchestration.deref()?.atBoundary(event.message));
    });
  }

  /** A message at the boundary, for the run it names (a run already torn down hears nothing). */
  private atBoundary(message: BoundaryMessage): void {
    const { invocationId } = message;
    const invocation = this.live.get(invocationId);
    if (!invocation) return;
    switch (message.type) {
      case 'invocation_event': return invocation.report(message.event);
      case 'request_opened': return invocation.openRequest({ requestId: message.requestId, kind: message.kind, agent: message.agent, recipient: message.recipient });
      case 'request_closed':
        invocation.closeRequest(message.requestId);
        return this.autosaves.get(invocationId)?.touch();
      case 'invocation_settled': return invocation.resolve(message.output as TOut);
      case 'invocation_failed': return invocation.fail(message.error);
    }
  }

  private onEvent(event: ActorEvent, invocationId: string): void | Promise<void> {
    if (event.type === 'human_input_requested' || event.type === 'approval_requested' || event.type === 'plan_review_requested') {
      this.autosaves.get(invocationId)?.touch();
    }
    if (event.type === 'agent_response') return this.options.agentResponseCallback?.(event);
    if (event.type === 'agent_response_delta') return this.options.streamingAgentResponseCallback?.(event);
  }
}

/** The event that announces an open request (re-emitted when a run is attached). */
function requestEvent(request: OpenRequest): ActorEvent {
  const { requestId, agent } = request;
  switch (request.kind) {
    case 'approval': return { type: 'approval_requested', requestId, agent, toolCall: request.toolCall! };
    case 'plan_review': return { type: 'plan_review_requested', requestId, agent, facts: request.facts ?? '', plan: request.plan ?? '' };
    default: return { type: 'human_input_requested', requestId, agent, kind: request.kind, ...(request.message ? { message: request.message } : {}) };
  }
}

function reviewedAgents(kind: string, option: OrchestrationOptions['humanReview'], names: string[]): ReadonlySet<string> {
  if (option === undefined || option === false) return new Set();
  if (option === true) return new Set(names);
  if (!Array.isArray(option)) throw new OrchestrationConfigError(`${kind}: "humanReview" must be true, false or a list of members.`);
  const reviewed = new Set<string>();
  for (const entry of option) {
    const name = typeof entry === 'string' ? entry : entry?.name;
    if (!names.includes(name)) throw new OrchestrationConfigError(`${kind}: humanReview names "${name}", which is not a member (members: ${names.join(', ')}).`);
    reviewed.add(name);
  }
  return reviewed;
}
