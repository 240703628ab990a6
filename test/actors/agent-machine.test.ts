import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { agentMachine, type AgentActorInput } from '../../src/actors/agent-machine.js';
import { AgentTurnError, TurnLimitError } from '../../src/actors/errors.js';
import type { ControlTool } from '../../src/actors/control-tools.js';
import { boundaryOf, commandsOf, effectDone, effectError, effectsOf, messageEvent, reportsOf } from '../../src/testing/step.js';
import type { AgentResponse, HumanInputRequest, ToolApprovalRequest } from '../../src/actors/protocol.js';
import type { ChatMessage, ToolCall } from '../../src/agents/chat-message.js';
import type { RuntimeCommand } from '../../src/runtime/index.js';

type Snap = SnapshotFrom<typeof agentMachine>;
type Actions = Parameters<typeof commandsOf>[0];
const topic = { type: 'conv', source: 'c1' };
const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
const user = (content: string): ChatMessage => ({ id: `u-${content}`, role: 'user', content });
const ids = {
  self: { type: 'r.Refund', key: 'inv1' },
  gateway: { type: 'r.gateway', key: 'inv1' },
  boundary: { type: 'r.boundary', key: 'inv1' },
};

function start(input: Partial<AgentActorInput> = {}) {
  return initialTransition(agentMachine, { agent: 'Refund', topic, ...input });
}
function step(snapshot: Snap, event: unknown) {
  return transition(agentMachine, snapshot, event as never);
}
function reply(text: string, toolCalls: ToolCall[] = []) {
  return effectDone('callModel', { text, toolCalls, usage });
}
function modelInput(actions: Actions): ChatMessage[] {
  const call = effectsOf(actions).find((a) => a.name === 'callModel');
  expect(call, 'callModel was invoked').toBeDefined();
  return (call!.input as { messages: ChatMessage[] }).messages;
}
function published(actions: Actions): AgentResponse[] {
  return commandsOf(actions).flatMap((c) => (c.type === 'runtime.publish' ? [c.message as unknown as AgentResponse] : []));
}
function sends(actions: Actions): Array<Extract<RuntimeCommand, { type: 'runtime.send' }>> {
  return commandsOf(actions).flatMap((c) => (c.type === 'runtime.send' ? [c] : []));
}

const handoffs: ControlTool[] = [
  { name: 'transfer_to_Orders', kind: 'handoff', target: 'Orders' },
  { name: 'transfer_to_Returns', kind: 'handoff', target: 'Returns' },
];

