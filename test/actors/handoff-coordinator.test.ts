import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { handoffCoordinatorMachine, type HandoffCoordinatorInput, type ResumeWith } from '../../src/actors/handoff-coordinator.js';
import type { AgentResponse, Kickoff } from '../../src/actors/protocol.js';
import { commandsOf, effectDone, effectError, effectsOf, messageEvent, reportsOf } from '../../src/testing/step.js';

type Snap = SnapshotFrom<typeof handoffCoordinatorMachine>;
const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
const ids = { Triage: { type: 'r.Triage', key: 'inv1' }, Refund: { type: 'r.Refund', key: 'inv1' } };
const input: HandoffCoordinatorInput = {
  invocationId: 'inv1',
  self: { type: 'r.manager', key: 'inv1' },
  boundary: { type: 'r.boundary', key: 'inv1' },
  members: ids, startAgent: 'Triage', resumeWith: 'asker', gateway: { type: 'r.gateway', key: 'inv1' }, end: { type: 'r.end', key: 'inv1' },
  maxHandoffs: 1, autonomous: {}, continuationPrompt: 'go on', checkTermination: false,
};
function said(agent: string, text: string, outcome: AgentResponse['outcome'] = { kind: 'reply' }): AgentResponse {
  return { type: 'agent_response', agent, text, usage, outcome, messages: [{ id: `${agent}-${text}`, role: 'assistant', name: agent, content: text }] };
}
const handoff = (target: string, toolCallId = 'h', reason?: string): AgentResponse['outcome'] => ({ kind: 'handoff', target, toolCallId, ...(reason ? { reason } : {}) });
const step = (s: Snap, e: unknown) => transition(handoffCoordinatorMachine, s, e as never);
const turnRequest = (recipient: { type: string; key: string }, instruction?: string) => ({
  type: 'runtime.send', recipient, message: instruction === undefined ? { type: 'turn_request' } : { type: 'turn_request', instruction },
});

/** A coordinator after kickoff (the start agent was asked to speak). */
function kickedOff(extra: Partial<HandoffCoordinatorInput> = {}, kickoff: Kickoff = { type: 'kickoff' }) {
  const [s0] = initialTransition(handoffCoordinatorMachine, { ...input, ...extra });
  return step(s0, messageEvent(kickoff));
}

