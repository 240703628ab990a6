import { SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  HandoffOrchestration, OrchestrationConfigError, OrchestrationHandoffs, SequentialOrchestration, tool,
  type InProcessRuntime,
} from '../../src/index.js';
import { agent, collect, scripted, startedRuntime } from './helpers.js';

let runtime: InProcessRuntime | undefined;
let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  trace.disable();
  await provider.shutdown();
});

const SECRET = 'order 4242, card ending 9876';

function refundTool() {
  return tool({
    name: 'process_refund',
    description: 'Refund an order',
    parameters: z.object({ order_id: z.string() }),
    execute: ({ order_id }) => `Refund for ${order_id} processed.`,
  });
}

/** Triage hands off to Refund; Refund runs a tool, then answers; the user then ends the conversation. */
function support(options: { tracing?: { captureContent?: boolean } | false } = {}) {
  const triage = agent('Triage', scripted([{ toolCalls: [{ name: 'transfer_to_Refund', arguments: { reason: `refund for ${SECRET}` } }] }]));
  const refund = agent('Refund', scripted([
    { toolCalls: [{ name: 'process_refund', arguments: { order_id: SECRET }, id: 'call_refund' }] },
    { text: `Refunded ${SECRET}.` },
  ]), { tools: [refundTool()] });
  return new HandoffOrchestration({
    members: [triage, refund],
    handoffs: OrchestrationHandoffs.startWith(triage).add(triage, refund),
    humanResponse: () => null,
    ...options,
  });
}

const spans = () => exporter.getFinishedSpans();
/** Spans end when their run settles and reach the exporter a little later: wait for every one. */
async function flushed(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await provider.forceFlush();
}
const named = (name: string) => spans().filter((s) => s.name === name);
const one = (name: string) => {
  const found = named(name);
  expect(found, `spans named "${name}"`).toHaveLength(1);
  return found[0];
};
const ns = ([seconds, nanos]: [number, number]) => seconds * 1e9 + nanos;
const parentOf = (span: ReadableSpan) => spans().find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
const childrenOf = (span: ReadableSpan) => spans().filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId);

/** Every string in every attribute and event attribute of every span. */
function recordedStrings(): string[] {
  const values = spans().flatMap((s) => [s.attributes, ...s.events.map((e) => e.attributes ?? {})].flatMap((a) => Object.values(a)));
  return values.flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v): v is string => typeof v === 'string');
}

