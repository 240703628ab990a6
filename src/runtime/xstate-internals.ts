/**
 * The two XState internals the runtime relies on, kept in one place (test/runtime covers both).
 * - `system._relay(source, target, event)` is what `sendTo` uses: it delivers the event and tells
 *   inspectors which actor sent it, so the Stately inspector draws routed messages source → target.
 * - `actor._stop()`: hosted actors are children of the runtime's root actor (one actor system),
 *   and XState's public `stop()` refuses to stop a non-root actor.
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
