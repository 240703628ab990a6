/** The saved runtime state: what `saveState` writes and `loadState` accepts. */
import type { RuntimeState } from './agent-runtime.js';
import { InvalidArgumentError } from './errors.js';
import type { Hosted } from './actor-host.js';
import type { Delivery } from './envelope.js';

type QueuedMessage = RuntimeState['queue'][number];

function queued(d: Delivery): QueuedMessage {
  return { message: d.env.message, recipient: d.recipient, sender: d.env.sender, topic: d.env.topic };
}

/** A plain JSON copy of `actors` (with their mailboxes) and `queue`: nothing in it may depend on this process. */
export function snapshotState(actors: Iterable<Hosted>, queue: Delivery[]): RuntimeState {
  const savedActors: RuntimeState['actors'] = [];
  const savedQueue: QueuedMessage[] = [];
  for (const h of actors) {
    savedActors.push({ id: h.id.toJSON(), snapshot: h.ref.getPersistedSnapshot() });
    for (const d of h.mailbox) savedQueue.push(queued(d));
  }
  for (const d of queue) savedQueue.push(queued(d));
  return JSON.parse(JSON.stringify({ version: 1, actors: savedActors, queue: savedQueue })) as RuntimeState;
}

/** Checks that `state` is a runtime state this version can load. */
export function parseRuntimeState(state: RuntimeState): RuntimeState {
  if (state?.version !== 1 || !Array.isArray(state.actors) || !Array.isArray(state.queue)) {
    throw new InvalidArgumentError('loadState: not a troupe runtime state (expected { version: 1, actors, queue }).');
  }
  return state;
}
