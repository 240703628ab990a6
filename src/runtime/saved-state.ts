/** The saved runtime state: its versioned zod schema (checked on load) and what `saveState` writes. */
import { z } from 'zod';
import type { Snapshot } from 'xstate';
import { AgentId, agentIdKey } from './ids.js';
import type { RuntimeState } from './agent-runtime.js';
import { InvalidArgumentError, MessageDroppedError, UnknownAgentTypeError } from './errors.js';
import { hostActor, retireActor, retireAllWithKey, type Hosted } from './actor-host.js';
import { enqueue } from './delivery-loop.js';
import { inFlightEffects } from './effects.js';
import type { Delivery, Envelope } from './envelope.js';
import { unshiftDeliveries } from './dispatch-queue.js';
import { park, unpark } from './parking.js';
import { nextEnvelopeId, report, sourceOf, type RuntimeCore } from './runtime-core.js';

/** The state version this runtime writes and reads. */
export const RUNTIME_STATE_VERSION = 2;
/** Versions `loadState` reads: 1 had no `parked` (a reader that strips it would lose broadcasts, hence 2). */
const READABLE_VERSIONS: readonly unknown[] = [1, 2];

const AgentIdSchema = z.object({ type: z.string(), key: z.string() });
const TopicIdSchema = z.object({ type: z.string(), source: z.string() });
const QueuedSchema = z.object({
  // A message keeps every field it has.
  message: z.looseObject({ type: z.string().min(1) }),
  recipient: AgentIdSchema,
  sender: AgentIdSchema.optional(),
  topic: TopicIdSchema.optional(),
});

/**
 * A saved runtime state (version 2; 1, without `parked`, is still read): every hosted actor's persisted snapshot, every message not
 * yet handled (queued, or waiting in a mailbox) and, in `parked`, the published messages waiting
 * for a `createOnSend` actor to be created. `key` is set when only that key's actors were saved.
 */
export const RuntimeStateSchema = z.object({
  version: z.union([z.literal(1), z.literal(RUNTIME_STATE_VERSION)]),
  key: z.string().optional(),
  // `effects`: the calls it had in flight (name and input), performed again on load.
  actors: z.array(z.object({ id: AgentIdSchema, snapshot: z.unknown(), effects: z.array(z.object({ name: z.string().min(1), input: z.unknown() })).optional() })),
  queue: z.array(QueuedSchema),
  // Published messages parked for `createOnSend` actors not created yet (optional: absent when none).
  parked: z.array(QueuedSchema.extend({ topic: TopicIdSchema })).optional(),
});

type QueuedMessage = RuntimeState['queue'][number];

function queued(d: Delivery): QueuedMessage {
  return { message: d.env.message, recipient: d.recipient, sender: d.env.sender, topic: d.env.topic };
}

/** A plain JSON copy of `actors` (with their mailboxes) and `queue`: nothing in it may depend on this process. */
export function snapshotState(actors: Iterable<Hosted>, queue: Delivery[], parked: Delivery[], key?: string): RuntimeState {
  const savedActors: RuntimeState['actors'] = [];
  const savedQueue: QueuedMessage[] = [];
  for (const h of actors) {
    const effects = inFlightEffects(h.ref);
    savedActors.push({ id: h.id.toJSON(), snapshot: h.ref.getPersistedSnapshot(), ...(effects.length > 0 ? { effects } : {}) });
    for (const d of h.mailbox) savedQueue.push(queued(d));
  }
  for (const d of queue) savedQueue.push(queued(d));
  const state = { version: RUNTIME_STATE_VERSION, key, actors: savedActors, queue: savedQueue, ...(parked.length > 0 ? { parked: parked.map(queued) } : {}) };
  return JSON.parse(JSON.stringify(state)) as RuntimeState;
}

/**
 * Checks that `state` is a runtime state this version can load: an unsupported version, or a field
 * of the wrong form (named by its path, e.g. `actors.0.id.type`), is an {@link InvalidArgumentError}.
 */
