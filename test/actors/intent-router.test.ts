import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { intentContext, intentRouterMachine, IntentClassificationError, type IntentRouterInput } from '../../src/actors/intent-router.js';
import { agentMachine } from '../../src/actors/agent-machine.js';
import type { AgentResponse, Kickoff } from '../../src/actors/protocol.js';
import type { ChatMessage } from '../../src/agents/chat-message.js';
import { commandsOf, doneEvent, effectDone, errorEvent, invokedOf, messageEvent, reportsOf } from '../../src/testing/step.js';

type Snap = SnapshotFrom<typeof intentRouterMachine>;
const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
const id = (part: string) => ({ type: `r.${part}`, key: 'inv1' });
const members = { Billing: id('Billing'), Security: id('Security'), Products: id('Products') };
const input: IntentRouterInput = {
  invocationId: 'inv1', self: id('manager'), boundary: id('boundary'), gateway: id('gateway'), end: id('end'),
  topic: { type: 'r.conversation', source: 'inv1' },
  members,
  candidates: [{ name: 'Billing', description: 'invoices' }, { name: 'Security', description: 'passwords' }, { name: 'Products', description: 'catalogue' }],
  contextTurns: 1, rephraseMessage: 'Please rephrase.', maxHandoffs: 5, checkTermination: false,
};
const user = (content: string): ChatMessage => ({ id: `u-${content}`, role: 'user', content });
function said(agent: string, text: string, outcome: AgentResponse['outcome'] = { kind: 'reply' }): AgentResponse {
  return { type: 'agent_response', agent, text, usage, outcome, messages: [{ id: `${agent}-${text}`, role: 'assistant', name: agent, content: text }] };
}
const outOfScope = (agent: string) => said(agent, 'This is outside my area', { kind: 'out_of_scope' });
const step = (s: Snap, e: unknown) => transition(intentRouterMachine, s, e as never);
const send = (recipient: { type: string; key: string }, message: unknown) => ({ type: 'runtime.send', recipient, message });
const turn = (recipient: { type: string; key: string }) => send(recipient, { type: 'turn_request' });
const heard = (...messages: ChatMessage[]) => messageEvent({ type: 'conversation', messages });
const userReply = (n: number, content: string | null) => messageEvent({ type: 'user_reply', requestId: `inv1:human:${n}`, message: content === null ? null : user(content) });

/** The router after the task was broadcast and the kickoff arrived: classifying. */
function classifyingFirst(task = 'How much is my invoice?', extra: Partial<IntentRouterInput> = {}) {
  let [s] = initialTransition(intentRouterMachine, { ...input, ...extra });
  [s] = step(s, heard(user(task)));
  return step(s, messageEvent({ type: 'kickoff' } satisfies Kickoff));
}

/** Billing holds the conversation and has answered the task; the user was asked (request 1). */
function billingActive(extra: Partial<IntentRouterInput> = {}) {
  let [s] = classifyingFirst(undefined, extra);
  [s] = step(s, doneEvent('classify', { name: 'Billing' }));
  [s] = step(s, messageEvent(said('Billing', '$40.')));
  return s;
}