describe('agent machine (stepped, no runtime)', () => {
  it('caches what it hears, and on a turn request calls the model with instructions + everything heard', () => {
    let [s] = start({ instructions: 'Be brief.' });
    [s] = step(s, messageEvent({ type: 'conversation', messages: [user('refund order 7')] }));
    expect(s.context.cache).toHaveLength(1);
    const [busy, actions] = step(s, messageEvent({ type: 'turn_request' }));
    expect(busy.value).toEqual({ working: 'callingModel' });
    expect(busy.hasTag('busy')).toBe(true);
    const [call] = effectsOf(actions);
    expect(call.name).toBe('callModel');
    expect((call.input as { messages: ChatMessage[] }).messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 'Be brief.'],
      ['user', 'refund order 7'],
    ]);
    expect(busy.context.cache).toEqual([]);
  });

  it('a final answer publishes the response (outcome reply), replies, reports it to the boundary, and returns to idle', () => {
    let [s] = start(ids);
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [idle, actions] = step(s, reply('Done: refunded.'));
    expect(idle.value).toBe('idle');
    const commands = commandsOf(actions);
    expect(commands.map((c) => c.type)).toEqual(['runtime.publish', 'runtime.reply']);
    const publish = commands[0] as unknown as { message: AgentResponse; topic: unknown };
    expect(publish.topic).toEqual(topic);
    expect(publish.message).toMatchObject({ type: 'agent_response', agent: 'Refund', text: 'Done: refunded.', usage, outcome: { kind: 'reply' } });
    expect(publish.message.controlToolCallIds).toBeUndefined();
    expect(reportsOf(actions).map((r) => r.type)).toEqual(['agent_response']);
    // Reports are messages to the run's boundary actor.
    const raw = (actions as ReadonlyArray<{ type: string; params?: unknown }>).filter((a) => a.type === 'xstate.emit').map((a) => (a.params as { event: RuntimeCommand }).event);
    expect(raw.find((c) => c.type === 'runtime.send')).toMatchObject({ recipient: ids.boundary, message: { type: 'invocation_event', event: { type: 'agent_response', agent: 'Refund' } } });
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
    expect((effectsOf(actions)[0].input as { calls: unknown[] }).calls).toEqual(calls);
    [s, actions] = step(s, effectDone('runTools', {
      results: [
        { toolCallId: 'c2', name: 'lookup', content: 'two', isError: false },
        { toolCallId: 'c1', name: 'lookup', content: 'Error: bad id', isError: true },
      ],
      needApproval: [],
    }));
    expect(s.value).toEqual({ working: 'callingModel' });
    expect(reportsOf(actions).filter((r) => r.type === 'tool_result')).toHaveLength(2);
    const messages = modelInput(actions);
    // Results follow their calls, in call order, whatever order they finished in.
    expect(messages.map((m) => [m.role, m.toolCallId ?? '', m.content])).toEqual([
      ['assistant', '', ''],
      ['tool', 'c1', 'Error: bad id'],
      ['tool', 'c2', 'two'],
    ]);
    [s, actions] = step(s, reply('All looked up.'));
    expect(s.value).toBe('idle');
    const response = published(actions)[0];
    expect(response.messages).toHaveLength(4);
    expect(response.usage.totalTokens).toBe(30);
  });

  it('a tool that needs approval waits at rest: the approval request goes to the gateway with replyTo, then the tool runs once approved', () => {
    let [s] = start({ invocationId: 'inv1', ...ids });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const call = { id: 'c1', name: 'process_refund', arguments: '{}' };
    [s] = step(s, reply('', [call]));
    let actions;
    [s, actions] = step(s, effectDone('runTools', { results: [], needApproval: [call] }));
    expect(s.value).toBe('awaitingApproval');
    expect(s.hasTag('busy')).toBe(false);
    const request: ToolApprovalRequest = { type: 'tool_approval_request', requestId: 'inv1:approval:Refund:c1', agent: 'Refund', toolCall: call, replyTo: ids.self };
    // Sent to the gateway (which owns the open-request table and reports it), never published.
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: ids.gateway, message: request }]);
    expect(reportsOf(actions).filter((r) => r.type === 'approval_requested')).toEqual([]);
    // A decision for an unknown request changes nothing.
    const [same, ignored] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'nope', approved: true }));
    expect(same.value).toBe('awaitingApproval');
    expect(commandsOf(ignored)).toEqual([]);
    expect(effectsOf(ignored)).toEqual([]);
    [s, actions] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'inv1:approval:Refund:c1', approved: true }));
    expect(s.value).toEqual({ working: 'runningTools' });
    expect(effectsOf(actions)[0].input).toMatchObject({ approvedIds: ['c1'], calls: [{ id: 'c1' }] });
  });

  it('approval request ids are unique across runs and agents (invocation, agent and call id)', () => {
    const requestOf = (agent: string, invocationId: string) => {
      let [s] = initialTransition(agentMachine, { agent, topic, invocationId });
      [s] = step(s, messageEvent({ type: 'turn_request' }));
      [s] = step(s, reply('', [{ id: 'call_0_0', name: 'wipe', arguments: '{}' }]));
      const [, actions] = step(s, effectDone('runTools', { results: [], needApproval: [{ id: 'call_0_0', name: 'wipe', arguments: '{}' }] }));
      return (sends(actions)[0].message as unknown as ToolApprovalRequest).requestId;
    };
    const all = [requestOf('A', 'inv1'), requestOf('B', 'inv1'), requestOf('A', 'inv2')];
    expect(all).toEqual(['inv1:approval:A:call_0_0', 'inv1:approval:B:call_0_0', 'inv2:approval:A:call_0_0']);
  });

  it('two calls waiting for approval: decisions in any order, the tools resume only after the last', () => {
    let [s] = start({ invocationId: 'inv1', ...ids });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const calls = [{ id: 'a', name: 'wipe', arguments: '{}' }, { id: 'b', name: 'wipe', arguments: '{}' }];
    [s] = step(s, reply('', calls));
    let actions;
    [s, actions] = step(s, effectDone('runTools', { results: [], needApproval: calls }));
    expect(sends(actions).map((c) => (c.message as unknown as ToolApprovalRequest).requestId)).toEqual(['inv1:approval:Refund:a', 'inv1:approval:Refund:b']);
    [s, actions] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'inv1:approval:Refund:b', approved: false, reason: 'no' }));
    expect(s.value).toBe('awaitingApproval');
    expect(effectsOf(actions)).toEqual([]);
    // The same decision again is not "the last one".
    [s, actions] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'inv1:approval:Refund:b', approved: true }));
    expect(s.value).toBe('awaitingApproval');
    [s, actions] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'inv1:approval:Refund:a', approved: true }));
    expect(s.value).toEqual({ working: 'runningTools' });
    expect(effectsOf(actions)[0].input).toMatchObject({ approvedIds: ['a'], calls: [{ id: 'a' }] });
  });

  it('a rejected approval goes back to the model as a tool result', () => {
    let [s] = start({ invocationId: 'inv1' });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    [s] = step(s, reply('', [{ id: 'c1', name: 'process_refund', arguments: '{}' }]));
    [s] = step(s, effectDone('runTools', { results: [], needApproval: [{ id: 'c1', name: 'process_refund', arguments: '{}' }] }));
    const [next, actions] = step(s, messageEvent({ type: 'tool_approval_decision', requestId: 'inv1:approval:Refund:c1', approved: false, reason: 'too much' }));
    expect(next.value).toEqual({ working: 'callingModel' });
    expect(modelInput(actions).at(-1)).toMatchObject({ role: 'tool', toolCallId: 'c1', content: expect.stringContaining('Rejected by the user: too much') });
    expect(reportsOf(actions)).toContainEqual(expect.objectContaining({ type: 'tool_result', toolCallId: 'c1', isError: true }));
  });

  it('stops at the per-turn iteration limit with an error naming the agent', () => {
    let [s] = start({ maxToolIterations: 2 });
    [s] = step(s, messageEvent({ type: 'turn_request' }, { rpc: true }));
    let n = 0;
    const loop = () => reply('', [{ id: `c${++n}`, name: 'lookup', arguments: '{}' }]);
    const answered = (id: string) => effectDone('runTools', { results: [{ toolCallId: id, name: 'lookup', content: 'x', isError: false }], needApproval: [] });
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
    const [idle, actions] = step(s, effectError('callModel', boom));
    expect(idle.value).toBe('idle');
    expect(commandsOf(actions).map((c) => c.type)).toEqual(['runtime.reply_error']);
    const error = (commandsOf(actions)[0] as { error: AgentTurnError }).error;
    expect(error).toBeInstanceOf(AgentTurnError);
    expect(error.cause).toBe(boom);
    expect(error.agent).toBe('Refund');
  });

  it('intercepts handoff controls: the first wins, a second is ignored, a hallucinated one is an error', () => {
    let [s] = start({ controlTools: handoffs });
    expect(s.context.tools.map((t) => t.name)).toEqual(['transfer_to_Orders', 'transfer_to_Returns']);
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [done, actions] = step(s, reply('', [
      { id: 'h1', name: 'transfer_to_Orders', arguments: '{"reason":"order question"}' },
      { id: 'h2', name: 'transfer_to_Returns', arguments: '{}' },
      { id: 'h3', name: 'transfer_to_Wizard', arguments: '{}' },
    ]));
    expect(done.value).toBe('idle');
    expect(effectsOf(actions)).toEqual([]); // handoffs never run as tools
    const response = published(actions)[0];
    expect(response.outcome).toEqual({ kind: 'handoff', target: 'Orders', reason: 'order question', toolCallId: 'h1' });
    expect(response.text).toBe('');
    const results = response.messages.filter((m) => m.role === 'tool');
    expect(results.map((m) => [m.toolCallId, m.content.split(':')[0]])).toEqual([
      ['h1', 'Transferred to Orders.'],
      ['h2', 'Ignored'],
      ['h3', 'Error'],
    ]);
    expect(response.controlToolCallIds).toEqual(['h1', 'h2']);
    // The transcript says which calls were controls (filters read the mark, never the name).
    expect(response.messages[0].toolCalls!.map((c) => [c.id, c.control])).toEqual([['h1', 'handoff'], ['h2', 'handoff'], ['h3', undefined]]);
  });

  it('complete_task ends the turn with outcome complete; its summary is the text', () => {
    let [s] = start({ controlTools: [{ name: 'complete_task', kind: 'complete' }] });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [done, actions] = step(s, reply('', [{ id: 'k', name: 'complete_task', arguments: '{"summary":"Refund issued."}' }]));
    expect(done.value).toBe('idle');
    const response = published(actions)[0];
    expect(response.outcome).toEqual({ kind: 'complete', summary: 'Refund issued.', toolCallId: 'k' });
    expect(response.text).toBe('Refund issued.');
    expect(response.controlToolCallIds).toEqual(['k']);
  });

  it('a hallucinated handoff alone goes back to the model, not to another agent', () => {
    let [s] = start({ controlTools: [handoffs[0]] });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [next, actions] = step(s, reply('', [{ id: 'h', name: 'transfer_to_Nobody', arguments: '{}' }]));
    expect(next.value).toEqual({ working: 'callingModel' });
    expect(modelInput(actions).at(-1)!.content).toContain('You can transfer to: Orders');
  });

  it("filters other agents' control tool calls out of what it hears (handoffOnly), keeps ordinary ones", () => {
    let [s] = start();
    const response: AgentResponse = {
      type: 'agent_response', agent: 'Triage', text: '', usage,
      messages: [
        { id: 'a1', role: 'assistant', content: '', name: 'Triage', toolCalls: [{ id: 'lk', name: 'lookup', arguments: '{}' }] },
        { id: 't1', role: 'tool', content: 'found', toolCallId: 'lk' },
        { id: 'a2', role: 'assistant', content: 'Passing you on.', name: 'Triage', toolCalls: [{ id: 'h1', name: 'transfer_to_Refund', arguments: '{}', control: 'handoff' }] },
        { id: 't2', role: 'tool', content: 'Transferred', toolCallId: 'h1' },
      ],
      outcome: { kind: 'handoff', target: 'Refund', toolCallId: 'h1' },
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
    let [s] = start({ tools: [{ name: 'transfer_to_savings', description: 'move money', parameters: {} }], controlTools: [{ name: 'transfer_to_Other', kind: 'handoff', target: 'Other' }] });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [next, actions] = step(s, reply('', [{ id: 'm', name: 'transfer_to_savings', arguments: '{}' }]));
    expect(next.value).toEqual({ working: 'runningTools' });
    expect((effectsOf(actions)[0].input as { calls: Array<{ name: string }> }).calls.map((c) => c.name)).toEqual(['transfer_to_savings']);
  });

  it("keep 'latestResponse' keeps the agent's own tool results with their calls", () => {
    const own: ChatMessage[] = [
      user('task'),
      { id: 'a', role: 'assistant', name: 'Refund', content: '', toolCalls: [{ id: 'c', name: 'lookup', arguments: '{}' }] },
      { id: 't', role: 'tool', name: 'lookup', content: 'found', toolCallId: 'c' },
      { id: 'b', role: 'assistant', name: 'Refund', content: 'done' },
    ];
    let [s] = start({ keep: 'latestResponse' });
    [s] = step(s, messageEvent({ type: 'history', messages: own }));
    const other = (text: string): AgentResponse => ({ type: 'agent_response', agent: 'Other', text, usage, outcome: { kind: 'reply' }, messages: [{ id: text, role: 'assistant', name: 'Other', content: text }] });
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
    expect(modelInput(actions).map((m) => m.content)).toEqual(['sys', 'two']);
  });

  it('keeps metadata on every message it hears and passes on', () => {
    let [s] = start();
    [s] = step(s, messageEvent({ type: 'conversation', messages: [{ ...user('hi'), metadata: { ticket: 42 } }] }));
    const [, actions] = step(s, messageEvent({ type: 'turn_request' }));
    expect(modelInput(actions)[0].metadata).toEqual({ ticket: 42 });
  });
});

