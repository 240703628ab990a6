/** Hosts actors: creates them from their factories, gives each a mailbox, and retires them when they stop. */
import { createActor, type AnyActorLogic, type AnyActorRef, type Snapshot } from 'xstate';
import { AgentId, agentIdKey } from './ids.js';
import { BUSY_TAG, type RuntimeCommand } from './actor-contract.js';
import { DROP } from './interventions.js';
import { ActorFailedError, InvalidArgumentError, MessageDroppedError, UnknownAgentTypeError } from './errors.js';
import { actorsWithKey, addActor, removeActor } from './actor-directory.js';
import { queuedForKey, removeDeliveries, unshiftDeliveries } from './dispatch-queue.js';
import { messageEvent, type Delivery } from './envelope.js';
import { checkIdle, settlePending } from './idle-tracker.js';
import { runHandlers } from './intervention-chain.js';
import { settleRpc, type Reply } from './rpc.js';
import { fail, report, type RuntimeCore } from './runtime-core.js';
import { dropStartOptions, relayEvent, stopHostedActor } from './xstate-internals.js';
import { abortEffects, resumeEffect } from './effects.js';
import { dropKey, park, unpark } from './parking.js';

export interface Hosted {
  readonly id: AgentId;
  /** `agentIdKey(id)`. */
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

function isBusy(snapshot: Snapshot<unknown>): boolean {
  const s = snapshot as Snapshot<unknown> & { hasTag?: (tag: string) => boolean };
  return s.status === 'active' && typeof s.hasTag === 'function' && s.hasTag(BUSY_TAG);
}

function isLogic(value: unknown): value is AnyActorLogic {
  return typeof value === 'object' && value !== null && typeof (value as AnyActorLogic).transition === 'function';
}

/** What an actor of an ordinary type has waiting when it is created: nothing is parked for it. */
const NOTHING_PARKED: readonly Delivery[] = [];

/**
 * Hands `d` to its recipient, creating the actor on its first message; waits in the mailbox while
 * it is busy. For a `createOnSend` type, a published message does not create the actor: it is
 * parked until a sent one does, and the new actor gets the parked ones first, in order.
 */
export function dispatch(core: RuntimeCore, d: Delivery): void {
  if (d.env.rpc?.settled) return; // aborted while queued
  let h = core.actors.byId.get(agentIdKey(d.recipient));
  if (!h) {
    const onSend = core.createOnSend.has(d.recipient.type);
    if (onSend && d.env.topic !== undefined) {
      park(core.parking, d);
      return;
    }
    const parked = onSend ? unpark(core.parking, d.recipient) : NOTHING_PARKED;
    h = createFor(core, d);
    if (!h) {
      for (const p of parked) park(core.parking, p); // still waiting for an actor that can be created
      return;
    }
    // Ahead of `d`, in their order; `pump` below hands them over one at a time. (A loop: a
    // spread of a long parked list would overflow the stack.)
    for (const p of parked) h.mailbox.push(p);
    core.idle.mailboxed += parked.length;
  }
  if (!h.current && !h.busy && h.mailbox.length === 0) {
    deliver(core, h, d); // the common case: the actor is free, skip its mailbox
    return;
  }
  h.mailbox.push(d);
  core.idle.mailboxed++;
  pump(core, h);
}

function createFor(core: RuntimeCore, d: Delivery): Hosted | undefined {
  if (!core.factories.has(d.recipient.type)) {
    fail(core, d, new UnknownAgentTypeError(d.recipient.type));
    return undefined;
  }
  let h: Hosted;
  try {
    h = hostActor(core, AgentId.from(d.recipient));
  } catch (error) {
    fail(core, d, error);
    return undefined;
  }
  if (!h.gone) return h;
  // It failed (or finished) while starting: the message that asked for it cannot be delivered.
  const snapshot = h.ref.getSnapshot() as Snapshot<unknown> & { error?: unknown };
  fail(core, d, snapshot.status === 'error'
    ? snapshot.error
    : new MessageDroppedError(`Actor "${h.key}" stopped as it started, before "${d.env.message.type}" was delivered.`));
  return undefined;
}

/**
 * Creates, wires and starts the actor for `id` (from its factory, optionally at a snapshot, with
 * the effects it was performing when saved: they are performed again, a snapshot does not hold them).
 */
export function hostActor(core: RuntimeCore, id: AgentId, snapshot?: Snapshot<unknown>, effects?: ReadonlyArray<{ name: string; input: unknown }>): Hosted {
  const spec = core.factories.get(id.type)!({ id, runtime: core.runtime });
  const logic = isLogic(spec) ? spec : spec?.logic;
  if (!isLogic(logic)) {
    throw new InvalidArgumentError(`The factory for agent type "${id.type}" did not return XState actor logic.`);
  }
  const input = isLogic(spec) ? { agentId: id.toJSON() } : spec.input;
  const key = agentIdKey(id);
  const ref = createActor(logic, { parent: core.root, id: key, systemId: key, input, snapshot });
  const h: Hosted = { id, key, ref, mailbox: [], current: null, busy: false, reply: undefined, gone: false, pumpScheduled: false, starting: true };
  addActor(core.actors, h);
  ref.on('*', (command: RuntimeCommand) => core.command(h, command));
  ref.subscribe(new HostObserver(core, h));
  ref.start();
  dropStartOptions(ref);
  h.starting = false;
  if (effects && !h.gone) for (const { name, input } of effects) resumeEffect(ref, name, input);
  return h;
}

/**
 * The host's observer of one actor: methods on a shared prototype instead of three closures per
 * actor (XState binds them to this object, which holds the two references they need).
 */
class HostObserver {
  constructor(private readonly core: RuntimeCore, private readonly h: Hosted) {}
  next(snapshot: Snapshot<unknown>): void {
    onSnapshot(this.core, this.h, snapshot);
  }
  error(error: unknown): void {
    retireActor(this.core, this.h, error, false);
  }
  complete(): void {
    retireActor(this.core, this.h, undefined, false);
  }
}

/** Hands the actor its next message, one at a time, while it is not busy. */
function pump(core: RuntimeCore, h: Hosted): void {
  // `h.busy` follows the actor's snapshot (see `onSnapshot`), including when it is busy on its own.
  while (!h.gone && !h.current && !h.busy && h.mailbox.length > 0) {
    const d = h.mailbox.shift()!;
    core.idle.mailboxed--;
    if (d.env.rpc?.settled) continue;
    deliver(core, h, d);
  }
}

/** Hands `d` to the free actor `h` (routed through the actor system, so inspectors see source → target). */
function deliver(core: RuntimeCore, h: Hosted, d: Delivery): void {
  h.current = d;
  h.reply = undefined;
  const event = messageEvent(d.env);
  relayEvent(d.env.source, h.ref, event);
  // The actor handled it synchronously; `onSnapshot` has set `h.busy` if it is now busy.
  if (!h.gone && !h.busy) finishCurrent(core, h);
}

function onSnapshot(core: RuntimeCore, h: Hosted, snapshot: Snapshot<unknown>): void {
  if (h.gone) return;
  const busy = isBusy(snapshot);
  if (busy === h.busy) return;
  setBusy(core, h, busy);
  if (busy) return;
  finishCurrent(core, h);
  // We are inside the actor's own transition: an event relayed now would only be queued in its
  // XState mailbox and processed after we looked at its snapshot (and while it may be busy
  // again, which would drop it). Hand it the next message once this transition is over.
  if (h.mailbox.length > 0) schedulePump(core, h);
  checkIdle(core);
}

function schedulePump(core: RuntimeCore, h: Hosted): void {
  if (h.pumpScheduled) return;
  h.pumpScheduled = true;
  queueMicrotask(() => {
    h.pumpScheduled = false;
    pump(core, h);
    checkIdle(core);
  });
}

function setBusy(core: RuntimeCore, h: Hosted, busy: boolean): void {
  if (h.busy === busy) return;
  h.busy = busy;
  core.idle.busy += busy ? 1 : -1;
}

/** The actor is done with its current message: settle the RPC (through `onResponse`) or report its error. */
function finishCurrent(core: RuntimeCore, h: Hosted): void {
  const d = h.current;
  if (!d) return;
  h.current = null;
  const reply = h.reply ?? { ok: true, value: undefined };
  h.reply = undefined;
  const { rpc, sender, message } = d.env;
  if (!rpc) {
    if (!reply.ok) report(core, { error: reply.error, agent: h.id, sender, topic: d.env.topic, message });
    return;
  }
  const { handlers } = core.interventions;
  if (!reply.ok || handlers.length === 0) {
    settleRpc(rpc, reply);
    return;
  }
  core.idle.pending++;
  runHandlers(handlers, reply.value, (handler, value) => handler.onResponse?.(value, { sender: h.id, recipient: sender })).then(
    (value) => settleRpc(rpc, value === DROP
      ? { ok: false, error: new MessageDroppedError(`An intervention handler dropped the response of "${h.key}" to "${message.type}".`) }
      : { ok: true, value }),
    (error) => settleRpc(rpc, { ok: false, error }),
  ).finally(() => settlePending(core));
}

/**
 * Removes an actor that stopped (done, failed, unregistered or closed) and settles everything
 * that was waiting on it, so nothing hangs. With `stop` the runtime stops it (aborting its
 * invoked work) and `error`, if any, is what its current and mailboxed RPCs reject with. Either
 * way the effects it has in flight are aborted (their answers would reach nobody).
 */
export function retireActor(core: RuntimeCore, h: Hosted, error: unknown, stop: boolean): void {
  if (h.gone) return;
  h.gone = true;
  removeActor(core.actors, h);
  setBusy(core, h, false);
  abortEffects(h.ref);
  if (stop) stopHostedActor(h.ref);
  const current = h.current;
  h.current = null;
  if (current) {
    if (error === undefined || stop) settleRpc(current.env.rpc, error === undefined ? h.reply ?? { ok: true, value: undefined } : { ok: false, error });
    else if (current.env.rpc) settleRpc(current.env.rpc, { ok: false, error });
    else report(core, { error, agent: h.id, sender: current.env.sender, topic: current.env.topic, message: current.env.message });
  } else if (error !== undefined && !stop && !h.starting) {
    report(core, { error, agent: h.id });
  }
  const waiting = h.mailbox.splice(0);
  core.idle.mailboxed -= waiting.length;
  if (error === undefined && !stop && waiting.length > 0) {
    // It reached a final state with messages waiting: like any later message for this AgentId,
    // they go to a fresh instance, ahead of what is queued behind them.
    unshiftDeliveries(core.queue, waiting);
    core.schedule();
    checkIdle(core);
    return;
  }
  for (const d of waiting) {
    const dropped = stop && error instanceof Error ? error
      : error === undefined ? new MessageDroppedError(`Actor "${h.key}" had stopped before "${d.env.message.type}" was delivered.`)
        : new ActorFailedError(h.key, { cause: error });
    if (d.env.rpc) settleRpc(d.env.rpc, { ok: false, error: dropped });
    else if (!stop) report(core, { error: dropped, agent: h.id, sender: d.env.sender, topic: d.env.topic, message: d.env.message });
  }
  checkIdle(core);
}

/** Stops every actor of `type` and drops what is queued for that type (its factory is gone). */
export function retireAllOfType(core: RuntimeCore, type: string): void {
  const hosted = core.actors.byType.get(type);
  // The error only reaches someone if the actor was handling or holding a message; an Error (with
  // its stack trace) per idle actor is most of what tearing down an invocation costs.
  if (hosted) for (const h of [...hosted]) retireActor(core, h, h.current || h.mailbox.length > 0 ? new MessageDroppedError(`Agent type "${type}" was unregistered.`) : undefined, true);
  // Messages still queued for that type were meant for actors that no longer exist.
  for (const d of removeDeliveries(core.queue, (d) => d.recipient.type === type)) {
    settleRpc(d.env.rpc, { ok: false, error: new MessageDroppedError(`Agent type "${type}" was unregistered before "${d.env.message.type}" was delivered.`) });
  }
}

/**
 * Stops every actor hosted under `key` and drops what is queued for that key ("Key … <why>").
 * Looks only at that key's actors, and at the queue only when something is queued for it.
 */
export function retireAllWithKey(core: RuntimeCore, key: string, why: string): void {
  dropKey(core.parking, key); // broadcasts for actors never sent anything: nobody waits on them
  for (const h of actorsWithKey(core.actors, key)) {
    // Only an actor handling or holding a message has someone to tell; an Error per idle actor is
    // most of what retiring a run would cost.
    retireActor(core, h, h.current || h.mailbox.length > 0 ? new MessageDroppedError(`Key "${key}" ${why}: actor "${h.key}" was stopped.`) : undefined, true);
  }
  if (queuedForKey(core.queue, key) === 0) return;
  for (const d of removeDeliveries(core.queue, (d) => d.recipient.key === key)) {
    settleRpc(d.env.rpc, { ok: false, error: new MessageDroppedError(`Key "${key}" ${why} before "${d.env.message.type}" was delivered to "${agentIdKey(d.recipient)}".`) });
  }
}
