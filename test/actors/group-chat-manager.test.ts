import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  UnknownSpeakerError, groupChatManagerMachine, type GroupChatDecisionInput, type GroupChatManagerInput,
} from '../../src/actors/group-chat-manager.js';
import type { AgentResponse, Kickoff } from '../../src/actors/protocol.js';
import { endExecutorMachine } from '../../src/actors/end-executor.js';
import type { ChatMessage } from '../../src/agents/chat-message.js';
import { commandsOf, doneEvent, effectDone, effectError, effectsOf, errorEvent, invokedOf, messageEvent, reportsOf } from '../../src/testing/step.js';

type Snap = SnapshotFrom<typeof groupChatManagerMachine>;
type Actions = Parameters<typeof commandsOf>[0];
const id = (part: string) => ({ type: `g.${part}`, key: 'inv1' });
const topic = { type: 'g.conversation', source: 'inv1' };
const usage = (n: number) => ({ inputTokens: n, outputTokens: n, totalTokens: 2 * n });
const input = (decisions: Partial<GroupChatManagerInput['decisions']> = {}, extra: Partial<GroupChatManagerInput> = {}): GroupChatManagerInput => ({
  invocationId: 'inv1',
  self: id('manager'),
  boundary: id('boundary'),
  gateway: id('gateway'),
  end: id('end'),
  topic,
  members: ['A', 'B', 'C'].map((name) => ({ name, description: `${name} does ${name.toLowerCase()}`, id: id(name) })),
  maxRounds: 10,
  managerName: 'GroupChatManager',
  decisions: { checkTermination: false, shouldTerminate: false, shouldRequestUserInput: false, filterResults: false, ...decisions },
  ...extra,
});
const task: ChatMessage = { id: 't', role: 'user', content: 'write it' };
function said(agent: string, text: string): AgentResponse {
  return { type: 'agent_response', agent, text, usage: usage(1), outcome: { kind: 'reply' }, messages: [{ id: `${agent}-${text}`, role: 'assistant', name: agent, content: text }] };
}
const step = (s: Snap, e: unknown) => transition(groupChatManagerMachine, s, e as never);
const turnRequest = (name: string) => ({ type: 'runtime.send', recipient: id(name), message: { type: 'turn_request' } });
/** The ids of the decision actors a step started. */
const invoked = (actions: Actions) => invokedOf(actions).map((a) => a.id);
const decisionInput = (actions: Actions) => invokedOf(actions)[0].input as GroupChatDecisionInput;
/** The completion the step sent to the end executor. */
const completionOf = (actions: Actions) => commandsOf(actions).find((c) => c.type === 'runtime.send' && c.recipient.type === 'g.end') as { message: Record<string, unknown> } | undefined;
const errorOf = (actions: Actions) => (commandsOf(actions).find((c) => c.type === 'runtime.error') as { error: unknown } | undefined)?.error;

/** A manager that heard the task, was kicked off and chose `first` (who is now speaking). */
function speaking(decisions: Partial<GroupChatManagerInput['decisions']> = {}, extra: Partial<GroupChatManagerInput> = {}, first = 'A') {
  let [s] = initialTransition(groupChatManagerMachine, input(decisions, extra));
  [s] = step(s, messageEvent({ type: 'conversation', messages: [task] }));
  [s] = step(s, messageEvent({ type: 'kickoff' }));
  return step(s, doneEvent('selectNextSpeaker', { speaker: first }))[0];
}

