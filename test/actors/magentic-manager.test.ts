import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { magenticManagerMachine, type MagenticManagerInput } from '../../src/actors/magentic-manager.js';
import { MagenticManagerError, PlanRejectedError, type ProgressLedger } from '../../src/actors/magentic-ledgers.js';
import type { AgentResponse } from '../../src/actors/protocol.js';
import { commandsOf, doneEvent, errorEvent, invokedOf, messageEvent, reportsOf } from '../../src/testing/step.js';
import { ledger, satisfied, stalled } from '../orchestrations/magentic-helpers.js';

type Snap = SnapshotFrom<typeof magenticManagerMachine>;
const usage = { inputTokens: 3, outputTokens: 2, totalTokens: 5 };
const id = (part: string) => ({ type: `m.${part}`, key: 'inv1' });
const input: MagenticManagerInput = {
  invocationId: 'inv1',
  name: 'magentic_manager',
  self: id('manager'),
  boundary: id('boundary'),
  gateway: id('gateway'),
  end: id('end'),
  topic: { type: 'm.conversation', source: 'inv1' },
  members: [
    { name: 'Researcher', description: 'Looks things up.', id: id('Researcher') },
    { name: 'Analyst', description: 'Does the maths.', id: id('Analyst') },
  ],
  maxRounds: 20,
  maxStallCount: 3,
  maxResets: 2,
  maxPlanRejections: 3,
  planReview: 'none',
};
const step = (s: Snap, e: unknown) => transition(magenticManagerMachine, s, e as never);
const task = { id: 't', role: 'user' as const, content: 'Which supplier was on time most often?' };
function reply(agent: string, text: string): AgentResponse {
  return { type: 'agent_response', agent, text, usage, outcome: { kind: 'reply' }, messages: [{ id: `${agent}-${text}`, role: 'assistant', name: agent, content: text }] };
}
const plan = (facts = 'F', p = 'P') => doneEvent('plan', { value: { facts, plan: p }, usage });
const replan = (facts = 'F2', p = 'P2') => doneEvent('replan', { value: { facts, plan: p, rendered: `LEDGER ${p}` }, usage });
const progress = (l: ProgressLedger) => doneEvent('progress', { value: l, usage });
const value = (s: Snap) => JSON.stringify(s.value);

/** A manager that heard the task and was kicked off: it is planning. */
function planning(extra: Partial<MagenticManagerInput> = {}) {
  let [s] = initialTransition(magenticManagerMachine, { ...input, ...extra });
  [s] = step(s, messageEvent({ type: 'conversation', messages: [task] }));
  return step(s, messageEvent({ type: 'kickoff' }));
}

/** Planned and broadcast: now assessing round 1. */
function assessing(extra: Partial<MagenticManagerInput> = {}) {
  const [s] = planning(extra);
  return step(s, plan());
}

