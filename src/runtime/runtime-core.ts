/** The runtime's shared state, plain data the single-purpose modules operate on, and its error channel. */
import type { AnyActorRef } from 'xstate';
import { agentIdKey, type AgentIdLike } from './ids.js';
import type { RuntimeCommand } from './actor-contract.js';
import type { AgentFactory, AgentRuntime, RuntimeErrorEvent } from './agent-runtime.js';
import type { ActorDirectory } from './actor-directory.js';
import type { Hosted } from './actor-host.js';
import type { DispatchQueue } from './dispatch-queue.js';
import type { Delivery } from './envelope.js';
import type { IdleTracker } from './idle-tracker.js';
import type { InterventionChain } from './intervention-chain.js';
import type { Parking } from './parking.js';
import { settleRpc } from './rpc.js';
import type { SubscriptionIndex } from './subscription-index.js';

export interface RuntimeCore {
  /** Handed to factories (`{ id, runtime }`). */
  readonly runtime: AgentRuntime;
  /** The root of the actor system: every hosted actor is its child, so one inspector sees all. */
  readonly root: AnyActorRef;
  readonly factories: Map<string, AgentFactory>;
  /** Types registered with `createOnSend`: published messages for their absent actors are parked. */
  readonly createOnSend: Set<string>;
  readonly parking: Parking;
  readonly actors: ActorDirectory;
  readonly subscriptions: SubscriptionIndex;
  readonly queue: DispatchQueue;
  readonly idle: IdleTracker;
  readonly interventions: InterventionChain;
  readonly errorListeners: Set<(event: RuntimeErrorEvent) => void>;
  readonly deliverToSelf: boolean;
  /** Envelope ids: unique per runtime instance (random prefix) and cheap (a counter). */
  readonly idPrefix: string;
  idSeq: number;
  running: boolean;
  closed: boolean;
  /** A drain of the queue is scheduled. */
  scheduled: boolean;
  /**
   * Keys retired while messages were inside the intervention chain, with the retire count at
   * that moment: such a message, routed later, must not bring the retired actors back. Cleared
   * whenever the chain is empty.
   */
  readonly retiredInChain: Map<string, number>;
  retires: number;
  // Calls back up into modules that import the host, set once by the runtime (no import cycles).
  /** Drains the queue soon, if the runtime is running. */
  schedule(): void;
  /** Carries out a command a hosted actor emitted. */
  command(h: Hosted, command: RuntimeCommand): void;
}

/** The inspector source of a message from outside any actor: the named sender if it is hosted, else the root. */
export function sourceOf(core: RuntimeCore, sender: AgentIdLike | undefined): AnyActorRef {
  return (sender && core.actors.byId.get(agentIdKey(sender))?.ref) || core.root;
}

export function nextEnvelopeId(core: RuntimeCore): string {
  return core.idPrefix + (++core.idSeq).toString(36);
}

/** Whether `key` was retired after a message that entered the intervention chain at `entered`. */
export function retiredSince(core: RuntimeCore, key: string, entered: number): boolean {
  const at = core.retiredInChain.get(key);
  return at !== undefined && at > entered;
}

/** Tells the error channel about a failure nobody waits for. */
export function report(core: RuntimeCore, event: RuntimeErrorEvent): void {
  if (core.errorListeners.size === 0) {
    // Never swallow silently: with no listener, say it on stderr.
    console.error('[troupe] unhandled runtime error', event.agent ? `(${agentIdKey(event.agent)})` : '', event.error);
    return;
  }
  for (const listener of [...core.errorListeners]) {
    try {
      listener(event);
    } catch (error) {
      console.error('[troupe] an onError listener threw', error);
    }
  }
}

/** `d` cannot be delivered: its caller learns why, or else the error channel does. */
export function fail(core: RuntimeCore, d: Delivery, error: unknown): void {
  if (d.env.rpc) settleRpc(d.env.rpc, { ok: false, error });
  else report(core, { error, agent: d.recipient, sender: d.env.sender, topic: d.env.topic, message: d.env.message });
}
