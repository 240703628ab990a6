import { fromPromise, type AnyActorLogic } from 'xstate';
import { addUsage, ChatMessageSchema, ZERO_USAGE, type ChatMessage, type Usage } from '../agents/chat-message.js';
import {
  magenticManagerMachine, type MagenticManagerInput, type MagenticStepOutput, type PlanReviewInput, type PlanReviewOutcome,
} from '../actors/magentic-manager.js';
import {
  ProgressLedgerSchema, TaskLedgerSchema, type MagenticContext, type ProgressLedger, type TaskLedger,
} from '../actors/magentic-ledgers.js';
import { OrchestrationConfigError } from './errors.js';
import type { RunIds } from './invocation.js';
import { Orchestration, type OrchestrationOptions, type OrchestrationOutput } from './orchestration.js';
import { TOPOLOGY_NODES, orchestrationTopology, type TopologyDiagram } from './topology.js';

/** What every {@link MagenticManager} method gets besides the run's snapshot. */
export interface MagenticCallOptions {
  /** Aborted when the run is cancelled (or times out): pass it to every model call. */
  signal: AbortSignal;
  /** Counts tokens toward the manager's usage (`output.usage.byAgent[<manager name>]`). */
  recordUsage(usage: Usage): void;
}

/**
 * The brain of a {@link MagenticOrchestration}: it plans, judges progress and answers. Each
 * method gets a JSON snapshot of one run (`ctx`, never shared between runs) and an abort signal.
 * `StandardMagenticManager` implements it with a model; a custom one can be plain code.
 *
 * @example
 * const manager: MagenticManager = {
 *   async plan(ctx) { return { facts: 'None yet.', plan: `- ${ctx.members[0].name}: answer` }; },
 *   async replan(ctx) { return { facts: 'None yet.', plan: `- ${ctx.members[0].name}: try again` }; },
 *   async progress(ctx) { … return a ProgressLedger … },
 *   async finalAnswer(ctx) { return ctx.conversation.at(-1)?.content ?? ''; },
 * };
 */
export interface MagenticManager {
  /**
   * The manager's name: the author (`name`) of its messages, its key in `usage.byAgent`, the
   * `agent` of its events and requests. Default `magentic_manager`. Must not be a member's name.
   */
  readonly name?: string;
  /** The first task ledger: a fact sheet and a plan. */
  plan(ctx: MagenticContext, options: MagenticCallOptions): Promise<TaskLedger>;
  /** A new ledger after a stall reset (`ctx.replanReason: 'stalled'`) or a rejected review (`'rejected'`, with `ctx.feedback`). */
  replan(ctx: MagenticContext, options: MagenticCallOptions): Promise<TaskLedger>;
  /** The progress ledger of a round. */
  progress(ctx: MagenticContext, options: MagenticCallOptions): Promise<ProgressLedger>;
  /** The answer for the user; partial when `ctx.limit` is set. */
  finalAnswer(ctx: MagenticContext, options: MagenticCallOptions): Promise<string | ChatMessage>;
}

/** What a `planReview` callback is asked. */
export interface PlanReviewRequestInfo extends PlanReviewInput {
  /** Aborted when the run is cancelled (or times out): pass it to whatever the review waits on. */
  signal: AbortSignal;
}

/**
 * Reviews a plan in code: `true` (or `{ approved: true }`) approves; `false` or
 * `{ approved: false, feedback }` rejects it, and the manager replans with the feedback — at
 * most `maxPlanRejections` times in a row; one more rejection fails the run with a
 * `PlanRejectedError`. It is called on a later turn of the event loop (never synchronously
 * after the replan), so `timeoutMs`, `get(ms)` and `cancel()` act even on a reviewer and a
 * manager that do no I/O; `request.signal` aborts when the run is cancelled.
 */
export type PlanReviewCallback = (request: PlanReviewRequestInfo) => boolean | PlanReviewOutcome | Promise<boolean | PlanReviewOutcome>;

