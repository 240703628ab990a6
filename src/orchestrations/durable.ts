/**
 * Durable conversations: an invocation at rest becomes a {@link Checkpoint} and a checkpoint
 * becomes a runtime state to load again. What belongs to the orchestration (instructions, tool
 * definitions, limits, the run's actor ids: everything an actor's context takes from its factory
 * input) is left out, and put back from the resuming orchestration's factories; what the run
 * built up (histories, routing state, open requests, usage) is kept.
 */
import { initialTransition, type AnyActorLogic, type AnyStateMachine } from 'xstate';
import type { AgentRuntime, RuntimeState } from '../runtime/index.js';
import { RUNTIME_STATE_VERSION, RuntimeStateError } from '../runtime/index.js';
import type { UsageReport } from '../actors/output.js';
import { ZERO_USAGE } from '../agents/chat-message.js';
import type { OpenRequest } from '../actors/human-gateway.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, parseCheckpoint, type Checkpoint, type CheckpointActor } from '../persistence/checkpoint.js';
import { CheckpointError } from '../persistence/errors.js';
import type { CheckpointStore } from '../persistence/store.js';
import { InvocationStateError } from './errors.js';
import type { Invocation, RunIds } from './invocation.js';
import type { MemberBinding } from './orchestration.js';

/**
 * Parts that hold no state of a run: the start executor and the boundary, shared by every run (not
 * keyed by it, so a keyed save does not even hold them); a state that names them is not a run's.
 */
const STATELESS_PARTS = new Set(['boundary', 'start']);

/**
 * The run state of an agent actor: what it has heard and its turn in progress. Everything else in
 * its context (instructions, tool definitions, limits, filters, ids — taken or defaulted from its
 * input) is configuration. Other actors' run state is every context field their input does not set.
 */
export const MEMBER_STATE_KEYS: readonly string[] = ['history', 'cache', 'turn', 'deferred'];

/** What the checkpoint code needs to know of an orchestration on one runtime. */
export interface DurableRun {
  kind: string;
  /** The orchestration's actor-type prefix on this runtime. */
  prefix: string;
  bindings: readonly MemberBinding[];
  ids: RunIds;
  /** The factory's logic and input for a part (`<member slug>`, `manager`, `gateway`, `end`…). */
  spec(part: string): { logic: AnyActorLogic; input: unknown };
}

interface PersistedMachine {
  status: string;
  value: CheckpointActor['value'];
  historyValue?: Record<string, unknown>;
  context: Record<string, unknown>;
  children?: Record<string, unknown>;
}

function roleOf(run: DurableRun, part: string): { role: string; member?: string } {
  const member = run.bindings.find((b) => b.slug === part);
  return member ? { role: 'member', member: member.name } : { role: part };
}

/** Whether context field `key` of a `role` actor is run state (kept) rather than configuration. */
function isRunState(role: string, key: string, input: unknown): boolean {
  if (role === 'member') return MEMBER_STATE_KEYS.includes(key);
  return !(typeof input === 'object' && input !== null && Object.hasOwn(input, key));
}

/**
 * The checkpoint of `run` (JSON), or {@link InvocationStateError} when it is not at rest: something
 * queued or busy for its key, or no request waiting on people.
 */
