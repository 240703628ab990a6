import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { initialTransition, transition } from 'xstate';
import { AgentId, InProcessRuntime, MessageDroppedError, SequentialOrchestration, TurnLimitError, tool, type ChatCompletionAgent, type RuntimeState } from '../../src/index.js';
import type { ChatResponse } from '../../src/agents/chat-client.js';
import { recorder, type Delivery } from '../runtime/fixtures.js';
import { createAgentActor } from '../../src/actors/agent-actor.js';
import type { AgentResponse } from '../../src/actors/protocol.js';
import type { ResponseFilter } from '../../src/actors/tool-call-filter.js';
import type { ChatMessage } from '../../src/agents/chat-message.js';
import { effectsOf, messageEvent } from '../../src/testing/step.js';
import { agent, collect, scripted, startedRuntime } from '../orchestrations/helpers.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

const lookup = tool({
  name: 'lookup_order',
  description: 'Find an order',
  parameters: z.object({ id: z.number().int() }),
  execute: ({ id }) => ({ id, status: 'shipped' }),
});
const explode = tool({ name: 'explode', description: 'Always fails', parameters: z.object({}), execute: () => { throw new Error('kaboom'); } });

describe('agent actor on the runtime, with real tools', () => {
  it('turns every tool-call mistake into a tool result the model sees next, never a crash', async () => {
    runtime = startedRuntime();
    const model = scripted([
      {
        toolCalls: [
          { id: 'ok', name: 'lookup_order', arguments: { id: 7 } },
          { id: 'json', name: 'lookup_order', arguments: '{"id": 7' },
          { id: 'schema', name: 'lookup_order', arguments: { id: 'seven' } },
          { id: 'unknown', name: 'cancel_order', arguments: {} },
          { id: 'throws', name: 'explode', arguments: {} },
        ],
      },
      { text: 'Order 7 has shipped.' },
    ]);
    const orchestration = new SequentialOrchestration({ members: [agent('Support', model, { tools: [lookup, explode] })] });
    const result = await orchestration.invoke('Where is order 7?', runtime);
    const output = await result.get();
    expect(output.messages[0].content).toBe('Order 7 has shipped.');
    const toolResults = model.requests[1].messages.filter((m) => m.role === 'tool');
    const byId = Object.fromEntries(toolResults.map((m) => [m.toolCallId, m.content]));
    expect(JSON.parse(byId.ok)).toEqual({ id: 7, status: 'shipped' });
    expect(byId.json).toMatch(/^Error: .*not valid JSON/);
    expect(byId.schema).toMatch(/^Error: .*id/);
    expect(byId.unknown).toMatch(/^Error: unknown tool "cancel_order"/);
    expect(byId.throws).toMatch(/^Error: .*kaboom/);
    const events = await collect(result.events);
    expect(events.filter((e) => e.type === 'tool_call')).toHaveLength(5);
    expect(events.filter((e) => e.type === 'tool_result' && e.isError)).toHaveLength(4);
    model.assertComplete();
  });

  it('a tool that needs approval runs only after result.approve(); result.reject() tells the model', async () => {
    runtime = startedRuntime();
    let refunds = 0;
    const refund = tool({
      name: 'process_refund', description: 'Refund an order', parameters: z.object({ id: z.number() }),
      needsApproval: ({ id }) => id > 100,
      execute: ({ id }) => { refunds++; return `refunded ${id}`; },
    });
    const model = scripted([
      { toolCalls: [{ id: 'small', name: 'process_refund', arguments: { id: 5 } }, { id: 'big', name: 'process_refund', arguments: { id: 500 } }] },
      { text: 'Refunded 5; 500 needs a manager.' },
    ]);
    const orchestration = new SequentialOrchestration({ members: [agent('Refunds', model, { tools: [refund] })] });
    const result = await orchestration.invoke('refund 5 and 500', runtime);
    let requestId = '';
    for await (const event of result.events) {
      if (event.type === 'approval_requested') {
        requestId = event.requestId;
        // Unique across runs and agents: the invocation, the agent and the call.
        expect(requestId).toBe(`${result.invocationId}:approval:Refunds:big`);
        expect(event.invocationId).toBe(result.invocationId);
        expect(event.toolCall.id).toBe('big');
        expect(refunds).toBe(1); // the small one ran, the big one waits
        break;
      }
    }
    expect(() => result.approve('nope')).toThrow(/no open approval request "nope"/);
    result.reject(requestId, 'over the limit');
    const output = await result.get();
    expect(output.messages[0].content).toContain('manager');
    expect(refunds).toBe(1);
    const rejected = model.requests[1].messages.find((m) => m.toolCallId === 'big')!;
    expect(rejected.content).toContain('Rejected by the user: over the limit');
  });

  it('an approved call runs and its result reaches the model', async () => {
    runtime = startedRuntime();
    const guarded = tool({ name: 'wipe', description: 'dangerous', parameters: z.object({}), needsApproval: true, execute: () => 'wiped' });
    const model = scripted([{ toolCalls: [{ id: 'w', name: 'wipe', arguments: {} }] }, { text: 'Done.' }]);
    const result = await new SequentialOrchestration({ members: [agent('Ops', model, { tools: [guarded] })] }).invoke('wipe it', runtime);
    for await (const event of result.events) if (event.type === 'approval_requested') { result.approve(event.requestId); break; }
    await result.get();
    expect(model.requests[1].messages.find((m) => m.toolCallId === 'w')!.content).toBe('wiped');
  });

  it('fails the invocation with TurnLimitError when the model never stops calling tools', async () => {
    runtime = startedRuntime();
    const model = scripted(() => ({ toolCalls: [{ name: 'lookup_order', arguments: { id: 1 } }] }));
    const orchestration = new SequentialOrchestration({ members: [agent('Loop', model, { tools: [lookup] })], maxToolIterations: 3 });
    const error = await (await orchestration.invoke('go', runtime)).get().catch((e) => e);
    expect(error).toBeInstanceOf(TurnLimitError);
    expect(error.message).toContain('"Loop"');
    expect(model.requests).toHaveLength(3);
  });
});