describe('tracing', () => {
  it('a handoff run: invocation → one span per turn → its model calls and tool calls; the handoff on the turn that made it', async () => {
    runtime = startedRuntime();
    const orchestration = support();
    const result = await orchestration.invoke(`Refund ${SECRET}`, runtime);
    await collect(result.events);
    await result.get();
    await flushed();

    const invocation = one('troupe.invocation HandoffOrchestration');
    expect(invocation.parentSpanContext).toBeUndefined();
    expect(invocation.attributes).toMatchObject({
      'troupe.orchestration.kind': 'HandoffOrchestration',
      'troupe.orchestration.id': orchestration.id,
      'troupe.invocation.id': result.invocationId,
      'troupe.invocation.status': 'completed',
      'troupe.invocation.reason': 'user_ended',
    });
    expect(invocation.status.code).toBe(SpanStatusCode.UNSET);

    const triage = one('invoke_agent Triage');
    const refund = one('invoke_agent Refund');
    for (const turn of [triage, refund]) {
      expect(parentOf(turn)).toBe(invocation);
      expect(turn.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'troupe.invocation.id': result.invocationId });
    }
    expect(triage.attributes).toMatchObject({ 'gen_ai.agent.name': 'Triage', 'troupe.turn.outcome': 'handoff', 'troupe.turn.model_calls': 1 });
    expect(refund.attributes).toMatchObject({ 'gen_ai.agent.name': 'Refund', 'troupe.turn.outcome': 'reply', 'troupe.turn.model_calls': 2 });
    expect(triage.events.map((e) => [e.name, e.attributes])).toEqual([['troupe.handoff', { 'troupe.handoff.from': 'Triage', 'troupe.handoff.to': 'Refund' }]]);

    // Model calls under their turn, in the GenAI conventions.
    const chats = named('chat');
    expect(chats).toHaveLength(3);
    expect(childrenOf(triage).map((s) => s.name)).toEqual(['chat']);
    expect(childrenOf(refund).map((s) => s.name).sort()).toEqual(['chat', 'chat', 'execute_tool process_refund']);
    for (const chat of chats) {
      expect(chat.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'scripted', 'gen_ai.response.model': 'scripted' });
      expect(chat.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
      expect(chat.attributes['gen_ai.usage.output_tokens']).toEqual(expect.any(Number));
    }
    expect(childrenOf(triage)[0].attributes['gen_ai.agent.name']).toBe('Triage');

    const toolSpan = one('execute_tool process_refund');
    expect(toolSpan.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'process_refund', 'gen_ai.tool.call.id': 'call_refund', 'gen_ai.agent.name': 'Refund',
    });
    expect(toolSpan.status.code).toBe(SpanStatusCode.UNSET);
    // The tool ran between Refund's two model calls.
    const [first, second] = childrenOf(refund).filter((s) => s.name === 'chat').sort((a, b) => ns(a.startTime) - ns(b.startTime));
    // The SDK stamps some times at millisecond precision and others finer: allow the 1 ms that hides.
    const MS = 1_000_000;
    expect(ns(toolSpan.startTime)).toBeGreaterThanOrEqual(ns(first.endTime) - MS);
    expect(ns(toolSpan.endTime)).toBeLessThanOrEqual(ns(second.startTime) + MS);
    expect(ns(first.startTime)).toBeLessThan(ns(toolSpan.endTime));

    // The user's turn, between agent turns, is an event on the invocation span.
    expect(invocation.events.map((e) => e.name)).toEqual(['troupe.human_input_requested']);
    expect(invocation.events[0].attributes).toMatchObject({ 'troupe.request.kind': 'input', 'gen_ai.agent.name': 'Refund' });

    // One trace for the whole run.
    expect(new Set(spans().map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('routing by intent: a classified handoff is a troupe.handoff event on the invocation span (its fixed reason recorded without captureContent)', async () => {
    runtime = startedRuntime();
    const order = ['Billing', 'Security'];
    const routed = new HandoffOrchestration({
      members: [agent('Billing', scripted([{ text: 'This is outside my area' }])), agent('Security', scripted([{ text: `Reset for ${SECRET}.` }]))],
      router: { classifier: () => order.shift()! },
      humanResponse: () => null,
    });
    const result = await routed.invoke('password?', runtime);
    await collect(result.events);
    await result.get();
    await flushed();

    const invocation = one('troupe.invocation HandoffOrchestration');
    expect(invocation.events.filter((e) => e.name === 'troupe.handoff').map((e) => [e.name, e.attributes])).toEqual([
      ['troupe.handoff', { 'troupe.handoff.from': 'Billing', 'troupe.handoff.to': 'Security', 'troupe.handoff.reason': 'classified' }],
    ]);
    // The declining turn made no handoff itself; nothing else records one.
    expect(one('invoke_agent Billing').events).toEqual([]);
    expect(spans().flatMap((s) => s.events).filter((e) => e.name === 'troupe.handoff')).toHaveLength(1);
    expect(recordedStrings().join('\n')).not.toContain(SECRET);
  });

  it('a transfer-tool handoff is recorded once, on its turn (not again on the invocation span)', async () => {
    runtime = startedRuntime();
    const result = await support().invoke('refund please', runtime);
    await collect(result.events);
    await result.get();
    await flushed();
    expect(one('troupe.invocation HandoffOrchestration').events.map((e) => e.name)).not.toContain('troupe.handoff');
    expect(spans().flatMap((s) => s.events).filter((e) => e.name === 'troupe.handoff')).toHaveLength(1);
  });

  it('two concurrent runs of one orchestration never share a trace, and each span has its parent in its own run', async () => {
    runtime = startedRuntime();
    const slow = (name: string) => agent(name, scripted(() => ({ text: `${name} says hi`, delayMs: 5 })));
    const chain = new SequentialOrchestration({ members: [slow('A'), slow('B')] });
    const [one_, two] = await Promise.all([chain.invoke('first', runtime), chain.invoke('second', runtime)]);
    await Promise.all([one_.get(), two.get()]);
    await flushed();

    const roots = named('troupe.invocation SequentialOrchestration');
    expect(roots).toHaveLength(2);
    expect(roots[0].spanContext().traceId).not.toBe(roots[1].spanContext().traceId);
    for (const root of roots) {
      const traceId = root.spanContext().traceId;
      const run = spans().filter((s) => s.spanContext().traceId === traceId);
      // invocation, 2 turns, 2 model calls — and the run's id on its turns.
      expect(run.map((s) => s.name).sort()).toEqual(['chat', 'chat', 'invoke_agent A', 'invoke_agent B', 'troupe.invocation SequentialOrchestration']);
      for (const span of run) if (span !== root) expect(parentOf(span)?.spanContext().traceId).toBe(traceId);
      const id = root.attributes['troupe.invocation.id'];
      for (const turn of run.filter((s) => s.name.startsWith('invoke_agent'))) expect(turn.attributes['troupe.invocation.id']).toBe(id);
    }
  });

  it('a failing model call: the error is recorded on its chat span, on its turn and on the invocation span', async () => {
    runtime = startedRuntime();
    const broken = agent('Broken', scripted([{ error: { status: 500, message: 'upstream exploded' } }]));
    const result = await new SequentialOrchestration({ members: [broken] }).invoke('hello', runtime);
    await expect(result.get()).rejects.toThrow();
    await flushed();

    for (const span of [one('chat'), one('invoke_agent Broken'), one('troupe.invocation SequentialOrchestration')]) {
      expect(span.status.code, span.name).toBe(SpanStatusCode.ERROR);
      expect(span.events.some((e) => e.name === 'exception'), span.name).toBe(true);
      expect(span.attributes['error.type'], span.name).toEqual(expect.any(String));
    }
    expect(one('troupe.invocation SequentialOrchestration').attributes['troupe.invocation.status']).toBe('failed');
    expect(one('chat').events.find((e) => e.name === 'exception')?.attributes?.['exception.message']).toMatch(/upstream exploded/);
  });

  it('a tool call waiting for approval is an event on the turn span; a throwing tool sets its span to ERROR', async () => {
    runtime = startedRuntime();
    const refund = tool({ name: 'refund', description: 'refund', parameters: z.object({}), execute: () => 'refunded', needsApproval: true });
    const explode = tool({ name: 'explode', description: 'fails', parameters: z.object({}), execute: () => { throw new Error('boom'); } });
    const worker = agent('Worker', scripted([
      { toolCalls: [{ name: 'explode', id: 'call_x' }] },
      { toolCalls: [{ name: 'refund', id: 'call_r' }] },
      { text: 'done' },
    ]), { tools: [refund, explode] });
    const result = await new SequentialOrchestration({ members: [worker] }).invoke('go', runtime);
    for await (const event of result.events) if (event.type === 'approval_requested') result.approve(event.requestId);
    await result.get();
    await flushed();

    const turn = one('invoke_agent Worker');
    const approval = turn.events.find((e) => e.name === 'troupe.approval_requested');
    expect(approval?.attributes).toMatchObject({ 'troupe.request.kind': 'approval', 'gen_ai.tool.name': 'refund', 'gen_ai.tool.call.id': 'call_r', 'gen_ai.agent.name': 'Worker' });
    expect(one('execute_tool explode').status.code).toBe(SpanStatusCode.ERROR);
    expect(one('execute_tool explode').attributes['error.type']).toBe('tool_error');
    expect(one('execute_tool refund').status.code).toBe(SpanStatusCode.UNSET);
    expect(childrenOf(turn).map((s) => s.name).sort()).toEqual(['chat', 'chat', 'chat', 'execute_tool explode', 'execute_tool refund']);
  });

  it('records no message content, tool arguments or results by default', async () => {
    runtime = startedRuntime();
    await (await support().invoke(`Refund ${SECRET}`, runtime)).get();
    await flushed();
    expect(spans().length).toBeGreaterThan(5);
    expect(recordedStrings().filter((v) => v.includes('4242') || v.includes('9876'))).toEqual([]);
  });

  it('records them with tracing: { captureContent: true }', async () => {
    runtime = startedRuntime();
    await (await support({ tracing: { captureContent: true } }).invoke(`Refund ${SECRET}`, runtime)).get();
    await flushed();
    const triageChat = childrenOf(one('invoke_agent Triage'))[0];
    expect(triageChat.attributes['gen_ai.input.messages']).toContain(`Refund ${SECRET}`);
    expect(triageChat.attributes['gen_ai.output.messages']).toContain('transfer_to_Refund');
    const toolSpan = one('execute_tool process_refund');
    expect(toolSpan.attributes['gen_ai.tool.call.arguments']).toContain(SECRET);
    expect(toolSpan.attributes['gen_ai.tool.call.result']).toBe(`Refund for ${SECRET} processed.`);
    expect(one('invoke_agent Triage').events[0].attributes?.['troupe.handoff.reason']).toBe(`refund for ${SECRET}`);
  });

  it('tracing: false, or no tracer provider registered: no spans, and the run is the same', async () => {
    runtime = startedRuntime();
    const off = await (await support({ tracing: false }).invoke('refund', runtime)).get();
    // Spans reach the exporter a little after the run settles: flushed first, or "none" proves nothing.
    await flushed();
    expect(spans()).toEqual([]);
    trace.disable();
    const unregistered = await (await support().invoke('refund', runtime)).get();
    await flushed();
    expect(spans()).toEqual([]);
    expect(unregistered.conversation.map((m) => m.content)).toEqual(off.conversation.map((m) => m.content));
  });

  it('rejects a malformed tracing option, naming it', () => {
    const members = [agent('A', scripted([]))];
    expect(() => new SequentialOrchestration({ members, tracing: 'yes' as never })).toThrow(OrchestrationConfigError);
    expect(() => new SequentialOrchestration({ members, tracing: { captureContent: 1 as never } })).toThrow(/tracing\.captureContent/);
  });
});