describe('agent machine: message ids', () => {
  it('turn messages are `${agent}:${turnEnvelopeId}:${index}`, tool results `${callerMessageId}:result:${i}`', () => {
    let [s] = start({ tools: [{ name: 'lookup', description: 'd', parameters: {} }] });
    [s] = step(s, messageEvent({ type: 'turn_request' }, { id: 'e7' }));
    [s] = step(s, reply('', [{ id: 'x', name: 'lookup', arguments: '{}' }, { id: 'y', name: 'lookup', arguments: '{}' }]));
    [s] = step(s, effectDone('runTools', { results: [{ toolCallId: 'x', name: 'lookup', content: '1', isError: false }, { toolCallId: 'y', name: 'lookup', content: '2', isError: false }], needApproval: [] }));
    const [, actions] = step(s, reply('done'));
    expect(published(actions)[0].messages.map((m) => m.id)).toEqual(['Refund:e7:0', 'Refund:e7:0:result:0', 'Refund:e7:0:result:1', 'Refund:e7:3']);
  });

  it('tool-result ids stay unique when two agents (same turn envelope id) and one model (two iterations) reuse a call id', () => {
    const turnOf = (agent: string) => {
      let [s] = initialTransition(agentMachine, { agent, topic, tools: [{ name: 'lookup', description: 'd', parameters: {} }] });
      [s] = step(s, messageEvent({ type: 'turn_request' }, { id: 'same-envelope' }));
      for (let i = 0; i < 2; i++) {
        [s] = step(s, reply('', [{ id: 'call_0_0', name: 'lookup', arguments: '{}' }]));
        [s] = step(s, effectDone('runTools', { results: [{ toolCallId: 'call_0_0', name: 'lookup', content: `r${i}`, isError: false }], needApproval: [] }));
      }
      const [, actions] = step(s, reply('done'));
      return published(actions)[0].messages;
    };
    const messages = [...turnOf('A'), ...turnOf('B')];
    const resultIds = messages.filter((m) => m.role === 'tool').map((m) => m.id);
    expect(resultIds).toEqual(['A:same-envelope:0:result:0', 'A:same-envelope:2:result:0', 'B:same-envelope:0:result:0', 'B:same-envelope:2:result:0']);
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
  });
});

