/**
 * The XState internals the runtime relies on, kept in one place (test/runtime covers them).
 * - `system._relay(source, target, event)` is what `sendTo` uses: it delivers the event and tells
 *   inspectors which actor sent it, so the Stately inspector draws routed messages source → target.
 * - `actor._stop()`: hosted actors are children of the runtime's root actor (one actor system),
 *   and XState's public `stop()` refuses to stop a non-root actor.
 * - `actor.options`: read only by the constructor and `start()` (`input`, `devTools`); once
 *   started, `dropStartOptions` swaps it for one shared empty object, so a long-lived actor no
 *   longer keeps its creation options (input, restored snapshot, logger, clock…) alive.
 */
import type { AnyActorRef, EventObject } from 'xstate';

interface InternalSystem {
  _relay(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void;
}

export function relayEvent(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void {
  (target.system as unknown as InternalSystem)._relay(source, target, event);
}

export function stopHostedActor(actor: AnyActorRef): void {
  (actor as unknown as { _stop(): void })._stop();
}

/** One shared, frozen, empty `options` for every started hosted actor (see `dropStartOptions`). */
const STARTED_OPTIONS: object = Object.freeze({});

/**
 * Call after `actor.start()`: XState (checked up to 5.33) reads `options` in the constructor and
 * `start()` only, so the object (with the input and snapshot it was created from, about 300 bytes
 * or more per actor) is dead weight for the actor's whole life.
 */
export function dropStartOptions(actor: AnyActorRef): void {
  (actor as unknown as { options: object }).options = STARTED_OPTIONS;
}