export interface MagenticOptions<TOut, TIn> extends OrchestrationOptions<TOut, TIn> {
  /** Plans, judges progress and answers, e.g. `new StandardMagenticManager({ client })`. */
  manager: MagenticManager;
  /** Rounds (progress ledgers) before the run ends with a partial answer, reason `max_rounds` (default 20). */
  maxRounds?: number;
  /**
   * The stall count tolerated (default 3). The count goes up by 1 for every stalled round (no
   * progress, a loop, or an unknown next speaker) and down by 1 for every good one, never below
   * 0; when it exceeds `maxStallCount` the team is reset and the manager replans.
   */
  maxStallCount?: number;
  /** Resets allowed; the stall count exceeding `maxStallCount` after that ends with a partial answer, reason `max_resets` (default 2). */
  maxResets?: number;
  /**
   * Plans of one plan cycle (the first plan or a reset's replan, and the replans its rejections
   * cause) a reviewer may reject in a row (default 3): each rejection replans with the feedback;
   * one more ends the run with a `PlanRejectedError` naming the manager (no partial answer: no
   * work was done on a rejected plan). An approval starts the count afresh. 0: the first
   * rejection ends the run. Applies to `planReview: true` (a person) and to a callback.
   */
  maxPlanRejections?: number;
  /**
   * A person approves every plan (the first and each replan) before the team hears it: `true`
   * emits `plan_review_requested` (answer with `result.approve(id)` / `result.reject(id, feedback)`);
   * a function reviews it in code instead (no event).
   */
  planReview?: boolean | PlanReviewCallback;
}

/** The manager's name when it gives none. */
export const DEFAULT_MAGENTIC_MANAGER_NAME = 'magentic_manager';

const DEFAULTS = { maxRounds: 20, maxStallCount: 3, maxResets: 2, maxPlanRejections: 3 } as const;
const KIND = 'MagenticOrchestration';

/**
 * Magentic-One: a manager plans (facts and a plan a person may review), then, round after round,
 * writes a progress ledger, tells one member what to do next and hears the reply — resetting the
 * team and replanning when it stalls — and finally writes the answer. The output's `messages`
 * hold the manager's final answer (`lastAgent` is the manager); `conversation` holds the task,
 * the task ledgers, progress ledgers and instructions (manager messages, `metadata.magentic`
 * says which) and every member's turn.
 *
 * @example
 * const research = new MagenticOrchestration({
 *   members: [researcher, analyst],            // every member needs a description
 *   manager: new StandardMagenticManager({ client }),
 *   maxRounds: 10,
 * });
 * const result = await research.invoke('Which supplier was most punctual last quarter, and by how much?', runtime);
 * for await (const event of result.events) if (event.type === 'magentic_progress') console.log(event.round, event.ledger.nextSpeaker.answer);
 * console.log((await result.get()).messages[0].content);
 */
export class MagenticOrchestration<TOut = OrchestrationOutput, TIn = unknown> extends Orchestration<TOut, TIn> {
  readonly manager: MagenticManager;
  /** The manager's name (see {@link MagenticManager.name}). */
  readonly managerName: string;
  /** The limits in effect (the options, or their defaults). */
  readonly limits: Readonly<{ maxRounds: number; maxStallCount: number; maxResets: number; maxPlanRejections: number }>;
  private readonly planReview: MagenticManagerInput['planReview'];
  private readonly reviewCallback?: PlanReviewCallback;

