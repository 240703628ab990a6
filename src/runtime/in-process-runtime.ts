import { createActor, fromTransition, type AnyActorLogic, type AnyActorRef, type InspectionEvent, type Observer, type Snapshot } from 'xstate';
import { nanoid } from 'nanoid';
import { AgentId, TopicId, agentIdKey, validateAgentType, type AgentIdLike, type TopicIdLike } from './ids.js';
import type { Subscription } from './subscriptions.js';
import { TypeSubscription } from './subscriptions.js';
import { BUSY_TAG, isMessage, type EnvelopeInfo, type Message, type MessageEvent, type RuntimeCommand } from './actor-contract.js';
import { DROP, type InterventionHandler } from './interventions.js';
import type { AgentFactory, AgentRuntime, PublishOptions, RuntimeErrorEvent, RuntimeState, SendOptions } from './agent-runtime.js';
import {
  AbortedError, ActorFailedError, DuplicateAgentTypeError, InvalidArgumentError, MessageDroppedError,
  RuntimeStateError, UnknownAgentTypeError,
} from './errors.js';
import { relayEvent, stopHostedActor } from './xstate-internals.js';

export interface InProcessRuntimeOptions {
  /** An XState inspector (e.g. `createBrowserInspector().inspect`); sees every hosted actor and routed message. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Run, in order, on every message sent or published (and every RPC reply). Messages go through
   * them one at a time, in call order, and are routed in that order: a slow handler holds back
   * every message sent or published after it.
   */
  interventions?: InterventionHandler[];
  /** Default for `publishMessage`'s `deliverToSelf`. */
  deliverToSelf?: boolean;
}

interface Rpc {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  settled: boolean;
  detach?: () => void;
}

interface Envelope {
  readonly id: string;
  readonly message: Message;
  readonly sender?: AgentIdLike;
  readonly topic?: TopicIdLike;
  readonly rpc?: Rpc;
  /** The event actors receive, built once and shared by every recipient of a publish (it is data). */
  event?: MessageEvent;
}

interface Delivery {
  readonly env: Envelope;
  readonly recipient: AgentIdLike;
}

