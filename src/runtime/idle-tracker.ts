/** Knows when the runtime is at rest (nothing queued, mailboxed, busy or being intervened on) and settles `stopWhenIdle`. */
import { RuntimeStateError } from './errors.js';
import { queuedCount } from './dispatch-queue.js';
import type { RuntimeCore } from './runtime-core.js';

interface IdleWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

export interface IdleTracker {
  /** Hosted actors in a busy-tagged state. */
  busy: number;
  /** Deliveries waiting in actor mailboxes (dispatched, not yet handed to the actor). */
  mailboxed: number;
  /** Messages (and RPC replies) inside the intervention handlers. */
  pending: number;
  readonly waiters: IdleWaiter[];
}

export function createIdleTracker(): IdleTracker {
  return { busy: 0, mailboxed: 0, pending: 0, waiters: [] };
}

export function isIdle(core: RuntimeCore): boolean {
  const { idle } = core;
  return queuedCount(core.queue) === 0 && idle.mailboxed === 0 && idle.busy === 0 && idle.pending === 0;
}

/** Messages wait in the queue, the runtime is not started, and nothing in flight will change that. */
function isStalled(core: RuntimeCore): boolean {
  const { idle } = core;
  return !core.running && queuedCount(core.queue) > 0 && idle.mailboxed === 0 && idle.busy === 0 && idle.pending === 0;
}

function stalledError(core: RuntimeCore): RuntimeStateError {
  return new RuntimeStateError(`stopWhenIdle: ${queuedCount(core.queue)} message(s) are queued but the runtime is not started; call start() or processNext().`);
}

/** Resolves `stopWhenIdle`'s waiters once at rest; rejects them when stalled. */
export function checkIdle(core: RuntimeCore): void {
  const { waiters } = core.idle;
  if (waiters.length === 0 || core.closed) return; // close() resolves them when done
  if (isIdle(core)) resolveIdleWaiters(core);
  else if (isStalled(core)) {
    const error = stalledError(core);
    for (const waiter of waiters.splice(0)) waiter.reject(error);
  }
}

export function resolveIdleWaiters(core: RuntimeCore): void {
  for (const waiter of core.idle.waiters.splice(0)) waiter.resolve();
}

/** One message or reply has left the intervention handlers. */
export function settlePending(core: RuntimeCore): void {
  core.idle.pending--;
  if (core.idle.pending === 0 && core.retiredInChain.size > 0) core.retiredInChain.clear();
  checkIdle(core);
}

/** `stopWhenIdle`: resolves at rest (then stops delivery), rejects when stalled. */
export function whenIdle(core: RuntimeCore): Promise<void> {
  if (isIdle(core)) {
    core.running = false;
    return Promise.resolve();
  }
  if (isStalled(core)) return Promise.reject(stalledError(core));
  return new Promise<void>((resolve, reject) => {
    core.idle.waiters.push({
      resolve: () => {
        core.running = false;
        resolve();
      },
      reject,
    });
    checkIdle(core);
  });
}
