/** The FIFO of deliveries not yet handed to an actor: O(1) at the head, compacted as it drains, counted per AgentId key. */
import type { AgentIdLike } from './ids.js';
import type { Delivery, Envelope, KeyCount } from './envelope.js';

export interface DispatchQueue {
  items: Delivery[];
  head: number;
  /**
   * Queued deliveries per recipient key, so retiring or saving a key need not scan a queue that
   * holds nothing for it. Each delivery holds its count, so dequeuing does no lookup; counts that
   * reach zero stay until the next sweep (see `countFor`), so a busy key is not re-inserted per message.
   */
  readonly byKey: Map<string, KeyCount>;
  /** `byKey` is swept of zero counts when it grows to this size. */
  sweepAt: number;
}

const MIN_SWEEP = 1024;

export function createDispatchQueue(): DispatchQueue {
  return { items: [], head: 0, byKey: new Map(), sweepAt: MIN_SWEEP };
}

export function queuedCount(q: DispatchQueue): number {
  return q.items.length - q.head;
}

export function queuedForKey(q: DispatchQueue, key: string): number {
  return q.byKey.get(key)?.n ?? 0;
}

function countFor(q: DispatchQueue, key: string): KeyCount {
  let count = q.byKey.get(key);
  if (!count) {
    if (q.byKey.size >= q.sweepAt) sweep(q);
    q.byKey.set(key, (count = { n: 0 }));
  }
  return count;
}

/** Drops the zero counts; amortised O(1) per key, since the next sweep waits for the map to double. */
function sweep(q: DispatchQueue): void {
  for (const [key, count] of q.byKey) if (count.n === 0) q.byKey.delete(key);
  q.sweepAt = Math.max(MIN_SWEEP, q.byKey.size * 2);
}

function uncount(d: Delivery): void {
  d.count!.n--;
}

/** Queues `env` for `recipient`. */
export function pushDelivery(q: DispatchQueue, env: Envelope, recipient: AgentIdLike): void {
  const count = countFor(q, recipient.key);
  count.n++;
  q.items.push({ env, recipient, count });
}

/** Queues `env` for each of `recipients` (one publish: usually all under one key). */
export function pushDeliveries(q: DispatchQueue, env: Envelope, recipients: AgentIdLike[]): void {
  let key: string | undefined;
  let count: KeyCount | undefined;
  for (const recipient of recipients) {
    if (recipient.key !== key) {
      key = recipient.key;
      count = countFor(q, key);
    }
    count!.n++;
    q.items.push({ env, recipient, count: count! });
  }
}

export function shiftDelivery(q: DispatchQueue): Delivery | undefined {
  if (q.head >= q.items.length) return undefined;
  const d = q.items[q.head];
  q.items[q.head++] = undefined as unknown as Delivery; // let it be collected
  if (q.head === q.items.length) {
    q.items = [];
    q.head = 0;
  } else if (q.head > 4096 && q.head * 2 > q.items.length) {
    q.items = q.items.slice(q.head);
    q.head = 0;
  }
  uncount(d);
  return d;
}

/** Puts `ds` (taken off the queue earlier) back at the front, ahead of everything queued, in their order. */
export function unshiftDeliveries(q: DispatchQueue, ds: Delivery[]): void {
  for (const d of ds) {
    d.count = countFor(q, d.recipient.key);
    d.count.n++;
  }
  q.items.splice(q.head, 0, ...ds);
}

/** Removes and returns every queued delivery that `match`es, keeping the others in order. */
export function removeDeliveries(q: DispatchQueue, match: (d: Delivery) => boolean): Delivery[] {
  const removed: Delivery[] = [];
  if (queuedCount(q) === 0) return removed;
  const kept: Delivery[] = [];
  for (let i = q.head; i < q.items.length; i++) (match(q.items[i]) ? removed : kept).push(q.items[i]);
  q.items = kept;
  q.head = 0;
  for (const d of removed) uncount(d);
  return removed;
}

/** The queued deliveries (all, or those for `key`), in order; the queue is left as it is. */
export function queuedDeliveries(q: DispatchQueue, key?: string): Delivery[] {
  if (key === undefined) return q.items.slice(q.head);
  if (queuedForKey(q, key) === 0) return [];
  const found: Delivery[] = [];
  for (let i = q.head; i < q.items.length; i++) if (q.items[i].recipient.key === key) found.push(q.items[i]);
  return found;
}