describe('handoff coordinator (stepped)', () => {
  it('waits for kickoff, then asks the start agent to speak', () => {
    let [s] = initialTransition(handoffCoordinatorMachine, input);
    expect(s.value).toBe('waitingForKickoff');
    // A reply before kickoff is not a turn.
    let actions;
    [s, actions] = step(s, messageEvent(said('Refund', 'too soon')));
    expect(s.value).toBe('waitingForKickoff');
    expect(commandsOf(actions)).toEqual([]);
    [s, actions] = step(s, messageEvent({ type: 'kickoff' }));
    expect(s.value).toBe('routing');
    expect(s.context.lastAgent).toBe('Triage');
    expect(commandsOf(actions)).toEqual([turnRequest(ids.Triage)]);
  });

  describe('kickoff continuing a conversation (lastAgent)', () => {
    const firstSpeaker = (resumeWith: ResumeWith, lastAgent: string) => {
      const [s, actions] = kickedOff({ resumeWith }, { type: 'kickoff', lastAgent });
      expect(commandsOf(actions)).toHaveLength(1);
      return { lastAgent: s.context.lastAgent, command: commandsOf(actions)[0] };
    };

    it("resumeWith 'asker' (and its alias 'previous'): the agent who spoke last answers", () => {
      expect(firstSpeaker('asker', 'Refund')).toEqual({ lastAgent: 'Refund', command: turnRequest(ids.Refund) });
      expect(firstSpeaker('previous', 'Refund')).toEqual({ lastAgent: 'Refund', command: turnRequest(ids.Refund) });
    });

    it("resumeWith 'start': the start agent answers, whoever spoke last", () => {
      expect(firstSpeaker('start', 'Refund')).toEqual({ lastAgent: 'Triage', command: turnRequest(ids.Triage) });
    });

    it('a lastAgent that is not a member falls back to the start agent', () => {
      expect(firstSpeaker('asker', 'Ghost')).toEqual({ lastAgent: 'Triage', command: turnRequest(ids.Triage) });
      expect(firstSpeaker('previous', 'Ghost')).toEqual({ lastAgent: 'Triage', command: turnRequest(ids.Triage) });
    });

    it('a lastAgent named like an Object.prototype property is not a member either (falls back to the start agent)', () => {
      // `continueFrom` output may come from a client or a stored JSON; membership must be an own key,
      // else the turn request goes to `members.toString` (a function) instead of an actor id.
      for (const name of ['toString', 'constructor', 'hasOwnProperty']) {
        expect(firstSpeaker('asker', name)).toEqual({ lastAgent: 'Triage', command: turnRequest(ids.Triage) });
      }
    });
  });

  it('routes a handoff to its target and reports it', () => {
    const [s0] = kickedOff();
    const [s1, actions] = step(s0, messageEvent(said('Triage', '', handoff('Refund', 'h', 'money'))));
    expect(s1.value).toBe('routing');
    expect(s1.context.lastAgent).toBe('Refund');
    expect(reportsOf(actions)).toEqual([{ type: 'handoff', from: 'Triage', to: 'Refund', reason: 'money' }]);
    expect(commandsOf(actions)).toEqual([turnRequest(ids.Refund)]);
    // The second handoff is over maxHandoffs = 1: the run ends with that reason.
    const [s2, end] = step(s1, messageEvent(said('Refund', '', handoff('Triage', 'h2'))));
    expect(s2.value).toBe('done');
    expect(commandsOf(end)).toEqual([{ type: 'runtime.send', recipient: input.end, message: expect.objectContaining({ type: 'completion', reason: 'max_handoffs', lastAgent: 'Refund' }) }]);
    expect(reportsOf(end)).toEqual([]);
  });

  it('asks the user through the gateway after a plain reply (kind input, replyTo itself, ids per invocation), and routes the reply by resumeWith', () => {
    let [s] = kickedOff({ resumeWith: 'start', maxHandoffs: 5 });
    [s] = step(s, messageEvent(said('Triage', '', handoff('Refund'))));
    let actions;
    [s, actions] = step(s, messageEvent(said('Refund', 'Which order?')));
    expect(s.value).toBe('routing');
    expect(commandsOf(actions)).toEqual([{
      type: 'runtime.send', recipient: input.gateway,
      message: { type: 'human_input_request', requestId: 'inv1:human:1', kind: 'input', agent: 'Refund', message: expect.objectContaining({ content: 'Which order?' }), replyTo: input.self },
    }]);
    [s, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'inv1:human:1', message: { id: 'u', role: 'user', content: '42' } }));
    expect(commandsOf(actions)).toEqual([turnRequest(ids.Triage)]);
    [s, actions] = step(s, messageEvent(said('Triage', 'Anything else?')));
    expect(commandsOf(actions)[0]).toMatchObject({ message: { type: 'human_input_request', requestId: 'inv1:human:2', kind: 'input', agent: 'Triage' } });
    [s, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'inv1:human:2', message: null }));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: input.end, message: expect.objectContaining({ type: 'completion', reason: 'user_ended', lastAgent: 'Triage' }) }]);
  });

  it("resumeWith 'asker': the user's reply goes back to the agent that asked", () => {
    let [s] = kickedOff({ maxHandoffs: 5 });
    [s] = step(s, messageEvent(said('Triage', '', handoff('Refund'))));
    [s] = step(s, messageEvent(said('Refund', 'Which order?')));
    const [, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'inv1:human:1', message: { id: 'u', role: 'user', content: '42' } }));
    expect(commandsOf(actions)).toEqual([turnRequest(ids.Refund)]);
  });

  it('a user reply to any other request (stale, or never made) is ignored', () => {
    let [s] = kickedOff({ maxHandoffs: 5 });
    [s] = step(s, messageEvent(said('Refund', 'Which order?')));
    const [same, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'inv1:human:7', message: null }));
    expect(commandsOf(actions)).toEqual([]);
    expect(same.value).toBe('routing');
    const [, answered] = step(same, messageEvent({ type: 'user_reply', requestId: 'inv1:human:1', message: { id: 'u', role: 'user', content: '42' } }));
    expect(commandsOf(answered)).toEqual([turnRequest(ids.Refund)]);
  });

  it('request ids differ between invocations of one orchestration', () => {
    const ask = (invocationId: string) => {
      const [s] = kickedOff({ invocationId });
      const [, actions] = step(s, messageEvent(said('Triage', 'Hello?')));
      return (commandsOf(actions)[0] as unknown as { message: { requestId: string } }).message.requestId;
    };
    expect([ask('inv1'), ask('inv2')]).toEqual(['inv1:human:1', 'inv2:human:1']);
  });

  it('continues autonomously up to the limit, with the continuation prompt', () => {
    let [s] = kickedOff({ autonomous: { Triage: 1 } });
    let actions;
    [s, actions] = step(s, messageEvent(said('Triage', 'step 1')));
    expect(commandsOf(actions)).toEqual([turnRequest(ids.Triage, 'go on')]);
    [s, actions] = step(s, messageEvent(said('Triage', 'step 2')));
    expect(commandsOf(actions)[0]).toMatchObject({ message: { type: 'human_input_request', agent: 'Triage', kind: 'input' } });
  });

  it('complete_task ends the run with reason completed and the final reply', () => {
    const [s] = kickedOff();
    const [done, actions] = step(s, messageEvent(said('Triage', 'All done.', { kind: 'complete', summary: 'Refund issued.', toolCallId: 'k' })));
    expect(done.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: input.end, message: { type: 'completion', reason: 'completed', lastAgent: 'Triage', messages: [expect.objectContaining({ content: 'All done.' })] } }]);
  });

  it('complete_task without words ends with the summary as the answer', () => {
    const [s] = kickedOff();
    const [, actions] = step(s, messageEvent(said('Triage', '', { kind: 'complete', summary: 'Refund issued.', toolCallId: 'k' })));
    expect(commandsOf(actions)[0]).toMatchObject({ message: { type: 'completion', reason: 'completed', messages: [{ role: 'assistant', name: 'Triage', content: 'Refund issued.' }] } });
  });

  it('checks the termination condition (an invoked actor) before asking the user', () => {
    let [s] = kickedOff({ checkTermination: true });
    [s] = step(s, messageEvent({ type: 'history', messages: [{ id: 'h', role: 'user', content: 'earlier' }] }));
    let actions;
    [s, actions] = step(s, messageEvent(said('Triage', 'bye')));
    expect(s.value).toBe('checkingTerminationAfterReply');
    expect(s.hasTag('busy')).toBe(true);
    expect(effectsOf(actions)[0]).toMatchObject({ name: 'checkTermination', input: { conversation: [expect.objectContaining({ id: 'h' }), expect.objectContaining({ content: 'bye' })] } });
    [s, actions] = step(s, effectDone('checkTermination', true));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: input.end, message: expect.objectContaining({ type: 'completion', reason: 'terminated', messages: [expect.objectContaining({ content: 'bye' })] }) }]);
  });

  it('a termination condition that says go on: the user is asked; on the user reply it is checked again, then the turn is routed', () => {
    let [s] = kickedOff({ checkTermination: true });
    [s] = step(s, messageEvent(said('Triage', 'Which order?')));
    let actions;
    [s, actions] = step(s, effectDone('checkTermination', false));
    expect(s.value).toBe('routing');
    expect(commandsOf(actions)[0]).toMatchObject({ message: { type: 'human_input_request', requestId: 'inv1:human:1' } });
    [s] = step(s, messageEvent({ type: 'conversation', messages: [{ id: 'inv1:human:1:reply', role: 'user', content: '42' }] }));
    [s, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'inv1:human:1', message: { id: 'inv1:human:1:reply', role: 'user', content: '42' } }));
    expect(s.value).toBe('checkingTerminationAfterUser');
    expect((effectsOf(actions)[0].input as { conversation: Array<{ content: string }> }).conversation.map((m) => m.content)).toEqual(['Which order?', '42']);
    [s, actions] = step(s, effectDone('checkTermination', false));
    expect(s.value).toBe('routing');
    expect(commandsOf(actions)).toEqual([turnRequest(ids.Triage)]);
  });

  it('keeps no transcript without a termination condition (an idle conversation holds one copy fewer)', () => {
    let [s] = kickedOff();
    [s] = step(s, messageEvent({ type: 'history', messages: [{ id: 'h', role: 'user', content: 'earlier' }] }));
    [s] = step(s, messageEvent(said('Triage', 'Which order?')));
    [s] = step(s, messageEvent({ type: 'conversation', messages: [{ id: 'inv1:human:1:reply', role: 'user', content: '42' }] }));
    expect(s.value).toBe('routing');
    expect(s.context.conversation).toEqual([]);
    // What it needs without one is still kept: the last reply, for the user request and the completion.
    expect(s.context.lastReply).toEqual([expect.objectContaining({ content: 'Which order?' })]);
  });

  it('a termination condition that throws fails the run with its error', () => {
    let [s] = kickedOff({ checkTermination: true });
    [s] = step(s, messageEvent(said('Triage', 'bye')));
    const boom = new Error('condition broke');
    const [done, actions] = step(s, effectError('checkTermination', boom));
    expect(done.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.error', error: boom }]);
  });
});