describe('approvals of several agents in one invocation', () => {
  it('two agents whose providers reuse a tool-call id get distinct approval requests; both resolve', async () => {
    runtime = startedRuntime();
    const guarded = () => tool({ name: 'wipe', description: 'dangerous', parameters: z.object({}), needsApproval: true, execute: () => 'wiped' });
    // Both scripted clients number their first call "call_0_0".
    const a = scripted([{ toolCalls: [{ name: 'wipe', arguments: {} }] }, { text: 'A done' }]);
    const b = scripted([{ toolCalls: [{ name: 'wipe', arguments: {} }] }, { text: 'B done' }]);
    const { ConcurrentOrchestration } = await import('../../src/index.js');
    const panel = new ConcurrentOrchestration({ members: [agent('A', a, { tools: [guarded()] }), agent('B', b, { tools: [guarded()] })] });
    const result = await panel.invoke('wipe', runtime);
    const ids: string[] = [];
    for await (const event of result.events) {
      if (event.type !== 'approval_requested') continue;
      ids.push(event.requestId);
      result.approve(event.requestId);
    }
    expect(new Set(ids).size).toBe(2);
    expect((await result.get()).messages.map((m) => m.content)).toEqual(['A done', 'B done']);
  });
});

describe('createAgentActor with a custom tool-call filter (stepped)', () => {
  const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  function withFilter() {
    const seen: Array<{ from: string; to: string; mode: string; controls: string[]; ids: string[] }> = [];
    const filter: ResponseFilter = (messages, info) => {
      seen.push({ from: info.from, to: info.to, mode: info.mode, controls: info.controlToolCallIds, ids: messages.map((m) => m.id) });
      // Keep only what was said in words.
      return messages.filter((m) => m.role === 'assistant' && m.content !== '').map(({ toolCalls: _calls, ...m }) => m);
    };
    const logic = createAgentActor(agent('Refund', scripted([])), { filter });
    return { logic, seen };
  }

  it('receives the real author (`from`) of each earlier turn in history, never for the agent\'s own turns', () => {
    const { logic, seen } = withFilter();
    const history: ChatMessage[] = [
      { id: 'u', role: 'user', content: 'refund please' },
      { id: 't1', role: 'assistant', name: 'Triage', content: 'Passing you on.', toolCalls: [{ id: 'h', name: 'transfer_to_Refund', arguments: '{}', control: 'handoff' }] },
      { id: 't1r', role: 'tool', content: 'Transferred to Refund.', toolCallId: 'h' },
      { id: 'r1', role: 'assistant', name: 'Refund', content: '', toolCalls: [{ id: 'k', name: 'lookup', arguments: '{}' }] },
      { id: 'r1t', role: 'tool', content: 'found', toolCallId: 'k' },
      { id: 'o1', role: 'assistant', name: 'Orders', content: 'Shipped.' },
    ];
    let [s] = initialTransition(logic, { agent: 'Refund', topic: null, toolCallFilter: 'all' });
    [s] = transition(logic, s, messageEvent({ type: 'history', messages: history }));
    expect(seen).toEqual([
      { from: 'Triage', to: 'Refund', mode: 'all', controls: ['h'], ids: ['t1', 't1r'] },
      { from: 'Orders', to: 'Refund', mode: 'all', controls: [], ids: ['o1'] },
    ]);
    expect(s.context.history.map((m) => m.id)).toEqual(['u', 't1', 'r1', 'r1t', 'o1']);
    const [, actions] = transition(logic, s, messageEvent({ type: 'turn_request' }));
    expect((effectsOf(actions)[0].input as { messages: ChatMessage[] }).messages.map((m) => m.id)).toEqual(['u', 't1', 'r1', 'r1t', 'o1']);
  });

  it('receives the responding agent as `from` for a live agent_response', () => {
    const { logic, seen } = withFilter();
    const response: AgentResponse = {
      type: 'agent_response', agent: 'Orders', text: 'Shipped.', usage, outcome: { kind: 'reply' },
      messages: [
        { id: 'o0', role: 'assistant', name: 'Orders', content: '', toolCalls: [{ id: 'k', name: 'track', arguments: '{}' }] },
        { id: 'o0t', role: 'tool', content: 'in transit', toolCallId: 'k' },
        { id: 'o1', role: 'assistant', name: 'Orders', content: 'Shipped.' },
      ],
    };
    let [s] = initialTransition(logic, { agent: 'Refund', topic: null });
    [s] = transition(logic, s, messageEvent(response));
    expect(seen).toEqual([{ from: 'Orders', to: 'Refund', mode: 'handoffOnly', controls: [], ids: ['o0', 'o0t', 'o1'] }]);
    expect(s.context.cache.map((m) => m.id)).toEqual(['o1']);
  });
});

