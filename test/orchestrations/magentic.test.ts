import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatCompletionAgent, InProcessRuntime, InvocationCancelledError, MagenticManagerError, MagenticOrchestration, OrchestrationConfigError,
  OrchestrationTimeoutError, PlanRejectedError, StandardMagenticManager, StructuredOutputError,
  type ChatMessage, type MagenticContext, type MagenticManager, type OrchestrationEvent, type OrchestrationOutput, type ProgressLedger,
} from '../../src/index.js';
import type { ChatRequest } from '../../src/agents/chat-client.js';
import { agent, collect, scripted, startedRuntime } from './helpers.js';
import { ScriptedManager, ledger, satisfied, stalled } from './magentic-helpers.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

const TASK = 'Which of our three suppliers had the best on-time rate last quarter, and by how much?';
const contents = (messages: ChatMessage[]) => messages.map((m) => m.content);
/** What one member's model was sent on each call: the non-system messages' contents. */
const seen = (request: { messages: ChatMessage[] }) => contents(request.messages.filter((m) => m.role !== 'system'));

/** Answers with `answers[i]` on its i-th call (the last repeats). */
function member(name: string, ...answers: string[]) {
  const client = scripted((_request, i) => ({ text: answers[Math.min(i, answers.length - 1)] }));
  return { agent: agent(name, client), client };
}

function eventSummary(events: OrchestrationEvent<OrchestrationOutput>[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'magentic_plan': return `plan(${e.plan}, resets ${e.resetCount})`;
      case 'magentic_progress': return `progress(${e.round}, stalls ${e.stallCount})`;
      case 'agent_response': return `response(${e.agent})`;
      default: return e.type;
    }
  });
}