describe('magentic manager (stepped)', () => {
  it('plans on kickoff with the task it heard, reports the plan, tells the team and starts round 1', () => {
    const [s, actions] = planning();
    expect(s.value).toBe('planning');
    expect(s.hasTag('busy')).toBe(true);
    const [planCall] = invokedOf(actions);
    expect(planCall.src).toBe('plan');
    expect(planCall.input).toMatchObject({ invocationId: 'inv1', task: task.content, conversation: [task], round: 0, stallCount: 0, resetCount: 0 });
    expect(planCall.input).toMatchObject({ members: [{ name: 'Researcher', description: 'Looks things up.' }, { name: 'Analyst', description: 'Does the maths.' }] });

    const [next, planned] = step(s, plan('the facts', 'the plan'));
    expect(next.value).toBe('assessingProgress');
    expect(next.context.round).toBe(1);
    expect(reportsOf(planned)).toEqual([{ type: 'magentic_plan', agent: 'magentic_manager', facts: 'the facts', plan: 'the plan', resetCount: 0 }]);
    const commands = commandsOf(planned);
    // Usage to the transcript, then the rendered ledger said to everyone as the manager's message.
    expect(commands[0]).toMatchObject({ type: 'runtime.send', recipient: id('end'), message: { type: 'agent_response', agent: 'magentic_manager', messages: [], usage } });
    expect(commands[1]).toMatchObject({ type: 'runtime.publish', topic: input.topic, message: { type: 'conversation', messages: [{ role: 'user', name: 'magentic_manager', metadata: { magentic: 'task_ledger' } }] } });
    const broadcast = (commands[1] as unknown as { message: { messages: Array<{ content: string }> } }).message.messages[0].content;
    expect(broadcast).toContain(task.content);
    expect(broadcast).toContain('- Researcher: Looks things up.');
    expect(broadcast).toContain('the plan');
    expect(invokedOf(planned).map((a) => a.src)).toEqual(['progress']);
  });

  it('a round: the instruction goes to everyone as the manager\'s message, only the named member is asked; its reply starts the next round', () => {
    let [s] = assessing();
    let actions;
    [s, actions] = step(s, progress(ledger('Analyst', 'Compute the difference.')));
    expect(s.value).toBe('waitingForMember');
    expect(s.hasTag('busy')).toBe(false);
    expect(reportsOf(actions)).toEqual([{ type: 'magentic_progress', agent: 'magentic_manager', round: 1, ledger: ledger('Analyst', 'Compute the difference.'), stallCount: 0 }]);
    const commands = commandsOf(actions);
    expect(commands).toHaveLength(3);
    expect(commands[0]).toMatchObject({ recipient: id('end'), message: { type: 'agent_response', messages: [{ role: 'assistant', name: 'magentic_manager', metadata: { magentic: 'progress_ledger', round: 1 } }] } });
    expect(commands[1]).toMatchObject({ type: 'runtime.publish', message: { type: 'conversation', messages: [{ role: 'user', name: 'magentic_manager', content: 'Compute the difference.' }] } });
    expect(commands[2]).toEqual({ type: 'runtime.send', recipient: id('Analyst'), message: { type: 'turn_request' } });

    // Another member's reply (not the speaker's) is heard but does not end the turn.
    [s, actions] = step(s, messageEvent(reply('Researcher', 'aside')));
    expect(s.value).toBe('waitingForMember');
    [s, actions] = step(s, messageEvent(reply('Analyst', 'A by 5 points')));
    expect(s.value).toBe('assessingProgress');
    expect(s.context.round).toBe(2);
    expect(invokedOf(actions)[0].input).toMatchObject({ round: 2 });
    const heard = (invokedOf(actions)[0].input as { conversation: Array<{ content: string }> }).conversation.map((m) => m.content);
    expect(heard.slice(-3)).toEqual(['Compute the difference.', 'aside', 'A by 5 points']);
  });

  it('satisfied → the final answer, reason completed, lastAgent the manager', () => {
    let [s] = assessing();
    let actions;
    [s, actions] = step(s, progress(satisfied()));
    expect(s.value).toBe('answering');
    expect(invokedOf(actions)[0]).toMatchObject({ src: 'finalAnswer' });
    expect(invokedOf(actions)[0].input).not.toHaveProperty('limit');
    [s, actions] = step(s, doneEvent('finalAnswer', { value: 'B, by 4 points.', usage }));
    expect(s.value).toBe('done');
    const answer = { id: 'inv1:magentic_manager:answer', role: 'assistant', name: 'magentic_manager', content: 'B, by 4 points.' };
    expect(reportsOf(actions)).toEqual([{ type: 'agent_response', agent: 'magentic_manager', message: answer, messages: [answer], usage }]);
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.send', recipient: id('end'), message: { type: 'agent_response', agent: 'magentic_manager', messages: [answer], text: 'B, by 4 points.', usage, outcome: { kind: 'reply' } } },
      { type: 'runtime.send', recipient: id('end'), message: { type: 'completion', reason: 'completed', messages: [answer], lastAgent: 'magentic_manager' } },
    ]);
  });

  it('stall accounting: +1 when not progressing or looping, −1 (never below 0) otherwise', () => {
    let [s] = assessing();
    const round = (l: ProgressLedger, speaker: string) => {
      [s] = step(s, progress(l));
      [s] = step(s, messageEvent(reply(speaker, 'ok')));
      return s.context.stallCount;
    };
    expect(round(ledger('Researcher', 'go'), 'Researcher')).toBe(0);
    expect(round(ledger('Researcher', 'go', { progress: false }), 'Researcher')).toBe(1);
    expect(round(ledger('Researcher', 'go', { loop: true }), 'Researcher')).toBe(2);
    expect(round(ledger('Researcher', 'go', { loop: true, progress: false }), 'Researcher')).toBe(3);
    expect(round(ledger('Researcher', 'go'), 'Researcher')).toBe(2);
    expect(round(ledger('Researcher', 'go'), 'Researcher')).toBe(1);
    expect(round(ledger('Researcher', 'go'), 'Researcher')).toBe(0);
    expect(round(ledger('Researcher', 'go'), 'Researcher')).toBe(0);
  });

  it('an unknown next speaker is a stall with that reason, never a crash: nobody is asked, the next round starts', () => {
    let [s] = assessing();
    let actions;
    [s, actions] = step(s, progress(ledger('Nobody', 'do it')));
    expect(s.value).toBe('assessingProgress');
    expect(s.context).toMatchObject({ round: 2, stallCount: 1, stall: 'unknown next speaker "Nobody"' });
    expect(reportsOf(actions)[0]).toMatchObject({ type: 'magentic_progress', round: 1, stallCount: 1, stall: 'unknown next speaker "Nobody"' });
    expect(commandsOf(actions).filter((c) => c.type === 'runtime.publish' || (c.type === 'runtime.send' && c.message.type === 'turn_request'))).toEqual([]);
  });

  it('a stall count above maxStallCount resets: members get reset, the replan sees the history, the new ledger is broadcast, resetCount 1', () => {
    let [s] = assessing({ maxStallCount: 1 });
    let actions;
    [s] = step(s, progress(stalled()));
    [s] = step(s, messageEvent(reply('Researcher', 'no luck')));
    [s, actions] = step(s, progress(stalled()));
    expect(s.value).toBe('resetting');
    expect(s.context).toMatchObject({ stallCount: 0, resetCount: 1 });
    expect(commandsOf(actions).filter((c) => c.type === 'runtime.send' && c.message.type === 'reset')).toEqual([
      { type: 'runtime.send', recipient: id('Researcher'), message: { type: 'reset' } },
      { type: 'runtime.send', recipient: id('Analyst'), message: { type: 'reset' } },
    ]);
    const replanCall = invokedOf(actions).find((a) => a.src === 'replan')!;
    expect(replanCall.input).toMatchObject({ replanReason: 'stalled', resetCount: 1, ledger: { facts: 'F', plan: 'P' } });
    expect((replanCall.input as { conversation: Array<{ content: string }> }).conversation.map((m) => m.content)).toContain('no luck');

    [s, actions] = step(s, replan());
    expect(reportsOf(actions)).toEqual([{ type: 'magentic_plan', agent: 'magentic_manager', facts: 'F2', plan: 'P2', resetCount: 1 }]);
    const publish = commandsOf(actions).find((c) => c.type === 'runtime.publish')!;
    expect(publish).toMatchObject({ message: { messages: [{ content: 'LEDGER P2', metadata: { magentic: 'task_ledger', resetCount: 1 } }] } });
    expect(s.value).toBe('assessingProgress');
    // The round counter goes on; the manager's memory starts at the new ledger.
    expect(s.context.round).toBe(3);
    expect(s.context.conversation.map((m) => m.content)).toEqual(['LEDGER P2']);
  });

  it('maxResets used up: the next reset ends the run with a partial answer, reason max_resets (no wasted replan)', () => {
    let [s] = assessing({ maxStallCount: 0, maxResets: 1 });
    let actions;
    [s] = step(s, progress(stalled()));
    expect(s.value).toBe('resetting');
    [s] = step(s, replan());
    [s, actions] = step(s, progress(stalled()));
    expect(s.value).toBe('answering');
    expect(s.context.limit).toBe('max_resets');
    expect(invokedOf(actions).map((a) => a.src)).toEqual(['finalAnswer']);
    expect(invokedOf(actions)[0].input).toMatchObject({ limit: 'max_resets', resetCount: 1 });
    [s, actions] = step(s, doneEvent('finalAnswer', { value: 'What we know so far.' }));
    expect(commandsOf(actions).at(-1)).toMatchObject({ message: { type: 'completion', reason: 'max_resets', messages: [{ content: 'What we know so far.' }] } });
  });

  it('maxRounds: after the last round\'s reply, a partial answer with reason max_rounds', () => {
    let [s] = assessing({ maxRounds: 2 });
    let actions;
    [s] = step(s, progress(ledger('Researcher', 'a')));
    [s] = step(s, messageEvent(reply('Researcher', 'r1')));
    [s] = step(s, progress(ledger('Analyst', 'b')));
    [s, actions] = step(s, messageEvent(reply('Analyst', 'r2')));
    expect(s.value).toBe('answering');
    expect(invokedOf(actions)[0].input).toMatchObject({ limit: 'max_rounds', round: 2 });
    [s, actions] = step(s, doneEvent('finalAnswer', { value: { id: 'mine', role: 'assistant', name: 'magentic_manager', content: 'partial' } }));
    expect(commandsOf(actions).at(-1)).toEqual({
      type: 'runtime.send', recipient: id('end'),
      message: { type: 'completion', reason: 'max_rounds', messages: [{ id: 'mine', role: 'assistant', name: 'magentic_manager', content: 'partial' }], lastAgent: 'magentic_manager' },
    });
  });

  it('plan review by a person: at rest until the decision; a rejection replans with the feedback and asks again; the team hears only the approved plan', () => {
    let [s] = planning({ planReview: 'person' });
    let actions;
    [s, actions] = step(s, plan('F', 'P1'));
    expect(value(s)).toBe(JSON.stringify({ reviewingPlan: 'waitingForReviewer' }));
    expect(s.hasTag('busy')).toBe(false);
    expect(reportsOf(actions)).toEqual([{ type: 'magentic_plan', agent: 'magentic_manager', facts: 'F', plan: 'P1', resetCount: 0 }]);
    const request = { type: 'plan_review_request', requestId: 'inv1:magentic_manager:plan_review:1', agent: 'magentic_manager', facts: 'F', plan: 'P1', replyTo: id('manager') };
    expect(commandsOf(actions).filter((c) => c.type !== 'runtime.send' || c.message.type !== 'agent_response')).toEqual([{ type: 'runtime.send', recipient: id('gateway'), message: request }]);

    // A decision on another request is ignored.
    [s] = step(s, messageEvent({ type: 'plan_review_decision', requestId: 'other', approved: true }));
    expect(value(s)).toBe(JSON.stringify({ reviewingPlan: 'waitingForReviewer' }));

    [s, actions] = step(s, messageEvent({ type: 'plan_review_decision', requestId: request.requestId, approved: false, feedback: 'check the contracts first' }));
    expect(s.value).toBe('replanning');
    expect(invokedOf(actions)[0]).toMatchObject({ src: 'replan', input: { replanReason: 'rejected', feedback: 'check the contracts first', resetCount: 0, ledger: { plan: 'P1' } } });
    expect(commandsOf(actions)).toEqual([]);

    [s, actions] = step(s, replan('F', 'P2'));
    expect(reportsOf(actions)).toEqual([{ type: 'magentic_plan', agent: 'magentic_manager', facts: 'F', plan: 'P2', resetCount: 0 }]);
    expect(commandsOf(actions).some((c) => c.type === 'runtime.publish')).toBe(false);
    const second = commandsOf(actions).find((c) => c.type === 'runtime.send' && c.message.type === 'plan_review_request');
    expect(second).toMatchObject({ message: { requestId: 'inv1:magentic_manager:plan_review:2', plan: 'P2' } });

    [s, actions] = step(s, messageEvent({ type: 'plan_review_decision', requestId: 'inv1:magentic_manager:plan_review:2', approved: true }));
    expect(s.value).toBe('assessingProgress');
    const published = commandsOf(actions).filter((c) => c.type === 'runtime.publish');
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ message: { messages: [{ content: 'LEDGER P2' }] } });
    expect(invokedOf(actions)[0].input).not.toHaveProperty('feedback');
  });

  it('plan review by callback: the provided reviewPlan actor is asked; rejection replans, approval starts the work', () => {
    let [s] = planning({ planReview: 'callback' });
    let actions;
    [s, actions] = step(s, plan('F', 'P1'));
    expect(value(s)).toBe(JSON.stringify({ reviewingPlan: 'askingReviewer' }));
    expect(s.hasTag('busy')).toBe(true);
    expect(invokedOf(actions)[0]).toMatchObject({ src: 'reviewPlan', input: { requestId: 'inv1:magentic_manager:plan_review:1', invocationId: 'inv1', agent: 'magentic_manager', facts: 'F', plan: 'P1' } });
    [s, actions] = step(s, doneEvent('reviewPlan', { approved: false, feedback: 'shorter' }));
    expect(invokedOf(actions)[0]).toMatchObject({ src: 'replan', input: { feedback: 'shorter' } });
    [s] = step(s, replan());
    [s] = step(s, doneEvent('reviewPlan', { approved: true }));
    expect(s.value).toBe('assessingProgress');
  });

  it('more than maxPlanRejections rejections in a row end the run with a PlanRejectedError; an approval starts the count afresh', () => {
    let [s] = planning({ planReview: 'callback', maxPlanRejections: 1 });
    let actions;
    [s] = step(s, plan('F', 'P1'));
    [s] = step(s, doneEvent('reviewPlan', { approved: false, feedback: 'no' }));
    expect(s.value).toBe('replanning');
    expect(s.context.planRejections).toBe(1);
    [s] = step(s, replan());
    [s] = step(s, doneEvent('reviewPlan', { approved: true }));
    expect(s.context.planRejections).toBe(0);
    // A stall reset's replan is a new plan cycle: one rejection is tolerated again.
    [s] = step(s, progress(stalled()));
    [s] = step(s, messageEvent(reply('Researcher', 'x')));
    for (let i = 0; i < 3; i++) { [s] = step(s, progress(stalled())); [s] = step(s, messageEvent(reply('Researcher', 'x'))); }
    expect(s.value).toBe('resetting');
    [s] = step(s, replan());
    [s] = step(s, doneEvent('reviewPlan', { approved: false, feedback: 'no' }));
    expect(s.value).toBe('replanning');
    [s] = step(s, replan());
    [s, actions] = step(s, doneEvent('reviewPlan', { approved: false, feedback: 'still no' }));
    expect(s.value).toBe('done');
    const [failure] = commandsOf(actions);
    const error = (failure as { error: PlanRejectedError }).error;
    expect(error).toBeInstanceOf(PlanRejectedError);
    expect(error).toMatchObject({ code: 'plan_rejected', manager: 'magentic_manager', rejections: 2, maxPlanRejections: 1, feedback: 'still no' });
    expect(error.message).toBe('The plan of magentic manager "magentic_manager" was rejected 2 times in a row (maxPlanRejections = 1); the run ends without replanning again. The last feedback: "still no".');
  });

  it("MagenticManagerError's message ends with one full stop, whether or not the cause's does", () => {
    expect(new MagenticManagerError('m', 'plan', { cause: new Error('quota exceeded.') }).message).toBe('Magentic manager "m" failed to write the plan: quota exceeded.');
    expect(new MagenticManagerError('m', 'plan', { cause: new Error('Is the key valid?') }).message).toBe('Magentic manager "m" failed to write the plan: Is the key valid?');
    expect(new MagenticManagerError('m', 'plan', { cause: new Error('quota exceeded') }).message).toBe('Magentic manager "m" failed to write the plan: quota exceeded.');
    expect(new MagenticManagerError('m', 'finalAnswer', { round: 2 }).message).toBe('Magentic manager "m" failed to write the final answer in round 2.');
  });

  it('a failing manager step fails the run with a MagenticManagerError naming the manager, the step and the round', () => {
    let [s] = assessing();
    let actions;
    const cause = new Error('model down');
    [s, actions] = step(s, errorEvent('progress', cause));
    expect(s.value).toBe('done');
    const [failure] = commandsOf(actions);
    expect(failure.type).toBe('runtime.error');
    const error = (failure as { error: MagenticManagerError }).error;
    expect(error).toBeInstanceOf(MagenticManagerError);
    expect(error).toMatchObject({ code: 'magentic_manager_failed', manager: 'magentic_manager', step: 'progress', cause });
    expect(error.message).toBe('Magentic manager "magentic_manager" failed to write the progress ledger in round 1: model down.');

    [s] = planning();
    [s, actions] = step(s, errorEvent('plan', cause));
    expect((commandsOf(actions)[0] as { error: MagenticManagerError }).error).toMatchObject({ step: 'plan' });
  });

  it('its context is plain JSON (saveable), and each actor (invocation) has its own counters', () => {
    const [a] = assessing();
    const [b] = initialTransition(magenticManagerMachine, { ...input, invocationId: 'inv2' });
    const [a2] = step(a, progress(stalled('Nobody')));
    expect(a2.context.stallCount).toBe(1);
    expect(b.context).toMatchObject({ round: 0, stallCount: 0, resetCount: 0, ledger: null });
    expect(JSON.parse(JSON.stringify(a2.context))).toEqual(a2.context);
  });
});
