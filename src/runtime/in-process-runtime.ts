/** The embedded runtime: composes the actor host, routing, dispatch queue and idle tracking behind `AgentRuntime`. */
import { createActor, fromTransition, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import { nanoid } from 'nanoid';
import { agentIdKey, validateAgentType, type AgentIdLike, type TopicIdLike } from './ids.js';
import type { Subscription } from './subscriptions.js';
import type { Message } from './actor-contract.js';
import type { InterventionHandler } from './interventions.js';
import type { AgentFactory, AgentRuntime, FactoryOptions, KeyStatus, PublishOptions, RuntimeErrorEvent, RuntimeState, SendOptions, StateOptions } from './agent-runtime.js';
import { DuplicateAgentTypeError, InvalidArgumentError, RuntimeStateError } from './errors.js';
import { retireActor, retireAllOfType, retireAllWithKey } from './actor-host.js';
import { actorsWithKey, createActorDirectory } from './actor-directory.js';
import { createScheduler, processNext } from './delivery-loop.js';
import { createDispatchQueue, queuedCount, queuedDeliveries, queuedForKey, shiftDelivery } from './dispatch-queue.js';
import { checkIdle, createIdleTracker, resolveIdleWaiters, whenIdle } from './idle-tracker.js';
import { createInterventionChain } from './intervention-chain.js';
import { settleRpc } from './rpc.js';
import { report, type RuntimeCore } from './runtime-core.js';
import { assertOpen, onCommand, publish, sendMessage } from './router.js';
import { parseRuntimeState, restoreState, snapshotState } from './saved-state.js';
import { createParking, dropAll, dropType, parkedDeliveries } from './parking.js';
import { addToIndex, createSubscriptionIndex, removeFromIndex } from './subscription-index.js';

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
  readonly #core: RuntimeCore;

  constructor(options: InProcessRuntimeOptions = {}) {
    const root = createActor(fromTransition((state: null) => state, null), {
      id: 'troupe.runtime',
      systemId: 'troupe.runtime',
      inspect: options.inspect,
    });
    const core: RuntimeCore = {
      runtime: this,
      root,
      factories: new Map(),
      createOnSend: new Set(),
      parking: createParking(),
      actors: createActorDirectory(),
      subscriptions: createSubscriptionIndex(),
      queue: createDispatchQueue(),
      idle: createIdleTracker(),
      interventions: createInterventionChain(options.interventions ?? []),
      errorListeners: new Set(),
      deliverToSelf: options.deliverToSelf ?? false,
      idPrefix: `${nanoid(10)}-`,
      idSeq: 0,
      running: false,
      closed: false,
      scheduled: false,
      retiredInChain: new Map(),
      retires: 0,
      schedule: () => {},
      command: (h, command) => onCommand(core, h, command),
    };
    core.schedule = createScheduler(core);
    this.#core = core;
    root.start();
  }

  // ---- registration ----------------------------------------------------------------------

  /**
   * Registers the factory of `type`'s actors (see {@link AgentRuntime.registerFactory}); with
   * `{ createOnSend: true }`, an actor is created by the first message *sent* to it and published
   * messages wait for that, parked (see {@link FactoryOptions.createOnSend}).
   *
   * @example
   * runtime.registerFactory('member', memberFactory, { createOnSend: true });
   * await runtime.publishMessage(task, new TopicId('chat', 'run-1')); // parked for member/run-1
   * await runtime.sendMessage(turn, new AgentId('member', 'run-1')); // creates it: task, then turn
   */
  registerFactory(type: string, factory: AgentFactory, options: FactoryOptions = {}): void {
    validateAgentType(type);
    if (typeof factory !== 'function') {
      throw new InvalidArgumentError(`The factory for agent type "${type}" must be a function.`);
    }
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError(`registerFactory("${type}"): options must be an object; got ${options === null ? 'null' : typeof options}.`);
    }
    if (this.#core.factories.has(type)) throw new DuplicateAgentTypeError(type);
    this.#core.factories.set(type, factory);
    if (options.createOnSend) this.#core.createOnSend.add(type);
  }

  unregisterFactory(type: string): void {
    this.#core.factories.delete(type);
    this.#core.createOnSend.delete(type);
    dropType(this.#core.parking, type);
    retireAllOfType(this.#core, type);
    checkIdle(this.#core);
  }

  /**
   * Ends one invocation's actors: stops every hosted actor whose `AgentId.key` is `key` (aborting
   * its invoked work), rejects the RPCs they were handling or held in their mailboxes, and drops
   * the messages queued for that key (RPCs among them reject), all with `MessageDroppedError`.
   * Factories and subscriptions stay: a later message to that key creates fresh actors. Costs
   * the key's own actors and messages, not the whole runtime's.
   *
   * @example
   * runtime.registerFactory('triage', triageFactory); // once, for every run
   * await runtime.sendMessage(task, new AgentId('triage', invocationId));
   * runtime.retireKey(invocationId); // the run has settled: free its actors
   */
  retireKey(key: string): void {
    if (typeof key !== 'string') throw new InvalidArgumentError(`retireKey: the key must be a string; got ${typeof key}.`);
    const core = this.#core;
    // Messages still in the intervention chain were sent before this: they must not recreate the key's actors.
    if (core.idle.pending > 0) core.retiredInChain.set(key, ++core.retires);
    retireAllWithKey(core, key, 'was retired');
    checkIdle(this.#core);
  }

  addSubscription(subscription: Subscription): void {
    addToIndex(this.#core.subscriptions, subscription);
  }

  removeSubscription(id: string): void {
    removeFromIndex(this.#core.subscriptions, id);
  }

  onError(listener: (event: RuntimeErrorEvent) => void): () => void {
    this.#core.errorListeners.add(listener);
    return () => this.#core.errorListeners.delete(listener);
  }

  // ---- messaging -------------------------------------------------------------------------

  publishMessage(message: Message, topic: TopicIdLike, options: PublishOptions = {}): Promise<void> {
    return publish(this.#core, message, topic, options);
  }

  sendMessage<R = unknown>(message: Message, recipient: AgentIdLike, options: SendOptions = {}): Promise<R> {
    return sendMessage<R>(this.#core, message, recipient, options);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Starts delivering queued messages in the background. */
  start(): void {
    assertOpen(this.#core);
    this.#core.running = true;
    this.#core.schedule();
  }

  /** Stops background delivery; queued messages wait for `start()` or `processNext()`. */
  stop(): Promise<void> {
    this.#core.running = false;
    return Promise.resolve();
  }

  /** Whether queued messages are being delivered (see {@link AgentRuntime.isRunning}). */
  get isRunning(): boolean {
    return this.#core.running && !this.#core.closed;
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
    return whenIdle(this.#core);
  }

  /** Delivers the next queued message (manual stepping). Returns false when the queue is empty. */
  processNext(): boolean {
    return processNext(this.#core);
  }

  /** Stops every hosted actor (aborting in-flight work) and rejects every waiting RPC. */
  async close(): Promise<void> {
    const core = this.#core;
    if (core.closed) return;
    core.closed = true;
    core.running = false;
    const error = new RuntimeStateError('The runtime was closed.');
    const live = [...core.actors.byId.values()];
    for (const h of live) retireActor(core, h, error, true);
    // Whoever listens (an orchestration waiting on a human, say) learns its actors are gone, so
    // nothing waits forever. Without listeners there is no one to tell.
    if (core.errorListeners.size > 0) for (const h of live) report(core, { error, agent: h.id });
    for (let d = shiftDelivery(core.queue); d; d = shiftDelivery(core.queue)) settleRpc(d.env.rpc, { ok: false, error });
    dropAll(core.parking); // broadcasts nobody was sent anything for: no one to tell
    core.root.stop();
    resolveIdleWaiters(core);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- introspection ---------------------------------------------------------------------

  /** The live actor for `id`, if it has been created. */
  getActor(id: AgentIdLike): AnyActorRef | undefined {
    return this.#core.actors.byId.get(agentIdKey(id))?.ref;
  }

  /**
   * Counts, for leak checks and monitoring. `queued` counts every message not yet handed to its
   * actor (in the runtime's queue or waiting in a busy actor's mailbox); `parked`, the published
   * messages waiting for a `createOnSend` actor to be created (not counted in `queued`).
   */
  get stats(): { actors: number; factories: number; subscriptions: number; queued: number; busy: number; parked: number } {
    const core = this.#core;
    return { actors: core.actors.byId.size, factories: core.factories.size, subscriptions: core.subscriptions.byId.size, queued: queuedCount(core.queue) + core.idle.mailboxed, busy: core.idle.busy, parked: core.parking.count };
  }

  /**
   * What the actors keyed `key` are doing (see {@link AgentRuntime.keyStatus}): at rest when
   * nothing is queued for them and none is busy. Parked messages (see
   * {@link FactoryOptions.createOnSend}) are not counted: they wait for a send that may never come.
   *
   * @example
   * const { queued, busy } = runtime.keyStatus(result.invocationId);
   * if (queued === 0 && busy === 0) console.log('waiting on people');
   */
  keyStatus(key: string): KeyStatus {
    const core = this.#core;
    let queued = queuedForKey(core.queue, key);
    let busy = 0;
    const hosted = actorsWithKey(core.actors, key);
    for (const h of hosted) {
      queued += h.mailbox.length;
      if (h.busy || h.current) busy++;
    }
    return { actors: hosted.length, queued, busy };
  }

  // ---- persistence -----------------------------------------------------------------------

  /**
   * A JSON snapshot (versioned, see `RuntimeStateSchema`) of every hosted actor and every message
   * not yet handled (parked ones apart, in `parked`), or, with `key`, of the actors with that
   * `AgentId.key` and the messages waiting for them.
   *
   * @example
   * const saved = await runtime.saveState({ key: invocationId });
   * await fresh.loadState(saved, { key: invocationId });
   */
  async saveState(options: StateOptions = {}): Promise<RuntimeState> {
    const { actors, queue, parking } = this.#core;
    const { key } = options;
    if (key === undefined) return snapshotState(actors.byId.values(), queuedDeliveries(queue), parkedDeliveries(parking));
    return snapshotState(actorsWithKey(actors, key), queuedDeliveries(queue, key), parkedDeliveries(parking, key), key);
  }

  /**
   * Restores a state from `saveState`: its actors (replacing live ones with the same AgentId)
   * and its waiting messages (queued behind what is already queued; parked ones parked again,
   * or queued when their type is not `createOnSend` here or their actor is live). With `key`, only that key's
   * part of `state`: the actors live under that key are replaced as a whole and messages queued
   * for it are dropped; other keys are left alone. Rejects with `InvalidArgumentError` for a state
   * of another version or form, and with `UnknownAgentTypeError` (before changing anything) when
   * an actor's type has no factory.
   *
   * @example
   * await runtime.loadState(JSON.parse(saved), { key: 'conversation-42' });
   */
  async loadState(state: RuntimeState, options: StateOptions = {}): Promise<void> {
    assertOpen(this.#core);
    restoreState(this.#core, parseRuntimeState(state), options.key);
  }
}
