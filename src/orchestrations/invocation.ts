/**
 * One run of an orchestration on a runtime: its namespace (every actor type and topic is
 * prefixed with the invocation id, so runs never collide), its registrations (removed when it
 * settles, so a long-lived runtime does not grow), and its result.
 */
import { nanoid } from 'nanoid';
import type { ChatMessage } from '../agents/chat-message.js';
import type { ActorEvent } from '../actors/events.js';
import { HumanInputResponseSchema, type HumanInputResponse, type ToolApprovalDecision } from '../actors/protocol.js';
import {
  TypeSubscription, InvalidArgumentError, RuntimeStateError,
  type AgentFactory, type AgentIdLike, type AgentRuntime, type Message, type RuntimeErrorEvent, type TopicIdLike,
} from '../runtime/index.js';
import { InvocationCancelledError, OrchestrationTimeoutError } from './errors.js';
import { OrchestrationResult } from './result.js';
import { timerDelay } from './timeouts.js';

export interface InvocationOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called for every event, before it is streamed (callbacks such as agentResponseCallback). */
  onEvent?: (event: ActorEvent) => void | Promise<void>;
}

const KEY = 'main';

export class Invocation<TOut> {
  readonly id = `run_${nanoid(10)}`;
  /** What was said by people and the system: the task, the user's replies. */
  readonly topic: TopicIdLike = { type: `${this.id}.conversation`, source: KEY };
  /** Agents' responses. Coordinators and the end executor hear them; members only when the
   * orchestration wants them to (concurrent members work alone). */
  readonly replies: TopicIdLike = { type: `${this.id}.replies`, source: KEY };
  readonly result: OrchestrationResult<TOut>;
  /** Who answers human input requests (set by orchestrations that have a human gateway). */
  gateway: AgentIdLike | undefined;
  private readonly factories: string[] = [];
  private readonly subscriptions: string[] = [];
  private readonly pendingApprovals = new Map<string, AgentIdLike>();
  private readonly pendingHumanRequests = new Set<string>();
  private readonly agentIds = new Map<string, AgentIdLike>();
  private readonly disposers: Array<() => void> = [];
  private cleanedUp = false;

