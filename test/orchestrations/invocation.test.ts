import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setup } from 'xstate';
import {
  AgentTurnError, SHARED_ACTOR_KEY, TopicId, TypeSubscription, ChatClientError, ConcurrentOrchestration, InvocationCancelledError, InvocationStateError,
  OrchestrationTimeoutError, OutputValidationError, SequentialOrchestration, type InProcessRuntime, type OrchestrationEvent, type OrchestrationOutput,
} from '../../src/index.js';
import { agent, collect, scripted, startedRuntime } from './helpers.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

describe('invoke / OrchestrationResult', () => {
  it('get(50) on a slow run rejects with a timeout error without cancelling; a later get() returns the value', async () => {
    runtime = startedRuntime();
    const slow = new SequentialOrchestration({ members: [agent('Slow', scripted([{ text: 'done', delayMs: 300 }]))] });
    const result = await slow.invoke('go', runtime);
    const early = await result.get(50).catch((e) => e);
    expect(early).toBeInstanceOf(OrchestrationTimeoutError);
    expect(early.code).toBe('timeout');
    expect(result.status).toBe('running');
    const output = await result.get();
    expect(output.messages[0].content).toBe('done');
  });

  it('cancel() aborts the in-flight model call and get() rejects as cancelled; cancel() after completion is an error', async () => {
    runtime = startedRuntime();
    const model = scripted([{ text: 'never', delayMs: 10_000 }]);
    const orchestration = new SequentialOrchestration({ members: [agent('A', model)] });
    const result = await orchestration.invoke('go', runtime);
    while (model.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    result.cancel();
    await expect(result.get()).rejects.toBeInstanceOf(InvocationCancelledError);
    while (model.requests[0].endedAt === undefined) await new Promise((r) => setTimeout(r, 5));
    expect(model.requests[0].aborted).toBe(true);
    expect(result.status).toBe('cancelled');
    expect(() => result.cancel()).toThrow(InvocationStateError);

    const quick = await new SequentialOrchestration({ members: [agent('B', scripted([{ text: 'hi' }]))] }).invoke('go', runtime);
    await quick.get();
    expect(() => quick.cancel()).toThrow(/already completed/);
  });

  it('an AbortSignal and timeoutMs cancel the run too', async () => {
    runtime = startedRuntime();
    const controller = new AbortController();
    const model = scripted([{ text: 'x', delayMs: 10_000 }, { text: 'y', delayMs: 10_000 }]);
    const orchestration = new SequentialOrchestration({ members: [agent('A', model)] });
    const bySignal = await orchestration.invoke('go', runtime, { signal: controller.signal });
    controller.abort(new Error('user left'));
    await expect(bySignal.get()).rejects.toBeInstanceOf(InvocationCancelledError);
    const byTimeout = await orchestration.invoke('go', runtime, { timeoutMs: 30 });
    await expect(byTimeout.get()).rejects.toBeInstanceOf(OrchestrationTimeoutError);
  });

  it("a member's failed model call rejects get() with that cause, and the runtime keeps serving other invocations", async () => {
    runtime = startedRuntime();
    const failing = new SequentialOrchestration({ members: [agent('Broken', scripted([{ error: { status: 500, message: 'upstream down' } }]))] });
    const error = await (await failing.invoke('go', runtime)).get().catch((e) => e);
    expect(error).toBeInstanceOf(AgentTurnError);
    expect(error.agent).toBe('Broken');
    expect(error.cause).toBeInstanceOf(ChatClientError);
    expect(error.cause.status).toBe(500);
    const healthy = new SequentialOrchestration({ members: [agent('Fine', scripted([{ text: 'ok' }]))] });
    expect((await (await healthy.invoke('go', runtime)).get()).messages[0].content).toBe('ok');
  });

  it('a failed turn reaches the runtime error channel exactly once', async () => {
    runtime = startedRuntime();
    const seen: unknown[] = [];
    runtime.onError((e) => seen.push(e.error));
    const failing = new SequentialOrchestration({ members: [agent('Broken', scripted([{ error: { status: 503 } }]))] });
    await (await failing.invoke('go', runtime)).get().catch(() => {});
    await runtime.stopWhenIdle();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(AgentTurnError);
  });

  it('an actor not keyed by the run (like the shared boundary) failing on a message that names the run fails that run, and only it', async () => {
    runtime = startedRuntime();
    const slow = new SequentialOrchestration({ members: [agent('A', scripted(() => ({ text: 'done', delayMs: 50 })))] });
    const [named, other] = await Promise.all([slow.invoke('go', runtime), slow.invoke('go', runtime)]);
    const boom = new Error('shared actor crashed');
    runtime.registerFactory('crasher', () => setup({}).createMachine({ on: { boom: { actions: () => { throw boom; } } } }));
    runtime.addSubscription(new TypeSubscription('crash', 'crasher'));
    await runtime.publishMessage({ type: 'boom', invocationId: named.invocationId }, new TopicId('crash', SHARED_ACTOR_KEY));
    await expect(named.get()).rejects.toBe(boom);
    expect((await other.get()).messages[0].content).toBe('done');
  });

  it('100 concurrent invocations on one runtime each get their own output, and leave nothing behind', async () => {
    runtime = startedRuntime();
    const echo = (name: string) => agent(name, scripted((request) => ({ text: `${name}<${request.messages.find((m) => m.role === 'user')!.content}>`, delayMs: 1 })));
    const orchestration = new SequentialOrchestration({ members: [echo('A'), echo('B')] });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => orchestration.invoke(`task ${i}`, runtime)));
    const outputs = await Promise.all(results.map((r) => r.get()));
    outputs.forEach((output, i) => expect(output.messages[0].content).toBe(`B<task ${i}>`));
    await runtime.stopWhenIdle();
    // Every run's actors are retired; only the orchestration's own registrations stay, until
    // unregister(), with the two actors they share between runs (start executor, boundary): 100
    // runs leave no more than one would.
    expect(runtime.stats).toEqual({ actors: 2, factories: 7, subscriptions: 8, queued: 0, busy: 0, parked: 0 });
    orchestration.unregister(runtime);
    expect(runtime.stats).toEqual({ actors: 0, factories: 0, subscriptions: 0, queued: 0, busy: 0, parked: 0 });
  });

  it('events: agent_response per member, then completed; usage adds up per agent and overall', async () => {
    runtime = startedRuntime();
    const usage = (n: number) => ({ inputTokens: n, outputTokens: 1, totalTokens: n + 1 });
    const responses: string[] = [];
    const orchestration = new ConcurrentOrchestration({
      members: [agent('A', scripted([{ text: 'a', usage: usage(10) }])), agent('B', scripted([{ text: 'b', usage: usage(20) }]))],
      agentResponseCallback: (e) => void responses.push(e.agent),
    });
    const result = await orchestration.invoke('q', runtime);
    const events = await collect(result.events);
    const kinds = events.map((e) => (e.type === 'agent_response' ? `${e.type}:${e.agent}` : e.type));
    expect(kinds.slice(0, 2).sort()).toEqual(['agent_response:A', 'agent_response:B']);
    expect(kinds.at(-1)).toBe('completed');
    expect(events.every((e) => e.invocationId === result.invocationId)).toBe(true);
    expect(responses.sort()).toEqual(['A', 'B']);
    const output = (events.at(-1) as Extract<OrchestrationEvent<OrchestrationOutput>, { type: 'completed' }>).output;
    expect(output.usage.byAgent).toEqual({ A: usage(10), B: usage(20) });
    expect(output.usage.total).toEqual({ inputTokens: 30, outputTokens: 2, totalTokens: 32 });
    // A second loop replays the same events; breaking out early does not cancel anything.
    for await (const e of result.events) { expect(e.type).toBe(events[0].type); break; }
    expect(result.status).toBe('completed');
  });

  it('streams deltas only when a streaming callback is set', async () => {
    runtime = startedRuntime();
    const model = scripted([{ text: 'Hello there, friend' }]);
    const deltas: string[] = [];
    const orchestration = new SequentialOrchestration({ members: [agent('A', model)], streamingAgentResponseCallback: (d) => void (d.type === 'agent_response_delta' && deltas.push(d.delta)) });
    const output = await (await orchestration.invoke('hi', runtime)).get();
    expect(model.requests[0].streamed).toBe(true);
    expect(deltas.join('')).toBe('Hello there, friend');
    expect(output.messages[0].content).toBe('Hello there, friend');
  });

  it('two concurrent streaming invocations each get only their own deltas', async () => {
    runtime = startedRuntime();
    const model = scripted((request) => ({ text: `answer to ${request.messages.at(-1)!.content}`, delayMs: 5 }));
    const orchestration = new SequentialOrchestration({ members: [agent('A', model)], streamingAgentResponseCallback: () => {} });
    const results = await Promise.all([orchestration.invoke('one', runtime), orchestration.invoke('two', runtime)]);
    const streamed = await Promise.all(results.map(async (result) => (await collect(result.events)).flatMap((e) => (e.type === 'agent_response_delta' ? [e.delta] : [])).join('')));
    expect(streamed).toEqual(['answer to one', 'answer to two']);
  });

  it('outputSchema returns a parsed, typed object through structured output', async () => {
    runtime = startedRuntime();
    const extractor = scripted([{ text: JSON.stringify({ sentiment: 'positive', score: 0.9 }) }]);
    const schema = z.object({ sentiment: z.enum(['positive', 'negative']), score: z.number() });
    const orchestration = new SequentialOrchestration({ members: [agent('A', scripted([{ text: 'I love it' }]))], outputSchema: schema, outputClient: extractor });
    const output = await (await orchestration.invoke('review this', runtime)).get();
    expect(output).toEqual({ sentiment: 'positive', score: 0.9 });
    const request = extractor.requests[0];
    expect(request.responseFormat?.schema).toMatchObject({ type: 'object', properties: { sentiment: { enum: ['positive', 'negative'] } } });
    expect(request.messages.at(-1)!.content).toContain('I love it');
  });

  it('outputSchema: an answer that does not match fails with OutputValidationError naming the field', async () => {
    runtime = startedRuntime();
    const orchestration = new SequentialOrchestration({
      members: [agent('A', scripted([{ text: 'x' }]))],
      outputSchema: z.object({ score: z.number() }),
      outputClient: scripted([{ text: '{"score":"high"}' }]),
    });
    const error = await (await orchestration.invoke('q', runtime)).get().catch((e) => e);
    expect(error).toBeInstanceOf(OutputValidationError);
    expect(error.message).toContain('score');
  });
});