export async function takeCheckpoint(runtime: AgentRuntime, run: DurableRun): Promise<Checkpoint> {
  const { key } = run.ids;
  const status = runtime.keyStatus(key);
  if (status.queued > 0 || status.busy > 0) {
    throw new InvocationStateError(`checkpoint(): invocation ${key} is busy (${status.queued} message(s) queued, ${status.busy} actor(s) busy); a checkpoint is taken at rest, while it waits on people.`);
  }
  const saved = await runtime.saveState({ key });
  const actors: CheckpointActor[] = [];
  let open: OpenRequest[] = [];
  let end: Record<string, unknown> | undefined;
  for (const { id, snapshot } of saved.actors) {
    if (!id.type.startsWith(`${run.prefix}.`)) continue;
    const part = id.type.slice(run.prefix.length + 1);
    if (STATELESS_PARTS.has(part)) continue;
    const machine = snapshot as PersistedMachine;
    if (machine.status !== 'active' || Object.keys(machine.children ?? {}).length > 0) {
      throw new InvocationStateError(`checkpoint(): invocation ${key} is not at rest (actor ${id.type} is ${machine.status !== 'active' ? machine.status : 'running invoked work'}).`);
    }
    const { role, member } = roleOf(run, part);
    const { input } = run.spec(part);
    const context = Object.fromEntries(Object.entries(machine.context).filter(([k]) => isRunState(role, k, input)));
    actors.push({ role, ...(member ? { member } : {}), value: machine.value, ...(hasKeys(machine.historyValue) ? { historyValue: machine.historyValue } : {}), context });
    if (part === 'gateway') open = (machine.context.open as OpenRequest[] | undefined) ?? [];
    if (part === 'end') end = machine.context;
  }
  // Members never asked anything do not exist yet: what they heard is parked for them.
  const parked: NonNullable<Checkpoint['parked']> = [];
  for (const { recipient, message, sender, topic } of saved.parked ?? []) {
    if (!recipient.type.startsWith(`${run.prefix}.`) || !topic) continue;
    const { role, member } = roleOf(run, recipient.type.slice(run.prefix.length + 1));
    parked.push({ role, ...(member ? { member } : {}), message, ...(sender ? { sender: { type: sender.type, key: sender.key } } : {}), topic: { type: topic.type, source: topic.source } });
  }
  if (open.length === 0) {
    throw new InvocationStateError(`checkpoint(): invocation ${key} is not waiting on people (no open request); a checkpoint is taken at rest, while it waits for human input, a tool approval or a review.`);
  }
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    invocationId: key,
    orchestration: { kind: run.kind, prefix: run.prefix, members: run.bindings.map((b) => b.name) },
    status: 'waiting',
    savedAt: new Date().toISOString(),
    pending: open.map(({ requestId, kind, agent }) => ({ requestId, kind, agent })),
    usage: (end?.usage as UsageReport | undefined) ?? { total: ZERO_USAGE, byAgent: {} },
    transcript: (end?.conversation as Checkpoint['transcript'] | undefined) ?? [],
    actors,
    ...(parked.length > 0 ? { parked } : {}),
  };
}

function hasKeys(value: object | undefined): value is Record<string, unknown> {
  return value !== undefined && Object.keys(value).length > 0;
}

/**
 * Checks that `value` is a checkpoint `run`'s orchestration can resume (its kind, its members),
 * naming what does not fit in a {@link CheckpointError}.
 */
export function checkCheckpoint(value: unknown, kind: string, bindings: readonly MemberBinding[]): Checkpoint {
  const checkpoint = parseCheckpoint(value);
  const saved = checkpoint.orchestration;
  if (saved.kind !== kind) {
    throw new CheckpointError('kind', `${kind}.resume: invocation ${checkpoint.invocationId} was saved by a ${saved.kind}, not a ${kind}.`);
  }
  const names = bindings.map((b) => b.name);
  const missing = saved.members.filter((n) => !names.includes(n));
  const added = names.filter((n) => !saved.members.includes(n));
  if (missing.length > 0 || added.length > 0) {
    const parts = [
      ...(missing.length > 0 ? [`no longer has ${missing.map((n) => `"${n}"`).join(', ')}`] : []),
      ...(added.length > 0 ? [`now also has ${added.map((n) => `"${n}"`).join(', ')}`] : []),
    ];
    throw new CheckpointError('members', `${kind}.resume: the members changed since invocation ${checkpoint.invocationId} was saved: this orchestration ${parts.join(' and ')} (saved: ${saved.members.join(', ')}).`);
  }
  return checkpoint;
}

/**
 * The runtime state (`loadState({ key })`) that restores `checkpoint` under `run`: every actor at
 * its saved state, with its configuration from `run`'s factories and its actor ids on `run`'s prefix.
 */
export function restoredState(checkpoint: Checkpoint, run: DurableRun): RuntimeState {
  const from = `${checkpoint.orchestration.prefix}.`;
  const to = `${run.prefix}.`;
  const actors = checkpoint.actors.map((actor, i) => {
    const part = partOf(run, actor, `actors.${i}`);
    const { logic, input } = run.spec(part);
    const fresh = initialTransition(logic as AnyStateMachine, input)[0].context as Record<string, unknown>;
    // Only run state is taken from the checkpoint: it cannot bring configuration (instructions…) of its own.
    const saved = Object.fromEntries(Object.entries(actor.context).filter(([k]) => isRunState(actor.role, k, input)));
    const state = renamePrefix(saved, from, to) as Record<string, unknown>;
    return {
      id: { type: `${run.prefix}.${part}`, key: run.ids.key },
      snapshot: { status: 'active', value: actor.value, historyValue: actor.historyValue ?? {}, context: { ...fresh, ...state }, children: {} },
    };
  });
  const parked = (checkpoint.parked ?? []).map((p, i) => {
    const part = partOf(run, p, `parked.${i}`);
    const { message, sender, topic } = renamePrefix(p, from, to) as typeof p;
    return { recipient: { type: `${run.prefix}.${part}`, key: run.ids.key }, message, ...(sender ? { sender } : {}), topic };
  });
  return { version: RUNTIME_STATE_VERSION, key: run.ids.key, actors, queue: [], ...(parked.length > 0 ? { parked } : {}) };
}