describe('agent actor: an aborted model call', () => {
  /** A client that answers only when the test says so, ignoring its signal (like an uncooperative SDK). */
  function handHeld() {
    const requests: Array<{ signal?: AbortSignal; answer: (text: string) => void }> = [];
    const client = {
      complete: (request: { signal?: AbortSignal }) => new Promise<ChatResponse>((resolve) => {
        requests.push({ signal: request.signal, answer: (text) => resolve({ text, toolCalls: [], usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }) });
      }),
      stream: () => { throw new Error('not streamed'); },
    };
    return { requests, client };
  }

  it('is aborted when its run is retired, and its late answer reaches neither that actor nor the next turn of the same AgentId', async () => {
    const { requests, client } = handHeld();
    const refund = agent('Refund', client);
    const runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    try {
      const self = new AgentId('refund', 'k');
      runtime.registerFactory('refund', ({ id }) => ({
        logic: createAgentActor(refund),
        input: { agent: 'Refund', invocationId: id.key, self: id, boundary: { type: 'boundary', key: id.key }, gateway: { type: 'gateway', key: id.key }, topic: null },
      }));
      runtime.registerFactory('boundary', () => recorder(log));
      runtime.start();
      const firstTurn = runtime.sendMessage({ type: 'turn_request' }, self);
      while (requests.length === 0) await new Promise((r) => setTimeout(r, 1));
      runtime.retireKey('k');
      await expect(firstTurn).rejects.toBeInstanceOf(MessageDroppedError);
      expect(requests[0].signal?.aborted).toBe(true);

      const secondTurn = runtime.sendMessage({ type: 'turn_request' }, self); // a fresh actor, same AgentId
      while (requests.length === 1) await new Promise((r) => setTimeout(r, 1));
      requests[0].answer('stale'); // the retired call's late answer
      await new Promise((r) => setTimeout(r, 5));
      expect(runtime.getActor(self)!.getSnapshot().value).toEqual({ working: 'callingModel' });
      requests[1].answer('fresh');
      const response = await secondTurn as AgentResponse;
      expect(response.text).toBe('fresh');
      await runtime.stopWhenIdle();
      const said = log.filter((d) => d.type === 'invocation_event').map((d) => (d.message.event as { message?: { content: string } }).message?.content);
      expect(said).toEqual(['fresh']);
    } finally {
      await runtime.close();
    }
  });

  it('saved mid-call, it is called again on load with the same input, and the turn finishes', async () => {
    const { requests, client } = handHeld();
    const factory = (model: ChatCompletionAgent['client']) => ({ id }: { id: AgentId }) => ({
      logic: createAgentActor(agent('Refund', model)),
      input: { agent: 'Refund', instructions: 'Be brief.', invocationId: id.key, self: id, boundary: { type: 'boundary', key: id.key }, gateway: { type: 'gateway', key: id.key }, topic: null },
    });
    const self = new AgentId('refund', 'k');
    const first = new InProcessRuntime();
    const second = new InProcessRuntime();
    const log: Delivery[] = [];
    try {
      first.registerFactory('refund', factory(client));
      first.start();
      void first.sendMessage({ type: 'conversation', messages: [{ id: 'u1', role: 'user', content: 'refund order 7' }] }, self);
      void first.sendMessage({ type: 'turn_request' }, self).catch(() => {});
      while (requests.length === 0) await new Promise((r) => setTimeout(r, 1));
      const state = JSON.parse(JSON.stringify(await first.saveState({ key: 'k' }))) as RuntimeState;
      expect(state.actors[0].effects).toEqual([{ name: 'callModel', input: expect.objectContaining({ agent: 'Refund', invocationId: 'k' }) }]);

      const model = scripted([{ text: 'Refunded.' }]);
      second.registerFactory('refund', factory(model));
      second.registerFactory('boundary', () => recorder(log));
      await second.loadState(state, { key: 'k' });
      second.start();
      await second.stopWhenIdle();
      expect(model.requests.map((r) => r.messages.map((m) => m.content))).toEqual([['Be brief.', 'refund order 7']]);
      expect(log.map((d) => (d.message.event as { type: string }).type)).toEqual(['agent_response']);
      expect(second.getActor(self)!.getSnapshot().value).toBe('idle');
    } finally {
      await first.close();
      await second.close();
    }
  });
});
