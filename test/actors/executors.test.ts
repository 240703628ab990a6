import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { startExecutorMachine, type StartMessage } from '../../src/actors/start-executor.js';
import { endExecutorMachine } from '../../src/actors/end-executor.js';
import { sequencerMachine } from '../../src/actors/sequencer.js';
import { collectorMachine } from '../../src/actors/collector.js';
import type { AgentResponse } from '../../src/actors/protocol.js';
import type { ChatMessage } from '../../src/agents/chat-message.js';
import { boundaryOf, commandsOf, doneEvent, effectDone, effectError, effectsOf, errorEvent, invokedOf, messageEvent, reportsOf } from '../../src/testing/step.js';

const topic = { type: 'r.conversation', source: 'main' };
const end = { type: 'r.end', key: 'main' };
const boundary = { type: 'r.boundary', key: '_shared' };
const manager = { type: 'r.manager', key: 'main' };
const id = (name: string) => ({ type: `r.${name}`, key: 'main' });
const usage = (n: number) => ({ inputTokens: n, outputTokens: n, totalTokens: 2 * n });
const said = (agent: string, text: string, n = 1): AgentResponse => ({
  type: 'agent_response', agent, text, usage: usage(n), outcome: { kind: 'reply' },
  messages: [{ id: `${agent}-call`, role: 'assistant', name: agent, content: '', toolCalls: [{ id: 'c', name: 't', arguments: '{}' }] }, { id: `${agent}-r`, role: 'tool', content: 'r', toolCallId: 'c' }, { id: `${agent}-x`, role: 'assistant', name: agent, content: text }],
});
const task: ChatMessage[] = [{ id: 't', role: 'user', content: 'go' }];
const turnRequest = (name: string) => ({ type: 'runtime.send', recipient: id(name), message: { type: 'turn_request' } });

describe('start executor', () => {
  const start = (fields: Partial<StartMessage>) => messageEvent<StartMessage>({ type: 'start', invocationId: 'main', topic, manager, messages: task, ...fields });

  it('broadcasts the history, then the task, then sends kickoff (with lastAgent) to the manager — in that order', () => {
    const [s0] = initialTransition(startExecutorMachine, {});
    const history: ChatMessage[] = [{ id: 'h1', role: 'user', content: 'earlier' }, { id: 'h2', role: 'assistant', name: 'B', content: 'reply' }];
    const [, actions] = transition(startExecutorMachine, s0, start({ history, lastAgent: 'B' }));
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.publish', topic, message: { type: 'history', messages: history } },
      { type: 'runtime.publish', topic, message: { type: 'conversation', messages: task } },
      { type: 'runtime.send', recipient: manager, message: { type: 'kickoff', lastAgent: 'B' } },
    ]);
    expect(boundaryOf(actions)).toEqual([]);
  });

  it('a fresh run: no history broadcast, a plain kickoff; it never asks an agent to speak itself', () => {
    const [s0] = initialTransition(startExecutorMachine, {});
    const [, actions] = transition(startExecutorMachine, s0, start({ history: [] }));
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.publish', topic, message: { type: 'conversation', messages: task } },
      { type: 'runtime.send', recipient: manager, message: { type: 'kickoff' } },
    ]);
  });

  it('one instance starts run after run: it keeps nothing and stays ready; each start goes to the topic and manager it names', () => {
    const [s0] = initialTransition(startExecutorMachine, {});
    const [s1] = transition(startExecutorMachine, s0, start({}));
    expect(s1.status).toBe('active');
    expect(s1.value).toBe('ready');
    expect(s1.context).toEqual({});
    const other = { topic: { type: 'r.conversation', source: 'other' }, manager: { type: 'r.manager', key: 'other' } };
    const [, actions] = transition(startExecutorMachine, s1, start({ invocationId: 'other', ...other }));
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.publish', topic: other.topic, message: { type: 'conversation', messages: task } },
      { type: 'runtime.send', recipient: other.manager, message: { type: 'kickoff' } },
    ]);
  });
});

