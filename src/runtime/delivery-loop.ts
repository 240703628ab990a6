/** Drains the dispatch queue into the actors in a microtask, yielding to timers and I/O between large batches. */
import { RuntimeStateError } from './errors.js';
import { dispatch } from './actor-host.js';
import { pushDelivery, queuedCount, shiftDelivery } from './dispatch-queue.js';
import type { AgentIdLike } from './ids.js';
import type { Envelope } from './envelope.js';
import { checkIdle } from './idle-tracker.js';
import { fail, type RuntimeCore } from './runtime-core.js';

const YIELD_EVERY = 10_000;

/** The `schedule` function for `core`: drains the queue soon, once, while the runtime runs. */
export function createScheduler(core: RuntimeCore): () => void {
  const drain = (): void => {
    core.scheduled = false;
    let n = 0;
    while (core.running) {
      const d = shiftDelivery(core.queue);
      if (!d) break;
      dispatch(core, d);
      if (++n === YIELD_EVERY && queuedCount(core.queue) > 0) {
        // Let timers and I/O run between large batches.
        core.scheduled = true;
        setImmediate(drain);
        return;
      }
    }
    checkIdle(core);
  };
  return () => {
    if (!core.running || core.scheduled) return;
    core.scheduled = true;
    queueMicrotask(drain);
  };
}

/** Queues `env` for `recipient` (or fails it, once the runtime is closed). */
export function enqueue(core: RuntimeCore, env: Envelope, recipient: AgentIdLike): void {
  if (core.closed) {
    fail(core, { env, recipient, count: null }, new RuntimeStateError('The runtime was closed.'));
    return;
  }
  pushDelivery(core.queue, env, recipient);
  core.schedule();
}

/** Delivers the next queued message (manual stepping). False when the queue is empty. */
export function processNext(core: RuntimeCore): boolean {
  const d = shiftDelivery(core.queue);
  if (!d) return false;
  dispatch(core, d);
  checkIdle(core);
  return true;
}
