import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { agentMachine, type AgentActorInput } from '../../src/actors/agent-machine.js';
import { AgentTurnError, TurnLimitError } from '../../src/actors/errors.js';
import { commandsOf, doneEvent, errorEvent, invokedOf, messageEvent, reportsOf } from '../../src/testing/step.js';
import type { AgentResponse } from '../../src/actors/protocol.js';
import type { ChatMessage } from '../../src/agents/chat-message.js';

type Snap = SnapshotFrom<typeof agentMachine>;
const topic = { type: 'conv', source: 'c1' };
const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
const user = (content: string): ChatMessage => ({ id: `u-${content}`, role: 'user', content });

function start(input: Partial<AgentActorInput> = {}) {
  return initialTransition(agentMachine, { agent: 'Refund', topic, ...input });
}
function step(snapshot: Snap, event: unknown) {
  return transition(agentMachine, snapshot, event as never);
}
function reply(text: string, toolCalls: Array<{ id: string; name: string; arguments: string }> = []) {
  return doneEvent('callModel', { text, toolCalls, usage });
}

describe('agent machine (stepped, no runtime)', () => {
  it('caches what it hears, and on a turn request calls the model with instructions + everything heard', () => {
    let [s] = start({ instructions: 'Be brief.' });
    [s] = step(s, messageEvent({ type: 'conversation', messages: [user('refund order 7')] }));
    expect(s.context.cache).toHaveLength(1);
    const [busy, actions] = step(s, messageEvent({ type: 'turn_request' }));
    expect(busy.value).toEqual({ working: 'callingModel' });
    expect(busy.hasTag('busy')).toBe(true);
    const [call] = invokedOf(actions);
    expect(call.id).toBe('callModel');
    expect((call.input as { messages: ChatMessage[] }).messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 'Be brief.'],
      ['user', 'refund order 7'],
    ]);
    expect(busy.context.cache).toEqual([]);
  });

  it('a final answer publishes the response, replies, reports it, and returns to idle', () => {
    let [s] = start();
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [idle, actions] = step(s, reply('Done: refunded.'));
    expect(idle.value).toBe('idle');
    const commands = commandsOf(actions);
    expect(commands.map((c) => c.type)).toEqual(['runtime.publish', 'runtime.reply']);
    const published = commands[0] as unknown as { message: AgentResponse; topic: unknown };
    expect(published.topic).toEqual(topic);
    expect(published.message).toMatchObject({ type: 'agent_response', agent: 'Refund', text: 'Done: refunded.', usage });
    expect(reportsOf(actions).map((r) => r.type)).toEqual(['agent_response']);
    expect(idle.context.history.at(-1)).toMatchObject({ role: 'assistant', name: 'Refund', content: 'Done: refunded.' });
  });

  it('runs several tool calls of one reply, answers each, then calls the model again', () => {
    let [s] = start({ tools: [{ name: 'lookup', description: 'd', parameters: {} }] });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const calls = [{ id: 'c1', name: 'lookup', arguments: '{"id":1}' }, { id: 'c2', name: 'lookup', arguments: '{"id":2}' }];
    let actions;
    [s, actions] = step(s, reply('', calls));
    expect(s.value).toEqual({ working: 'runningTools' });
    expect(reportsOf(actions).map((r) => r.type)).toEqual(['tool_call', 'tool_call']);
    expect((invokedOf(actions)[0].input as { calls: unknown[] }).calls).toEqual(calls);
    [s, actions] = step(s, doneEvent('runTools', {
      results: [
        { toolCallId: 'c2', name: 'lookup', content: 'two', isError: false },
        { toolCallId: 'c1', name: 'lookup', content: 'Error: bad id', isError: true },
      ],
      needApproval: [],
    }));
    expect(s.value).toEqual({ working: 'callingModel' });
    expect(reportsOf(actions).filter((r) => r.type === 'tool_result')).toHaveLength(2);
    const messages = (invokedOf(actions)[0].input as { messages: ChatMessage[] }).messages;
    // Results follow their calls, in call order, whatever order they finished in.
    expect(messages.map((m) => [m.role, m.toolCallId ?? '', m.content])).toEqual([
      ['assistant', '', ''],
      ['tool', 'c1', 'Error: bad id'],
      ['tool', 'c2', 'two'],
    ]);
    [s, actions] = step(s, reply('All looked up.'));
    expect(s.value).toBe('idle');
    const response = (commandsOf(actions)[0] as unknown as { message: AgentResponse }).message;
    expect(response.messages).toHaveLength(4);
    expect(response.usage.totalTokens).toBe(30);
  });

  it('a tool that needs approval waits at rest, then runs once approved', () => {
    let [s] = start();
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    [s] = step(s, reply('', [{ id: 'c1', name: 'process_refund', arguments: '{}' }]));
    let actions;
    [s, actions] = step(s, doneEvent('runTools', { results: [], needApproval: [{ id: 'c1', name: 'process_refund', arguments: '{}' }] }));
    expect(s.value).toBe('awaitingApproval');
    expect(s.hasTag('busy')).toBe(false);
    expect(commandsOf(actions)[0]).toMatchObject({ type: 'runtime.publish', message: { type: 'tool_approval_request', requestId: 'approval:Refund:c1', agent: 'Refund' } });
    expect(reportsOf(actions)).toEqual([expect.objectContaining({ type: 'approval_requested', requestId: 'approval:Refund:c1' })]);
    // A decision for an unknown request changes nothing.
    const [same] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'nope', approved: true }));
    expect(same.value).toBe('awaitingApproval');
    [s, actions] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'approval:Refund:c1', approved: true }));
    expect(s.value).toEqual({ working: 'runningTools' });
    expect(invokedOf(actions)[0].input).toMatchObject({ approvedIds: ['c1'], calls: [{ id: 'c1' }] });
  });

  it('a rejected approval goes back to the model as a tool result', () => {
    let [s] = start();
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    [s] = step(s, reply('', [{ id: 'c1', name: 'process_refund', arguments: '{}' }]));
    [s] = step(s, doneEvent('runTools', { results: [], needApproval: [{ id: 'c1', name: 'process_refund', arguments: '{}' }] }));
    const [next, actions] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'approval:Refund:c1', approved: false, reason: 'too much' }));
    expect(next.value).toEqual({ working: 'callingModel' });
    const messages = (invokedOf(actions)[0].input as { messages: ChatMessage[] }).messages;
    expect(messages.at(-1)).toMatchObject({ role: 'tool', toolCallId: 'c1', content: expect.stringContaining('Rejected by the user: too much') });
  });

  it('stops at the per-turn iteration limit with an error naming the agent', () => {
    let [s] = start({ maxToolIterations: 2 });
    [s] = step(s, messageEvent({ type: 'turn_request' }, { rpc: true }));
    const loop = () => reply('', [{ id: `c${Math.random()}`, name: 'lookup', arguments: '{}' }]);
    const answered = (id: string) => doneEvent('runTools', { results: [{ toolCallId: id, name: 'lookup', content: 'x', isError: false }], needApproval: [] });
    let actions;
    [s] = step(s, loop());
    [s] = step(s, answered(s.context.turn!.pending[0].id));
    expect(s.value).toEqual({ working: 'callingModel' });
    [s] = step(s, loop());
    [s, actions] = step(s, answered(s.context.turn!.pending[0].id));
    expect(s.value).toBe('idle');
    // One error path: the RPC caller gets it, or the runtime reports it on its error channel.
    const [replyError] = commandsOf(actions);
    expect(commandsOf(actions)).toHaveLength(1);
    expect(replyError.type).toBe('runtime.reply_error');
    const cause = (replyError as { error: TurnLimitError }).error;
    expect(cause).toBeInstanceOf(TurnLimitError);
    expect(cause.message).toContain('"Refund"');
    expect(s.context.turn).toBeNull();
  });

  it('a failed model call reports an AgentTurnError whose cause is the model error', () => {
    let [s] = start();
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const boom = new Error('HTTP 500');
    const [idle, actions] = step(s, errorEvent('callModel', boom));
    expect(idle.value).toBe('idle');
    expect(commandsOf(actions).map((c) => c.type)).toEqual(['runtime.reply_error']);
    const error = (commandsOf(actions)[0] as { error: AgentTurnError }).error;
    expect(error).toBeInstanceOf(AgentTurnError);
    expect(error.cause).toBe(boom);
    expect(error.agent).toBe('Refund');
  });

  it('intercepts handoff calls: the first wins, a second is ignored, a hallucinated one is an error', () => {
    let [s] = start({ handoffs: [{ toolName: 'transfer_to_Orders', target: 'Orders' }, { toolName: 'transfer_to_Returns', target: 'Returns' }] });
    expect(s.context.tools.map((t) => t.name)).toEqual(['transfer_to_Orders', 'transfer_to_Returns']);
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [done, actions] = step(s, reply('', [
      { id: 'h1', name: 'transfer_to_Orders', arguments: '{"reason":"order question"}' },
      { id: 'h2', name: 'transfer_to_Returns', arguments: '{}' },
      { id: 'h3', name: 'transfer_to_Wizard', arguments: '{}' },
    ]));
    expect(done.value).toBe('idle');
    expect(invokedOf(actions)).toEqual([]); // handoffs never run as tools
    const response = (commandsOf(actions)[0] as unknown as { message: AgentResponse }).message;
    expect(response.handoff).toEqual({ target: 'Orders', reason: 'order question', toolCallId: 'h1' });
    const results = response.messages.filter((m) => m.role === 'tool');
    expect(results.map((m) => [m.toolCallId, m.content.split(':')[0]])).toEqual([
      ['h1', 'Transferred to Orders.'],
      ['h2', 'Ignored'],
      ['h3', 'Error'],
    ]);
    expect(response.controlToolCallIds).toEqual(['h1', 'h2']);
  });

  it('a hallucinated handoff alone goes back to the model, not to another agent', () => {
    let [s] = start({ handoffs: [{ toolName: 'transfer_to_Orders', target: 'Orders' }] });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [next, actions] = step(s, reply('', [{ id: 'h', name: 'transfer_to_Nobody', arguments: '{}' }]));
    expect(next.value).toEqual({ working: 'callingModel' });
    const last = (invokedOf(actions)[0].input as { messages: ChatMessage[] }).messages.at(-1)!;
    expect(last.content).toContain('You can transfer to: Orders');
  });

  it("filters other agents' control tool calls out of what it hears (handoffOnly), keeps ordinary ones", () => {
    let [s] = start();
    const response: AgentResponse = {
      type: 'agent_response', agent: 'Triage', text: '', usage,
      messages: [
        { id: 'a1', role: 'assistant', content: '', name: 'Triage', toolCalls: [{ id: 'lk', name: 'lookup', arguments: '{}' }] },
        { id: 't1', role: 'tool', content: 'found', toolCallId: 'lk' },
        { id: 'a2', role: 'assistant', content: 'Passing you on.', name: 'Triage', toolCalls: [{ id: 'h1', name: 'transfer_to_Refund', arguments: '{}' }] },
        { id: 't2', role: 'tool', content: 'Transferred', toolCallId: 'h1' },
      ],
      handoff: { target: 'Refund', toolCallId: 'h1' },
      controlToolCallIds: ['h1'],
    };
    [s] = step(s, messageEvent(response));
    expect(s.context.cache.map((m) => [m.id, m.toolCalls?.length ?? 0])).toEqual([['a1', 1], ['t1', 0], ['a2', 0]]);
    let [all] = start({ toolCallFilter: 'all' });
    [all] = step(all, messageEvent(response));
    expect(all.context.cache.map((m) => m.id)).toEqual(['a2']);
    let [none] = start({ toolCallFilter: 'none' });
    [none] = step(none, messageEvent(response));
    expect(none.context.cache).toHaveLength(4);
  });

  it("an agent's own tool named transfer_to_* runs as a tool, not as a hallucinated handoff", () => {
    let [s] = start({ tools: [{ name: 'transfer_to_savings', description: 'move money', parameters: {} }], handoffs: [{ toolName: 'transfer_to_Other', target: 'Other' }] });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [next, actions] = step(s, reply('', [{ id: 'm', name: 'transfer_to_savings', arguments: '{}' }]));
    expect(next.value).toEqual({ working: 'runningTools' });
    expect((invokedOf(actions)[0].input as { calls: Array<{ name: string }> }).calls.map((c) => c.name)).toEqual(['transfer_to_savings']);
  });

  it("history 'latestResponse' keeps the agent's own tool results with their calls", () => {
    const own: ChatMessage[] = [
      user('task'),
      { id: 'a', role: 'assistant', name: 'Refund', content: '', toolCalls: [{ id: 'c', name: 'lookup', arguments: '{}' }] },
      { id: 't', role: 'tool', name: 'lookup', content: 'found', toolCallId: 'c' },
      { id: 'b', role: 'assistant', name: 'Refund', content: 'done' },
    ];
    let [s] = start({ keep: 'latestResponse', history: own });
    const other = (text: string): AgentResponse => ({ type: 'agent_response', agent: 'Other', text, usage, messages: [{ id: text, role: 'assistant', name: 'Other', content: text }] });
    [s] = step(s, messageEvent(other('first')));
    [s] = step(s, messageEvent(other('second')));
    expect(s.context.history.map((m) => m.id)).toEqual(['u-task', 'a', 't', 'b']);
    expect(s.context.cache.map((m) => m.id)).toEqual(['second']);
  });

  it('a context window sends only the last N messages, never an orphaned tool result', () => {
    let [s] = start({ contextWindow: 2, instructions: 'sys' });
    const messages: ChatMessage[] = [
      user('one'),
      { id: 'a', role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'x', arguments: '{}' }] },
      { id: 't', role: 'tool', content: 'r', toolCallId: 'c' },
      user('two'),
    ];
    [s] = step(s, messageEvent({ type: 'conversation', messages }));
    const [, actions] = step(s, messageEvent({ type: 'turn_request' }));
    const sent = (invokedOf(actions)[0].input as { messages: ChatMessage[] }).messages;
    expect(sent.map((m) => m.content)).toEqual(['sys', 'two']);
  });

  it('keeps metadata on every message it hears and passes on', () => {
    let [s] = start();
    [s] = step(s, messageEvent({ type: 'conversation', messages: [{ ...user('hi'), metadata: { ticket: 42 } }] }));
    const [, actions] = step(s, messageEvent({ type: 'turn_request' }));
    expect((invokedOf(actions)[0].input as { messages: ChatMessage[] }).messages[0].metadata).toEqual({ ticket: 42 });
  });
});
