import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  HandoffOrchestration, OrchestrationConfigError, OrchestrationHandoffs, tool,
  type ChatMessage, type InProcessRuntime, type OrchestrationEvent, type OrchestrationOutput,
} from '../../src/index.js';
import type { RecordedRequest } from '../../src/testing/index.js';
import { agent, answerUser, collect, nextHumanRequest, scripted, startedRuntime } from './helpers.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

type Event = OrchestrationEvent<OrchestrationOutput>;

function refundTool(log: string[] = []) {
  return tool({
    name: 'process_refund',
    description: 'Refund an order',
    parameters: z.object({ order_id: z.string() }),
    execute: ({ order_id }) => { log.push(order_id); return `Refund for order ${order_id} processed.`; },
  });
}

/** Every tool call in every request has its tool result, and every tool result its call. */
function expectToolCallsAnswered(requests: RecordedRequest[]) {
  for (const request of requests) {
    const calls = request.messages.flatMap((m) => m.toolCalls ?? []).map((c) => c.id);
    const results = request.messages.filter((m) => m.role === 'tool').map((m) => m.toolCallId);
    expect(results.sort()).toEqual([...calls].sort());
  }
}

const transfer = (target: string, reason?: string) => ({ toolCalls: [{ name: `transfer_to_${target}`, arguments: reason ? { reason } : {} }] });
const userTexts = (request: { messages: ChatMessage[] }) => request.messages.filter((m) => m.role === 'user').map((m) => m.content);