  constructor(options: MagenticOptions<TOut, TIn>) {
    super(KIND, options);
    for (const member of this.members) {
      if (typeof member.description !== 'string' || member.description.trim() === '') {
        throw new OrchestrationConfigError(`${KIND}: member "${member.name}" has no description; the manager chooses speakers by their descriptions.`);
      }
    }
    const manager = options.manager;
    if (!manager || typeof manager !== 'object') {
      throw new OrchestrationConfigError(`${KIND}: "manager" is required (a MagenticManager, e.g. new StandardMagenticManager({ client })).`);
    }
    for (const method of ['plan', 'replan', 'progress', 'finalAnswer'] as const) {
      if (typeof manager[method] !== 'function') throw new OrchestrationConfigError(`${KIND}: the manager has no "${method}" method.`);
    }
    const name = manager.name ?? DEFAULT_MAGENTIC_MANAGER_NAME;
    if (typeof name !== 'string' || name.trim() === '') throw new OrchestrationConfigError(`${KIND}: the manager's name must be a non-empty string.`);
    if (this.members.some((m) => m.name === name)) {
      throw new OrchestrationConfigError(`${KIND}: a member is named "${name}", like the manager; rename one of them.`);
    }
    if (options.terminationCondition !== undefined) {
      throw new OrchestrationConfigError(`${KIND}: "terminationCondition" is not supported; the manager decides when the request is satisfied (limit it with maxRounds).`);
    }
    this.manager = manager;
    this.managerName = name;
    this.limits = {
      maxRounds: limit(options.maxRounds, 'maxRounds', 1, DEFAULTS.maxRounds),
      maxStallCount: limit(options.maxStallCount, 'maxStallCount', 0, DEFAULTS.maxStallCount),
      maxResets: limit(options.maxResets, 'maxResets', 0, DEFAULTS.maxResets),
      maxPlanRejections: limit(options.maxPlanRejections, 'maxPlanRejections', 0, DEFAULTS.maxPlanRejections),
    };
    const review = options.planReview;
    if (review !== undefined && typeof review !== 'boolean' && typeof review !== 'function') {
      throw new OrchestrationConfigError(`${KIND}: "planReview" must be true, false or a function.`);
    }
    this.planReview = typeof review === 'function' ? 'callback' : review ? 'person' : 'none';
    if (typeof review === 'function') this.reviewCallback = review;
  }

  /** The manager tells everyone the plan and each instruction, asks one member per round, and resets them on a stall. */
  protected override topology(): TopologyDiagram {
    const N = TOPOLOGY_NODES;
    return orchestrationTopology({
      manager: `magentic manager\n${this.managerName}`,
      members: this.topologyMembers(),
      managerEvents: 'magentic_plan, magentic_progress',
      drive: (d) => {
        const ledgers = d.newId('manager steps', 'steps');
        d.chart.nodes.push({ id: ledgers, label: 'MagenticManager\nplan · replan · progress · finalAnswer', shape: 'subroutine' });
        d.edge(N.manager, ledgers, 'invokes', 'dotted');
        d.edge(N.manager, N.members, 'task ledger, instruction', 'dotted');
        d.edge(N.manager, N.members, 'turn request (next speaker)');
        d.edge(N.members, N.manager, 'reply');
        d.edge(N.manager, N.members, 'reset (after stalls)', 'dotted');
        if (this.planReview === 'none') return;
        if (this.planReview === 'callback') {
          const callback = d.newId('planReview callback', 'review');
          d.chart.nodes.push({ id: callback, label: 'planReview callback', shape: 'subroutine' });
          d.edge(N.manager, callback, 'plan', 'dotted');
          return;
        }
        // The gateway node exists when members ask people too; otherwise it is added here.
        if (!d.chart.nodes.some((n) => n.id === N.gateway)) {
          d.chart.nodes.push({ id: N.gateway, label: 'human gateway', shape: 'parallelogram' });
          d.edge(N.gateway, N.boundary, 'requests', 'dotted');
          d.edge(N.boundary, N.gateway, 'approve / reject');
        }
        d.edge(N.manager, N.gateway, 'plan review request');
        d.edge(N.gateway, N.manager, 'plan review decision');
      },
    });
  }

