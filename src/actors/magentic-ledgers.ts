/**
 * The data of the Magentic-One loop: the task ledger (facts and plan), the progress ledger (five
 * questions the manager answers every round), what a manager is told each time it is asked
 * (`MagenticContext`), and how a manager's failure is reported. Plain JSON, validated with zod
 * where it comes from a manager (a model, or user code).
 */
import { z } from 'zod';
import type { ChatMessage } from '../agents/chat-message.js';
import { TroupeError } from '../core/index.js';

/** The manager's plan: what it knows and means to do. */
export interface TaskLedger {
  /** The fact sheet: given or verified facts, facts to look up, facts to derive, educated guesses. */
  facts: string;
  /** The plan, naming the team members who do each step. */
  plan: string;
  /**
   * What the members are told (the full task ledger: task, team, facts, plan). Default: a
   * standard rendering of those four ({@link renderTaskLedger}).
   */
  rendered?: string;
}

export const TaskLedgerSchema = z.object({
  facts: z.string(),
  plan: z.string(),
  rendered: z.string().optional(),
});

/** One answer of the progress ledger, with the reasoning behind it. */
export interface LedgerAnswer<T> {
  reason: string;
  answer: T;
}

/** The manager's assessment after each turn (Magentic-One's progress ledger). */
export interface ProgressLedger {
  /** Is the task fully done? Then the manager writes the final answer. */
  isRequestSatisfied: LedgerAnswer<boolean>;
  /** Is the team repeating itself (the same requests and answers, over several turns)? */
  isInLoop: LedgerAnswer<boolean>;
  /** Did the last turns add value (true at the start)? */
  isProgressBeingMade: LedgerAnswer<boolean>;
  /** Who speaks next: a member's name. An unknown name counts as a stall. */
  nextSpeaker: LedgerAnswer<string>;
  /** What the next speaker is asked to do, addressed to it directly. */
  instructionOrQuestion: LedgerAnswer<string>;
}

const answerOf = <T extends z.ZodType>(answer: T, description: string) => z.object({
  reason: z.string().describe('Your reasoning, in a sentence or two.'),
  answer,
}).describe(description);

/** The zod schema of a {@link ProgressLedger} (what `StandardMagenticManager` asks the model for). */
export const ProgressLedgerSchema = z.object({
  isRequestSatisfied: answerOf(z.boolean(), 'Is the request fully satisfied (nothing left to do)?'),
  isInLoop: answerOf(z.boolean(), 'Is the team in a loop, repeating the same requests or answers?'),
  isProgressBeingMade: answerOf(z.boolean(), 'Is the team making forward progress (true when just starting)?'),
  nextSpeaker: answerOf(z.string(), 'The name of the team member who should speak next.'),
  instructionOrQuestion: answerOf(z.string(), 'The instruction or question for the next speaker, addressed to them directly.'),
});

/** A member as the manager sees it. */
export interface MagenticMember {
  name: string;
  description: string;
}

/**
 * What a manager method is told (`ctx`): a snapshot of one invocation — never shared between
 * runs. The conversation is what the team has heard since the last reset: the task (or, after a
 * reset, the new task ledger), the manager's instructions and the members' replies.
 */
export interface MagenticContext {
  /** The invocation this call belongs to. */
  invocationId: string;
  /** The task as text (every message of the task, joined). */
  task: string;
  conversation: ChatMessage[];
  members: MagenticMember[];
  /** The current task ledger (missing before the first plan). */
  ledger?: TaskLedger;
  /** Rounds so far (each round: a progress ledger, then usually one member's turn). */
  round: number;
  stallCount: number;
  resetCount: number;
  /** `replan` after a rejected review: what the reviewer said (may be '' when they said nothing). */
  feedback?: string;
  /** Why the plan is being redone: `stalled` (a stall reset) or `rejected` (a person's review). */
  replanReason?: 'stalled' | 'rejected';
  /**
   * `finalAnswer` when a limit ended the run: the answer is partial — say what was found and
   * what is missing.
   */
  limit?: 'max_rounds' | 'max_resets';
}

/** The four things a manager does, as the machine invokes them. */
export type MagenticStep = 'plan' | 'replan' | 'progress' | 'finalAnswer';

const STEP_WORDS: Record<MagenticStep, string> = {
  plan: 'write the plan',
  replan: 'revise the plan',
  progress: 'write the progress ledger',
  finalAnswer: 'write the final answer',
};

/**
 * A magentic manager's method failed (its model call, an invalid ledger after the retries, an
 * exception in a custom manager); `cause` holds the original error — a `StructuredOutputError`
 * with the field issues when the progress ledger stayed malformed.
 *
 * @example
 * catch (error) { if (error instanceof MagenticManagerError && error.step === 'progress') console.warn(error.cause); }
 */
export class MagenticManagerError extends TroupeError {
  constructor(readonly manager: string, readonly step: MagenticStep, options: { cause?: unknown; round?: number } = {}) {
    const { cause, round } = options;
    const when = round !== undefined && round > 0 ? ` in round ${round}` : '';
    const said = cause instanceof Error ? cause.message.trim() : '';
    const why = said ? `: ${said}` : '';
    // One full stop: none added after a cause that already ends a sentence.
    const end = /[.!?]$/.test(why) ? '' : '.';
    super('magentic_manager_failed', `Magentic manager "${manager}" failed to ${STEP_WORDS[step]}${when}${why}${end}`, { cause });
  }
}

/**
 * Every plan of one plan cycle was rejected: the reviewer (the `planReview` callback or a
 * person) rejected more than `maxPlanRejections` plans in a row, so the run ends with this
 * error instead of replanning forever. No work was done on a rejected plan, so there is no
 * partial answer. `feedback` is the reviewer's last word (may be '').
 *
 * @example
 * catch (error) { if (error instanceof PlanRejectedError) console.warn(error.manager, error.rejections, error.feedback); }
 */
export class PlanRejectedError extends TroupeError {
  constructor(
    readonly manager: string,
    readonly rejections: number,
    readonly maxPlanRejections: number,
    readonly feedback: string = '',
  ) {
    const times = rejections === 1 ? '1 time' : `${rejections} times`;
    const said = feedback.trim() !== '' ? ` The last feedback: ${JSON.stringify(feedback)}.` : '';
    super('plan_rejected', `The plan of magentic manager "${manager}" was rejected ${times} in a row (maxPlanRejections = ${maxPlanRejections}); the run ends without replanning again.${said}`);
  }
}

/** The team as a prompt shows it: one `- name: description` line per member. */
export function renderTeam(members: readonly MagenticMember[]): string {
  return members.map((m) => `- ${m.name}: ${m.description}`).join('\n');
}

/** The default full task ledger: what the members are told when no rendering is given. */
export function renderTaskLedger(task: string, members: readonly MagenticMember[], ledger: TaskLedger): string {
  return [
    `We are working on this request:\n\n${task}`,
    `The team:\n${renderTeam(members)}`,
    `What we know and still need to find out:\n${ledger.facts}`,
    `The plan:\n${ledger.plan}`,
  ].join('\n\n');
}