describe('end executor', () => {
  it('a snapshot saved before it knew its run (no invocationId) settles for the run its boundary was keyed by', () => {
    const [fresh] = initialTransition(endExecutorMachine, { invocationId: 'run_old', boundary: { type: 'support.boundary', key: 'run_old' }, finalize: false });
    const { invocationId: _, ...oldContext } = fresh.context;
    const old = endExecutorMachine.resolveState({ value: fresh.value, context: oldContext as typeof fresh.context });
    const [, actions] = transition(endExecutorMachine, old, messageEvent({ type: 'completion', reason: 'completed', messages: [] }));
    expect(boundaryOf(actions)).toEqual([expect.objectContaining({ type: 'invocation_settled', invocationId: 'run_old' })]);
  });

  it('keeps the transcript (history included) and usage, finalizes the completion, then settles via its boundary', () => {
    let [s] = initialTransition(endExecutorMachine, { invocationId: 'main', boundary });
    [s] = transition(endExecutorMachine, s, messageEvent({ type: 'history', messages: [{ id: 'h', role: 'user' as const, content: 'earlier' }] }));
    [s] = transition(endExecutorMachine, s, messageEvent({ type: 'conversation', messages: task }));
    [s] = transition(endExecutorMachine, s, messageEvent(said('A', 'one', 1)));
    [s] = transition(endExecutorMachine, s, messageEvent(said('B', 'two', 2)));
    [s] = transition(endExecutorMachine, s, messageEvent(said('A', 'three', 3)));
    let actions;
    [s, actions] = transition(endExecutorMachine, s, messageEvent({ type: 'completion', reason: 'completed', messages: [] }));
    expect(s.value).toBe('finalizing');
    expect(s.hasTag('busy')).toBe(true);
    expect(boundaryOf(actions)).toEqual([]);
    const output = invokedOf(actions)[0].input as { conversation: ChatMessage[]; usage: { byAgent: Record<string, unknown>; total: unknown }; lastAgent: string; reason: string };
    expect(output.conversation).toHaveLength(11);
    expect(output.conversation.slice(0, 2).map((m) => m.id)).toEqual(['h', 't']);
    expect(output.usage.byAgent).toEqual({ A: usage(4), B: usage(2) });
    expect(output.usage.total).toEqual(usage(6));
    expect(output.lastAgent).toBe('A');
    expect(output.reason).toBe('completed');
    [s, actions] = transition(endExecutorMachine, s, doneEvent('finalize', { value: 42 }));
    expect(s.value).toBe('settled');
    expect(commandsOf(actions)).toEqual([]);
    expect(boundaryOf(actions)).toEqual([{ type: 'invocation_settled', invocationId: 'main', output: { value: 42 } }]);
    expect(reportsOf(actions)).toEqual([]);
    // The settlement is a message to the run's boundary actor.
    const sent = (actions as ReadonlyArray<{ type: string; params?: unknown }>).filter((a) => a.type === 'xstate.emit').map((a) => (a.params as { event: unknown }).event);
    expect(sent).toEqual([{ type: 'runtime.send', recipient: boundary, message: { type: 'invocation_settled', invocationId: 'main', output: { value: 42 } } }]);
    // Settled: late broadcasts change nothing and settle nothing again.
    const [late, lateActions] = transition(endExecutorMachine, s, messageEvent(said('B', 'late')));
    expect(late.value).toBe('settled');
    expect(boundaryOf(lateActions)).toEqual([]);
  });

  it('settles as failed when the output transform throws', () => {
    let [s] = initialTransition(endExecutorMachine, { invocationId: 'main', boundary });
    [s] = transition(endExecutorMachine, s, messageEvent({ type: 'completion', reason: 'completed', messages: [] }));
    const boom = new Error('bad transform');
    const [done, actions] = transition(endExecutorMachine, s, errorEvent('finalize', boom));
    expect(done.value).toBe('settled');
    expect(boundaryOf(actions)).toEqual([{ type: 'invocation_failed', invocationId: 'main', error: boom }]);
  });
});

