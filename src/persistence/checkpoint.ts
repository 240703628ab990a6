/**
 * The checkpoint of an invocation at rest: versioned plain JSON, validated with zod when it is
 * read back. It holds the run's state (each actor's machine state and the context fields the run
 * built up), its open requests, usage and transcript — never configuration (instructions, tool
 * definitions, limits: they come from the orchestration that resumes it), functions, clients or
 * secrets.
 */
import { z } from 'zod';
import { ChatMessageSchema, type ChatMessage } from '../agents/chat-message.js';
import { CheckpointError } from './errors.js';

/** The checkpoint version this troupe writes and reads. */
export const CHECKPOINT_VERSION = 2;
/** Versions a checkpoint is read at: 1 had no `parked` (a reader that strips it would lose broadcasts, hence 2). */
const READABLE_VERSIONS: readonly unknown[] = [1, 2];
/** The `format` field of every checkpoint. */
export const CHECKPOINT_FORMAT = 'troupe.checkpoint';

const UsageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() });

/** A request waiting for a person, as a checkpoint (and `result.pending`) lists it. */
const PendingRequestSchema = z.object({
  requestId: z.string().min(1),
  kind: z.enum(['input', 'review', 'approval', 'plan_review']),
  agent: z.string(),
});

const MessagesSchema = z.array(ChatMessageSchema);

/**
 * One actor of the run. `role` is `member` (then `member` names the agent), or the part of the
 * orchestration it plays (`manager`, `gateway`, `end`…). `context` holds only run state.
 */
const CheckpointActorSchema = z.object({
  role: z.string().min(1),
  member: z.string().optional(),
  /** The machine's state value. */
  value: z.union([z.string(), z.record(z.string(), z.unknown())]),
  historyValue: z.record(z.string(), z.unknown()).optional(),
  context: z.record(z.string(), z.unknown()),
}).superRefine((actor, ctx) => {
  if (actor.role === 'member' && !actor.member) ctx.addIssue({ code: 'custom', path: ['member'], message: 'a member actor names its agent' });
  if (actor.role !== 'member') return;
  // What an agent has heard: checked message by message, so a bad one is named by its path.
  for (const field of ['history', 'cache'] as const) {
    if (actor.context[field] === undefined) continue;
    const parsed = MessagesSchema.safeParse(actor.context[field]);
    if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['context', field, ...issue.path] } as never);
  }
});

/** A message published to a member that was never asked anything, waiting for it (see `Checkpoint.parked`). */
const CheckpointParkedSchema = z.object({
  role: z.string().min(1),
  member: z.string().optional(),
  message: z.looseObject({ type: z.string().min(1) }),
  sender: z.object({ type: z.string(), key: z.string() }).optional(),
  topic: z.object({ type: z.string(), source: z.string() }),
});

/** A checkpoint (version 2; version 1, which had no `parked`, is read too). */
export const CheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.union([z.literal(1), z.literal(CHECKPOINT_VERSION)]),
  invocationId: z.string().min(1),
  orchestration: z.object({
    /** `HandoffOrchestration`, `SequentialOrchestration`… */
    kind: z.string().min(1),
    /** The actor-type prefix the run used (`<id>`, or `<id>_2`…). */
    prefix: z.string().min(1),
    /** Member names, in order. */
    members: z.array(z.string()),
  }),
  /** Always `waiting`: a checkpoint is taken at rest, waiting on people. */
  status: z.literal('waiting'),
  /** When it was taken (ISO 8601). */
  savedAt: z.string(),
  pending: z.array(PendingRequestSchema),
  usage: z.object({ total: UsageSchema, byAgent: z.record(z.string(), UsageSchema) }),
  transcript: MessagesSchema,
  actors: z.array(CheckpointActorSchema),
  /**
   * What was published to members not asked anything yet (so not created: see the runtime's
   * `createOnSend`), in order, to hand them when first asked. Absent when none.
   */
  parked: z.array(CheckpointParkedSchema).optional(),
});

export type Checkpoint = z.infer<typeof CheckpointSchema>;
export type CheckpointActor = z.infer<typeof CheckpointActorSchema>;

/** What a store's `list()` tells of a waiting conversation, without its state. */
export interface CheckpointSummary {
  invocationId: string;
  /** The orchestration kind (`HandoffOrchestration`…). */
  kind: string;
  status: 'waiting';
  /** When it was last saved (ISO 8601). */
  updatedAt: string;
  pending: Checkpoint['pending'];
}

export function summarize(checkpoint: Checkpoint): CheckpointSummary {
  return { invocationId: checkpoint.invocationId, kind: checkpoint.orchestration.kind, status: checkpoint.status, updatedAt: checkpoint.savedAt, pending: checkpoint.pending };
}

/**
 * Checks that `value` is a checkpoint this troupe reads: a JSON string or an object. An
 * unsupported version or a field of the wrong form (named by its path, e.g.
 * `actors.0.context.history.2.role`) is a {@link CheckpointError}.
 *
 * @example
 * const checkpoint = parseCheckpoint(JSON.parse(readFileSync('run.json', 'utf8')));
 */
export function parseCheckpoint(value: unknown): Checkpoint {
  let data = value;
  if (typeof value === 'string') {
    try {
      data = JSON.parse(value);
    } catch (error) {
      throw new CheckpointError('malformed', `The checkpoint is not JSON: ${(error as Error).message}.`, { cause: error });
    }
  }
  if (typeof data !== 'object' || data === null || (data as { format?: unknown }).format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError('malformed', `Not a troupe checkpoint (expected { format: '${CHECKPOINT_FORMAT}', version: ${CHECKPOINT_VERSION}, … }).`);
  }
  const version = (data as { version?: unknown }).version;
  if (!READABLE_VERSIONS.includes(version)) {
    throw new CheckpointError('version', `Checkpoint version ${JSON.stringify(version)} is not supported (this troupe reads versions ${READABLE_VERSIONS.join(' and ')}).`);
  }
  const parsed = CheckpointSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError('malformed', `Invalid checkpoint at ${issue.path.join('.') || '(root)'}: ${issue.message}.`, { cause: parsed.error });
  }
  return parsed.data;
}

export type { ChatMessage };
