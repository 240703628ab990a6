/**
 * Published messages parked for actors of `createOnSend` types that do not exist yet (see
 * `FactoryOptions.createOnSend`): held per AgentId key, in arrival order, until a message sent to
 * their recipient creates it. Plain data: each entry references the envelope it shares with the
 * publish's other recipients.
 */
import type { Delivery } from './envelope.js';
import type { AgentIdLike } from './ids.js';

export interface Parking {
  /** By `AgentId.key` (one invocation's parked messages together, so retiring or saving it looks at one list). */
  readonly byKey: Map<string, Delivery[]>;
  count: number;
}

export function createParking(): Parking {
  return { byKey: new Map(), count: 0 };
}

export function park(p: Parking, d: Delivery): void {
  d.count = null;
  const list = p.byKey.get(d.recipient.key);
  if (list) list.push(d);
  else p.byKey.set(d.recipient.key, [d]);
  p.count++;
}

/** Removes and returns what is parked for `recipient`, in order. */
export function unpark(p: Parking, recipient: AgentIdLike): Delivery[] {
  const list = p.byKey.get(recipient.key);
  if (!list) return [];
  const mine: Delivery[] = [];
  const others: Delivery[] = [];
  for (const d of list) (d.recipient.type === recipient.type ? mine : others).push(d);
  if (mine.length === 0) return mine;
  if (others.length === 0) p.byKey.delete(recipient.key);
  else p.byKey.set(recipient.key, others);
  p.count -= mine.length;
  return mine;
}

/** What is parked (all, or for `key`), in order; left parked. */
export function parkedDeliveries(p: Parking, key?: string): Delivery[] {
  if (key !== undefined) return p.byKey.get(key)?.slice() ?? [];
  const all: Delivery[] = [];
  for (const list of p.byKey.values()) all.push(...list);
  return all;
}

/** Drops what is parked for `key`. */
export function dropKey(p: Parking, key: string): void {
  const list = p.byKey.get(key);
  if (!list) return;
  p.byKey.delete(key);
  p.count -= list.length;
}

/** Drops what is parked for actors of `type`. */
export function dropType(p: Parking, type: string): void {
  for (const [key, list] of p.byKey) {
    const kept = list.filter((d) => d.recipient.type !== type);
    if (kept.length === list.length) continue;
    p.count -= list.length - kept.length;
    if (kept.length === 0) p.byKey.delete(key);
    else p.byKey.set(key, kept);
  }
}

export function dropAll(p: Parking): void {
  p.byKey.clear();
  p.count = 0;
}