  constructor(readonly runtime: AgentRuntime, private readonly options: InvocationOptions = {}) {
    const timeoutMs = timerDelay(options.timeoutMs, 'invoke({ timeoutMs })');
    this.result = new OrchestrationResult<TOut>(this.id, {
      cancel: () => this.cancel(new InvocationCancelledError(`Invocation ${this.id} was cancelled.`)),
      respond: (requestId, reply) => this.respond(requestId, reply),
      decide: (requestId, approved, reason) => this.decide(requestId, approved, reason),
    });
    const prefix = `${this.id}.`;
    const ours = (id?: AgentIdLike) => id !== undefined && id.type.startsWith(prefix);
    this.disposers.push(runtime.onError((event: RuntimeErrorEvent) => {
      if (ours(event.agent) || ours(event.sender)) this.fail(event.error);
    }));
    const { signal } = options;
    if (signal) {
      const onAbort = () => this.cancel(new InvocationCancelledError(`Invocation ${this.id} was aborted by its signal.`, { cause: signal.reason }));
      if (signal.aborted) queueMicrotask(onAbort);
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.disposers.push(() => signal.removeEventListener('abort', onAbort));
      }
    }
    if (timeoutMs !== undefined) {
      const timer = setTimeout(() => this.cancel(new OrchestrationTimeoutError(`Invocation ${this.id} did not finish within timeoutMs = ${timeoutMs}; it was cancelled.`)), timeoutMs);
      this.disposers.push(() => clearTimeout(timer));
    }
  }

  /** Both topics: for actors that hear everything (coordinators, the end executor). */
  get allTopics(): TopicIdLike[] {
    return [this.topic, this.replies];
  }

  /** The agent type for `name` in this invocation's namespace. */
  typeFor(slug: string): string {
    return `${this.id}.${slug}`;
  }

  idFor(slug: string): AgentIdLike {
    return { type: this.typeFor(slug), key: KEY };
  }

  /** Registers a factory in the namespace, subscribed to `topics`. */
  register(slug: string, factory: AgentFactory, options: { topics?: TopicIdLike[]; agentName?: string } = {}): AgentIdLike {
    const type = this.typeFor(slug);
    this.runtime.registerFactory(type, factory);
    this.factories.push(type);
    for (const topic of options.topics ?? []) {
      const subscription = new TypeSubscription(topic.type, type);
      this.runtime.addSubscription(subscription);
      this.subscriptions.push(subscription.id);
    }
    const id = this.idFor(slug);
    if (options.agentName) this.agentIds.set(options.agentName, id);
    return id;
  }

  /** Runs `dispose` when the invocation is torn down (at once if it already was). */
  onCleanup(dispose: () => void): void {
    if (this.cleanedUp) dispose();
    else this.disposers.push(dispose);
  }

  /** Sends a message into the invocation; a failure to deliver fails the invocation. */
  send(message: Message, recipient: AgentIdLike): void {
    this.runtime.sendMessage(message, recipient).catch((error) => this.fail(error));
  }

  /** Events reported by this invocation's actors. */
  report = (event: ActorEvent): void => {
    if (this.result.status !== 'running') return;
    if (event.type === 'approval_requested') this.pendingApprovals.set(event.requestId, this.agentIds.get(event.agent)!);
    if (event.type === 'human_input_requested') this.pendingHumanRequests.add(event.requestId);
    if (this.options.onEvent) {
      try {
        const pending = this.options.onEvent(event);
        if (pending && typeof (pending as Promise<void>).then === 'function') (pending as Promise<void>).catch((error) => this.fail(error));
      } catch (error) {
        this.fail(error);
      }
    }
    this.result._emit({ ...event, invocationId: this.id });
  };

  resolve(output: TOut): void {
    if (this.result._resolve(output)) this.scheduleCleanup();
  }

  fail(error: unknown): void {
    if (this.result._reject(error)) this.scheduleCleanup();
  }

  cancel(error: Error): void {
    if (this.result._reject(error, 'cancelled')) this.cleanup();
  }

  /** A reply sent into a stopped runtime would wait, undelivered, until someone starts it. */
  private assertDeliverable(what: string): void {
    if (!this.runtime.isRunning) {
      throw new RuntimeStateError(`${what}: the runtime is not running (stopped, or stopWhenIdle() was called); call runtime.start() first.`);
    }
  }

  private respond(requestId: string, reply: string | ChatMessage | null): void {
    this.assertDeliverable(`respond("${requestId}")`);
    if (!this.pendingHumanRequests.has(requestId) || !this.gateway) {
      throw new InvalidArgumentError(`respond(): invocation ${this.id} has no open human input request "${requestId}".`);
    }
    if (!HumanInputResponseSchema.shape.reply.safeParse(reply).success) {
      throw new InvalidArgumentError(`respond("${requestId}"): the reply must be a string, a ChatMessage ({ id, role, content }) or null.`);
    }
    this.pendingHumanRequests.delete(requestId);
    const message: HumanInputResponse = { type: 'human_input_response', requestId, reply };
    this.send(message, this.gateway);
  }

  private decide(requestId: string, approved: boolean, reason?: string): void {
    this.assertDeliverable(`${approved ? 'approve' : 'reject'}("${requestId}")`);
    const agent = this.pendingApprovals.get(requestId);
    if (!agent) throw new InvalidArgumentError(`${approved ? 'approve' : 'reject'}(): invocation ${this.id} has no open approval request "${requestId}".`);
    this.pendingApprovals.delete(requestId);
    const message: ToolApprovalDecision = { type: 'tool_approval_decision', requestId, approved, ...(reason ? { reason } : {}) };
    this.send(message, agent);
  }

  // Settling happens inside an actor's transition; tear down after it has returned.
  private scheduleCleanup(): void {
    queueMicrotask(() => this.cleanup());
  }

  /** Removes every subscription, factory and actor of this invocation (aborting in-flight work). */
  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    for (const dispose of this.disposers.splice(0)) dispose();
    for (const id of this.subscriptions.splice(0)) this.runtime.removeSubscription(id);
    for (const type of this.factories.splice(0)) this.runtime.unregisterFactory(type);
  }
}