describe('MagenticOrchestration (scripted members, custom manager)', () => {
  it('happy path: plan → two rounds to two members (each gets its instruction; the other does not speak) → satisfied → final answer', async () => {
    runtime = startedRuntime();
    const researcher = member('Researcher', 'On time: A 91%, B 95%, C 88%.');
    const analyst = member('Analyst', 'B leads A by 4 points.');
    const manager = new ScriptedManager({
      progress: [ledger('Researcher', 'Look up the on-time rates.'), ledger('Analyst', 'Compare the rates.'), satisfied()],
      finalAnswer: 'Supplier B, by 4 points over A.',
    });
    const research = new MagenticOrchestration({ members: [researcher.agent, analyst.agent], manager });
    const result = await research.invoke(TASK, runtime);
    const events = await collect(result.events);
    const output = await result.get();

    expect(eventSummary(events)).toEqual([
      'plan(P0, resets 0)',
      'progress(1, stalls 0)', 'response(Researcher)',
      'progress(2, stalls 0)', 'response(Analyst)',
      'progress(3, stalls 0)', 'response(magentic_manager)',
      'completed',
    ]);
    expect(events.every((e) => e.invocationId === result.invocationId)).toBe(true);
    // One turn each: the member not named did not speak.
    expect(researcher.client.callCount).toBe(1);
    expect(analyst.client.callCount).toBe(1);
    const [researcherCall] = researcher.client.requests;
    expect(seen(researcherCall).at(0)).toBe(TASK);
    expect(seen(researcherCall).at(-1)).toBe('Look up the on-time rates.');
    expect(researcherCall.messages.at(-1)).toMatchObject({ role: 'user', name: 'magentic_manager' });
    expect(seen(researcherCall).at(-2)).toContain('The plan:\nP0');
    // The analyst heard the researcher's reply and both instructions.
    expect(seen(analyst.client.requests[0]).slice(-3)).toEqual(['Look up the on-time rates.', 'On time: A 91%, B 95%, C 88%.', 'Compare the rates.']);

    expect(output.reason).toBe('completed');
    expect(output.lastAgent).toBe('magentic_manager');
    expect(output.messages).toEqual([{ id: `${result.invocationId}:magentic_manager:answer`, role: 'assistant', name: 'magentic_manager', content: 'Supplier B, by 4 points over A.' }]);
    expect(output.conversation.map((m) => [m.name ?? m.role, (m.metadata?.magentic as string | undefined) ?? m.content])).toEqual([
      ['user', TASK],
      ['magentic_manager', 'task_ledger'],
      ['magentic_manager', 'progress_ledger'], ['magentic_manager', 'instruction'], ['Researcher', 'On time: A 91%, B 95%, C 88%.'],
      ['magentic_manager', 'progress_ledger'], ['magentic_manager', 'instruction'], ['Analyst', 'B leads A by 4 points.'],
      ['magentic_manager', 'progress_ledger'],
      ['magentic_manager', 'Supplier B, by 4 points over A.'],
    ]);
    expect(Object.keys(output.usage.byAgent).sort()).toEqual(['Analyst', 'Researcher', 'magentic_manager']);
    // The manager was told each round's state.
    expect(manager.calls.map((c) => [c.method, c.ctx.round, c.ctx.stallCount])).toEqual([
      ['plan', 0, 0], ['progress', 1, 0], ['progress', 2, 0], ['progress', 3, 0], ['finalAnswer', 3, 0],
    ]);
    expect(manager.calls[0].ctx.task).toBe(TASK);
  });

  it('a stall streak past maxStallCount resets: members forget the old history, the new plan is broadcast, resetCount 1; past maxResets → max_resets with a partial answer', async () => {
    runtime = startedRuntime();
    const researcher = member('Researcher', 'first try', 'second try', 'after reset', 'again');
    const analyst = member('Analyst', 'unused');
    const manager = new ScriptedManager({
      // Round 1–2 stall (2 > maxStallCount 1) → reset; rounds 3–4 stall → no resets left.
      progress: [stalled(), stalled(), stalled(), stalled()],
      replan: (ctx) => ({ facts: 'F1', plan: `P after ${ctx.replanReason}` }),
    });
    const research = new MagenticOrchestration({ members: [researcher.agent, analyst.agent], manager, maxStallCount: 1, maxResets: 1 });
    const result = await research.invoke(TASK, runtime);
    const events = await collect(result.events);
    const output = await result.get();

    expect(eventSummary(events)).toEqual([
      'plan(P0, resets 0)',
      'progress(1, stalls 1)', 'response(Researcher)',
      'progress(2, stalls 2)',
      'plan(P after stalled, resets 1)',
      'progress(3, stalls 1)', 'response(Researcher)',
      'progress(4, stalls 2)',
      'response(magentic_manager)', 'completed',
    ]);
    // After the reset the researcher's request starts at the new ledger: no task, no old turns.
    const afterReset = seen(researcher.client.requests[1]);
    expect(afterReset).toHaveLength(2);
    expect(afterReset[0]).toContain('P after stalled');
    expect(afterReset.join('\n')).not.toContain('first try');
    expect(afterReset[1]).toBe('try again');
    // The replan saw what went wrong; the manager's later calls see only what came after.
    const replanCall = manager.calls.find((c) => c.method === 'replan')!;
    expect(contents(replanCall.ctx.conversation)).toContain('first try');
    expect(replanCall.ctx).toMatchObject({ resetCount: 1, stallCount: 0, replanReason: 'stalled' });
    const final = manager.calls.at(-1)!;
    expect(final.method).toBe('finalAnswer');
    expect(final.ctx).toMatchObject({ limit: 'max_resets', resetCount: 1 });
    expect(contents(final.ctx.conversation).join('\n')).not.toContain('first try');

    expect(output.reason).toBe('max_resets');
    expect(contents(output.messages)).toEqual(['partial (max_resets)']);
    expect(analyst.client.callCount).toBe(0);
  });

  it('maxRounds → max_rounds with a partial answer from what exists', async () => {
    runtime = startedRuntime();
    const researcher = member('Researcher', 'A 91%', 'B 95%');
    const manager = new ScriptedManager({
      progress: [ledger('Researcher', 'rates?')],
      finalAnswer: (ctx) => `So far: ${ctx.conversation.filter((m) => m.name === 'Researcher').map((m) => m.content).join(', ')}`,
    });
    const research = new MagenticOrchestration({ members: [researcher.agent, agent('Analyst', scripted([]))], manager, maxRounds: 2 });
    const output = await (await research.invoke(TASK, runtime)).get();
    expect(output.reason).toBe('max_rounds');
    expect(contents(output.messages)).toEqual(['So far: A 91%, B 95%']);
    expect(manager.methods()).toEqual(['plan', 'progress', 'progress', 'finalAnswer']);
    expect(manager.calls.at(-1)!.ctx.limit).toBe('max_rounds');
  });

  it('an unknown next speaker counts as a stall (with that reason) and never crashes the run', async () => {
    runtime = startedRuntime();
    const researcher = member('Researcher', 'found it');
    const manager = new ScriptedManager({ progress: [ledger('Reseacher', 'typo'), ledger('Researcher', 'look'), satisfied()] });
    const research = new MagenticOrchestration({ members: [researcher.agent, agent('Analyst', scripted([]))], manager });
    const result = await research.invoke(TASK, runtime);
    const events = await collect(result.events);
    const progress = events.filter((e) => e.type === 'magentic_progress');
    expect(progress.map((e) => [e.round, e.stallCount, e.stall])).toEqual([[1, 1, 'unknown next speaker "Reseacher"'], [2, 0, undefined], [3, 0, undefined]]);
    expect((await result.get()).reason).toBe('completed');
    expect(researcher.client.callCount).toBe(1);
  });

  it('a manager returning an invalid ledger fails the run with a MagenticManagerError saying what is wrong', async () => {
    runtime = startedRuntime();
    const manager = new ScriptedManager({ progress: [{ nextSpeaker: 'Researcher' } as unknown as ProgressLedger] });
    const research = new MagenticOrchestration({ members: [member('Researcher', 'x').agent], manager });
    const error = await (await research.invoke(TASK, runtime)).get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MagenticManagerError);
    expect(error).toMatchObject({ step: 'progress', manager: 'magentic_manager' });
    expect((error as Error).message).toMatch(/magentic_manager\.progress\(\) returned no valid progress ledger/);
  });

  it('plan review: reject with feedback → the replan sees it → approve → the run continues; the rejected plan never reaches the members', async () => {
    runtime = startedRuntime();
    const researcher = member('Researcher', 'rates found');
    const manager = new ScriptedManager({
      plan: { facts: 'F', plan: 'ask everyone' },
      replan: (ctx) => ({ facts: 'F', plan: `revised: ${ctx.feedback}` }),
      progress: [ledger('Researcher', 'go'), satisfied()],
    });
    const research = new MagenticOrchestration({ members: [researcher.agent, agent('Analyst', scripted([]))], manager, planReview: true });
    const result = await research.invoke(TASK, runtime);
    const order: string[] = [];
    for await (const event of result.events) {
      order.push(event.type === 'magentic_plan' ? `plan: ${event.plan}` : event.type);
      if (event.type !== 'plan_review_requested') continue;
      expect(event).toMatchObject({ invocationId: result.invocationId, agent: 'magentic_manager', facts: 'F' });
      expect(result.pending).toEqual([{ requestId: event.requestId, kind: 'plan_review', agent: 'magentic_manager', recipient: expect.objectContaining({ type: expect.stringMatching(/\.manager$/) }) }]);
      if (event.plan === 'ask everyone') result.reject(event.requestId, 'only the researcher');
      else result.approve(event.requestId);
    }
    const output = await result.get();
    expect(order).toEqual([
      'plan: ask everyone', 'plan_review_requested',
      'plan: revised: only the researcher', 'plan_review_requested',
      'magentic_progress', 'agent_response', 'magentic_progress', 'agent_response', 'completed',
    ]);
    expect(manager.calls.find((c) => c.method === 'replan')!.ctx).toMatchObject({ replanReason: 'rejected', feedback: 'only the researcher', ledger: { plan: 'ask everyone' } });
    const heard = seen(researcher.client.requests[0]).join('\n');
    expect(heard).toContain('revised: only the researcher');
    expect(heard).not.toContain('ask everyone');
    expect(output.conversation.map((m) => m.content).join('\n')).not.toContain('ask everyone');
    expect(output.reason).toBe('completed');
  });

  it('a run waiting on a plan review is at rest: saved with saveState({ key }), attached in a fresh runtime, approved there', async () => {
    runtime = startedRuntime();
    const build = () => new MagenticOrchestration({
      id: 'research',
      members: [member('Researcher', 'rates found').agent],
      manager: new ScriptedManager({ progress: [ledger('Researcher', 'go'), satisfied()] }),
      planReview: true,
    });
    const first = await build().invoke(TASK, runtime);
    let requestId = '';
    for await (const event of first.events) if (event.type === 'plan_review_requested') { requestId = event.requestId; break; }
    await runtime.stopWhenIdle();
    const saved = JSON.parse(JSON.stringify(await runtime.saveState({ key: first.invocationId })));

    const fresh = new InProcessRuntime();
    try {
      fresh.start();
      const again = build();
      again.register(fresh);
      await fresh.loadState(saved);
      const resumed = await again.attach(first.invocationId, fresh);
      expect(resumed.pending).toEqual([{ requestId, kind: 'plan_review', agent: 'magentic_manager', recipient: expect.objectContaining({ type: expect.stringMatching(/\.manager$/) }) }]);
      resumed.approve(requestId);
      const output = await resumed.get();
      expect(output.reason).toBe('completed');
      expect(contents(output.conversation)).toContain('rates found');
    } finally {
      await fresh.close();
    }
  });

  it('plan review as a callback works without the event loop', async () => {
    runtime = startedRuntime();
    const reviews: Array<{ plan: string; invocationId: string }> = [];
    const manager = new ScriptedManager({ replan: { facts: 'F', plan: 'better' }, progress: [satisfied()] });
    const research = new MagenticOrchestration({
      members: [member('Researcher', 'x').agent],
      manager,
      planReview: (request) => {
        reviews.push({ plan: request.plan, invocationId: request.invocationId });
        return request.plan === 'better' ? true : { approved: false, feedback: 'try harder' };
      },
    });
    const result = await research.invoke(TASK, runtime);
    const output = await result.get();
    expect(output.reason).toBe('completed');
    expect(reviews).toEqual([{ plan: 'P0', invocationId: result.invocationId }, { plan: 'better', invocationId: result.invocationId }]);
    expect(manager.calls.find((c) => c.method === 'replan')!.ctx.feedback).toBe('try harder');
  });

  it('a reviewer that always rejects (no I/O anywhere) still lets timers run: timeoutMs ends the run', async () => {
    runtime = startedRuntime();
    let reviews = 0;
    const research = new MagenticOrchestration({
      members: [member('Researcher', 'x').agent],
      manager: new ScriptedManager({ progress: [satisfied()] }),
      maxPlanRejections: 1_000_000,
      // Without a yield to the event loop this spins on microtasks; the escape hatch keeps a regression from hanging the suite.
      planReview: () => ++reviews > 5_000,
    });
    const result = await research.invoke(TASK, runtime, { timeoutMs: 20 });
    await expect(result.get()).rejects.toBeInstanceOf(OrchestrationTimeoutError);
    expect(reviews).toBeLessThan(5_000);
    await runtime.stopWhenIdle();
  });

  it("the reviewer's repro: a callback that always returns false settles (maxPlanRejections, default 3) with a typed error naming the manager", async () => {
    runtime = startedRuntime();
    const build = (reviewed: string[]) => {
      const manager = new ScriptedManager({ name: 'planner', progress: [satisfied()] });
      const research = new MagenticOrchestration({
        members: [member('Researcher', 'x').agent],
        manager,
        // Always false, in effect (the escape hatch after 1,000 reviews keeps a regression from hanging the suite).
        planReview: ({ plan }) => { reviewed.push(plan); return reviewed.length > 1_000; },
      });
      return { manager, research };
    };
    // As reported, with timeoutMs: 20: it settles (whichever comes first on a loaded machine).
    const repro = build([]);
    const settled = await (await repro.research.invoke(TASK, runtime, { timeoutMs: 20 })).get().catch((e: unknown) => e);
    expect(settled instanceof PlanRejectedError || settled instanceof OrchestrationTimeoutError).toBe(true);

    const reviewed: string[] = [];
    const { manager, research } = build(reviewed);
    const error = await (await research.invoke(TASK, runtime)).get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanRejectedError);
    expect(error).toMatchObject({ code: 'plan_rejected', manager: 'planner', rejections: 4, maxPlanRejections: 3 });
    expect((error as Error).message).toMatch(/"planner".*rejected 4 times in a row.*maxPlanRejections = 3/);
    // The first plan and three replans were reviewed; the fourth rejection ended the run without another replan.
    expect(reviewed).toHaveLength(4);
    expect(manager.methods()).toEqual(['plan', 'replan', 'replan', 'replan']);
  });

  it('maxPlanRejections counts consecutive rejections of one plan cycle: an approval starts the count afresh; 0 ends at the first rejection', async () => {
    runtime = startedRuntime();
    // Reject twice, approve, stall into a reset (its replan is reviewed again), reject twice, approve.
    const verdicts = [false, false, true, false, false, true];
    const manager = new ScriptedManager({ progress: [stalled(), satisfied()] });
    const research = new MagenticOrchestration({
      members: [member('Researcher', 'x').agent], manager, maxStallCount: 0, maxPlanRejections: 2, planReview: () => verdicts.shift()!,
    });
    expect((await (await research.invoke(TASK, runtime)).get()).reason).toBe('completed');
    expect(verdicts).toEqual([]);

    let strictReviews = 0;
    const strict = new MagenticOrchestration({ members: [member('Researcher', 'x').agent], manager: new ScriptedManager({ progress: [satisfied()] }), maxPlanRejections: 0, planReview: () => ++strictReviews > 100 });
    await expect((await strict.invoke(TASK, runtime)).get()).rejects.toThrow(/rejected 1 time in a row.*maxPlanRejections = 0/);
    expect(() => new MagenticOrchestration({ members: [member('R', 'x').agent], manager, maxPlanRejections: -1 })).toThrow(/"maxPlanRejections" must be an integer >= 0/);
  });

  it('a person who keeps rejecting is bounded by maxPlanRejections too', async () => {
    runtime = startedRuntime();
    const research = new MagenticOrchestration({
      members: [member('Researcher', 'x').agent], manager: new ScriptedManager({ progress: [satisfied()] }), planReview: true, maxPlanRejections: 1,
    });
    const result = await research.invoke(TASK, runtime);
    let asked = 0;
    for await (const event of result.events) {
      if (event.type !== 'plan_review_requested') continue;
      if (++asked > 20) result.approve(event.requestId);
      else result.reject(event.requestId, 'no');
    }
    await expect(result.get()).rejects.toBeInstanceOf(PlanRejectedError);
    expect(asked).toBe(2);
  });

  it('the planReview callback gets the run\'s signal: cancel() aborts a slow reviewer', async () => {
    runtime = startedRuntime();
    let signal: AbortSignal | undefined;
    let started!: () => void;
    const inReview = new Promise<void>((resolve) => { started = resolve; });
    const research = new MagenticOrchestration({
      members: [member('Researcher', 'x').agent],
      manager: new ScriptedManager({ progress: [satisfied()] }),
      planReview: (request) => new Promise<boolean>((_resolve, reject) => {
        signal = request.signal;
        request.signal.addEventListener('abort', () => reject(request.signal.reason));
        started();
      }),
    });
    const result = await research.invoke(TASK, runtime);
    await inReview;
    expect(signal!.aborted).toBe(false);
    result.cancel();
    await expect(result.get()).rejects.toBeInstanceOf(InvocationCancelledError);
    expect(signal!.aborted).toBe(true);
    await runtime.stopWhenIdle();
  });

  it('two concurrent invocations share no ledger or counter', async () => {
    runtime = startedRuntime();
    // Stateless manager: "slow" tasks stall twice before succeeding; others succeed at once.
    const manager: MagenticManager = {
      async plan(ctx) { return { facts: `facts for ${ctx.task}`, plan: `plan for ${ctx.task}` }; },
      async replan(ctx) { return { facts: 'F', plan: `replan for ${ctx.task}` }; },
      async progress(ctx) {
        if (ctx.task === 'slow' && ctx.round <= 2) return ledger('Nobody', 'x');
        return ctx.round > 3 || ctx.task !== 'slow' ? satisfied() : ledger('Researcher', 'go');
      },
      async finalAnswer(ctx: MagenticContext) { return `${ctx.task}: rounds ${ctx.round}, stalls ${ctx.stallCount}`; },
    };
    const research = new MagenticOrchestration({ members: [member('Researcher', 'ok').agent], manager });
    const [slow, fast] = await Promise.all([research.invoke('slow', runtime), research.invoke('fast', runtime)]);
    const [slowEvents, fastEvents] = await Promise.all([collect(slow.events), collect(fast.events)]);
    expect(contents((await slow.get()).messages)).toEqual(['slow: rounds 4, stalls 0']);
    expect(slowEvents.filter((e) => e.type === 'magentic_progress').map((e) => e.stallCount)).toEqual([1, 2, 1, 0]);
    expect(contents((await fast.get()).messages)).toEqual(['fast: rounds 1, stalls 0']);
    expect(slowEvents.filter((e) => e.type === 'magentic_plan').map((e) => e.plan)).toEqual(['plan for slow']);
    expect(fastEvents.filter((e) => e.type === 'magentic_plan').map((e) => e.plan)).toEqual(['plan for fast']);
    expect(fastEvents.filter((e) => e.type === 'magentic_progress').map((e) => e.stallCount)).toEqual([0]);
  });

  it('cancel during a manager call aborts it', async () => {
    runtime = startedRuntime();
    let signal: AbortSignal | undefined;
    let started!: () => void;
    const inProgress = new Promise<void>((resolve) => { started = resolve; });
    const manager = new ScriptedManager({
      progress: [(_ctx, options) => new Promise<ProgressLedger>((_resolve, reject) => {
        signal = options.signal;
        options.signal.addEventListener('abort', () => reject(options.signal.reason));
        started();
      })],
    });
    const research = new MagenticOrchestration({ members: [member('Researcher', 'x').agent], manager });
    const result = await research.invoke(TASK, runtime);
    await inProgress;
    expect(signal!.aborted).toBe(false);
    result.cancel();
    await expect(result.get()).rejects.toBeInstanceOf(InvocationCancelledError);
    expect(signal!.aborted).toBe(true);
    await runtime.stopWhenIdle();
  });

  it('usage: what the manager records counts in usage.byAgent under its name (or the name it gives)', async () => {
    runtime = startedRuntime();
    const tokens = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
    const manager = new ScriptedManager({
      name: 'Orchestrator',
      plan: (_ctx, options) => { options.recordUsage(tokens); return { facts: 'F', plan: 'P' }; },
      progress: [(_ctx, options) => { options.recordUsage(tokens); return satisfied(); }],
    });
    const output = await (await new MagenticOrchestration({ members: [member('Researcher', 'x').agent], manager }).invoke(TASK, runtime)).get();
    expect(output.usage.byAgent.Orchestrator).toEqual({ inputTokens: 20, outputTokens: 10, totalTokens: 30 });
    expect(output.lastAgent).toBe('Orchestrator');
    expect(output.messages[0].name).toBe('Orchestrator');
  });

  it('a continued conversation (continueFrom) gives the manager and the members the earlier transcript', async () => {
    runtime = startedRuntime();
    const researcher = member('Researcher', 'x');
    const manager = new ScriptedManager({ progress: [ledger('Researcher', 'go'), satisfied()] });
    const research = new MagenticOrchestration({ members: [researcher.agent], manager });
    const first = await (await research.invoke(TASK, runtime)).get();
    const second = await (await research.invoke('And the worst?', runtime, { continueFrom: first })).get();
    const plan = manager.calls.filter((c) => c.method === 'plan')[1];
    expect(plan.ctx.task).toBe('And the worst?');
    expect(contents(plan.ctx.conversation)).toContain(TASK);
    expect(second.conversation.slice(0, first.conversation.length)).toEqual(first.conversation);
  });
});