describe('intent router (stepped)', () => {
  it('classifies the first user message (busy), then gives the chosen specialist its turn', () => {
    const [s, actions] = classifyingFirst();
    expect(s.value).toBe('classifying');
    expect(s.hasTag('busy')).toBe(true);
    expect(invokedOf(actions)).toEqual([expect.objectContaining({
      id: 'classify',
      input: { messages: [user('How much is my invoice?')], candidates: input.candidates },
    })]);
    const [routing, next] = step(s, doneEvent('classify', { name: 'Billing' }));
    expect(routing.value).toBe('routing');
    expect(routing.context.activeAgent).toBe('Billing');
    expect(commandsOf(next)).toEqual([turn(members.Billing)]);
    expect(reportsOf(next)).toEqual([]);
  });

  it('an ordinary turn: the reply asks the user; the user\'s message goes straight to the active specialist (nothing invoked)', () => {
    let s = billingActive();
    expect(s.context.openRequest).toBe('inv1:human:1');
    let actions;
    [s] = step(s, heard(user('And last month?')));
    [s, actions] = step(s, userReply(1, 'And last month?'));
    expect(commandsOf(actions)).toEqual([turn(members.Billing)]);
    expect(invokedOf(actions)).toEqual([]);
    [s, actions] = step(s, messageEvent(said('Billing', '$35.')));
    expect(commandsOf(actions)).toEqual([send(input.gateway, expect.objectContaining({ type: 'human_input_request', requestId: 'inv1:human:2', kind: 'input', agent: 'Billing', message: expect.objectContaining({ content: '$35.' }), replyTo: input.self }))]);
    expect(invokedOf(actions)).toEqual([]);
  });

  it('an out-of-scope reply: classify the latest message with the last contextTurns turns, report a classified handoff, reset the target and give it those turns', () => {
    let s = billingActive();
    [s] = step(s, heard(user('And last month?')));
    [s] = step(s, userReply(1, 'And last month?'));
    [s] = step(s, messageEvent(said('Billing', '$35.')));
    [s] = step(s, heard(user('I forgot my password')));
    [s] = step(s, userReply(2, 'I forgot my password'));
    let actions;
    [s, actions] = step(s, messageEvent(outOfScope('Billing')));
    expect(s.value).toBe('classifying');
    expect(commandsOf(actions)).toEqual([]);
    expect(reportsOf(actions)).toEqual([]);
    const context = [user('And last month?'), { id: 'Billing-$35.', role: 'assistant', name: 'Billing', content: '$35.' }, user('I forgot my password')];
    expect(invokedOf(actions)[0].input).toEqual({ messages: context, candidates: input.candidates });
    // The withheld reply is not part of what the router keeps.
    expect(s.context.conversation.map((m) => m.content)).not.toContain('This is outside my area');
    [s, actions] = step(s, doneEvent('classify', { name: 'Security' }));
    expect(s.value).toBe('routing');
    expect(s.context.activeAgent).toBe('Security');
    expect(reportsOf(actions)).toEqual([{ type: 'handoff', from: 'Billing', to: 'Security', reason: 'classified' }]);
    expect(commandsOf(actions)).toEqual([
      send(members.Security, { type: 'reset' }),
      send(members.Security, { type: 'history', messages: context }),
      turn(members.Security),
    ]);
    // Security answers: an ordinary reply, the user is asked.
    [s, actions] = step(s, messageEvent(said('Security', 'Reset sent.')));
    expect(commandsOf(actions)).toEqual([send(input.gateway, expect.objectContaining({ requestId: 'inv1:human:3', agent: 'Security' }))]);
  });

  it('loop guard: the classifier names the specialist that declined → the user is asked to rephrase (said to everyone)', () => {
    let s = billingActive();
    [s] = step(s, heard(user('blah')));
    [s] = step(s, userReply(1, 'blah'));
    [s] = step(s, messageEvent(outOfScope('Billing')));
    const [after, actions] = step(s, doneEvent('classify', { name: 'Billing' }));
    expect(after.value).toBe('routing');
    expect(after.context.activeAgent).toBe('Billing');
    expect(reportsOf(actions)).toEqual([]);
    const rephrase = { id: 'inv1:router:rephrase:1', role: 'assistant', content: 'Please rephrase.' };
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.publish', topic: input.topic, message: { type: 'conversation', messages: [rephrase] }, deliverToSelf: false },
      send(input.gateway, { type: 'human_input_request', requestId: 'inv1:human:2', kind: 'input', agent: 'Billing', message: rephrase, replyTo: input.self }),
    ]);
    expect(after.context.conversation.at(-1)).toEqual(rephrase);
    // The rephrased message goes to Billing, which holds the conversation.
    const [, next] = step(after, userReply(2, 'my invoice'));
    expect(commandsOf(next)).toEqual([turn(members.Billing)]);
  });

  it('loop guard: a second out-of-scope reply in a row → rephrase, no second classification', () => {
    let s = billingActive();
    [s] = step(s, userReply(1, 'my cat'));
    [s] = step(s, messageEvent(outOfScope('Billing')));
    [s] = step(s, doneEvent('classify', { name: 'Security' }));
    const [after, actions] = step(s, messageEvent(outOfScope('Security')));
    expect(after.value).toBe('routing');
    expect(invokedOf(actions)).toEqual([]);
    expect(after.context.declined).toEqual(['Billing', 'Security']);
    expect(commandsOf(actions).map((c) => c.type)).toEqual(['runtime.publish', 'runtime.send']);
    // A new user message starts afresh: the next out-of-scope reply is classified again.
    let [t] = step(after, userReply(2, 'my password'));
    expect(t.context.declined).toEqual([]);
    [t] = step(t, messageEvent(outOfScope('Security')));
    expect(t.value).toBe('classifying');
  });

  it('an out-of-scope reply to the first, classified message is classified once more', () => {
    let [s] = classifyingFirst();
    [s] = step(s, doneEvent('classify', { name: 'Billing' }));
    [s] = step(s, messageEvent(outOfScope('Billing')));
    expect(s.value).toBe('classifying');
  });

  it('a classification naming no member fails with IntentClassificationError; a failing classifier fails with its error', () => {
    const [s] = classifyingFirst();
    const [done, actions] = step(s, doneEvent('classify', { name: 'Legal' }));
    expect(done.value).toBe('done');
    const [failure] = commandsOf(actions) as Array<{ type: string; error: unknown }>;
    expect(failure.type).toBe('runtime.error');
    expect(failure.error).toBeInstanceOf(IntentClassificationError);
    expect(failure.error).toMatchObject({ named: 'Legal', candidates: ['Billing', 'Security', 'Products'] });
    const [failed, more] = step(s, errorEvent('classify', new Error('down')));
    expect(failed.value).toBe('done');
    expect(commandsOf(more)).toEqual([{ type: 'runtime.error', error: new Error('down') }]);
  });

  it('adds up the classifier\'s usage and sends it with the completion under intent_router', () => {
    const u = (n: number) => ({ inputTokens: n, outputTokens: 1, totalTokens: n + 1 });
    let [s] = classifyingFirst();
    [s] = step(s, doneEvent('classify', { name: 'Billing', usage: u(10) }));
    [s] = step(s, messageEvent(said('Billing', '$40.')));
    [s] = step(s, userReply(1, 'password'));
    [s] = step(s, messageEvent(outOfScope('Billing')));
    [s] = step(s, doneEvent('classify', { name: 'Security', usage: u(20) }));
    expect(s.context.usage).toEqual({ inputTokens: 30, outputTokens: 2, totalTokens: 32 });
    [s] = step(s, messageEvent(said('Security', 'Reset.')));
    const [, actions] = step(s, userReply(2, null));
    expect(commandsOf(actions)).toEqual([send(input.end, expect.objectContaining({ type: 'completion', reason: 'user_ended', usage: { intent_router: { inputTokens: 30, outputTokens: 2, totalTokens: 32 } } }))]);
    // A function classifier reports none: the completion carries no usage.
    let [t] = classifyingFirst();
    [t] = step(t, doneEvent('classify', { name: 'Billing' }));
    [t] = step(t, messageEvent(said('Billing', '$40.')));
    const [, end] = step(t, userReply(1, null));
    expect(commandsOf(end)).toEqual([send(input.end, expect.objectContaining({ type: 'completion', reason: 'user_ended' }))]);
    expect(commandsOf(end)[0]).not.toHaveProperty('message.usage');
  });

  it('maxHandoffs: an out-of-scope reply at the limit ends the run with max_handoffs before classifying; no answer to the latest message (messages [])', () => {
    let s = billingActive({ maxHandoffs: 0 });
    expect(s.context.lastReply.map((m) => m.content)).toEqual(['$40.']);
    [s] = step(s, userReply(1, 'password'));
    // A new user turn: the previous answer is not the answer to it.
    expect(s.context.lastReply).toEqual([]);
    const [done, actions] = step(s, messageEvent(outOfScope('Billing')));
    expect(done.value).toBe('done');
    expect(invokedOf(actions)).toEqual([]);
    expect(commandsOf(actions)).toEqual([send(input.end, { type: 'completion', reason: 'max_handoffs', messages: [], lastAgent: 'Billing' })]);
  });

  it('continuing a conversation: kickoff with a member lastAgent routes to it without classifying', () => {
    const [s0] = initialTransition(intentRouterMachine, input);
    const [s, actions] = step(s0, messageEvent({ type: 'kickoff', lastAgent: 'Security' }));
    expect(s.value).toBe('routing');
    expect(invokedOf(actions)).toEqual([]);
    expect(commandsOf(actions)).toEqual([turn(members.Security)]);
    const [ghost] = step(s0, messageEvent({ type: 'kickoff', lastAgent: 'toString' }));
    expect(ghost.value).toBe('classifying');
  });

  it('termination: checked after a reply and after a user message (busy while it runs)', () => {
    let s = billingActive({ checkTermination: true });
    expect(s.value).toBe('checkingTerminationAfterReply');
    let actions;
    [s, actions] = step(s, effectDone('checkTermination', false));
    expect(commandsOf(actions)[0]).toMatchObject({ message: { type: 'human_input_request' } });
    [s] = step(s, userReply(1, 'bye'));
    expect(s.value).toBe('checkingTerminationAfterUser');
    [s, actions] = step(s, effectDone('checkTermination', true));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)).toEqual([send(input.end, expect.objectContaining({ type: 'completion', reason: 'terminated', lastAgent: 'Billing' }))]);
  });

  it('the user ending the conversation completes with user_ended; complete_task completes', () => {
    const s = billingActive();
    const [ended, actions] = step(s, userReply(1, null));
    expect(ended.value).toBe('done');
    expect(commandsOf(actions)).toEqual([send(input.end, expect.objectContaining({ reason: 'user_ended', messages: [expect.objectContaining({ content: '$40.' })] }))]);
    let [t] = step(s, userReply(1, 'done?'));
    [t] = step(t, messageEvent(said('Billing', 'All settled.', { kind: 'complete', summary: 'settled', toolCallId: 'c' })));
    expect(t.value).toBe('done');
  });
});