describe('group chat manager (stepped): the first turn', () => {
  it('waits for kickoff (a reply before it is not a turn), then asks selectNextSpeaker with the state and starts round 1', () => {
    let [s] = initialTransition(groupChatManagerMachine, input());
    expect(s.value).toBe('waitingForKickoff');
    let actions: Actions;
    [s, actions] = step(s, messageEvent(said('A', 'too soon')));
    expect(s.value).toBe('waitingForKickoff');
    expect(commandsOf(actions)).toEqual([]);
    [s] = step(s, messageEvent({ type: 'conversation', messages: [task] }));
    [s, actions] = step(s, messageEvent({ type: 'kickoff' }));
    expect(s.value).toBe('deciding');
    expect(s.hasTag('busy')).toBe(true);
    expect(invoked(actions)).toEqual(['selectNextSpeaker']);
    expect(decisionInput(actions)).toEqual({
      invocationId: 'inv1',
      state: { round: 0, conversation: [task], members: [{ name: 'A', description: 'A does a' }, { name: 'B', description: 'B does b' }, { name: 'C', description: 'C does c' }] },
    });
    [s, actions] = step(s, doneEvent('selectNextSpeaker', { speaker: 'B', reason: 'B knows' }));
    expect(s.value).toBe('waitingForSpeaker');
    expect(s.context.round).toBe(1);
    expect(reportsOf(actions)).toEqual([{ type: 'group_chat_turn', round: 1, speaker: 'B', reason: 'B knows' }]);
    expect(commandsOf(actions)).toEqual([turnRequest('B')]);
  });

  it("continuing a conversation: kickoff's lastAgent is the state's lastSpeaker (ignored when not a member)", () => {
    const kicked = (kickoff: Kickoff) => {
      const [s0] = initialTransition(groupChatManagerMachine, input());
      return decisionInput(step(s0, messageEvent(kickoff))[1]).state.lastSpeaker;
    };
    expect(kicked({ type: 'kickoff', lastAgent: 'C' })).toBe('C');
    expect(kicked({ type: 'kickoff', lastAgent: 'Triage' })).toBeUndefined();
    expect(kicked({ type: 'kickoff' })).toBeUndefined();
  });

  it('a selector naming no member fails the run with an UnknownSpeakerError naming it and the members', () => {
    const [s0] = initialTransition(groupChatManagerMachine, input());
    const [deciding] = step(s0, messageEvent({ type: 'kickoff' }));
    const [s, actions] = step(deciding, doneEvent('selectNextSpeaker', { speaker: 'Zed' }));
    expect(s.value).toBe('failed');
    const error = errorOf(actions);
    expect(error).toBeInstanceOf(UnknownSpeakerError);
    expect(error).toMatchObject({ code: 'unknown_speaker', speaker: 'Zed', members: ['A', 'B', 'C'] });
    expect((error as Error).message).toMatch(/"Zed".*not a member \(members: A, B, C\)/);
    expect(reportsOf(actions)).toEqual([]);
    expect(commandsOf(actions).filter((c) => c.type === 'runtime.send')).toEqual([]);
  });

  it('a selector that throws fails the run with its error', () => {
    const [s0] = initialTransition(groupChatManagerMachine, input());
    const [deciding] = step(s0, messageEvent({ type: 'kickoff' }));
    const boom = new Error('selector broke');
    const [s, actions] = step(deciding, errorEvent('selectNextSpeaker', boom));
    expect(s.value).toBe('failed');
    expect(errorOf(actions)).toBe(boom);
  });
});