type Reply = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Hosted {
  readonly id: AgentId;
  readonly key: string;
  readonly ref: AnyActorRef;
  readonly mailbox: Delivery[];
  current: Delivery | null;
  busy: boolean;
  reply: Reply | undefined;
  gone: boolean;
  /** A pump is queued (see `schedulePump`). */
  pumpScheduled: boolean;
  /** True during `ref.start()`: a failure there is reported by whoever created the actor. */
  starting: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();
const noop = (): void => {};
const YIELD_EVERY = 10_000;

function isBusy(snapshot: Snapshot<unknown>): boolean {
  const s = snapshot as Snapshot<unknown> & { hasTag?: (tag: string) => boolean };
  return s.status === 'active' && typeof s.hasTag === 'function' && s.hasTag(BUSY_TAG);
}

/**
 * A TypeSubscription as the runtime knows it (indexed by topic type, mapped to
 * `(agentType, topic.source)` without calling `mapToAgent`). A subclass may override `isMatch` or
 * `mapToAgent`, so it is treated like any custom subscription.
 */
function isTypeSubscription(subscription: Subscription): subscription is TypeSubscription {
  return Object.getPrototypeOf(subscription) === TypeSubscription.prototype;
}

function isLogic(value: unknown): value is AnyActorLogic {
  return typeof value === 'object' && value !== null && typeof (value as AnyActorLogic).transition === 'function';
}

/**
 * The embedded runtime: hosts every actor in one XState actor system, routes messages between
 * them, and gives each actor one mailbox (messages wait while it is busy; none is dropped).
 *
 * @example
 * const runtime = new InProcessRuntime();
 * runtime.registerFactory('echo', () => echoMachine);
 * runtime.addSubscription(new TypeSubscription('chat', 'echo'));
 * runtime.start();
 * await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'room-1'));
 * const reply = await runtime.sendMessage({ type: 'ping' }, new AgentId('echo', 'room-1'));
 * await runtime.stopWhenIdle();
 */
export class InProcessRuntime implements AgentRuntime, AsyncDisposable {
  private readonly factories = new Map<string, AgentFactory>();
  private readonly actors = new Map<string, Hosted>();
  private readonly actorsByType = new Map<string, Set<Hosted>>();
  private readonly subscriptions = new Map<string, Subscription>();
  /** TypeSubscriptions indexed by topic type, so a publish does not scan every subscription. */
  private readonly byTopicType = new Map<string, Subscription[]>();
  private readonly otherSubscriptions: Subscription[] = [];
  private readonly errorListeners = new Set<(event: RuntimeErrorEvent) => void>();
  private readonly idleWaiters: Array<{ resolve(): void; reject(error: unknown): void }> = [];
  private readonly interventions: InterventionHandler[];
  private readonly deliverToSelfDefault: boolean;
  private readonly root: AnyActorRef;
  private queue: Delivery[] = [];
  private head = 0;
  private busyCount = 0;
  /** Deliveries waiting in actor mailboxes (dispatched, not yet handed to the actor). */
  private mailboxed = 0;
  private pendingAsync = 0;
  /**
   * The tail of the intervention queue: every send and publish runs its handlers after the one
   * before it has been routed, so messages are routed in call order. It never rejects.
   */
  private interventionTail: Promise<unknown> = RESOLVED;
  private running = false;
  /** Envelope ids: unique per runtime instance (random prefix) and cheap (a counter). */
  private readonly idPrefix = `${nanoid(10)}-`;
  private idSeq = 0;
  private scheduled = false;
  private closed = false;

  constructor(options: InProcessRuntimeOptions = {}) {
    this.interventions = options.interventions ?? [];
    this.deliverToSelfDefault = options.deliverToSelf ?? false;
    // The root of the actor system: every hosted actor is its child, so one inspector sees all.
    this.root = createActor(fromTransition((state: null) => state, null), {
      id: 'troupe.runtime',
      systemId: 'troupe.runtime',
      inspect: options.inspect,
    });
    this.root.start();
  }

  // ---- registration ----------------------------------------------------------------------

  registerFactory(type: string, factory: AgentFactory): void {
    validateAgentType(type);
    if (typeof factory !== 'function') {
      throw new InvalidArgumentError(`The factory for agent type "${type}" must be a function.`);
    }
    if (this.factories.has(type)) throw new DuplicateAgentTypeError(type);
    this.factories.set(type, factory);
  }

  unregisterFactory(type: string): void {
    this.factories.delete(type);
    const hosted = this.actorsByType.get(type);
    // The error only reaches someone if the actor was handling or holding a message; an Error (with
    // its stack trace) per idle actor is most of what tearing down an invocation costs.
    if (hosted) for (const h of [...hosted]) this.retire(h, h.current || h.mailbox.length > 0 ? new MessageDroppedError(`Agent type "${type}" was unregistered.`) : undefined, true);
    // Messages still queued for that type were meant for actors that no longer exist.
    if (this.queue.length > this.head) {
      const kept: Delivery[] = [];
      for (let i = this.head; i < this.queue.length; i++) {
        const d = this.queue[i];
        if (d.recipient.type === type) this.settleRpc(d.env.rpc, { ok: false, error: new MessageDroppedError(`Agent type "${type}" was unregistered before "${d.env.message.type}" was delivered.`) });
        else kept.push(d);
      }
      this.queue = kept;
      this.head = 0;
    }
    this.checkIdle();
  }

  addSubscription(subscription: Subscription): void {
    if (this.subscriptions.has(subscription.id)) {
      throw new InvalidArgumentError(`A subscription with id "${subscription.id}" already exists.`);
    }
    this.subscriptions.set(subscription.id, subscription);
    if (isTypeSubscription(subscription)) {
      const list = this.byTopicType.get(subscription.topicType);
      if (list) list.push(subscription);
      else this.byTopicType.set(subscription.topicType, [subscription]);
    } else {
      this.otherSubscriptions.push(subscription);
    }
  }

  removeSubscription(id: string): void {
    const subscription = this.subscriptions.get(id);
    if (!subscription) throw new InvalidArgumentError(`No subscription with id "${id}".`);
    this.subscriptions.delete(id);
    if (isTypeSubscription(subscription)) {
      const list = this.byTopicType.get(subscription.topicType)!;
      list.splice(list.indexOf(subscription), 1);
      if (list.length === 0) this.byTopicType.delete(subscription.topicType);
    } else {
      this.otherSubscriptions.splice(this.otherSubscriptions.indexOf(subscription), 1);
    }
  }

  retireKey(key: string): void {
    // Interim implementation (the runtime split replaces it with a keyed index).
    for (const h of [...this.actors.values()]) if (h.id.key === key) this.retire(h, h.current || h.mailbox.length > 0 ? new MessageDroppedError(`Actors of key "${key}" were retired.`) : undefined, true);
    if (this.queue.length > this.head) {
      const kept: Delivery[] = [];
      for (let i = this.head; i < this.queue.length; i++) {
        const d = this.queue[i];
        if (d.recipient.key === key) this.settleRpc(d.env.rpc, { ok: false, error: new MessageDroppedError(`Actors of key "${key}" were retired before "${d.env.message.type}" was delivered.`) });
        else kept.push(d);
      }
      this.queue = kept;
      this.head = 0;
    }
    this.checkIdle();
  }

  onError(listener: (event: RuntimeErrorEvent) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  // ---- messaging -------------------------------------------------------------------------

  publishMessage(message: Message, topic: TopicIdLike, options: PublishOptions = {}): Promise<void> {
    return this.publish(message, topic, options);
  }

  /**
   * `publishMessage`; with `onError`, a failure (a handler or a custom subscription threw) goes
   * there instead, before the publish stops counting as pending work.
   */
  private publish(message: Message, topic: TopicIdLike, options: PublishOptions, onError?: (error: unknown) => void): Promise<void> {
    try {
      this.assertOpen();
      this.assertMessage(message);
      TopicId.from(topic);
    } catch (error) {
      if (!onError) return Promise.reject(error);
      onError(error);
      return RESOLVED;
    }
    const deliverToSelf = options.deliverToSelf ?? this.deliverToSelfDefault;
    if (this.interventions.length === 0) {
      try {
        this.routePublish(message, topic, options.sender, deliverToSelf);
      } catch (error) {
        // A custom subscription's isMatch or mapToAgent threw.
        if (!onError) return Promise.reject(error);
        onError(error);
      }
      return RESOLVED;
    }
    return this.inOrder(
      () => this.intervene(message, (h, m) => h.onPublish?.(m, { sender: options.sender, topic })),
      (result) => {
        if (result === DROP) {
          this.report({ error: new MessageDroppedError(`An intervention handler dropped "${message.type}" published on "${topic.type}".`), sender: options.sender, topic, message });
        } else {
          this.routePublish(result as Message, topic, options.sender, deliverToSelf);
        }
      },
      onError,
    );
  }

  sendMessage<R = unknown>(message: Message, recipient: AgentIdLike, options: SendOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let to: AgentId;
      try {
        this.assertOpen();
        this.assertMessage(message);
        to = AgentId.from(recipient);
      } catch (error) {
        reject(error);
        return;
      }
      const { signal, sender } = options;
      if (signal?.aborted) {
        reject(new AbortedError(`sendMessage "${message.type}" to "${agentIdKey(to)}" was aborted.`, { cause: signal.reason }));
        return;
      }
      const rpc: Rpc = { resolve: resolve as (v: unknown) => void, reject, settled: false };
      if (signal) {
        const onAbort = () => this.settleRpc(rpc, { ok: false, error: new AbortedError(`sendMessage "${message.type}" to "${agentIdKey(to)}" was aborted.`, { cause: signal.reason }) });
        signal.addEventListener('abort', onAbort, { once: true });
        rpc.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.routeSend(message, to, sender, rpc);
    });
  }

  /**
   * Routes a direct message. With `rpc` the caller waits for the reply and every failure settles
   * it; without (an actor's `sendCommand`), failures go to the error channel.
   */
  private routeSend(message: Message, recipient: AgentIdLike, sender: AgentIdLike | undefined, rpc: Rpc | undefined): void {
    if (this.interventions.length === 0) {
      this.enqueue({ env: { id: this.nextId(), message, sender, rpc }, recipient });
      return;
    }
    const failed = (error: unknown) => (rpc ? this.settleRpc(rpc, { ok: false, error }) : this.report({ error, agent: recipient, sender, message }));
    this.inOrder(
      // An RPC aborted while it waited in the queue is not shown to the handlers.
      () => (rpc?.settled ? Promise.resolve(DROP) : this.intervene(message, (h, m) => h.onSend?.(m, { sender, recipient }))),
      (result) => {
        if (result === DROP) failed(new MessageDroppedError(`An intervention handler dropped "${message.type}" sent to "${agentIdKey(recipient)}".`));
        else this.enqueue({ env: { id: this.nextId(), message: result as Message, sender, rpc }, recipient });
      },
      failed,
    );
  }

  /**
   * Appends one message to the intervention queue: `run` (its handlers) starts once every
   * message sent or published before it has been routed (or dropped, or failed), then `route`
   * acts on the outcome. The message counts as pending work (`pendingAsync`) from the call until
   * it is routed, so `stopWhenIdle` cannot resolve in between. If `run` or `route` throws, the
   * error goes to `onError` (still counted as pending) or else rejects the returned promise;
   * either way the queue goes on.
   */
  private inOrder<T>(run: () => Promise<T>, route: (result: T) => void, onError?: (error: unknown) => void): Promise<void> {
    this.pendingAsync++;
    let routed = this.interventionTail.then(run).then(route);
    if (onError) routed = routed.catch(onError);
    const done = routed.finally(this.settleAsync);
    this.interventionTail = done.then(undefined, noop);
    return done;
  }

  private readonly settleAsync = (): void => {
    this.pendingAsync--;
    this.checkIdle();
  };

  // ---- lifecycle -------------------------------------------------------------------------

  /** Starts delivering queued messages in the background. */
  start(): void {
    this.assertOpen();
    this.running = true;
    this.schedule();
  }

  /** Stops background delivery; queued messages wait for `start()` or `processNext()`. */
  stop(): Promise<void> {
    this.running = false;
    return RESOLVED;
  }

  /** Whether queued messages are being delivered (see {@link AgentRuntime.isRunning}). */
  get isRunning(): boolean {
    return this.running && !this.closed;
  }

  /**
   * Resolves once no message is queued, no intervention is pending and no actor is busy, then
   * stops background delivery (`isRunning` becomes false).
   *
   * - An actor waiting for a human (one that has handed its question out through
   *   `result.respond` and sits in a state that is not tagged busy) is at rest: `stopWhenIdle`
   *   does not wait for the answer.
   * - An actor running a callback (e.g. invoking a `humanResponse` callback, in a busy state) is
   *   busy: `stopWhenIdle` waits until the callback settles and the actor is at rest again.
   * - Once it has resolved, delivery is stopped: messages sent or published later (a human's
   *   reply through `result.respond`, say) are queued until `start()` is called again. A
   *   long-lived server that shares one runtime across requests should therefore not call it
   *   between requests; call `stop()`/`close()` when shutting down instead.
   *
   * Rejects with {@link RuntimeStateError} when messages are queued, the runtime is not started
   * and nothing in flight could change that (rather than hanging).
   */
  stopWhenIdle(): Promise<void> {
    if (this.isIdle()) {
      this.running = false;
      return RESOLVED;
    }
    if (this.isStalled()) return Promise.reject(this.stalledError());
    return new Promise<void>((resolve, reject) => {
      this.idleWaiters.push({
        resolve: () => {
          this.running = false;
          resolve();
        },
        reject,
      });
      this.checkIdle();
    });
  }

  /** Delivers the next queued message (manual stepping). Returns false when the queue is empty. */
  processNext(): boolean {
    const d = this.dequeue();
    if (!d) return false;
    this.dispatch(d);
    this.checkIdle();
    return true;
  }

  /** Stops every hosted actor (aborting in-flight work) and rejects every waiting RPC. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    const error = new RuntimeStateError('The runtime was closed.');
    const live = [...this.actors.values()];
    for (const h of live) this.retire(h, error, true);
    // Whoever listens (an orchestration waiting on a human, say) learns its actors are gone, so
    // nothing waits forever. Without listeners there is no one to tell.
    if (this.errorListeners.size > 0) for (const h of live) this.report({ error, agent: h.id });
    for (let d = this.dequeue(); d; d = this.dequeue()) this.settleRpc(d.env.rpc, { ok: false, error });
    this.root.stop();
    this.resolveIdleWaiters();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- introspection ---------------------------------------------------------------------

  /** The live actor for `id`, if it has been created. */
  getActor(id: AgentIdLike): AnyActorRef | undefined {
    return this.actors.get(agentIdKey(id))?.ref;
  }

  /**
   * Counts, for leak checks and monitoring. `queued` counts every message not yet handed to its
   * actor (in the runtime's queue or waiting in a busy actor's mailbox).
   */
  get stats(): { actors: number; factories: number; subscriptions: number; queued: number; busy: number } {
    return { actors: this.actors.size, factories: this.factories.size, subscriptions: this.subscriptions.size, queued: this.queuedCount() + this.mailboxed, busy: this.busyCount };
  }

  // ---- persistence -----------------------------------------------------------------------

  async saveState(): Promise<RuntimeState> {
    const queue: RuntimeState['queue'] = [];
    const record = (d: Delivery) => queue.push({ message: d.env.message, recipient: d.recipient, sender: d.env.sender, topic: d.env.topic });
    const actors: RuntimeState['actors'] = [];
    for (const h of this.actors.values()) {
      actors.push({ id: h.id.toJSON(), snapshot: h.ref.getPersistedSnapshot() });
      h.mailbox.forEach(record);
    }
    for (let i = this.head; i < this.queue.length; i++) record(this.queue[i]);
    // A plain JSON copy: nothing in it may depend on this process.
    return JSON.parse(JSON.stringify({ version: 1, actors, queue })) as RuntimeState;
  }

  async loadState(state: RuntimeState): Promise<void> {
    this.assertOpen();
    if (state?.version !== 1 || !Array.isArray(state.actors) || !Array.isArray(state.queue)) {
      throw new InvalidArgumentError('loadState: not a troupe runtime state (expected { version: 1, actors, queue }).');
    }
    for (const { id } of state.actors) {
      if (!this.factories.has(id.type)) throw new UnknownAgentTypeError(id.type);
    }
    for (const { id, snapshot } of state.actors) {
      const existing = this.actors.get(agentIdKey(id));
      if (existing) this.retire(existing, new MessageDroppedError(`Actor "${agentIdKey(id)}" was replaced by loadState.`), true);
      const h = this.host(AgentId.from(id), snapshot as Snapshot<unknown>);
      const restored = h.ref.getSnapshot() as Snapshot<unknown> & { error?: unknown };
      if (restored.status === 'error') this.report({ error: restored.error, agent: h.id });
    }
    for (const q of state.queue) {
      this.enqueue({ env: { id: this.nextId(), message: q.message, sender: q.sender, topic: q.topic }, recipient: q.recipient });
    }
  }

  // ---- internals: routing ----------------------------------------------------------------

  private routePublish(message: Message, topic: TopicIdLike, sender: AgentIdLike | undefined, deliverToSelf: boolean): void {
    if (this.closed) return; // an intervention finished after close(): nothing is left to deliver to
    const direct = this.byTopicType.get(topic.type);
    const candidates = this.otherSubscriptions.length === 0 ? direct ?? [] : [...(direct ?? []), ...this.otherSubscriptions];
    if (candidates.length === 0) return;
    const env: Envelope = { id: this.nextId(), message, sender, topic };
    if (candidates === direct) {
      // The common case: only TypeSubscriptions, each mapping to (agentType, topic.source) by
      // definition, so the agent type alone tells recipients apart.
      let seen: Set<string> | undefined;
      for (const subscription of direct) {
        const type = subscription.agentType;
        if (!deliverToSelf && sender && sender.type === type && sender.key === topic.source) continue;
        // Two subscriptions that map to one agent deliver once.
        if (direct.length > 1) {
          seen ??= new Set();
          if (seen.has(type)) continue;
          seen.add(type);
        }
        this.queue.push({ env, recipient: { type, key: topic.source } });
      }
      this.schedule();
      return;
    }
    // Work out every recipient before queueing any, so a custom subscription that throws (in
    // isMatch or mapToAgent) fails the whole publish instead of delivering part of it.
    const recipients: AgentIdLike[] = [];
    const seen = new Set<string>();
    for (const subscription of candidates) {
      if (!subscription.isMatch(topic)) continue;
      const recipient: AgentIdLike = isTypeSubscription(subscription)
        ? { type: subscription.agentType, key: topic.source }
        : AgentId.from(subscription.mapToAgent(topic));
      if (!deliverToSelf && sender && sender.type === recipient.type && sender.key === recipient.key) continue;
      // Two subscriptions that map to one agent deliver once.
      const key = agentIdKey(recipient);
      if (seen.has(key)) continue;
      seen.add(key);
      recipients.push(recipient);
    }
    for (const recipient of recipients) this.queue.push({ env, recipient });
    if (recipients.length > 0) this.schedule();
  }

  private nextId(): string {
    return this.idPrefix + (++this.idSeq).toString(36);
  }

  private enqueue(d: Delivery): void {
    if (this.closed) {
      this.fail(d, new RuntimeStateError('The runtime was closed.'));
      return;
    }
    this.queue.push(d);
    this.schedule();
  }

  private dequeue(): Delivery | undefined {
    if (this.head >= this.queue.length) return undefined;
    const d = this.queue[this.head];
    this.queue[this.head++] = undefined as unknown as Delivery;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return d;
  }

  private queuedCount(): number {
    return this.queue.length - this.head;
  }

  private schedule(): void {
    if (!this.running || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.drain);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    let n = 0;
    while (this.running) {
      const d = this.dequeue();
      if (!d) break;
      this.dispatch(d);
      if (++n === YIELD_EVERY && this.queuedCount() > 0) {
        // Let timers and I/O run between large batches.
        this.scheduled = true;
        setImmediate(this.drain);
        return;
      }
    }
    this.checkIdle();
  };

  private dispatch(d: Delivery): void {
    if (d.env.rpc?.settled) return; // aborted while queued
    const key = agentIdKey(d.recipient);
    const h = this.actors.get(key) ?? this.create(d);
    if (!h) return;
    if (!h.current && !h.busy && h.mailbox.length === 0) {
      this.deliver(h, d); // the common case: the actor is free, skip its mailbox
      return;
    }
    h.mailbox.push(d);
    this.mailboxed++;
    this.pump(h);
  }

  private create(d: Delivery): Hosted | undefined {
    const factory = this.factories.get(d.recipient.type);
    if (!factory) {
      this.fail(d, new UnknownAgentTypeError(d.recipient.type));
      return undefined;
    }
    let h: Hosted;
    try {
      h = this.host(AgentId.from(d.recipient));
    } catch (error) {
      this.fail(d, error);
      return undefined;
    }
    if (!h.gone) return h;
    // It failed (or finished) while starting: the message that asked for it cannot be delivered.
    const snapshot = h.ref.getSnapshot() as Snapshot<unknown> & { error?: unknown };
    this.fail(d, snapshot.status === 'error'
      ? snapshot.error
      : new MessageDroppedError(`Actor "${h.key}" stopped as it started, before "${d.env.message.type}" was delivered.`));
    return undefined;
  }

  /** Creates, wires and starts the actor for `id` (from its factory, optionally at a snapshot). */
  private host(id: AgentId, snapshot?: Snapshot<unknown>): Hosted {
    const spec = this.factories.get(id.type)!({ id, runtime: this });
    const logic = isLogic(spec) ? spec : spec?.logic;
    if (!isLogic(logic)) {
      throw new InvalidArgumentError(`The factory for agent type "${id.type}" did not return XState actor logic.`);
    }
    const input = isLogic(spec) ? { agentId: id.toJSON() } : spec.input;
    const key = agentIdKey(id);
    const ref = createActor(logic, { parent: this.root, id: key, systemId: key, input, snapshot });
    const h: Hosted = { id, key, ref, mailbox: [], current: null, busy: false, reply: undefined, gone: false, pumpScheduled: false, starting: true };
    this.actors.set(key, h);
    let ofType = this.actorsByType.get(id.type);
    if (!ofType) this.actorsByType.set(id.type, (ofType = new Set()));
    ofType.add(h);
    ref.on('*', (command: RuntimeCommand) => this.onCommand(h, command));
    ref.subscribe({
      next: (s) => this.onSnapshot(h, s),
      error: (error) => this.retire(h, error, false),
      complete: () => this.retire(h, undefined, false),
    });
    ref.start();
    h.starting = false;
    return h;
  }

  /** Hands the actor its next message, one at a time, while it is not busy. */
  private pump(h: Hosted): void {
    // `h.busy` follows the actor's snapshot (see `onSnapshot`), including when it is busy on its own.
    while (!h.gone && !h.current && !h.busy && h.mailbox.length > 0) {
      const d = h.mailbox.shift()!;
      this.mailboxed--;
      if (d.env.rpc?.settled) continue;
      this.deliver(h, d);
    }
  }

  /** Hands `d` to the free actor `h` (routed through the actor system, so inspectors see source → target). */
  private deliver(h: Hosted, d: Delivery): void {
    h.current = d;
    h.reply = undefined;
    const env = d.env;
    let event = env.event;
    if (!event) {
      const envelope: EnvelopeInfo = { id: env.id, sender: env.sender, topic: env.topic, rpc: env.rpc !== undefined };
      event = env.event = { type: env.message.type, message: env.message, envelope };
    }
    const source = env.sender ? this.actors.get(agentIdKey(env.sender))?.ref : undefined;
    relayEvent(source, h.ref, event);
    // The actor handled it synchronously; `onSnapshot` has set `h.busy` if it is now busy.
    if (!h.gone && !h.busy) this.finishCurrent(h);
  }

  private onSnapshot(h: Hosted, snapshot: Snapshot<unknown>): void {
    if (h.gone) return;
    const busy = isBusy(snapshot);
    if (busy === h.busy) return;
    this.setBusy(h, busy);
    if (busy) return;
    this.finishCurrent(h);
    // We are inside the actor's own transition: an event relayed now would only be queued in its
    // XState mailbox and processed after we looked at its snapshot (and while it may be busy
    // again, which would drop it). Hand it the next message once this transition is over.
    if (h.mailbox.length > 0) this.schedulePump(h);
    this.checkIdle();
  }

  private schedulePump(h: Hosted): void {
    if (h.pumpScheduled) return;
    h.pumpScheduled = true;
    queueMicrotask(() => {
      h.pumpScheduled = false;
      this.pump(h);
      this.checkIdle();
    });
  }

  private setBusy(h: Hosted, busy: boolean): void {
    if (h.busy === busy) return;
    h.busy = busy;
    this.busyCount += busy ? 1 : -1;
  }

  private finishCurrent(h: Hosted): void {
    const d = h.current;
    if (!d) return;
    h.current = null;
    const reply = h.reply ?? { ok: true, value: undefined };
    h.reply = undefined;
    if (!d.env.rpc) {
      if (!reply.ok) this.report({ error: reply.error, agent: h.id, sender: d.env.sender, topic: d.env.topic, message: d.env.message });
      return;
    }
    if (!reply.ok || this.interventions.length === 0) {
      this.settleRpc(d.env.rpc, reply);
      return;
    }
    const rpc = d.env.rpc;
    this.pendingAsync++;
    this.intervene(reply.value, (handler, value) => handler.onResponse?.(value, { sender: h.id, recipient: d.env.sender })).then(
      (value) => this.settleRpc(rpc, value === DROP
        ? { ok: false, error: new MessageDroppedError(`An intervention handler dropped the response of "${h.key}" to "${d.env.message.type}".`) }
        : { ok: true, value }),
      (error) => this.settleRpc(rpc, { ok: false, error }),
    ).finally(this.settleAsync);
  }

  private onCommand(h: Hosted, command: RuntimeCommand): void {
    switch (command.type) {
      case 'runtime.publish':
        void this.publish(command.message, command.topic, { sender: h.id, deliverToSelf: command.deliverToSelf },
          (error) => this.report({ error, agent: h.id, message: command.message }));
        return;
      case 'runtime.send': {
        // Fire and forget: the recipient sees `envelope.rpc === false`; failures are reported.
        const { message, recipient } = command;
        try {
          this.assertOpen();
          this.assertMessage(message);
          AgentId.from(recipient);
        } catch (error) {
          this.report({ error, agent: h.id, message });
          return;
        }
        this.routeSend(message, recipient, h.id, undefined);
        return;
      }
      case 'runtime.reply':
        h.reply = { ok: true, value: command.value };
        return;
      case 'runtime.reply_error':
        h.reply = { ok: false, error: command.error };
        return;
      case 'runtime.error':
        this.report({ error: command.error, agent: h.id, message: h.current?.env.message });
        return;
      default:
        return; // other emitted events belong to whoever listens on the actor
    }
  }

  /**
   * Removes an actor that stopped (done, failed, unregistered or closed) and settles everything
   * that was waiting on it, so nothing hangs.
   */
  private retire(h: Hosted, error: unknown, stop: boolean): void {
    if (h.gone) return;
    h.gone = true;
    this.actors.delete(h.key);
    this.actorsByType.get(h.id.type)?.delete(h);
    if (this.actorsByType.get(h.id.type)?.size === 0) this.actorsByType.delete(h.id.type);
    this.setBusy(h, false);
    if (stop) stopHostedActor(h.ref);
    const current = h.current;
    h.current = null;
    if (current) {
      if (error === undefined || stop) this.settleRpc(current.env.rpc, error === undefined ? h.reply ?? { ok: true, value: undefined } : { ok: false, error });
      else if (current.env.rpc) this.settleRpc(current.env.rpc, { ok: false, error });
      else this.report({ error, agent: h.id, sender: current.env.sender, topic: current.env.topic, message: current.env.message });
    } else if (error !== undefined && !stop && !h.starting) {
      this.report({ error, agent: h.id });
    }
    const waiting = h.mailbox.splice(0);
    this.mailboxed -= waiting.length;
    if (error === undefined && !stop && waiting.length > 0) {
      // It reached a final state with messages waiting: like any later message for this AgentId,
      // they go to a fresh instance, ahead of what is queued behind them.
      this.queue.splice(this.head, 0, ...waiting);
      this.schedule();
      this.checkIdle();
      return;
    }
    for (const d of waiting) {
      const dropped = stop && error instanceof Error ? error
        : error === undefined ? new MessageDroppedError(`Actor "${h.key}" had stopped before "${d.env.message.type}" was delivered.`)
          : new ActorFailedError(h.key, { cause: error });
      if (d.env.rpc) this.settleRpc(d.env.rpc, { ok: false, error: dropped });
      else if (!stop) this.report({ error: dropped, agent: h.id, sender: d.env.sender, topic: d.env.topic, message: d.env.message });
    }
    this.checkIdle();
  }

  private fail(d: Delivery, error: unknown): void {
    if (d.env.rpc) this.settleRpc(d.env.rpc, { ok: false, error });
    else this.report({ error, agent: d.recipient, sender: d.env.sender, topic: d.env.topic, message: d.env.message });
  }

  private settleRpc(rpc: Rpc | undefined, reply: Reply): void {
    if (!rpc || rpc.settled) return;
    rpc.settled = true;
    rpc.detach?.();
    if (reply.ok) rpc.resolve(reply.value);
    else rpc.reject(reply.error);
  }

  private report(event: RuntimeErrorEvent): void {
    if (this.errorListeners.size === 0) {
      // Never swallow silently: with no listener, say it on stderr.
      console.error('[troupe] unhandled runtime error', event.agent ? `(${agentIdKey(event.agent)})` : '', event.error);
      return;
    }
    for (const listener of [...this.errorListeners]) {
      try {
        listener(event);
      } catch (error) {
        console.error('[troupe] an onError listener threw', error);
      }
    }
  }

  /**
   * Runs the intervention handlers in order. Callers count it as pending work (`pendingAsync`)
   * until they have acted on the outcome, so `stopWhenIdle` cannot resolve in between.
   */
  private async intervene<T>(value: T, call: (handler: InterventionHandler, value: T) => unknown): Promise<T | typeof DROP> {
    let current: unknown = value;
    for (const handler of this.interventions) {
      const result = await call(handler, current as T);
      if (result === DROP) return DROP;
      if (result !== undefined) current = result;
    }
    return current as T;
  }

  // ---- internals: idleness ---------------------------------------------------------------

  private isIdle(): boolean {
    return this.queuedCount() === 0 && this.mailboxed === 0 && this.busyCount === 0 && this.pendingAsync === 0;
  }

  /** Messages wait in the queue, the runtime is not started, and nothing in flight will change that. */
  private isStalled(): boolean {
    return !this.running && this.queuedCount() > 0 && this.mailboxed === 0 && this.busyCount === 0 && this.pendingAsync === 0;
  }

  private stalledError(): RuntimeStateError {
    return new RuntimeStateError(`stopWhenIdle: ${this.queuedCount()} message(s) are queued but the runtime is not started; call start() or processNext().`);
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || this.closed) return; // close() resolves them when done
    if (this.isIdle()) this.resolveIdleWaiters();
    else if (this.isStalled()) {
      const error = this.stalledError();
      for (const waiter of this.idleWaiters.splice(0)) waiter.reject(error);
    }
  }

  private resolveIdleWaiters(): void {
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  private assertOpen(): void {
    if (this.closed) throw new RuntimeStateError('The runtime is closed.');
  }

  private assertMessage(message: Message): void {
    if (!isMessage(message)) {
      throw new InvalidArgumentError(`A message must be a plain object with a string "type"; got ${describe(message)}.`);
    }
    if (message.type.startsWith('xstate.') || message.type.startsWith('runtime.')) {
      throw new InvalidArgumentError(`Message type "${message.type}" is reserved (the "xstate." and "runtime." prefixes belong to XState and troupe).`);
    }
  }
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  return `an object without a string "type" (keys: ${Object.keys(value).join(', ') || 'none'})`;
}