export function parseRuntimeState(state: unknown): RuntimeState {
  if (typeof state !== 'object' || state === null || !('version' in state)) {
    throw new InvalidArgumentError(`loadState: not a troupe runtime state (expected { version: ${RUNTIME_STATE_VERSION}, actors, queue }).`);
  }
  if (!READABLE_VERSIONS.includes(state.version)) {
    throw new InvalidArgumentError(`loadState: runtime state version ${JSON.stringify(state.version)} is not supported (this runtime reads versions ${READABLE_VERSIONS.join(' and ')}).`);
  }
  const parsed = RuntimeStateSchema.safeParse(state);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`loadState: invalid runtime state at ${issue.path.join('.') || '(root)'}: ${issue.message}.`, { cause: parsed.error });
  }
  return parsed.data as RuntimeState;
}

/**
 * Hosts `state`'s actors (replacing live ones with the same AgentId) and queues its messages. With
 * `key`, only that key's part, and the key's live actors and queued messages are replaced as a
 * whole. Checks every actor type has a factory before changing anything.
 */
export function restoreState(core: RuntimeCore, state: RuntimeState, key: string | undefined): void {
  if (key !== undefined && state.key !== undefined && state.key !== key) {
    throw new InvalidArgumentError(`loadState: the state holds key "${state.key}", not "${key}".`);
  }
  const actors = key === undefined ? state.actors : state.actors.filter((a) => a.id.key === key);
  const queue = key === undefined ? state.queue : state.queue.filter((q) => q.recipient.key === key);
  const parked = (key === undefined ? state.parked : state.parked?.filter((q) => q.recipient.key === key)) ?? [];
  for (const { id } of actors) {
    if (!core.factories.has(id.type)) throw new UnknownAgentTypeError(id.type);
  }
  if (key !== undefined) retireAllWithKey(core, key, 'was replaced by loadState');
  for (const { id, snapshot, effects } of actors) {
    const existing = core.actors.byId.get(agentIdKey(id));
    if (existing) retireActor(core, existing, new MessageDroppedError(`Actor "${agentIdKey(id)}" was replaced by loadState.`), true);
    // It exists now: what was parked here for it is delivered like what is queued for it (and
    // before it: it came first).
    const waiting = unpark(core.parking, id);
    if (waiting.length > 0) {
      unshiftDeliveries(core.queue, waiting);
      core.schedule();
    }
    const h = hostActor(core, AgentId.from(id), snapshot as Snapshot<unknown>, effects);
    const restored = h.ref.getSnapshot() as Snapshot<unknown> & { error?: unknown };
    if (restored.status === 'error') report(core, { error: restored.error, agent: h.id });
  }
  // What the state parks replaces what is parked here for the same actors (no message twice).
  const replaced = new Set<string>();
  for (const q of parked) {
    const id = agentIdKey(q.recipient);
    if (!replaced.has(id)) {
      replaced.add(id);
      unpark(core.parking, q.recipient);
    }
  }
  for (const q of parked) {
    const env = envelopeOf(core, q);
    // Parked again while its type here also waits for a send and its actor does not exist; else it is an ordinary queued message.
    if (core.createOnSend.has(q.recipient.type) && !core.actors.byId.has(agentIdKey(q.recipient))) park(core.parking, { env, recipient: AgentId.from(q.recipient), count: null });
    else enqueue(core, env, q.recipient);
  }
  for (const q of queue) enqueue(core, envelopeOf(core, q), q.recipient);
}

/** A fresh envelope (new id, the sender's actor as source) for a saved message: the inverse of `queued`. */
function envelopeOf(core: RuntimeCore, q: QueuedMessage): Envelope {
  return { id: nextEnvelopeId(core), message: q.message, sender: q.sender, topic: q.topic, source: sourceOf(core, q.sender) };
}
