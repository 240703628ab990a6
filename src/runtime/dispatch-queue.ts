/** The FIFO of deliveries not yet handed to an actor: O(1) at the head, compacted as it drains. */
import type { Delivery } from './envelope.js';

export interface DispatchQueue {
  items: Delivery[];
  head: number;
}

export function createDispatchQueue(): DispatchQueue {
  return { items: [], head: 0 };
}

export function queuedCount(q: DispatchQueue): number {
  return q.items.length - q.head;
}

export function pushDelivery(q: DispatchQueue, d: Delivery): void {
  q.items.push(d);
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
  return d;
}

/** Puts `ds` back at the front, ahead of everything queued (in their order). */
export function unshiftDeliveries(q: DispatchQueue, ds: Delivery[]): void {
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
  return removed;
}

/** Every queued delivery, in order (the queue is left as it is). */
export function queuedDeliveries(q: DispatchQueue): Delivery[] {
  return q.items.slice(q.head);
}
