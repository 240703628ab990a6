/** The FIFO of deliveries not yet handed to an actor: O(1) at the head, compacted as it drains, counted per AgentId key. */
import type { Delivery } from './envelope.js';

export interface DispatchQueue {
  items: Delivery[];
  head: number;
  /** Queued deliveries per recipient key, so retiring a key need not scan a queue that holds none for it. */
  readonly byKey: Map<string, number>;
}

export function createDispatchQueue(): DispatchQueue {
  return { items: [], head: 0, byKey: new Map() };
}

export function queuedCount(q: DispatchQueue): number {
  return q.items.length - q.head;
}

export function queuedForKey(q: DispatchQueue, key: string): number {
  return q.byKey.get(key) ?? 0;
}

function count(q: DispatchQueue, key: string, n: number): void {
  const c = (q.byKey.get(key) ?? 0) + n;
  if (c === 0) q.byKey.delete(key);
  else q.byKey.set(key, c);
}

export function pushDelivery(q: DispatchQueue, d: Delivery): void {
  q.items.push(d);
  count(q, d.recipient.key, 1);
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
  count(q, d.recipient.key, -1);
  return d;
}

/** Puts `ds` back at the front, ahead of everything queued (in their order). */
export function unshiftDeliveries(q: DispatchQueue, ds: Delivery[]): void {
  q.items.splice(q.head, 0, ...ds);
  for (const d of ds) count(q, d.recipient.key, 1);
}

/** Removes and returns every queued delivery that `match`es, keeping the others in order. */
export function removeDeliveries(q: DispatchQueue, match: (d: Delivery) => boolean): Delivery[] {
  const removed: Delivery[] = [];
  if (queuedCount(q) === 0) return removed;
  const kept: Delivery[] = [];
  for (let i = q.head; i < q.items.length; i++) (match(q.items[i]) ? removed : kept).push(q.items[i]);
  q.items = kept;
  q.head = 0;
  for (const d of removed) count(q, d.recipient.key, -1);
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