describe('group chat manager (stepped): after each reply, in order', () => {
  it('only the chosen speaker’s reply counts; with nothing configured the next speaker is chosen at once', () => {
    let s = speaking();
    let actions: Actions;
    [s, actions] = step(s, messageEvent(said('B', 'not my turn')));
    expect(s.value).toBe('waitingForSpeaker');
    expect(invoked(actions)).toEqual([]);
    [s, actions] = step(s, messageEvent(said('A', 'draft')));
    expect(s.value).toBe('deciding');
    expect(invoked(actions)).toEqual(['selectNextSpeaker']);
    const { state } = decisionInput(actions);
    expect(state).toMatchObject({ round: 1, lastSpeaker: 'A' });
    // Only turns the manager asked for are part of the chat.
    expect(state.conversation.map((m) => m.content)).toEqual(['write it', 'draft']);
  });

  it('terminationCondition → shouldTerminate → maxRounds → shouldRequestUserInput → selectNextSpeaker', () => {
    let s = speaking({ checkTermination: true, shouldTerminate: true, shouldRequestUserInput: true });
    let actions: Actions;
    [s, actions] = step(s, messageEvent(said('A', 'draft')));
    expect(s.value).toBe('checkingTermination');
    expect(effectsOf(actions)[0]).toMatchObject({ name: 'checkTermination', input: { conversation: [task, said('A', 'draft').messages[0]] } });
    // A deep copy: a condition that changes what it is given changes nothing.
    const given = (effectsOf(actions)[0].input as { conversation: ChatMessage[] }).conversation;
    expect(given).not.toBe(s.context.conversation);
    expect(given[0]).not.toBe(s.context.conversation[0]);
    [s, actions] = step(s, effectDone('checkTermination', false));
    expect(s.value).toBe('askingManagerToFinish');
    expect(invoked(actions)).toEqual(['shouldTerminate']);
    [s, actions] = step(s, doneEvent('shouldTerminate', { terminate: false }));
    expect(s.value).toBe('askingWhetherUserSpeaks');
    expect(invoked(actions)).toEqual(['shouldRequestUserInput']);
    [s, actions] = step(s, doneEvent('shouldRequestUserInput', false));
    expect(s.value).toBe('deciding');
    expect(invoked(actions)).toEqual(['selectNextSpeaker']);
    [s, actions] = step(s, doneEvent('selectNextSpeaker', { speaker: 'B' }));
    expect(reportsOf(actions)).toEqual([{ type: 'group_chat_turn', round: 2, speaker: 'B' }]);
    expect(commandsOf(actions)).toEqual([turnRequest('B')]);
  });

  it("the termination condition ends with 'terminated' before the manager is asked anything", () => {
    let s = speaking({ checkTermination: true, shouldTerminate: true, shouldRequestUserInput: true });
    [s] = step(s, messageEvent(said('A', 'DONE')));
    const [end, actions] = step(s, effectDone('checkTermination', true));
    expect(end.value).toBe('done');
    expect(invoked(actions)).toEqual([]);
    expect(effectsOf(actions)).toEqual([]);
    expect(completionOf(actions)!.message).toEqual({ type: 'completion', reason: 'terminated', messages: [said('A', 'DONE').messages[0]], lastAgent: 'A' });
  });

  it("shouldTerminate ends with 'completed' before maxRounds, the user or the next speaker; its message is the answer, broadcast", () => {
    let s = speaking({ shouldTerminate: true, shouldRequestUserInput: true }, { maxRounds: 1 });
    [s] = step(s, messageEvent(said('A', 'draft')));
    const [end, actions] = step(s, doneEvent('shouldTerminate', { terminate: true, message: 'Final: draft', usage: usage(5) }));
    expect(end.value).toBe('done');
    expect(invoked(actions)).toEqual([]);
    const final = { id: 'inv1:GroupChatManager:final', role: 'assistant', name: 'GroupChatManager', content: 'Final: draft' };
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.publish', topic, message: { type: 'conversation', messages: [final] } },
      { type: 'runtime.send', recipient: id('end'), message: { type: 'completion', reason: 'completed', messages: [final], lastAgent: 'A', usage: { GroupChatManager: usage(5) } } },
    ]);
  });

  it("shouldTerminate without a message: the answer is the last reply; a blank message adds nothing", () => {
    let s = speaking({ shouldTerminate: true });
    [s] = step(s, messageEvent(said('A', 'draft')));
    const [, actions] = step(s, doneEvent('shouldTerminate', { terminate: true, message: '  ' }));
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.send', recipient: id('end'), message: { type: 'completion', reason: 'completed', messages: [said('A', 'draft').messages[0]], lastAgent: 'A' } },
    ]);
  });

  it("maxRounds counts agent turns: the chat ends with 'max_rounds' without asking the user or a next speaker", () => {
    let s = speaking({ shouldRequestUserInput: true }, { maxRounds: 2 });
    let actions: Actions;
    [s, actions] = step(s, messageEvent(said('A', 'one')));
    expect(s.value).toBe('askingWhetherUserSpeaks');
    [s] = step(s, doneEvent('shouldRequestUserInput', false));
    [s] = step(s, doneEvent('selectNextSpeaker', { speaker: 'B' }));
    [s, actions] = step(s, messageEvent(said('B', 'two')));
    expect(s.value).toBe('done');
    expect(invoked(actions)).toEqual([]);
    expect(completionOf(actions)!.message).toMatchObject({ reason: 'max_rounds', lastAgent: 'B', messages: [{ content: 'two' }] });
  });

  it('shouldRequestUserInput: asks the gateway (last speaker, last reply, reply to self); the words are heard; the next speaker is chosen with them', () => {
    let s = speaking({ shouldRequestUserInput: true });
    let actions: Actions;
    [s] = step(s, messageEvent(said('A', 'draft')));
    [s, actions] = step(s, doneEvent('shouldRequestUserInput', true));
    expect(s.value).toBe('waitingForUser');
    expect(s.hasTag('busy')).toBe(false);
    expect(commandsOf(actions)).toEqual([{
      type: 'runtime.send', recipient: id('gateway'),
      message: { type: 'human_input_request', requestId: 'inv1:user:1', kind: 'input', agent: 'A', message: said('A', 'draft').messages[0], replyTo: id('manager') },
    }]);
    // A reply to another request is not this one's.
    [s, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'other', message: null }));
    expect(s.value).toBe('waitingForUser');
    const words: ChatMessage = { id: 'inv1:user:1:reply', role: 'user', content: 'make it shorter' };
    [s] = step(s, messageEvent({ type: 'conversation', messages: [words] }));
    [s, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'inv1:user:1', message: words }));
    expect(s.value).toBe('deciding');
    expect(decisionInput(actions).state.conversation.at(-1)).toEqual(words);
    // The next request gets a new id.
    [s] = step(s, doneEvent('selectNextSpeaker', { speaker: 'B' }));
    [s] = step(s, messageEvent(said('B', 'short')));
    [, actions] = step(s, doneEvent('shouldRequestUserInput', true));
    expect(commandsOf(actions)[0]).toMatchObject({ message: { requestId: 'inv1:user:2', agent: 'B' } });
  });

  it('a user with nothing to add (null): the chat goes on to the next speaker', () => {
    let s = speaking({ shouldRequestUserInput: true });
    [s] = step(s, messageEvent(said('A', 'draft')));
    [s] = step(s, doneEvent('shouldRequestUserInput', true));
    const [next, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'inv1:user:1', message: null }));
    expect(next.value).toBe('deciding');
    expect(decisionInput(actions).state.conversation.map((m) => m.content)).toEqual(['write it', 'draft']);
  });

  it('filterResults decides the answer, whatever ended the chat', () => {
    let s = speaking({ filterResults: true }, { maxRounds: 1 });
    let actions: Actions;
    [s, actions] = step(s, messageEvent(said('A', 'draft')));
    expect(s.value).toBe('filteringResults');
    expect(decisionInput(actions).state).toMatchObject({ round: 1, lastSpeaker: 'A' });
    expect(completionOf(actions)).toBeUndefined();
    const answer: ChatMessage[] = [{ id: 'x', role: 'assistant', content: 'filtered' }];
    [s, actions] = step(s, doneEvent('filterResults', answer));
    expect(s.value).toBe('done');
    expect(completionOf(actions)!.message).toEqual({ type: 'completion', reason: 'max_rounds', messages: answer, lastAgent: 'A' });
  });

  it('a decision that throws fails the run with its error (termination condition, shouldTerminate, user-input predicate, filter)', () => {
    const boom = new Error('boom');
    const cases: Array<[Partial<GroupChatManagerInput['decisions']>, string]> = [
      [{ checkTermination: true }, 'checkTermination'],
      [{ shouldTerminate: true }, 'shouldTerminate'],
      [{ shouldRequestUserInput: true }, 'shouldRequestUserInput'],
    ];
    for (const [decisions, actor] of cases) {
      const [s] = step(speaking(decisions), messageEvent(said('A', 'draft')));
      // The termination condition is an effect the host performs; the others are invoked actors.
      const [failed, actions] = step(s, actor === 'checkTermination' ? effectError(actor, boom) : errorEvent(actor, boom));
      expect(failed.value).toBe('failed');
      expect(errorOf(actions)).toBe(boom);
    }
    const [filtering] = step(speaking({ filterResults: true }, { maxRounds: 1 }), messageEvent(said('A', 'draft')));
    const [failed, actions] = step(filtering, errorEvent('filterResults', boom));
    expect(failed.value).toBe('failed');
    expect(errorOf(actions)).toBe(boom);
    expect(completionOf(actions)).toBeUndefined();
  });
});