describe('end executor failure message', () => {
  it('a manager-sent failure settles the invocation as failed, keeping name, message and code', () => {
    const [s0] = initialTransition(endExecutorMachine, { invocationId: 'main', boundary });
    const [s1, actions] = transition(endExecutorMachine, s0, messageEvent({ type: 'failure', error: { name: 'LimitError', message: 'too many rounds', code: 'limit' }, agent: 'Manager' }));
    expect(s1.value).toBe('settled');
    const settled = boundaryOf(actions);
    expect(settled.map((m) => m.type)).toEqual(['invocation_failed']);
    const error = (settled[0] as { error: Error & { code: string } }).error;
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.message, error.code]).toEqual(['LimitError', 'too many rounds', 'limit']);
  });
});

describe('sequencer', () => {
  const members = [{ name: 'A', id: id('A') }, { name: 'B', id: id('B') }];

  it('waits for kickoff, passes the turn on in order and completes with the last reply; ignores out-of-turn replies', () => {
    let [s] = initialTransition(sequencerMachine, { members, end });
    let actions;
    expect(s.value).toBe('waitingForKickoff');
    // Before kickoff nobody is asked, and a reply is not taken as a turn.
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('A', 'too soon')));
    expect(s.value).toBe('waitingForKickoff');
    expect(commandsOf(actions)).toEqual([]);
    [s, actions] = transition(sequencerMachine, s, messageEvent({ type: 'kickoff' }));
    expect(s.value).toBe('waitingForMember');
    expect(commandsOf(actions)).toEqual([turnRequest('A')]);
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('B', 'early')));
    expect(commandsOf(actions)).toEqual([]);
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('A', 'one')));
    expect(commandsOf(actions)).toEqual([turnRequest('B')]);
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('B', 'two')));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: end, message: { type: 'completion', reason: 'completed', lastAgent: 'B', messages: [expect.objectContaining({ content: 'two' })] } }]);
  });

  it('with a termination condition: checks it after each reply (busy), on the transcript heard so far', () => {
    let [s] = initialTransition(sequencerMachine, { members, end, checkTermination: true });
    [s] = transition(sequencerMachine, s, messageEvent({ type: 'history', messages: [{ id: 'h', role: 'user' as const, content: 'earlier' }] }));
    [s] = transition(sequencerMachine, s, messageEvent({ type: 'conversation', messages: task }));
    [s] = transition(sequencerMachine, s, messageEvent({ type: 'kickoff' }));
    let actions;
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('A', 'one')));
    expect(s.value).toBe('checkingTermination');
    expect(s.hasTag('busy')).toBe(true);
    expect(commandsOf(actions)).toEqual([]);
    const [check] = effectsOf(actions);
    expect(check.name).toBe('checkTermination');
    expect((check.input as { conversation: ChatMessage[] }).conversation.map((m) => m.id)).toEqual(['h', 't', 'A-call', 'A-r', 'A-x']);
  });

  it('a termination condition that says stop ends with reason terminated and the reply so far', () => {
    let [s] = initialTransition(sequencerMachine, { members, end, checkTermination: true });
    [s] = transition(sequencerMachine, s, messageEvent({ type: 'kickoff' }));
    [s] = transition(sequencerMachine, s, messageEvent(said('A', 'one')));
    const [done, actions] = transition(sequencerMachine, s, effectDone('checkTermination', true));
    expect(done.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: end, message: { type: 'completion', reason: 'terminated', lastAgent: 'A', messages: [expect.objectContaining({ content: 'one' })] } }]);
  });

  it('a termination condition that says go on: the next member speaks; after the last, completed', () => {
    let [s] = initialTransition(sequencerMachine, { members, end, checkTermination: true });
    [s] = transition(sequencerMachine, s, messageEvent({ type: 'kickoff' }));
    [s] = transition(sequencerMachine, s, messageEvent(said('A', 'one')));
    let actions;
    [s, actions] = transition(sequencerMachine, s, effectDone('checkTermination', false));
    expect(s.value).toBe('waitingForMember');
    expect(commandsOf(actions)).toEqual([turnRequest('B')]);
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('B', 'two')));
    expect(s.value).toBe('checkingTermination');
    expect((effectsOf(actions)[0].input as { conversation: ChatMessage[] }).conversation.map((m) => m.id)).toEqual(['A-call', 'A-r', 'A-x', 'B-call', 'B-r', 'B-x']);
    [s, actions] = transition(sequencerMachine, s, effectDone('checkTermination', false));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: end, message: { type: 'completion', reason: 'completed', lastAgent: 'B', messages: [expect.objectContaining({ content: 'two' })] } }]);
  });

  it('a termination condition that throws fails the run with its error (runtime.error), completing nothing', () => {
    let [s] = initialTransition(sequencerMachine, { members, end, checkTermination: true });
    [s] = transition(sequencerMachine, s, messageEvent({ type: 'kickoff' }));
    [s] = transition(sequencerMachine, s, messageEvent(said('A', 'one')));
    const boom = new Error('condition broke');
    const [done, actions] = transition(sequencerMachine, s, effectError('checkTermination', boom));
    expect(done.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.error', error: boom }]);
  });
});