describe('agent machine: history (a continued conversation)', () => {
  // Two agents whose providers both numbered a call "c1"; Orders also handed off with a marked control.
  const transcript: ChatMessage[] = [
    user('task'),
    { id: 'r1', role: 'assistant', name: 'Refund', content: '', toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{}' }] },
    { id: 'r1t', role: 'tool', name: 'lookup', content: 'found', toolCallId: 'c1' },
    { id: 'r2', role: 'assistant', name: 'Refund', content: 'Found it.' },
    { id: 'o1', role: 'assistant', name: 'Orders', content: '', toolCalls: [{ id: 'c1', name: 'track', arguments: '{}' }] },
    { id: 'o1t', role: 'tool', name: 'track', content: 'in transit', toolCallId: 'c1' },
    { id: 'o2', role: 'assistant', name: 'Orders', content: 'It is in transit.' },
  ];

  it("with toolCallFilter 'all' keeps the agent's OWN earlier tool calls and results, hides other agents'", () => {
    let [s] = start({ toolCallFilter: 'all', instructions: 'sys' });
    [s] = step(s, messageEvent({ type: 'history', messages: transcript }));
    expect(s.context.history.map((m) => m.id)).toEqual(['u-task', 'r1', 'r1t', 'r2', 'o2']);
    expect(s.context.history[1].toolCalls).toEqual([{ id: 'c1', name: 'lookup', arguments: '{}' }]);
    expect(s.context.cache).toEqual([]);
    // The model sees it (history first, then what was heard since).
    [s] = step(s, messageEvent({ type: 'conversation', messages: [user('and now?')] }));
    const [, actions] = step(s, messageEvent({ type: 'turn_request' }));
    expect(modelInput(actions).map((m) => m.id)).toEqual(['Refund:instructions', 'u-task', 'r1', 'r1t', 'r2', 'o2', 'u-and now?']);
  });

  it("with 'handoffOnly' hides other agents' marked controls; an ordinary tool named transfer_to_human_agents stays visible", () => {
    const triage: ChatMessage[] = [
      user('I want a human'),
      { id: 't1', role: 'assistant', name: 'Triage', content: '', toolCalls: [{ id: 'x1', name: 'transfer_to_human_agents', arguments: '{}' }] },
      { id: 't1r', role: 'tool', name: 'transfer_to_human_agents', content: 'queued', toolCallId: 'x1' },
      { id: 't2', role: 'assistant', name: 'Triage', content: 'Passing you on.', toolCalls: [{ id: 'h1', name: 'transfer_to_Refund', arguments: '{}', control: 'handoff' }] },
      { id: 't2r', role: 'tool', name: 'transfer_to_Refund', content: 'Transferred to Refund.', toolCallId: 'h1' },
    ];
    let [s] = start();
    [s] = step(s, messageEvent({ type: 'history', messages: triage }));
    expect(s.context.history.map((m) => [m.id, m.toolCalls?.map((c) => c.name) ?? []])).toEqual([
      ['u-I want a human', []],
      ['t1', ['transfer_to_human_agents']],
      ['t1r', []],
      ['t2', []],
    ]);
    expect(s.context.history[3].content).toBe('Passing you on.');
  });

  it("with 'none' keeps the transcript whole; several history messages accumulate", () => {
    let [s] = start({ toolCallFilter: 'none' });
    [s] = step(s, messageEvent({ type: 'history', messages: transcript.slice(0, 4) }));
    [s] = step(s, messageEvent({ type: 'history', messages: transcript.slice(4) }));
    expect(s.context.history.map((m) => m.id)).toEqual(transcript.map((m) => m.id));
  });
});

describe('agent machine: reset', () => {
  it('forgets everything heard and said; the next turn starts from what it hears after', () => {
    let [s] = start({ instructions: 'sys' });
    [s] = step(s, messageEvent({ type: 'history', messages: [user('old')] }));
    [s] = step(s, messageEvent({ type: 'conversation', messages: [user('task')] }));
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    [s] = step(s, reply('first answer'));
    [s] = step(s, messageEvent({ type: 'conversation', messages: [user('heard, not yet spoken about')] }));
    expect(s.context.history.length).toBeGreaterThan(0);
    expect(s.context.cache.length).toBeGreaterThan(0);
    let actions;
    [s, actions] = step(s, messageEvent({ type: 'reset' }));
    expect(s.value).toBe('idle');
    expect(commandsOf(actions)).toEqual([]);
    expect(s.context.history).toEqual([]);
    expect(s.context.cache).toEqual([]);
    [s] = step(s, messageEvent({ type: 'conversation', messages: [user('new plan')] }));
    [, actions] = step(s, messageEvent({ type: 'turn_request' }));
    expect(modelInput(actions).map((m) => m.content)).toEqual(['sys', 'new plan']);
  });
});

describe('agent machine: human review of answers', () => {
  const reviewed = { review: true, invocationId: 'inv1', ...ids };
  function draft(text = 'Refunded €10.') {
    let [s] = start(reviewed);
    [s] = step(s, messageEvent({ type: 'conversation', messages: [user('refund me')] }));
    [s] = step(s, messageEvent({ type: 'turn_request' }, { id: 'e1' }));
    return step(s, reply(text));
  }
  const reviewRequest = (actions: Actions) => {
    const [send] = sends(actions);
    expect(send.recipient).toEqual(ids.gateway);
    return send.message as unknown as HumanInputRequest;
  };

  it('after an answer, asks the gateway for a review and waits at rest; nothing is published yet', () => {
    const [s, actions] = draft();
    expect(s.value).toBe('awaitingReview');
    expect(s.hasTag('busy')).toBe(false);
    expect(commandsOf(actions)).toHaveLength(1);
    const request = reviewRequest(actions);
    expect(request).toEqual({
      type: 'human_input_request', requestId: expect.stringMatching(/^inv1:/), kind: 'review', agent: 'Refund',
      message: expect.objectContaining({ id: 'Refund:e1:0', role: 'assistant', content: 'Refunded €10.' }), replyTo: ids.self,
    });
    expect(reportsOf(actions)).toEqual([]);
  });

  it('a turn request, reset or history arriving while it waits for the reviewer is kept and handled, in order, once it is idle', () => {
    const [s0, a0] = draft();
    const { requestId } = reviewRequest(a0);
    let [s] = step(s0, messageEvent({ type: 'reset' }));
    [s] = step(s, messageEvent({ type: 'turn_request', instruction: 'next task' }, { id: 'e2' }));
    expect(s.value).toBe('awaitingReview');
    expect(s.context.deferred.map((e) => e.type)).toEqual(['reset', 'turn_request']);
    const [after, actions] = step(s, messageEvent({ type: 'user_reply', requestId, message: null }));
    // Approved and published, then reset (history forgotten), then the deferred turn started.
    expect(commandsOf(actions).map((c) => c.type)).toEqual(['runtime.publish', 'runtime.reply']);
    expect(after.value).toEqual({ working: 'callingModel' });
    expect(after.context.deferred).toEqual([]);
    expect(modelInput(actions).map((m) => m.content)).toEqual(['next task']);
  });

  it('an approval (message null) publishes the answer, replies and reports it', () => {
    const [s0, a0] = draft();
    const { requestId } = reviewRequest(a0);
    const [s, actions] = step(s0, messageEvent({ type: 'user_reply', requestId, message: null }));
    expect(s.value).toBe('idle');
    expect(commandsOf(actions).map((c) => c.type)).toEqual(['runtime.publish', 'runtime.reply']);
    expect(published(actions)[0]).toMatchObject({ agent: 'Refund', text: 'Refunded €10.', outcome: { kind: 'reply' } });
    expect(reportsOf(actions)).toEqual([expect.objectContaining({ type: 'agent_response', message: expect.objectContaining({ content: 'Refunded €10.' }) })]);
    expect(s.context.turn).toBeNull();
    expect(s.context.history.at(-1)).toMatchObject({ content: 'Refunded €10.' });
  });

  it('feedback is answered again (the model sees the draft and the feedback), then reviewed again under a new id, until approved', () => {
    const [s0, a0] = draft();
    const first = reviewRequest(a0).requestId;
    const feedback: ChatMessage = { id: `${first}:reply`, role: 'user', content: 'Say it in dollars.' };
    let [s, actions] = step(s0, messageEvent({ type: 'user_reply', requestId: first, message: feedback }));
    expect(s.value).toEqual({ working: 'callingModel' });
    expect(s.hasTag('busy')).toBe(true);
    expect(commandsOf(actions)).toEqual([]);
    expect(modelInput(actions).slice(-2).map((m) => [m.role, m.content])).toEqual([['assistant', 'Refunded €10.'], ['user', 'Say it in dollars.']]);
    [s, actions] = step(s, reply('Refunded $11.'));
    expect(s.value).toBe('awaitingReview');
    const second = reviewRequest(actions);
    expect(second.requestId).not.toBe(first);
    expect(second.message).toMatchObject({ content: 'Refunded $11.' });
    expect(published(actions)).toEqual([]);
    // A late answer to the first (already answered) review is not this one.
    const [stale, staleActions] = step(s, messageEvent({ type: 'user_reply', requestId: first, message: null }));
    expect(stale.value).toBe('awaitingReview');
    expect(commandsOf(staleActions)).toEqual([]);
    [s, actions] = step(s, messageEvent({ type: 'user_reply', requestId: second.requestId, message: null }));
    expect(s.value).toBe('idle');
    const response = published(actions)[0];
    expect(response.text).toBe('Refunded $11.');
    expect(response.usage.totalTokens).toBe(30);
  });

  it('ignores a reply to another request id', () => {
    const [s0] = draft();
    for (const message of [null, { id: 'x', role: 'user' as const, content: 'not for you' }]) {
      const [s, actions] = step(s0, messageEvent({ type: 'user_reply', requestId: 'inv1:human:1', message }));
      expect(s.value).toBe('awaitingReview');
      expect(commandsOf(actions)).toEqual([]);
      expect(effectsOf(actions)).toEqual([]);
      expect(boundaryOf(actions)).toEqual([]);
    }
  });

  it('a handoff is not reviewed: it is published at once', () => {
    let [s] = start({ ...reviewed, controlTools: handoffs });
    [s] = step(s, messageEvent({ type: 'turn_request' }));
    const [done, actions] = step(s, reply('', [{ id: 'h', name: 'transfer_to_Orders', arguments: '{}' }]));
    expect(done.value).toBe('idle');
    expect(published(actions)[0].outcome).toMatchObject({ kind: 'handoff', target: 'Orders' });
    expect(sends(actions)).toEqual([]);
  });
});