describe('HandoffOrchestration', () => {
  it('triage hands off to refund: one handoff event, the tool runs, refund sees the words but not the handoff call', async () => {
    runtime = startedRuntime();
    const refunded: string[] = [];
    const triageModel = scripted([transfer('Refund', 'customer wants money back')]);
    const refundModel = scripted([{ toolCalls: [{ name: 'process_refund', arguments: { order_id: '42' } }] }, { text: 'Your refund for order 42 is on its way.' }]);
    const support = new HandoffOrchestration({
      members: [agent('Triage', triageModel, { instructions: 'Route the customer.' }), agent('Refund', refundModel, { tools: [refundTool(refunded)], instructions: 'Handle refunds.' })],
      humanResponse: () => null,
    });
    const result = await support.invoke('I want a refund for order 42', runtime);
    const events = await collect(result.events) as Event[];
    const output = await result.get();

    const handoffs = events.filter((e) => e.type === 'handoff');
    expect(handoffs).toEqual([expect.objectContaining({ from: 'Triage', to: 'Refund', reason: 'customer wants money back' })]);
    expect(refunded).toEqual(['42']);
    const refundSaw = refundModel.requests[0];
    expect(userTexts(refundSaw)).toEqual(['I want a refund for order 42']);
    expect(refundSaw.messages.some((m) => m.toolCalls?.some((c) => c.name.startsWith('transfer_to_')))).toBe(false);
    expect(refundSaw.messages.some((m) => m.role === 'tool')).toBe(false);
    // Its own tools and instructions are kept; the handoff tool and instructions are added.
    expect(refundSaw.tools.map((t) => t.name).sort()).toEqual(['process_refund', 'transfer_to_Triage']);
    expect(refundSaw.messages[0].content).toMatch(/^Handle refunds\.\n\n.*transfer_to_Triage/s);
    // The transcript keeps everything, handoff call included.
    expect(output.conversation.some((m) => m.toolCalls?.some((c) => c.name === 'transfer_to_Refund'))).toBe(true);
    expect(output.messages.map((m) => m.content)).toEqual(['Your refund for order 42 is on its way.']);
    expect(output.lastAgent).toBe('Refund');
    expect(output.reason).toBe('user_ended');
    expect(events.filter((e) => e.type === 'human_input_requested')).toHaveLength(1);
    expectToolCallsAnswered([...triageModel.requests, ...refundModel.requests]);
    triageModel.assertComplete();
    refundModel.assertComplete();
  });

  it('in every request any agent sends, every tool call has its tool result (filter none, several hops)', async () => {
    runtime = startedRuntime();
    const triageModel = scripted([transfer('Refund'), { text: 'Anything else?' }]);
    const refundModel = scripted([{ toolCalls: [{ name: 'process_refund', arguments: { order_id: '1' } }] }, transfer('Triage')]);
    const support = new HandoffOrchestration({
      members: [agent('Triage', triageModel), agent('Refund', refundModel, { tools: [refundTool()] })],
      toolCallFilter: 'none',
      humanResponse: () => '',
    });
    const output = await (await support.invoke('refund order 1', runtime)).get();
    expect(output.lastAgent).toBe('Triage');
    expectToolCallsAnswered([...triageModel.requests, ...refundModel.requests]);
    // With 'none', triage sees refund's tool traffic.
    expect(triageModel.requests[1].messages.some((m) => m.toolCallId && m.content.startsWith('Refund for order 1'))).toBe(true);
  });

  describe.each([
    ['asker', 'Refund'],
    ['previous', 'Refund'],
    ['start', 'Triage'],
  ] as const)("resumeWith '%s'", (resumeWith, secondTurnAgent) => {
    it(`sends the user's second turn to ${secondTurnAgent}`, async () => {
      runtime = startedRuntime();
      const calls: string[] = [];
      const triageModel = scripted((request) => {
        calls.push('Triage');
        return userTexts(request).includes('order 42') ? { text: 'Triage here, noted.' } : transfer('Refund');
      });
      const refundModel = scripted((request) => {
        calls.push('Refund');
        return { text: userTexts(request).includes('order 42') ? 'Refunded 42.' : 'Which order?' };
      });
      const replies = ['order 42', ''];
      const support = new HandoffOrchestration({
        members: [agent('Triage', triageModel), agent('Refund', refundModel)],
        resumeWith,
        humanResponse: () => replies.shift()!,
      });
      const output = await (await support.invoke('I want a refund', runtime)).get();
      expect(calls).toEqual(['Triage', 'Refund', secondTurnAgent]);
      expect(output.lastAgent).toBe(secondTurnAgent);
      expect(output.reason).toBe('user_ended');
    });
  });

  it('two concurrent invocations of one orchestration share no routing state', async () => {
    runtime = startedRuntime();
    const who = (request: { messages: ChatMessage[] }) => userTexts(request)[0];
    const triageModel = scripted((request) => (who(request) === 'A: refund please' && userTexts(request).length === 1 ? transfer('Refund') : { text: `triage answers ${who(request)}`, delayMs: 5 }));
    const refundModel = scripted((request) => ({ text: `refund answers ${who(request)}`, delayMs: 5 }));
    const support = new HandoffOrchestration({ members: [agent('Triage', triageModel), agent('Refund', refundModel)] });
    const [a, b] = await Promise.all([support.invoke('A: refund please', runtime), support.invoke('B: just a question', runtime)]);
    const [outA, outB] = await Promise.all([answerUser(a, ['more']), answerUser(b, ['more'])]);
    expect(outA.lastAgent).toBe('Refund');
    expect(outB.lastAgent).toBe('Triage');
    expect(outA.messages[0].content).toBe('refund answers A: refund please');
    expect(outB.messages[0].content).toBe('triage answers B: just a question');
    expect(outA.conversation.some((m) => m.content.includes('B:'))).toBe(false);
  });

  it('autonomous limit 2: the agent runs 3 times, then the user is asked exactly once', async () => {
    runtime = startedRuntime();
    const model = scripted((_, i) => ({ text: `step ${i + 1}` }));
    const support = new HandoffOrchestration({
      members: [agent('Worker', model), agent('Other', scripted([]))],
      autonomous: { agents: ['Worker'], turnLimit: 2, continuationPrompt: 'Keep going.' },
    });
    const result = await support.invoke('do the work', runtime);
    let asked = 0;
    for await (const event of result.events) {
      if (event.type === 'human_input_requested') {
        asked++;
        expect(event.agent).toBe('Worker');
        expect(event.message?.content).toBe('step 3');
        result.respond(event.requestId, null);
      }
    }
    const output = await result.get();
    expect(model.requests).toHaveLength(3);
    expect(asked).toBe(1);
    expect(userTexts(model.requests[2])).toEqual(['do the work', 'Keep going.', 'Keep going.']);
    expect(output.reason).toBe('user_ended');
  });

  it('a reply that meets the termination condition ends without asking the user', async () => {
    runtime = startedRuntime();
    const support = new HandoffOrchestration({
      members: [agent('Triage', scripted([transfer('Refund')])), agent('Refund', scripted([{ text: 'Refund complete. Goodbye!' }]))],
      terminationCondition: async (conversation: ChatMessage[]) => conversation.at(-1)?.content.includes('Goodbye') ?? false,
    });
    const result = await support.invoke('refund', runtime);
    const events = await collect(result.events);
    expect(events.some((e) => e.type === 'human_input_requested')).toBe(false);
    const output = await result.get();
    expect(output.reason).toBe('terminated');
    expect(output.messages[0].content).toBe('Refund complete. Goodbye!');
  });

  it("the termination condition also sees the user's replies", async () => {
    runtime = startedRuntime();
    const support = new HandoffOrchestration({
      members: [agent('Triage', scripted([{ text: 'How can I help?' }])), agent('Other', scripted([]))],
      terminationCondition: (conversation) => conversation.at(-1)?.content === 'stop',
      humanResponse: () => 'stop',
    });
    expect((await (await support.invoke('hi', runtime)).get()).reason).toBe('terminated');
  });

  it('a termination condition that throws fails the invocation with its error', async () => {
    runtime = startedRuntime();
    const support = new HandoffOrchestration({
      members: [agent('Triage', scripted([{ text: 'x' }])), agent('Other', scripted([]))],
      terminationCondition: () => { throw new Error('condition broke'); },
    });
    await expect((await support.invoke('hi', runtime)).get()).rejects.toThrow('condition broke');
  });

  it('maxHandoffs stops an A↔B ping-pong with reason max_handoffs', async () => {
    runtime = startedRuntime();
    const a = scripted(() => transfer('B'));
    const b = scripted(() => transfer('A'));
    const support = new HandoffOrchestration({ members: [agent('A', a), agent('B', b)], maxHandoffs: 3 });
    const result = await support.invoke('loop', runtime);
    const events = await collect(result.events);
    const output = await result.get();
    expect(output.reason).toBe('max_handoffs');
    expect(events.filter((e) => e.type === 'handoff')).toHaveLength(3);
    expect(a.requests.length + b.requests.length).toBe(4);
  });

  it('two handoff calls in one reply make one handoff; a hallucinated target gets an error result', async () => {
    runtime = startedRuntime();
    const triage = scripted([
      { toolCalls: [{ name: 'transfer_to_Wizard', arguments: {} }] },
      { toolCalls: [{ id: 'first', name: 'transfer_to_Refund', arguments: {} }, { id: 'second', name: 'transfer_to_Returns', arguments: {} }] },
    ]);
    const refund = scripted([{ text: 'Refund here.' }]);
    const returns = scripted([]);
    const support = new HandoffOrchestration({
      members: [agent('Triage', triage), agent('Refund', refund), agent('Returns', returns)],
      humanResponse: () => null,
    });
    const result = await support.invoke('help', runtime);
    const events = await collect(result.events);
    await result.get();
    expect(events.filter((e) => e.type === 'handoff').map((e) => (e as { to: string }).to)).toEqual(['Refund']);
    const retry = triage.requests[1].messages.at(-1)!;
    expect(retry.role).toBe('tool');
    expect(retry.content).toMatch(/^Error: "transfer_to_Wizard" is not an available handoff/);
    expect(returns.requests).toHaveLength(0);
    const output = await result.get();
    const results = output.conversation.filter((m) => m.toolCallId === 'first' || m.toolCallId === 'second').map((m) => m.content);
    expect(results).toEqual(['Transferred to Refund.', expect.stringMatching(/^Ignored/)]);
  });

  it('complete_task ends the conversation with its summary', async () => {
    runtime = startedRuntime();
    const support = new HandoffOrchestration({
      members: [agent('Triage', scripted([{ toolCalls: [{ name: 'complete_task', arguments: { summary: 'Order 42 refunded.' } }] }])), agent('Other', scripted([]))],
      completeTask: true,
    });
    const output = await (await support.invoke('refund 42', runtime)).get();
    expect(output.reason).toBe('completed');
    expect(output.messages.map((m) => m.content)).toEqual(['Order 42 refunded.']);
  });

  it('result.respond answers the gateway; respond to an unknown request is a clear error', async () => {
    runtime = startedRuntime();
    const triage = scripted([{ text: 'What is your order number?' }, { text: 'Thanks, found it.' }]);
    const support = new HandoffOrchestration({ members: [agent('Triage', triage), agent('Other', scripted([]))] });
    const result = await support.invoke('where is my order', runtime);
    const output = await answerUser(result, ['order 9'], () => {
      expect(() => result.respond('human_99', 'x')).toThrow(/no open human input request "human_99"/);
    });
    expect(userTexts(triage.requests[1])).toEqual(['where is my order', 'order 9']);
    expect(output.conversation.map((m) => m.content)).toEqual(['where is my order', 'What is your order number?', 'order 9', 'Thanks, found it.']);
  });

  it('continueFrom carries the transcript and lastAgent into the next invocation', async () => {
    runtime = startedRuntime();
    const triage = scripted([transfer('Refund'), { text: 'Triage again.' }]);
    const refund = scripted([{ text: 'Which order?' }, { text: 'Refunded 42.' }]);
    const members = [agent('Triage', triage), agent('Refund', refund)];
    const asker = new HandoffOrchestration({ members, humanResponse: () => null });
    const first = await (await asker.invoke('refund please', runtime)).get();
    expect(first.lastAgent).toBe('Refund');
    const second = await (await asker.invoke('order 42', runtime, { continueFrom: first })).get();
    expect(second.lastAgent).toBe('Refund');
    expect(userTexts(refund.requests[1])).toEqual(['refund please', 'order 42']);
    expect(refund.requests[1].messages.some((m) => m.toolCalls?.some((c) => c.name.startsWith('transfer_to_')))).toBe(false);
    expect(second.conversation.map((m) => m.content)).toContain('Which order?');
    const start = new HandoffOrchestration({ members, resumeWith: 'start', humanResponse: () => null });
    const third = await (await start.invoke('one more thing', runtime, { continueFrom: second })).get();
    expect(third.lastAgent).toBe('Triage');
  });

  it('keeps message metadata across every hop', async () => {
    runtime = startedRuntime();
    const refund = scripted([{ text: 'ok' }]);
    const support = new HandoffOrchestration({ members: [agent('Triage', scripted([transfer('Refund')])), agent('Refund', refund)], humanResponse: () => null });
    const task: ChatMessage = { id: 't', role: 'user', content: 'refund', metadata: { ticket: 'T-1' } };
    const output = await (await support.invoke(task, runtime)).get();
    expect(refund.requests[0].messages.find((m) => m.role === 'user')!.metadata).toEqual({ ticket: 'T-1' });
    expect(output.conversation[0].metadata).toEqual({ ticket: 'T-1' });
  });

  it("toolCallFilter 'all' hides every tool call; a function filter decides itself; a context window bounds requests", async () => {
    runtime = startedRuntime();
    const run = async (options: Partial<ConstructorParameters<typeof HandoffOrchestration>[0]>) => {
      const refund = scripted([{ text: 'done' }]);
      const lookup = tool({ name: 'lookup', description: 'x', parameters: z.object({}), execute: () => 'found' });
      const triage = scripted([{ toolCalls: [{ name: 'lookup', arguments: {} }] }, { text: 'Passing you on.', ...transfer('Refund') }]);
      const support = new HandoffOrchestration({ members: [agent('Triage', triage, { tools: [lookup] }), agent('Refund', refund)], humanResponse: () => null, ...options });
      await (await support.invoke('hello', runtime)).get();
      return refund.requests[0].messages;
    };
    const handoffOnly = await run({});
    expect(handoffOnly.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    const all = await run({ toolCallFilter: 'all' });
    expect(all.map((m) => [m.role, m.content])).toEqual([['system', expect.any(String)], ['user', 'hello'], ['assistant', 'Passing you on.']]);
    const custom = await run({ toolCallFilter: (messages, info) => (info.from === 'Triage' ? [] : messages) });
    expect(custom.map((m) => m.role)).toEqual(['system', 'user']);
    const windowed = await run({ contextWindow: 1, handoffInstructions: false });
    expect(windowed.map((m) => m.content)).toEqual(['Passing you on.']);
  });

  it('validates the graph and options with errors that name the agent', () => {
    const triage = agent('Triage', scripted([]));
    const refund = agent('Refund', scripted([]));
    const own = agent('Own', scripted([]), { tools: [tool({ name: 'transfer_to_Triage', description: 'x', parameters: z.object({}), execute: () => 1 })] });
    expect(() => OrchestrationHandoffs.startWith(triage).add(triage, triage)).toThrow(/"Triage" cannot hand off to itself/);
    expect(() => new HandoffOrchestration({ members: [triage, refund], handoffs: OrchestrationHandoffs.startWith('Nobody') })).toThrow(/start agent "Nobody" is not a member/);
    expect(() => new HandoffOrchestration({ members: [triage, refund], handoffs: OrchestrationHandoffs.startWith(triage).add(triage, 'Ghost') })).toThrow(/"Triage" hands off to "Ghost", which is not a member/);
    expect(() => new HandoffOrchestration({ members: [triage, refund], handoffs: { start: 'Triage', edges: { Ghost: ['Refund'] } } })).toThrow(/source "Ghost"/);
    expect(() => new HandoffOrchestration({ members: [triage, refund], handoffs: {} as never })).toThrow(OrchestrationConfigError);
    expect(() => new HandoffOrchestration({ members: [own, triage] })).toThrow(/agent "Own" has its own tool "transfer_to_Triage"/);
    expect(() => new HandoffOrchestration({ members: [triage, refund], maxHandoffs: -1 })).toThrow(/maxHandoffs/);
    expect(() => new HandoffOrchestration({ members: [triage, refund], resumeWith: 'last' as never })).toThrow(/resumeWith/);
    expect(() => new HandoffOrchestration({ members: [triage, refund], toolCallFilter: 'some' as never })).toThrow(/toolCallFilter/);
    expect(() => new HandoffOrchestration({ members: [triage, refund], autonomous: { agents: ['Ghost'] } })).toThrow(/autonomous agent "Ghost"/);
    expect(() => new HandoffOrchestration({ members: [agent('A B', scripted([])), agent('A_B', scripted([])), triage] })).toThrow(/both become the tool name "transfer_to_A_B"/);
  });

  it('with no graph, every member may hand off to every other, starting with the first', async () => {
    runtime = startedRuntime();
    const [a, b, c] = [scripted([transfer('B')]), scripted([transfer('C')]), scripted([{ text: 'C here.' }])];
    const support = new HandoffOrchestration({ members: [agent('A', a), agent('B', b), agent('C', c)], humanResponse: () => null });
    expect(support.handoffs.toJSON()).toEqual({ start: 'A', edges: { A: { B: undefined, C: undefined }, B: { A: undefined, C: undefined }, C: { A: undefined, B: undefined } } });
    expect((await (await support.invoke('hi', runtime)).get()).lastAgent).toBe('C');
    // What the models were offered: a transfer tool to each other member.
    expect([a, b, c].map((m) => m.requests[0].tools.map((t) => t.name).sort())).toEqual([
      ['transfer_to_B', 'transfer_to_C'], ['transfer_to_A', 'transfer_to_C'], ['transfer_to_A', 'transfer_to_B'],
    ]);
  });

  it('builds from the plain-object form with descriptions, and addMany takes a map', () => {
    const graph = OrchestrationHandoffs.startWith('Triage').addMany('Triage', { Refund: 'money back', Returns: 'send items back' });
    expect(graph.toJSON()).toEqual({ start: 'Triage', edges: { Triage: { Refund: 'money back', Returns: 'send items back' } } });
    expect(OrchestrationHandoffs.from(graph.toJSON()).toJSON()).toEqual(graph.toJSON());
  });
});


describe('HandoffOrchestration and the runtime lifecycle', () => {
  it('closing the runtime while a conversation waits on a human fails it instead of hanging', async () => {
    const closing = startedRuntime();
    const support = new HandoffOrchestration({ members: [agent('Triage', scripted([{ text: 'How can I help?' }])), agent('Other', scripted([]))] });
    const result = await support.invoke('hi', closing);
    await nextHumanRequest(result);
    await closing.close();
    await expect(result.get()).rejects.toThrow('The runtime was closed.');
  });
});

describe('HandoffOrchestration continueFrom with reused tool-call ids', () => {
  it("keeps a specialist's own tool call when another agent's handoff call had the same id", async () => {
    runtime = startedRuntime();
    const lookup = tool({ name: 'lookup', description: 'x', parameters: z.object({}), execute: () => 'shipped' });
    // Both scripted clients number their first call "call_0_0".
    const triage = scripted([transfer('Orders')]);
    const orders = scripted([{ toolCalls: [{ name: 'lookup', arguments: {} }] }, { text: 'It shipped.' }, { text: 'Anything else?' }]);
    const support = new HandoffOrchestration({ members: [agent('Triage', triage), agent('Orders', orders, { tools: [lookup] })], humanResponse: () => null });
    const first = await (await support.invoke('where is my order', runtime)).get();
    await (await support.invoke('thanks', runtime, { continueFrom: first })).get();
    const seen = orders.requests[2].messages;
    expect(seen.filter((m) => m.toolCalls?.some((c) => c.name === 'lookup'))).toHaveLength(1);
    expect(seen.some((m) => m.role === 'tool' && m.content === 'shipped')).toBe(true);
    expect(seen.some((m) => m.toolCalls?.some((c) => c.name === 'transfer_to_Orders'))).toBe(false);
  });
});

describe('HandoffOrchestration respond() checks', () => {
  it('a malformed reply is rejected at once, naming the request; the conversation goes on', async () => {
    runtime = startedRuntime();
    const triage = scripted([{ text: 'Which order?' }, { text: 'Found order 5.' }]);
    const support = new HandoffOrchestration({ members: [agent('Triage', triage), agent('Other', scripted([]))] });
    const result = await support.invoke('help', runtime);
    const output = await answerUser(result, ['order 5'], ({ requestId }) => {
      expect(() => result.respond(requestId, { role: 'user', text: 'order 5' } as never)).toThrow(new RegExp(`respond\\("${requestId}"\\): the reply must be`));
    });
    expect(output.messages[0].content).toBe('Found order 5.');
  });
});

describe('HandoffOrchestration on a stopped runtime', () => {
  it('respond() after stopWhenIdle() throws a clear error; after start() it goes through', async () => {
    runtime = startedRuntime();
    const support = new HandoffOrchestration({ members: [agent('Triage', scripted([{ text: 'Which order?' }, { text: 'Order 123 found.' }])), agent('Other', scripted([]))] });
    const result = await support.invoke('help', runtime);
    const { requestId } = await nextHumanRequest(result);
    await runtime.stopWhenIdle();
    expect(() => result.respond(requestId, 'order 123')).toThrow(/runtime is not running.*runtime\.start\(\)/);
    runtime.start();
    result.respond(requestId, 'order 123');
    // Events replay from the start: the first request is answered already.
    for await (const event of result.events) if (event.type === 'human_input_requested' && event.requestId !== requestId) result.respond(event.requestId, null);
    expect((await result.get()).messages[0].content).toBe('Order 123 found.');
  });
});