/** The manager's model: scripted by which prompt it is answering. */
function managerModel(progress: Array<string | ProgressLedger>) {
  let round = 0;
  return scripted((request: ChatRequest) => {
    if (request.responseFormat) {
      const next = progress[Math.min(round++, progress.length - 1)];
      return { text: typeof next === 'string' ? next : JSON.stringify(next) };
    }
    const last = request.messages.at(-1)!.content;
    if (last.includes('pre-survey')) return { text: 'FACTS: three suppliers.' };
    if (last.includes('Now write a plan')) return { text: '- Researcher: look up\n- Analyst: compare' };
    if (last.includes('Rewrite the fact sheet')) return { text: 'FACTS v2' };
    if (last.includes('First explain')) return { text: 'We asked the wrong member.\n- Analyst: compare' };
    if (last.includes('stop working')) return { text: 'PARTIAL ANSWER' };
    return { text: 'Supplier B, by 4 points.' };
  });
}

describe('StandardMagenticManager (scripted model)', () => {
  it('plans in two calls, tracks progress with structured output, answers the user; its usage counts under magentic_manager', async () => {
    runtime = startedRuntime();
    const model = managerModel([ledger('Researcher', 'Look up the rates.'), ledger('Analyst', 'Compare.'), satisfied()]);
    const researcher = member('Researcher', 'A 91%, B 95%');
    const analyst = member('Analyst', 'B by 4');
    const research = new MagenticOrchestration({
      members: [researcher.agent, analyst.agent],
      manager: new StandardMagenticManager({ client: model }),
    });
    const result = await research.invoke(TASK, runtime);
    const events = await collect(result.events);
    const output = await result.get();
    expect(output.reason).toBe('completed');
    expect(contents(output.messages)).toEqual(['Supplier B, by 4 points.']);
    // facts, plan, 3 progress ledgers, the answer.
    expect(model.callCount).toBe(6);
    model.assertComplete();
    const [facts, plan, progress] = model.requests;
    expect(facts.messages.at(-1)!.content).toContain(TASK);
    expect(facts.messages.at(-1)!.content).toMatch(/GIVEN OR VERIFIED FACTS[\s\S]*FACTS TO LOOK UP[\s\S]*FACTS TO DERIVE[\s\S]*EDUCATED GUESSES/);
    expect(contents(plan.messages).slice(-2)[0]).toBe('FACTS: three suppliers.');
    expect(plan.messages.at(-1)!.content).toContain('- Researcher: Researcher agent');
    expect(progress.responseFormat).toMatchObject({ name: 'progress_ledger' });
    expect(progress.messages.at(-1)!.content).toContain('One of: Researcher, Analyst');
    expect(events.find((e) => e.type === 'magentic_plan')).toMatchObject({ facts: 'FACTS: three suppliers.', plan: '- Researcher: look up\n- Analyst: compare' });
    // The members heard the rendered ledger.
    expect(seen(researcher.client.requests[0])[1]).toMatch(/We are working on this request:[\s\S]*The team:[\s\S]*FACTS: three suppliers\.[\s\S]*- Analyst: compare/);
    expect(output.usage.byAgent.magentic_manager.totalTokens).toBeGreaterThan(0);
    expect(output.usage.total.totalTokens).toBe(Object.values(output.usage.byAgent).reduce((sum, u) => sum + u.totalTokens, 0));
  });

  it('a malformed progress ledger is retried with the error shown to the model, then succeeds', async () => {
    runtime = startedRuntime();
    const broken = { ...satisfied(), isInLoop: { reason: 'r', answer: 'no' } };
    const model = managerModel(['not json at all', JSON.stringify(broken), satisfied()]);
    const research = new MagenticOrchestration({ members: [member('Researcher', 'x').agent], manager: new StandardMagenticManager({ client: model }) });
    const output = await (await research.invoke(TASK, runtime)).get();
    expect(output.reason).toBe('completed');
    const progressCalls = model.requests.filter((r) => r.responseFormat);
    expect(progressCalls).toHaveLength(3);
    expect(progressCalls[1].messages.at(-1)!.content).toContain('not valid JSON');
    expect(progressCalls[2].messages.at(-1)!.content).toContain('isInLoop.answer');
  });

  it('a ledger still malformed after maxRetries fails the run with a typed error naming the manager', async () => {
    runtime = startedRuntime();
    const model = managerModel(['{}']);
    const research = new MagenticOrchestration({
      members: [member('Researcher', 'x').agent],
      manager: new StandardMagenticManager({ client: model, maxRetries: 1 }),
    });
    const error = await (await research.invoke(TASK, runtime)).get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MagenticManagerError);
    expect(error).toMatchObject({ code: 'magentic_manager_failed', manager: 'magentic_manager', step: 'progress' });
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(StructuredOutputError);
    expect(cause).toMatchObject({ caller: 'magentic_manager', attempts: 2 });
    expect((error as Error).message).toContain('magentic_manager: the model gave no valid structured answer in 2 attempt(s)');
    expect(model.requests.filter((r) => r.responseFormat)).toHaveLength(2);
  });

  it('a stall reset replans with an updated fact sheet and an explanation; a limit gets the partial-answer prompt', async () => {
    runtime = startedRuntime();
    const model = managerModel([stalled(), stalled()]);
    const research = new MagenticOrchestration({
      members: [member('Researcher', 'nothing').agent],
      manager: new StandardMagenticManager({ client: model }),
      maxStallCount: 0,
      maxResets: 1,
    });
    const result = await research.invoke(TASK, runtime);
    const plans = (await collect(result.events)).filter((e) => e.type === 'magentic_plan');
    const output = await result.get();
    expect(plans.map((p) => [p.facts, p.resetCount])).toEqual([['FACTS: three suppliers.', 0], ['FACTS v2', 1]]);
    expect(plans[1].plan).toContain('We asked the wrong member.');
    const factsUpdate = model.requests.find((r) => r.messages.at(-1)!.content.includes('Rewrite the fact sheet'))!;
    expect(factsUpdate.messages.at(-1)!.content).toContain('FACTS: three suppliers.');
    expect(factsUpdate.messages.at(-1)!.content).toContain('We are stuck');
    expect(output).toMatchObject({ reason: 'max_resets' });
    expect(contents(output.messages)).toEqual(['PARTIAL ANSWER']);
  });

  it('a rejected plan: the replan request shows the model the plan and the reviewer\'s feedback', async () => {
    runtime = startedRuntime();
    const model = managerModel([satisfied()]);
    const research = new MagenticOrchestration({
      members: [member('Researcher', 'x').agent],
      manager: new StandardMagenticManager({ client: model }),
      planReview: ({ plan }) => (plan.includes('wrong member') ? true : { approved: false, feedback: 'Skip the analyst.' }),
    });
    expect((await (await research.invoke(TASK, runtime)).get()).reason).toBe('completed');
    const replan = model.requests.find((r) => r.messages.at(-1)!.content.includes('Rewrite the fact sheet'))!;
    const feedback = replan.messages.at(-2)!.content;
    expect(feedback).toContain('Skip the analyst.');
    expect(feedback).toContain('- Researcher: look up');
  });

  it('every prompt can be overridden; unknown prompts and placeholders are construction errors', async () => {
    runtime = startedRuntime();
    const model = scripted((request: ChatRequest) => (request.responseFormat ? { text: JSON.stringify(satisfied()) } : { text: `echo: ${request.messages.at(-1)!.content}` }));
    const manager = new StandardMagenticManager({
      client: model,
      prompts: { facts: 'FACTS? {task}', plan: (v) => `PLAN for ${v.team}`, taskLedger: 'LEDGER {plan}', finalAnswer: 'ANSWER {task}' },
    });
    const output = await (await new MagenticOrchestration({ members: [member('Researcher', 'x').agent], manager }).invoke('t1', runtime)).get();
    expect(model.requests[0].messages.at(-1)!.content).toBe('FACTS? t1');
    expect(model.requests[1].messages.at(-1)!.content).toBe('PLAN for - Researcher: Researcher agent');
    expect(output.conversation[1].content).toBe('LEDGER echo: PLAN for - Researcher: Researcher agent');
    expect(contents(output.messages)).toEqual(['echo: ANSWER t1']);

    expect(() => new StandardMagenticManager({ client: model, prompts: { fact: 'x' } as never })).toThrow(/unknown prompt "fact"/);
    expect(() => new StandardMagenticManager({ client: model, prompts: { facts: 'Look at {team}' } })).toThrow(/prompt "facts" uses \{team\}.*\{task\}/);
    expect(() => new StandardMagenticManager({ client: model, maxRetries: -1 })).toThrow(OrchestrationConfigError);
    expect(() => new StandardMagenticManager({} as never)).toThrow(/"client" must be a ChatClient/);
  });

  it('tool calls of members reach the manager\'s model as text (valid without tool definitions)', async () => {
    runtime = startedRuntime();
    const model = managerModel([ledger('Researcher', 'look'), satisfied()]);
    const client = scripted([{ toolCalls: [{ name: 'lookup', arguments: { supplier: 'B' } }] }, { text: 'B: 95%' }]);
    const { tool } = await import('../../src/index.js');
    const { z } = await import('zod');
    const lookup = tool({ name: 'lookup', description: 'On-time rate', parameters: z.object({ supplier: z.string() }), execute: () => '95%' });
    const researcher = new ChatCompletionAgent({ name: 'Researcher', description: 'Looks up rates', client, tools: [lookup] });
    await (await new MagenticOrchestration({ members: [researcher], manager: new StandardMagenticManager({ client: model }) }).invoke(TASK, runtime)).get();
    const lastProgress = model.requests.filter((r) => r.responseFormat).at(-1)!;
    expect(lastProgress.messages.some((m) => m.role === 'tool' || m.toolCalls)).toBe(false);
    expect(contents(lastProgress.messages).join('\n')).toContain('[called lookup({"supplier":"B"})]\n[lookup returned: 95%]');
  });
});