describe('intentContext', () => {
  const a = (name: string, content: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({ id: `${name}-${content}`, role: 'assistant', name, content, ...extra });
  const transcript: ChatMessage[] = [
    { id: 's', role: 'system', content: 'premium customer' },
    user('q1'), a('B', 'a1'),
    user('q2'), a('B', '', { toolCalls: [{ id: 't', name: 'lookup', arguments: '{}' }] }), { id: 'r', role: 'tool', content: 'found', toolCallId: 't' }, a('B', 'a2', { toolCalls: [{ id: 't2', name: 'x', arguments: '{}' }] }),
    user('q3'),
  ];
  it('keeps what was said (no tool calls, no tool results) from the n-th user message before the latest', () => {
    expect(intentContext(transcript, 0).map((m) => m.content)).toEqual(['q3']);
    expect(intentContext(transcript, 1)).toEqual([user('q2'), a('B', 'a2'), user('q3')]);
    // All turns (or more): everything said, the leading system message included.
    expect(intentContext(transcript, 2).map((m) => m.content)).toEqual(['premium customer', 'q1', 'a1', 'q2', 'a2', 'q3']);
    expect(intentContext(transcript, 9)).toEqual(intentContext(transcript, 2));
  });
});

describe('agent machine with outOfScopePhrase', () => {
  const reply = (text: string) => effectDone('callModel', { text, toolCalls: [], usage });
  it('a final answer containing the phrase (any case, anywhere) ends the turn out_of_scope: published, not reported', () => {
    const [idle] = initialTransition(agentMachine, { agent: 'Billing', topic: { type: 'replies', source: 'run' }, outOfScopePhrase: 'This is outside my area' });
    const [busy] = transition(agentMachine, idle, messageEvent({ type: 'turn_request' }));
    const [, actions] = transition(agentMachine, busy, reply('Sorry, this IS OUTSIDE my area!'));
    const published = commandsOf(actions).find((c) => c.type === 'runtime.publish') as unknown as { message: AgentResponse };
    expect(published.message.outcome).toEqual({ kind: 'out_of_scope' });
    expect(reportsOf(actions)).toEqual([]);
    const [, normal] = transition(agentMachine, busy, reply('Your invoice is $40.'));
    expect((commandsOf(normal).find((c) => c.type === 'runtime.publish') as unknown as { message: AgentResponse }).message.outcome).toEqual({ kind: 'reply' });
    expect(reportsOf(normal).map((r) => r.type)).toEqual(['agent_response']);
  });

  it('another agent keeps nothing of an out-of-scope response', () => {
    const [idle] = initialTransition(agentMachine, { agent: 'Security', topic: null });
    const [after] = transition(agentMachine, idle, messageEvent(outOfScope('Billing')));
    expect(after.context.cache).toEqual([]);
    const [kept] = transition(agentMachine, idle, messageEvent(said('Billing', '$40.')));
    expect(kept.context.cache).toHaveLength(1);
  });

  it('without the phrase configured, the same words are an ordinary reply', () => {
    const [idle] = initialTransition(agentMachine, { agent: 'Billing', topic: null });
    const [busy] = transition(agentMachine, idle, messageEvent({ type: 'turn_request' }));
    const [, actions] = transition(agentMachine, busy, reply('This is outside my area'));
    expect(reportsOf(actions).map((r) => r.type)).toEqual(['agent_response']);
  });
});