  protected managerLogic(): AnyActorLogic {
    return this.cachedLogic(magenticManagerMachine, () => {
      const manager = this.manager;
      const name = this.managerName;
      const step = <T>(method: 'plan' | 'replan' | 'progress' | 'finalAnswer', check: (value: unknown) => T) =>
        fromPromise<MagenticStepOutput<T>, MagenticContext>(async ({ input, signal }) => {
          let usage: Usage = ZERO_USAGE;
          const recordUsage = (more: Usage) => { usage = addUsage(usage, more); };
          // A copy: the manager may change what it is given; the machine's context must not change.
          const value = await manager[method](structuredClone(input), { signal, recordUsage });
          return { value: check(value), usage };
        });
      const review = this.reviewCallback;
      return magenticManagerMachine.provide({
        actors: {
          plan: step('plan', (v) => taskLedger(name, 'plan', v)),
          replan: step('replan', (v) => taskLedger(name, 'replan', v)),
          progress: step('progress', (v) => progressLedger(name, v)),
          finalAnswer: step('finalAnswer', (v) => finalAnswer(name, v)),
          reviewPlan: fromPromise<PlanReviewOutcome, PlanReviewInput>(async ({ input, signal }) => {
            // A reviewer that keeps rejecting, with a manager that does no I/O, would otherwise loop
            // on microtasks alone: timers (timeoutMs, get(ms)) would never fire. Yield first.
            await new Promise<void>((resolve) => setImmediate(resolve));
            signal.throwIfAborted();
            return reviewOutcome(await review!({ ...input, signal }));
          }),
        },
      });
    });
  }

  protected managerInput(ids: RunIds): MagenticManagerInput {
    const descriptions = new Map(this.members.map((m) => [m.name, m.description!]));
    return {
      ...this.managerIds(ids),
      name: this.managerName,
      members: this.memberIds(ids).map((m) => ({ ...m, description: descriptions.get(m.name)! })),
      ...this.limits,
      planReview: this.planReview,
    };
  }
}

function limit(value: number | undefined, option: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value >= min)) {
    throw new OrchestrationConfigError(`${KIND}: "${option}" must be an integer >= ${min}, got ${String(value)}.`);
  }
  return value;
}

function invalid(manager: string, method: string, what: string): TypeError {
  return new TypeError(`${manager}.${method}() returned ${what}.`);
}

function firstIssue(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  return `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}

function taskLedger(manager: string, method: string, value: unknown): TaskLedger {
  const parsed = TaskLedgerSchema.safeParse(value);
  if (!parsed.success) throw invalid(manager, method, `no task ledger ({ facts: string, plan: string }; ${firstIssue(parsed.error)})`);
  return parsed.data;
}

function progressLedger(manager: string, value: unknown): ProgressLedger {
  const parsed = ProgressLedgerSchema.safeParse(value);
  if (!parsed.success) throw invalid(manager, 'progress', `no valid progress ledger (${firstIssue(parsed.error)})`);
  return parsed.data;
}

function finalAnswer(manager: string, value: unknown): string | ChatMessage {
  if (typeof value === 'string') return value;
  const parsed = ChatMessageSchema.safeParse(value);
  if (!parsed.success) throw invalid(manager, 'finalAnswer', `neither a string nor a ChatMessage (${firstIssue(parsed.error)})`);
  return parsed.data;
}

function reviewOutcome(value: unknown): PlanReviewOutcome {
  if (typeof value === 'boolean') return { approved: value };
  if (value && typeof value === 'object' && typeof (value as PlanReviewOutcome).approved === 'boolean') {
    const { approved, feedback } = value as PlanReviewOutcome;
    if (feedback !== undefined && typeof feedback !== 'string') throw new TypeError('planReview: "feedback" must be a string.');
    return approved ? { approved } : { approved, ...(feedback ? { feedback } : {}) };
  }
  throw new TypeError(`planReview must return true, false or { approved, feedback? }; got ${JSON.stringify(value)}.`);
}