describe('group chat manager (stepped): combined decisions and usage', () => {
  it('shouldTerminate naming the next speaker: selectNextSpeaker is skipped, the reason shows on the turn', () => {
    let s = speaking({ shouldTerminate: true });
    [s] = step(s, messageEvent(said('A', 'draft')));
    const [next, actions] = step(s, doneEvent('shouldTerminate', { terminate: false, next: { speaker: 'C', reason: 'needs an edit' }, usage: usage(2) }));
    expect(next.value).toBe('waitingForSpeaker');
    expect(invoked(actions)).toEqual([]);
    expect(reportsOf(actions)).toEqual([{ type: 'group_chat_turn', round: 2, speaker: 'C', reason: 'needs an edit' }]);
    expect(commandsOf(actions)).toEqual([turnRequest('C')]);
    expect(next.context.proposal).toBeNull();
  });

  it('a person who spoke after the pick voids it (the next speaker is chosen again); one with nothing to add keeps it', () => {
    const asked = () => {
      let s = speaking({ shouldTerminate: true, shouldRequestUserInput: true });
      [s] = step(s, messageEvent(said('A', 'draft')));
      [s] = step(s, doneEvent('shouldTerminate', { terminate: false, next: { speaker: 'C' } }));
      return step(s, doneEvent('shouldRequestUserInput', true))[0];
    };
    const words: ChatMessage = { id: 'w', role: 'user', content: 'let B try' };
    const [voided, a1] = step(step(asked(), messageEvent({ type: 'conversation', messages: [words] }))[0], messageEvent({ type: 'user_reply', requestId: 'inv1:user:1', message: words }));
    expect(voided.value).toBe('deciding');
    expect(invoked(a1)).toEqual(['selectNextSpeaker']);
    const [kept, a2] = step(asked(), messageEvent({ type: 'user_reply', requestId: 'inv1:user:1', message: null }));
    expect(kept.value).toBe('waitingForSpeaker');
    expect(commandsOf(a2)).toEqual([turnRequest('C')]);
  });

  it('a combined decision naming no member fails the run with an UnknownSpeakerError', () => {
    let s = speaking({ shouldTerminate: true });
    [s] = step(s, messageEvent(said('A', 'draft')));
    const [failed, actions] = step(s, doneEvent('shouldTerminate', { terminate: false, next: { speaker: 'Nobody' } }));
    expect(failed.value).toBe('failed');
    expect(errorOf(actions)).toMatchObject({ code: 'unknown_speaker', speaker: 'Nobody' });
  });

  it("the manager's own usage adds up across decisions and goes to the end executor under its name", () => {
    let [s] = initialTransition(groupChatManagerMachine, input({ shouldTerminate: true }, { managerName: 'Chair', maxRounds: 2 }));
    [s] = step(s, messageEvent({ type: 'kickoff' }));
    [s] = step(s, doneEvent('selectNextSpeaker', { speaker: 'A', usage: usage(3) }));
    [s] = step(s, messageEvent(said('A', 'one')));
    [s] = step(s, doneEvent('shouldTerminate', { terminate: false, next: { speaker: 'B' }, usage: usage(4) }));
    const [, actions] = step(s, messageEvent(said('B', 'two')));
    // Round 2 reached: shouldTerminate still runs first (it might finish with 'completed').
    expect(invoked(actions)).toEqual(['shouldTerminate']);
    const [end, last] = step(step(s, messageEvent(said('B', 'two')))[0], doneEvent('shouldTerminate', { terminate: false, usage: usage(1) }));
    expect(end.value).toBe('done');
    expect(completionOf(last)!.message).toMatchObject({ reason: 'max_rounds', usage: { Chair: usage(8) } });
  });

  it('state is per actor: two managers from one input never share a round or a last speaker', () => {
    const one = step(speaking(), messageEvent(said('A', 'draft')))[0];
    const two = speaking({}, {}, 'C');
    expect(one.context).toMatchObject({ round: 1, lastSpeaker: 'A' });
    expect(two.context).toMatchObject({ round: 1, lastSpeaker: null, speaker: 'C' });
  });
});

describe('end executor: a completion carrying a manager\'s usage', () => {
  it('adds it to the output under the manager\'s name, and to the total', () => {
    let [s] = initialTransition(endExecutorMachine, { invocationId: 'inv1', boundary: id('boundary') });
    [s] = transition(endExecutorMachine, s, messageEvent(said('A', 'one')));
    const [, actions] = transition(endExecutorMachine, s, messageEvent({ type: 'completion', reason: 'completed', messages: [], usage: { Chair: usage(5) } }));
    const output = invokedOf(actions)[0].input as { usage: { byAgent: Record<string, unknown>; total: unknown } };
    expect(output.usage).toEqual({ byAgent: { A: usage(1), Chair: usage(5) }, total: usage(6) });
  });
});
