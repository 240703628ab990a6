import type { ChatMessage, MagenticCallOptions, MagenticContext, MagenticManager, ProgressLedger, TaskLedger } from '../../src/index.js';

/** A progress ledger: not satisfied, progressing, not looping, unless told otherwise. */
export function ledger(next: string, instruction: string, flags: { satisfied?: boolean; progress?: boolean; loop?: boolean } = {}): ProgressLedger {
  return {
    isRequestSatisfied: { reason: 'checked', answer: flags.satisfied ?? false },
    isInLoop: { reason: 'checked', answer: flags.loop ?? false },
    isProgressBeingMade: { reason: 'checked', answer: flags.progress ?? true },
    nextSpeaker: { reason: 'best placed', answer: next },
    instructionOrQuestion: { reason: 'next step', answer: instruction },
  };
}

export const satisfied = (): ProgressLedger => ledger('', '', { satisfied: true });
export const stalled = (next = 'Researcher'): ProgressLedger => ledger(next, 'try again', { progress: false });

type Step<T> = T | ((ctx: MagenticContext, options: MagenticCallOptions) => T | Promise<T>);

export interface ScriptedManagerScript {
  name?: string;
  plan?: Step<TaskLedger>;
  replan?: Step<TaskLedger>;
  /** One per round, in order (the last repeats). */
  progress: Array<Step<ProgressLedger>>;
  finalAnswer?: Step<string | ChatMessage>;
}

/** A custom MagenticManager driven by a script, recording every call's ctx (a deep copy). */
export class ScriptedManager implements MagenticManager {
  readonly name?: string;
  readonly calls: Array<{ method: string; ctx: MagenticContext }> = [];
  private round = 0;
  constructor(private readonly script: ScriptedManagerScript) {
    if (script.name) this.name = script.name;
  }
  private async run<T>(method: string, step: Step<T> | undefined, fallback: T, ctx: MagenticContext, options: MagenticCallOptions): Promise<T> {
    this.calls.push({ method, ctx: structuredClone(ctx) });
    if (step === undefined) return fallback;
    return typeof step === 'function' ? (step as (c: MagenticContext, o: MagenticCallOptions) => T | Promise<T>)(ctx, options) : step;
  }
  plan(ctx: MagenticContext, options: MagenticCallOptions) {
    return this.run('plan', this.script.plan, { facts: 'F0', plan: 'P0' }, ctx, options);
  }
  replan(ctx: MagenticContext, options: MagenticCallOptions) {
    return this.run('replan', this.script.replan, { facts: `F${ctx.resetCount}`, plan: `P${ctx.resetCount}` }, ctx, options);
  }
  progress(ctx: MagenticContext, options: MagenticCallOptions) {
    const steps = this.script.progress;
    const step = steps[Math.min(this.round++, steps.length - 1)];
    return this.run('progress', step, satisfied(), ctx, options);
  }
  finalAnswer(ctx: MagenticContext, options: MagenticCallOptions) {
    return this.run('finalAnswer', this.script.finalAnswer, ctx.limit ? `partial (${ctx.limit})` : 'The answer.', ctx, options);
  }
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }
}
