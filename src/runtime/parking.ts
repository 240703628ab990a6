/**
 * Published messages parked for actors of `createOnSend` types that do not exist yet (see
 * `FactoryOptions.createOnSend`): held per AgentId key, in arrival order, until a message sent to
 * their recipient creates it. Plain data, kept small since most of it may wait for good (members
 * never asked to speak): per message, the recipient's type and the envelope it shares with the
 * publish's other recipients; the `Delivery` is rebuilt when it is handed over.
 */
import type { Delivery, Envelope } from './envelope.js';
import { AgentId, type AgentIdLike } from './ids.js';

/** Flat pairs: recipient type, envelope, recipient type, envelope… (two slots, no object per message). */
type ParkedList = Array<string | Envelope>;

export interface Parking {
  /** By `AgentId.key` (one invocation's parked messages together, so retiring or saving it looks at one list). */
  readonly byKey: Map<string, ParkedList>;
  count: number;
}

export function createParking(): Parking {
  return { byKey: new Map(), count: 0 };
}

export function park(p: Parking, d: Delivery): void {
  const list = p.byKey.get(d.recipient.key);
  if (list) list.push(d.recipient.type, d.env);
  else p.byKey.set(d.recipient.key, [d.recipient.type, d.env]);
  p.count++;
}

function deliveries(list: ParkedList, key: string, type?: string): Delivery[] {
  const out: Delivery[] = [];
  for (let i = 0; i < list.length; i += 2) {
    const t = list[i] as string;
    if (type === undefined || t === type) out.push({ env: list[i + 1] as Envelope, recipient: new AgentId(t, key), count: null });
  }
  return out;
}

/** Removes and returns what is parked for `recipient`, in order. */
export function unpark(p: Parking, recipient: AgentIdLike): Delivery[] {
  const list = p.byKey.get(recipient.key);
  if (!list) return [];
  const mine = deliveries(list, recipient.key, recipient.type);
  if (mine.length === 0) return mine;
  p.count -= mine.length;
  if (mine.length * 2 === list.length) p.byKey.delete(recipient.key);
  else p.byKey.set(recipient.key, without(list, recipient.type));
  return mine;
}

function without(list: ParkedList, type: string): ParkedList {
  const kept: ParkedList = [];
  for (let i = 0; i < list.length; i += 2) if (list[i] !== type) kept.push(list[i], list[i + 1]);
  return kept;
}

/** What is parked (all, or for `key`), in order per recipient; left parked. */
export function parkedDeliveries(p: Parking, key?: string): Delivery[] {
  if (key !== undefined) {
    const list = p.byKey.get(key);
    return list ? deliveries(list, key) : [];
  }
  const all: Delivery[] = [];
  for (const [k, list] of p.byKey) for (const d of deliveries(list, k)) all.push(d);
  return all;
}

/** Drops what is parked for `key`. */
export function dropKey(p: Parking, key: string): void {
  const list = p.byKey.get(key);
  if (!list) return;
  p.byKey.delete(key);
  p.count -= list.length / 2;
}

/** Drops what is parked for actors of `type`. */
export function dropType(p: Parking, type: string): void {
  for (const [key, list] of p.byKey) {
    const kept = without(list, type);
    if (kept.length === list.length) continue;
    p.count -= (list.length - kept.length) / 2;
    if (kept.length === 0) p.byKey.delete(key);
    else p.byKey.set(key, kept);
  }
}

export function dropAll(p: Parking): void {
  p.byKey.clear();
  p.count = 0;
}
