import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { startExecutorMachine } from '../../src/actors/start-executor.js';
import { endExecutorMachine } from '../../src/actors/end-executor.js';
import { sequencerMachine } from '../../src/actors/sequencer.js';
import { collectorMachine } from '../../src/actors/collector.js';
import type { AgentResponse } from '../../src/actors/protocol.js';
import { commandsOf, doneEvent, errorEvent, invokedOf, messageEvent } from '../../src/testing/step.js';

const topic = { type: 'r.conversation', source: 'main' };
const end = { type: 'r.end', key: 'main' };
const id = (name: string) => ({ type: `r.${name}`, key: 'main' });
const usage = (n: number) => ({ inputTokens: n, outputTokens: n, totalTokens: 2 * n });
const said = (agent: string, text: string, n = 1): AgentResponse => ({
  type: 'agent_response', agent, text, usage: usage(n),
  messages: [{ id: `${agent}-call`, role: 'assistant', name: agent, content: '', toolCalls: [{ id: 'c', name: 't', arguments: '{}' }] }, { id: `${agent}-r`, role: 'tool', content: 'r', toolCallId: 'c' }, { id: `${agent}-x`, role: 'assistant', name: agent, content: text }],
});

describe('start executor', () => {
  it('broadcasts the task first, then asks every first speaker to speak', () => {
    const [s0] = initialTransition(startExecutorMachine, { topic, firstSpeakers: [id('A'), id('B')] });
    const task = [{ id: 't', role: 'user' as const, content: 'go' }];
    const [s1, actions] = transition(startExecutorMachine, s0, messageEvent({ type: 'start', messages: task }));
    expect(s1.value).toBe('started');
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.publish', topic, message: { type: 'conversation', messages: task } },
      { type: 'runtime.send', recipient: id('A'), message: { type: 'turn_request' } },
      { type: 'runtime.send', recipient: id('B'), message: { type: 'turn_request' } },
    ]);
  });
});

describe('end executor', () => {
  it('keeps the transcript and usage, finalizes the completion, then settles', () => {
    let [s] = initialTransition(endExecutorMachine, {});
    [s] = transition(endExecutorMachine, s, messageEvent({ type: 'conversation', messages: [{ id: 't', role: 'user', content: 'task' }] }));
    [s] = transition(endExecutorMachine, s, messageEvent(said('A', 'one', 1)));
    [s] = transition(endExecutorMachine, s, messageEvent(said('B', 'two', 2)));
    [s] = transition(endExecutorMachine, s, messageEvent(said('A', 'three', 3)));
    let actions;
    [s, actions] = transition(endExecutorMachine, s, messageEvent({ type: 'completion', reason: 'completed', messages: [] }));
    expect(s.value).toBe('finalizing');
    expect(s.hasTag('busy')).toBe(true);
    const output = invokedOf(actions)[0].input as { conversation: unknown[]; usage: { byAgent: Record<string, unknown>; total: unknown }; lastAgent: string };
    expect(output.conversation).toHaveLength(10);
    expect(output.usage.byAgent).toEqual({ A: usage(4), B: usage(2) });
    expect(output.usage.total).toEqual(usage(6));
    expect(output.lastAgent).toBe('A');
    [s, actions] = transition(endExecutorMachine, s, doneEvent('finalize', { value: 42 }));
    expect(s.value).toBe('settled');
    expect(actions.find((a) => a.type === 'settle')?.params).toEqual({ value: 42 });
  });

  it('settles as failed when the output transform throws', () => {
    let [s] = initialTransition(endExecutorMachine, {});
    [s] = transition(endExecutorMachine, s, messageEvent({ type: 'completion', reason: 'completed', messages: [] }));
    const boom = new Error('bad transform');
    const [done, actions] = transition(endExecutorMachine, s, errorEvent('finalize', boom));
    expect(done.value).toBe('settled');
    expect(actions.find((a) => a.type === 'settleFailure')?.params).toBe(boom);
  });
});

describe('end executor failure message', () => {
  it('a coordinator-sent failure settles the invocation as failed, keeping name, message and code', () => {
    const [s0] = initialTransition(endExecutorMachine, {});
    const [s1, actions] = transition(endExecutorMachine, s0, messageEvent({ type: 'failure', error: { name: 'LimitError', message: 'too many rounds', code: 'limit' }, agent: 'Manager' }));
    expect(s1.value).toBe('settled');
    const error = actions.find((a) => a.type === 'settleFailure')?.params as Error & { code: string };
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.message, error.code]).toEqual(['LimitError', 'too many rounds', 'limit']);
  });
});

describe('sequencer', () => {
  it('passes the turn on in order and completes with the last reply; ignores out-of-turn replies', () => {
    const members = [{ name: 'A', id: id('A') }, { name: 'B', id: id('B') }];
    let [s] = initialTransition(sequencerMachine, { members, end });
    let actions;
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('B', 'early')));
    expect(commandsOf(actions)).toEqual([]);
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('A', 'one')));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: id('B'), message: { type: 'turn_request' } }]);
    [s, actions] = transition(sequencerMachine, s, messageEvent(said('B', 'two')));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)[0]).toMatchObject({ recipient: end, message: { type: 'completion', reason: 'completed', lastAgent: 'B', messages: [{ content: 'two' }] } });
  });
});

describe('collector', () => {
  it('completes once every member replied, in member order, counting each member once', () => {
    let [s] = initialTransition(collectorMachine, { members: ['A', 'B'], end });
    let actions;
    [s, actions] = transition(collectorMachine, s, messageEvent(said('B', 'b')));
    [s, actions] = transition(collectorMachine, s, messageEvent(said('B', 'again')));
    expect(commandsOf(actions)).toEqual([]);
    [s, actions] = transition(collectorMachine, s, messageEvent(said('A', 'a')));
    expect(s.value).toBe('done');
    expect((commandsOf(actions)[0] as unknown as { message: { messages: Array<{ content: string }> } }).message.messages.map((m) => m.content)).toEqual(['a', 'b']);
  });
});
