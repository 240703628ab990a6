/** The hosted actors, indexed by AgentId, by agent type and by AgentId key (one invocation's actors). */
import type { Hosted } from './actor-host.js';

export interface ActorDirectory {
  /** By `agentIdKey` ("type/key"). */
  readonly byId: Map<string, Hosted>;
  readonly byType: Map<string, Set<Hosted>>;
  /** By `AgentId.key`: what `retireKey` and keyed `saveState` look at. */
  readonly byKey: Map<string, Set<Hosted>>;
}

export function createActorDirectory(): ActorDirectory {
  return { byId: new Map(), byType: new Map(), byKey: new Map() };
}

export function addActor(directory: ActorDirectory, h: Hosted): void {
  directory.byId.set(h.key, h);
  addTo(directory.byType, h.id.type, h);
  addTo(directory.byKey, h.id.key, h);
}

export function removeActor(directory: ActorDirectory, h: Hosted): void {
  directory.byId.delete(h.key);
  removeFrom(directory.byType, h.id.type, h);
  removeFrom(directory.byKey, h.id.key, h);
}

/** The actors hosted under `key` (a copy: retiring them changes the index). */
export function actorsWithKey(directory: ActorDirectory, key: string): Hosted[] {
  const set = directory.byKey.get(key);
  return set ? [...set] : [];
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