describe('invoke input checks', () => {
  it('timeouts: Infinity means none; negative, NaN or too large is a RangeError naming the option', async () => {
    runtime = startedRuntime();
    const orchestration = new SequentialOrchestration({ members: [agent('A', scripted([{ text: 'ok', delayMs: 20 }, { text: 'ok' }]))] });
    const result = await orchestration.invoke('go', runtime, { timeoutMs: Number.POSITIVE_INFINITY });
    expect((await result.get(Number.POSITIVE_INFINITY)).messages[0].content).toBe('ok');
    await expect(orchestration.invoke('go', runtime, { timeoutMs: -5 })).rejects.toThrow(/invoke\(\{ timeoutMs \}\).*got -5/);
    await expect(orchestration.invoke('go', runtime, { timeoutMs: 2 ** 40 })).rejects.toThrow(RangeError);
    const quick = await orchestration.invoke('go', runtime);
    await expect(quick.get(Number.NaN)).rejects.toThrow(/get\(timeoutMs\)/);
    await quick.get();
    await runtime.stopWhenIdle();
    // Invalid timeouts leave no actor behind; the orchestration's registrations stay until unregister().
    expect(runtime.stats).toMatchObject({ actors: 2, queued: 0, busy: 0 }); // the start executor and the boundary every run shares
    orchestration.unregister(runtime);
    expect(runtime.stats).toMatchObject({ factories: 0, subscriptions: 0, actors: 0 });
  });

  it('member names that collide once sanitised still get their own actors', async () => {
    runtime = startedRuntime();
    const names = ['x_2', 'x', 'x!', 'end'];
    const orchestration = new SequentialOrchestration({ members: names.map((n) => agent(n, scripted([{ text: `I am ${n}` }]))) });
    const output = await (await orchestration.invoke('go', runtime)).get();
    expect(output.conversation.slice(1).map((m) => m.content)).toEqual(names.map((n) => `I am ${n}`));
  });

  it('a malformed continueFrom is a clear error, and nothing is left on the runtime', async () => {
    runtime = startedRuntime();
    const orchestration = new SequentialOrchestration({ members: [agent('A', scripted([]))] });
    await expect(orchestration.invoke('go', runtime, { continueFrom: { conversation: [{ text: 'hi' }] } as never })).rejects.toThrow(/continueFrom\.conversation is not a list of ChatMessages/);
    expect(runtime.stats).toMatchObject({ factories: 0, subscriptions: 0 });
  });
});