describe('collector', () => {
  const members = [{ name: 'A', id: id('A') }, { name: 'B', id: id('B') }, { name: 'C', id: id('C') }];
  type Snap = SnapshotFrom<typeof collectorMachine>;
  const contents = (actions: Parameters<typeof commandsOf>[0]) => (commandsOf(actions)[0] as unknown as { message: { messages: ChatMessage[] } }).message.messages.map((m) => m.content);
  const kickedOff = (checkTermination = false): Snap => {
    let [s] = initialTransition(collectorMachine, { members, end, checkTermination });
    [s] = transition(collectorMachine, s, messageEvent({ type: 'kickoff' }));
    return s;
  };

  it('waits for kickoff, then asks every member at once', () => {
    let [s] = initialTransition(collectorMachine, { members, end });
    let actions;
    [s, actions] = transition(collectorMachine, s, messageEvent(said('A', 'too soon')));
    expect(s.value).toBe('waitingForKickoff');
    expect(commandsOf(actions)).toEqual([]);
    [s, actions] = transition(collectorMachine, s, messageEvent({ type: 'kickoff' }));
    expect(s.value).toBe('collecting');
    expect(commandsOf(actions)).toEqual([turnRequest('A'), turnRequest('B'), turnRequest('C')]);
  });

  it('completes once every member replied, in member order, counting each member once', () => {
    let s = kickedOff();
    let actions;
    [s, actions] = transition(collectorMachine, s, messageEvent(said('B', 'b')));
    [s, actions] = transition(collectorMachine, s, messageEvent(said('B', 'again')));
    [s, actions] = transition(collectorMachine, s, messageEvent(said('Stranger', 'x')));
    expect(commandsOf(actions)).toEqual([]);
    [s, actions] = transition(collectorMachine, s, messageEvent(said('C', 'c')));
    expect(s.value).toBe('collecting');
    [s, actions] = transition(collectorMachine, s, messageEvent(said('A', 'a')));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)[0]).toMatchObject({ type: 'runtime.send', recipient: end, message: { type: 'completion', reason: 'completed' } });
    expect(contents(actions)).toEqual(['a', 'b', 'c']);
  });

  it('with a termination condition: checked after each reply; go on → keeps collecting; stop → terminated with the replies so far, in member order', () => {
    let s = kickedOff(true);
    let actions;
    [s, actions] = transition(collectorMachine, s, messageEvent(said('C', 'c')));
    expect(s.value).toBe('checkingTermination');
    expect(s.hasTag('busy')).toBe(true);
    expect((effectsOf(actions)[0].input as { conversation: ChatMessage[] }).conversation.map((m) => m.id)).toEqual(['C-call', 'C-r', 'C-x']);
    [s, actions] = transition(collectorMachine, s, effectDone('checkTermination', false));
    expect(s.value).toBe('collecting');
    expect(commandsOf(actions)).toEqual([]);
    [s, actions] = transition(collectorMachine, s, messageEvent(said('A', 'a')));
    expect((effectsOf(actions)[0].input as { conversation: ChatMessage[] }).conversation.map((m) => m.id)).toEqual(['C-call', 'C-r', 'C-x', 'A-call', 'A-r', 'A-x']);
    [s, actions] = transition(collectorMachine, s, effectDone('checkTermination', true));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)[0]).toMatchObject({ type: 'runtime.send', recipient: end, message: { type: 'completion', reason: 'terminated' } });
    expect(contents(actions)).toEqual(['a', 'c']);
  });

  it('with a termination condition that never says stop: completed after the last reply', () => {
    let s = kickedOff(true);
    let actions;
    for (const name of ['A', 'B', 'C']) {
      [s] = transition(collectorMachine, s, messageEvent(said(name, name.toLowerCase())));
      [s, actions] = transition(collectorMachine, s, effectDone('checkTermination', false));
    }
    expect(s.value).toBe('done');
    expect(commandsOf(actions!)[0]).toMatchObject({ message: { type: 'completion', reason: 'completed' } });
    expect(contents(actions!)).toEqual(['a', 'b', 'c']);
  });

  it('counts replies as they come (a repeat or a stranger does not count); the last one completes in the same transition', () => {
    let s = kickedOff();
    let actions;
    [s] = transition(collectorMachine, s, messageEvent(said('B', 'b')));
    [s] = transition(collectorMachine, s, messageEvent(said('B', 'again')));
    [s] = transition(collectorMachine, s, messageEvent(said('Stranger', 'x')));
    expect(s.context.replied).toBe(1);
    [s, actions] = transition(collectorMachine, s, messageEvent(said('A', 'a')));
    expect([s.value, s.context.replied, commandsOf(actions)]).toEqual(['collecting', 2, []]);
    [s, actions] = transition(collectorMachine, s, messageEvent(said('C', 'c')));
    expect([s.value, s.context.replied]).toEqual(['done', 3]);
    expect(contents(actions)).toEqual(['a', 'b', 'c']);
  });

  it('a context saved before the reply count existed (no "replied") still completes on the last reply', () => {
    const s = kickedOff();
    // As a checkpoint taken by an earlier version would restore it: A has replied, nothing counted.
    const { replied: _none, ...older } = { ...s.context, replies: { A: [{ id: 'a', role: 'assistant' as const, name: 'A', content: 'a' }] } };
    let restored = collectorMachine.resolveState({ value: 'collecting', context: older });
    let actions;
    [restored, actions] = transition(collectorMachine, restored, messageEvent(said('B', 'b')));
    expect([restored.value, restored.context.replied, commandsOf(actions)]).toEqual(['collecting', 2, []]);
    [restored, actions] = transition(collectorMachine, restored, messageEvent(said('C', 'c')));
    expect(restored.value).toBe('done');
    expect(contents(actions)).toEqual(['a', 'b', 'c']);
  });

  it('a termination condition that throws fails the run with its error (runtime.error)', () => {
    let s = kickedOff(true);
    [s] = transition(collectorMachine, s, messageEvent(said('A', 'a')));
    const boom = new Error('condition broke');
    const [done, actions] = transition(collectorMachine, s, effectError('checkTermination', boom));
    expect(done.value).toBe('done');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.error', error: boom }]);
  });
});