describe('MagenticOrchestration construction', () => {
  const manager = new ScriptedManager({ progress: [satisfied()] });
  const ok = agent('Researcher', scripted([]));
  it('names the culprit', () => {
    const bare = new ChatCompletionAgent({ name: 'Bare', client: scripted([]) });
    expect(() => new MagenticOrchestration({ members: [ok, bare], manager })).toThrow(/member "Bare" has no description/);
    expect(() => new MagenticOrchestration({ members: [], manager })).toThrow(OrchestrationConfigError);
    expect(() => new MagenticOrchestration({ members: [ok] } as never)).toThrow(/"manager" is required/);
    expect(() => new MagenticOrchestration({ members: [ok], manager: { plan() {} } as never })).toThrow(/no "replan" method/);
    expect(() => new MagenticOrchestration({ members: [ok], manager: new ScriptedManager({ name: 'Researcher', progress: [] }) })).toThrow(/named "Researcher", like the manager/);
    expect(() => new MagenticOrchestration({ members: [ok], manager, maxRounds: 0 })).toThrow(/"maxRounds" must be an integer >= 1, got 0/);
    expect(() => new MagenticOrchestration({ members: [ok], manager, maxStallCount: -1 })).toThrow(/"maxStallCount"/);
    expect(() => new MagenticOrchestration({ members: [ok], manager, maxResets: 1.5 })).toThrow(/"maxResets"/);
    expect(() => new MagenticOrchestration({ members: [ok], manager, planReview: 'yes' as never })).toThrow(/"planReview"/);
    expect(() => new MagenticOrchestration({ members: [ok], manager, terminationCondition: () => true })).toThrow(/"terminationCondition" is not supported/);
  });

  it('toMermaid: the manager drives the members, invokes its steps, and asks the gateway for plan reviews', () => {
    const plain = new MagenticOrchestration({ members: [ok], manager }).toMermaid();
    expect(plain).toContain('manager{{"magentic manager<br/>magentic_manager"}}');
    expect(plain).toContain('manager -->|"turn request (next speaker)"| members');
    expect(plain).toContain('manager -.->|"reset (after stalls)"| members');
    expect(plain).toContain('plan · replan · progress · finalAnswer');
    expect(plain).not.toContain('human_gateway');
    const reviewed = new MagenticOrchestration({ members: [ok], manager, planReview: true }).toMermaid();
    expect(reviewed).toContain('manager -->|"plan review request"| human_gateway');
    expect(reviewed).toContain('human_gateway -->|"plan review decision"| manager');
    expect(reviewed).toContain('boundary -->|"approve / reject"| human_gateway');
  });
});
