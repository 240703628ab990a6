/** The hosted actors, indexed by AgentId and by agent type. */
import type { Hosted } from './actor-host.js';

export interface ActorDirectory {
  /** By `agentIdKey` ("type/key"). */
  readonly byId: Map<string, Hosted>;
  readonly byType: Map<string, Set<Hosted>>;
}

export function createActorDirectory(): ActorDirectory {
  return { byId: new Map(), byType: new Map() };
}

export function addActor(directory: ActorDirectory, h: Hosted): void {
  directory.byId.set(h.key, h);
  addTo(directory.byType, h.id.type, h);
}

export function removeActor(directory: ActorDirectory, h: Hosted): void {
  directory.byId.delete(h.key);
  removeFrom(directory.byType, h.id.type, h);
}

function addTo(index: Map<string, Set<Hosted>>, k: string, h: Hosted): void {
  let set = index.get(k);
  if (!set) index.set(k, (set = new Set()));
  set.add(h);
}

function removeFrom(index: Map<string, Set<Hosted>>, k: string, h: Hosted): void {
  const set = index.get(k);
  if (set?.delete(h) && set.size === 0) index.delete(k);
}