/** The part (`<member slug>`, `manager`…) a saved actor or parked message at `where` belongs to under `run`. */
function partOf(run: DurableRun, saved: { role: string; member?: string }, where: string): string {
  const part = saved.role === 'member' ? run.bindings.find((b) => b.name === saved.member)?.slug : saved.role;
  if (part === undefined || STATELESS_PARTS.has(part) || !hasPart(run, part)) {
    throw new CheckpointError('malformed', `${run.kind}.resume: invalid checkpoint at ${where}.role: ${JSON.stringify(saved.member ?? saved.role)} is not a part of this orchestration.`);
  }
  return part;
}

function hasPart(run: DurableRun, part: string): boolean {
  try {
    run.spec(part);
    return true;
  } catch {
    return false;
  }
}

/** Actor ids saved under another prefix (another registration of the same orchestration) moved to `to`; `value` itself when the prefix is the same. */
function renamePrefix(value: unknown, from: string, to: string): unknown {
  if (from === to) return value;
  if (Array.isArray(value)) return value.map((v) => renamePrefix(v, from, to));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).map(([k, v]) => [k, renamePrefix(v, from, to)] as const);
  const out = Object.fromEntries(entries) as Record<string, unknown>;
  if (typeof out.type === 'string' && out.type.startsWith(from) && (typeof out.key === 'string' || typeof out.source === 'string')) {
    out.type = to + out.type.slice(from.length);
  }
  return out;
}

/**
 * Saves an invocation to its store at every rest point (whenever requests open or close and the
 * run comes to rest with some still open), one save at a time, in order; deletes the checkpoint
 * once the run settles — unless its runtime was closed under it (a shutdown), which keeps it for
 * a later `resume`. A failing store fails the run with a {@link CheckpointError}.
 */
export class AutoSave {
  private chain: Promise<void> = Promise.resolve();
  private polling = false;

  constructor(
    private readonly store: CheckpointStore,
    private readonly invocation: Invocation<unknown>,
    private readonly take: () => Promise<Checkpoint>,
  ) {
    invocation.result.get().then(
      () => this.enqueue(() => store.delete(invocation.id)),
      (error) => {
        if (!(error instanceof RuntimeStateError)) this.enqueue(() => store.delete(invocation.id));
      },
    );
  }

  /** Requests opened or closed: save once the run is at rest, if some are still open. */
  touch(): void {
    if (this.polling) return;
    this.polling = true;
    this.poll(0);
  }

  /** Resolves once the run's latest rest point (or its deletion) has reached the store. */
  async flushed(): Promise<void> {
    for (;;) {
      while (this.polling) await new Promise((resolve) => setTimeout(resolve, 1));
      const chain = this.chain;
      await chain;
      if (!this.polling && chain === this.chain) return;
    }
  }

  private poll(attempt: number): void {
    const { invocation } = this;
    if (invocation.result.status !== 'running') {
      this.polling = false;
      return;
    }
    const status = invocation.runtime.keyStatus(invocation.id);
    if (status.queued === 0 && status.busy === 0) {
      this.polling = false;
      if (invocation.result.pending.length === 0) return; // not waiting on people: no rest point
      this.enqueue(async () => {
        if (invocation.result.status !== 'running') return;
        let checkpoint: Checkpoint;
        try {
          checkpoint = await this.take();
        } catch (error) {
          if (error instanceof InvocationStateError) return this.touch(); // moved on meanwhile: the next rest point saves
          throw error;
        }
        await this.store.save(invocation.id, checkpoint);
      });
      return;
    }
    // Busy (a model call, a tool): look again soon, then less often.
    if (attempt < 8) setImmediate(() => this.poll(attempt + 1));
    else setTimeout(() => this.poll(attempt + 1), Math.min(100, 2 ** (attempt - 8))).unref?.();
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((error) => {
      this.invocation.fail(error instanceof CheckpointError ? error : new CheckpointError('store', `Could not save invocation ${this.invocation.id} to its checkpoint store: ${(error as Error)?.message ?? error}`, { cause: error }));
    });
  }
}
