import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AgentTurnError, ConcurrentOrchestration, HandoffOrchestration, InProcessRuntime, InvocationCancelledError, OrchestrationTimeoutError,
  DROP, RuntimeStateError, SequentialOrchestration, tool,
  type ChatMessage, type OrchestrationOutput,
} from '../../src/index.js';
import type { ChatClient } from '../../src/agents/chat-client.js';
import { agent, answerUser, collect, nextHumanRequest, runActors, scripted, startedRuntime } from './helpers.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

const transfer = (target: string) => ({ toolCalls: [{ name: `transfer_to_${target}`, arguments: {} }] });
const said = (conversation: ChatMessage[]) => conversation.map((m) => [m.role, m.name ?? '', m.content, (m.toolCalls ?? []).map((c) => c.name).join(',')]);

/** A two-agent support desk: Triage hands off to Refund, who asks for the order and answers. */
function supportDesk() {
  const triage = scripted(() => transfer('Refund'));
  const refund = scripted((request) => {
    const users = request.messages.filter((m) => m.role === 'user');
    return { text: users.length === 1 ? 'Which order?' : `Refunded ${users.at(-1)!.content}.` };
  });
  return new HandoffOrchestration({ id: 'support', members: [agent('Triage', triage), agent('Refund', refund)] });
}

describe('base v2: stable actor types keyed by invocation', () => {
  it("a run's actors are <id>.<member> keyed by the invocation; settled runs leave only the orchestration's registrations, until unregister()", async () => {
    runtime = startedRuntime();
    const support = supportDesk();
    const result = await support.invoke('refund please', runtime);
    await nextHumanRequest(result);
    expect(runtime.getActor({ type: 'support.Refund', key: result.invocationId })).toBeDefined();
    expect(runtime.getActor({ type: 'support.manager', key: result.invocationId })).toBeDefined();
    result.respond(result.pending[0].requestId, null);
    await result.get();
    await runtime.stopWhenIdle();
    const baseline = runtime.stats;
    // 2 members, manager, gateway, start, end, boundary; registered once, reused by every run.
    // Two actors stay: the start executor and the boundary, shared by every run.
    expect(baseline).toEqual({ actors: 2, factories: 7, subscriptions: 8, queued: 0, busy: 0, parked: 0 });
    expect(runtime.keyStatus('_shared').actors).toBe(2);
    expect(runtime.getActor({ type: 'support.start', key: '_shared' })).toBeDefined();
    expect(runtime.getActor({ type: 'support.boundary', key: '_shared' })).toBeDefined();

    runtime.start();
    const runs = await Promise.all([support.invoke('refund please', runtime), support.invoke('refund please', runtime)]);
    await Promise.all(runs.map(async (run) => run.respond((await nextHumanRequest(run)).requestId, null)));
    await Promise.all(runs.map((run) => run.get()));
    await runtime.stopWhenIdle();
    expect(runtime.stats).toEqual(baseline);
    support.unregister(runtime);
    expect(runtime.stats).toEqual({ actors: 0, factories: 0, subscriptions: 0, queued: 0, busy: 0, parked: 0 });
  });

  it('the start executor and the boundary are one actor each per registration: made on first use, serving every run, kept by retireKey(run), removed by unregister()', async () => {
    const created: string[] = [];
    runtime = new InProcessRuntime({ inspect: (e) => { if (e.type === '@xstate.actor') created.push((e.actorRef as unknown as { id: string }).id); } });
    runtime.start();
    const support = supportDesk();
    const runs = await Promise.all([1, 2, 3].map(() => support.invoke('refund please', runtime)));
    await Promise.all(runs.map(async (run) => run.respond((await nextHumanRequest(run)).requestId, null)));
    const outputs = await Promise.all(runs.map((run) => run.get()));
    expect(outputs.map((o) => o.reason)).toEqual(['user_ended', 'user_ended', 'user_ended']);
    // Three runs, one of each (ids are "<type>/<key>").
    expect(created.filter((id) => id.startsWith('support.start/'))).toEqual(['support.start/_shared']);
    expect(created.filter((id) => id.startsWith('support.boundary/'))).toEqual(['support.boundary/_shared']);
    expect(created.filter((id) => id.startsWith('support.manager/'))).toHaveLength(3);
    runtime.retireKey(runs[0].invocationId);
    expect(runtime.keyStatus('_shared').actors).toBe(2);
    expect(runActors(runtime)).toBe(0);
    // A later run still reaches them (the same instances: nothing new is created).
    const later = await support.invoke('refund please', runtime);
    later.respond((await nextHumanRequest(later)).requestId, null);
    expect((await later.get()).reason).toBe('user_ended');
    expect(created.filter((id) => /^support\.(start|boundary)\//.test(id))).toHaveLength(2);
    support.unregister(runtime);
    expect(runtime.stats.actors).toBe(0);
  });

  it('the shared boundary does not keep a dropped orchestration alive: garbage collection removes its registration and shared actors', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/dropped-orchestrations.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', fixture]);
    const [before, after] = stdout.trim().split('\n').map((line) => JSON.parse(line));
    // Ten orchestrations, each with its registration and its start executor and boundary…
    expect(before).toMatchObject({ actors: 20, factories: 60 });
    // …all gone once the objects are collected.
    expect(after).toEqual({ actors: 0, factories: 0, subscriptions: 0, queued: 0, busy: 0, parked: 0 });
  }, 30_000);

  it('once get() resolves or rejects, the run\'s actors are already retired', async () => {
    runtime = startedRuntime();
    const ok = new SequentialOrchestration({ members: [agent('A', scripted([{ text: 'a' }]))] });
    await (await ok.invoke('go', runtime)).get();
    expect(runActors(runtime)).toBe(0);
    const failing = new SequentialOrchestration({ members: [agent('B', scripted([{ error: { status: 500, message: 'down' } }]))] });
    await (await failing.invoke('go', runtime)).get().catch(() => {});
    expect(runActors(runtime)).toBe(0);
  });

  it('a handoff waiting on the user is saved with saveState({ key }), loaded into a fresh runtime and finishes with the same transcript', async () => {
    const uninterrupted = startedRuntime();
    const reference = await answerUser(await supportDesk().invoke('refund please', uninterrupted), ['order 42', null]);
    await uninterrupted.close();

    runtime = startedRuntime();
    const support = supportDesk();
    const first = await support.invoke('refund please', runtime);
    const asked = await nextHumanRequest(first);
    await runtime.stopWhenIdle();
    const saved = await runtime.saveState({ key: first.invocationId });
    const json = JSON.parse(JSON.stringify(saved));

    // Another process: the same orchestration (a new object), a fresh runtime.
    const fresh = new InProcessRuntime();
    try {
      fresh.start();
      const again = supportDesk();
      again.register(fresh);
      await fresh.loadState(json);
      const resumed = await again.attach(first.invocationId, fresh);
      expect(resumed.invocationId).toBe(first.invocationId);
      expect(resumed.pending).toEqual([{ requestId: asked.requestId, kind: 'input', agent: 'Refund', recipient: { type: 'support.manager', key: first.invocationId } }]);
      const output = await answerUser(resumed, ['order 42', null]);
      expect(said(output.conversation)).toEqual(said(reference.conversation));
      expect(output.lastAgent).toBe(reference.lastAgent);
      expect(output.reason).toBe('user_ended');
    } finally {
      await fresh.close();
    }
  });

  it('two orchestration objects with the same members share a runtime without clashing; an explicit id that clashes is an error', async () => {
    runtime = startedRuntime();
    const a = new SequentialOrchestration({ members: [agent('A', scripted([{ text: 'a' }]))] });
    const b = new SequentialOrchestration({ members: [agent('A', scripted([{ text: 'b' }]))] });
    a.register(runtime);
    const [ra, rb] = await Promise.all([a.invoke('x', runtime), b.invoke('y', runtime)]);
    expect((await ra.get()).messages[0].content).toBe('a');
    expect((await rb.get()).messages[0].content).toBe('b');
    const c = new SequentialOrchestration({ id: a.id, members: [agent('A', scripted([]))] });
    await expect(c.invoke('z', runtime)).rejects.toThrow(/distinct "id"/);
  });
});

describe('base v2: registrations and attach, when things go wrong', () => {
  it('unregister() while runs are live fails them at once instead of leaving them waiting', async () => {
    runtime = startedRuntime();
    const support = supportDesk();
    const waiting = await support.invoke('refund please', runtime);
    await nextHumanRequest(waiting);
    const pipeline = new SequentialOrchestration({ members: [agent('Slow', scripted([{ text: 'x', delayMs: 5_000 }]))] });
    const busy = await pipeline.invoke('go', runtime);
    support.unregister(runtime);
    pipeline.unregister(runtime);
    await expect(waiting.get(1_000)).rejects.toThrow(/was unregistered/);
    await expect(busy.get(1_000)).rejects.toThrow(/was unregistered/);
    await runtime.stopWhenIdle();
    expect(runtime.stats).toEqual({ actors: 0, factories: 0, subscriptions: 0, queued: 0, busy: 0, parked: 0 });
  });

  it('attach() of an invocation this runtime does not host is a clear error and leaves nothing behind', async () => {
    runtime = startedRuntime();
    const support = supportDesk();
    support.register(runtime);
    const before = runtime.stats;
    await expect(support.attach('run_typo', runtime)).rejects.toThrow(/hosts no actor of invocation run_typo.*loadState/);
    expect(runtime.stats).toEqual(before);
  });

  it('a request the humanResponse callback answers cannot also be answered with respond()', async () => {
    runtime = startedRuntime();
    let release!: () => void;
    const answered = new Promise<void>((r) => { release = r; });
    const pipeline = new SequentialOrchestration({
      members: [agent('Writer', scripted([{ text: 'draft' }]))],
      humanReview: true,
      humanResponse: async () => { await answered; return ''; },
    });
    const result = await pipeline.invoke('write', runtime);
    const request = await nextHumanRequest(result);
    expect(result.pending).toEqual([]);
    expect(() => result.respond(request.requestId, 'too late')).toThrow(/humanResponse callback answers this request/);
    release();
    expect((await result.get()).messages[0].content).toBe('draft');
  });
});

describe('base v2: people in every orchestration', () => {
  it("humanReview: the reviewer's feedback is answered again until approved; the next member hears the approved turn", async () => {
    runtime = startedRuntime();
    const writer = scripted([{ text: 'Draft 1' }, { text: 'Draft 2' }]);
    const editor = scripted([{ text: 'Edited.' }]);
    const pipeline = new SequentialOrchestration({ members: [agent('Writer', writer), agent('Editor', editor)], humanReview: ['Writer'] });
    const result = await pipeline.invoke('write a slogan', runtime);
    const reviews: Array<{ kind?: string; content?: string }> = [];
    for await (const event of result.events) {
      if (event.type !== 'human_input_requested') continue;
      reviews.push({ kind: event.kind, content: event.message?.content });
      expect(event.invocationId).toBe(result.invocationId);
      result.respond(event.requestId, reviews.length === 1 ? 'Shorter, please.' : '');
    }
    const output = await result.get();
    expect(reviews).toEqual([{ kind: 'review', content: 'Draft 1' }, { kind: 'review', content: 'Draft 2' }]);
    expect(writer.requests[1].messages.at(-1)).toMatchObject({ role: 'user', content: 'Shorter, please.' });
    expect(editor.requests[0].messages.map((m) => m.content)).toEqual(['write a slogan', 'Draft 1', 'Shorter, please.', 'Draft 2']);
    expect(output.messages[0].content).toBe('Edited.');
  });

  it('humanResponse is told which invocation and which kind of request; request ids never repeat across invocations', async () => {
    runtime = startedRuntime();
    const asked: Array<{ invocationId: string; kind: string; requestId: string }> = [];
    const panel = new ConcurrentOrchestration({
      members: [agent('A', scripted(() => ({ text: 'a' }))), agent('B', scripted(() => ({ text: 'b' })))],
      humanReview: true,
      humanResponse: ({ invocationId, kind, requestId }) => { asked.push({ invocationId, kind, requestId }); return null; },
    });
    const [one, two] = await Promise.all([panel.invoke('q1', runtime), panel.invoke('q2', runtime)]);
    await Promise.all([one.get(), two.get()]);
    expect(asked).toHaveLength(4);
    expect(new Set(asked.map((a) => a.requestId)).size).toBe(4);
    expect(asked.filter((a) => a.invocationId === one.invocationId)).toHaveLength(2);
    expect(asked.every((a) => a.kind === 'review')).toBe(true);
  });

  it('terminationCondition ends a sequential run early with reason terminated', async () => {
    runtime = startedRuntime();
    const second = scripted([]);
    const pipeline = new SequentialOrchestration({
      members: [agent('A', scripted([{ text: 'DONE' }])), agent('B', second)],
      terminationCondition: (conversation) => conversation.some((m) => m.content === 'DONE'),
    });
    const output = await (await pipeline.invoke('go', runtime)).get();
    expect(output.reason).toBe('terminated');
    expect(output.messages[0].content).toBe('DONE');
    expect(second.requests).toHaveLength(0);
  });

  it('approvals of two agents are open at once and can be answered in any order', async () => {
    runtime = startedRuntime();
    const refund = () => tool({ name: 'refund', description: 'refund', parameters: z.object({}), execute: () => 'refunded', needsApproval: true });
    const member = (name: string) => agent(name, scripted([{ toolCalls: [{ name: 'refund', arguments: {} }] }, { text: `${name} done` }]), { tools: [refund()] });
    const panel = new ConcurrentOrchestration({ members: [member('A'), member('B')] });
    const result = await panel.invoke('go', runtime);
    const ids: string[] = [];
    for await (const event of result.events) {
      if (event.type === 'approval_requested') ids.push(event.requestId);
      if (ids.length === 2) break;
    }
    expect(result.pending.map((p) => p.kind)).toEqual(['approval', 'approval']);
    result.approve(ids[1]);
    result.reject(ids[0], 'no');
    const output = await result.get();
    expect(output.messages.map((m) => m.content)).toEqual(['A done', 'B done']);
    expect(output.conversation.find((m) => m.role === 'tool' && m.name === 'refund' && m.content.startsWith('Rejected'))).toBeDefined();
  });
});

describe('base v2: defects', () => {
  it('an invocation whose signal is already aborted makes no model call, even with other work queued', async () => {
    runtime = startedRuntime();
    const busy = new SequentialOrchestration({ members: [agent('Busy', scripted(() => ({ text: 'x', delayMs: 5 })))] });
    const inFlight = await Promise.all(Array.from({ length: 5 }, () => busy.invoke('work', runtime)));
    const model = scripted(() => ({ text: 'should not run' }));
    const aborted = new SequentialOrchestration({ members: [agent('Never', model)] });
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    const result = await aborted.invoke('go', runtime, { signal: controller.signal });
    await expect(result.get()).rejects.toBeInstanceOf(InvocationCancelledError);
    await Promise.all(inFlight.map((r) => r.get()));
    await runtime.stopWhenIdle();
    expect(model.requests).toHaveLength(0);
  });

  it('a ChatClient returning toolCalls: null fails the run with AgentTurnError naming the agent', async () => {
    runtime = startedRuntime();
    const broken: ChatClient = {
      complete: async () => ({ text: 'hi', toolCalls: null, usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }) as never,
      stream: () => { throw new Error('unused'); },
    };
    const error = await (await new SequentialOrchestration({ members: [agent('Flaky', broken)] }).invoke('go', runtime)).get().catch((e) => e);
    expect(error).toBeInstanceOf(AgentTurnError);
    expect(error.agent).toBe('Flaky');
    expect(String(error.message)).toMatch(/toolCalls/);
  });

  it('invoke on a runtime that was never started is a RuntimeStateError, not a hang', async () => {
    const idle = new InProcessRuntime();
    try {
      const pipeline = new SequentialOrchestration({ members: [agent('A', scripted([]))] });
      await expect(pipeline.invoke('go', idle)).rejects.toBeInstanceOf(RuntimeStateError);
      await expect(pipeline.invoke('go', idle)).rejects.toThrow(/runtime\.start\(\)/);
      expect(idle.stats.factories).toBe(0);
    } finally {
      await idle.close();
    }
  });

  it('a get(timeoutMs) timeout says what the run waits on', async () => {
    runtime = startedRuntime();
    const result = await supportDesk().invoke('refund please', runtime);
    const request = await nextHumanRequest(result);
    const error = await result.get(20).catch((e) => e);
    expect(error).toBeInstanceOf(OrchestrationTimeoutError);
    expect(error.message).toContain(`waiting for human input ${request.requestId} from Refund`);
    result.cancel();
  });

  it('every message the start executor routes reaches the inspector with its source actor', async () => {
    const routed: Array<{ type: string; source?: string; target: string }> = [];
    const inspected = new InProcessRuntime({
      inspect: (e) => {
        if (e.type === '@xstate.event' && !e.event.type.startsWith('xstate.')) {
          routed.push({ type: e.event.type, source: (e.sourceRef as { id?: string } | undefined)?.id, target: (e.actorRef as unknown as { id: string }).id });
        }
      },
    });
    try {
      inspected.start();
      const pipeline = new SequentialOrchestration({ members: [agent('A', scripted([{ text: 'a' }]))] });
      await (await pipeline.invoke('go', inspected)).get();
      const fromStart = routed.filter((r) => r.type === 'conversation' || r.type === 'kickoff');
      expect(fromStart.length).toBeGreaterThanOrEqual(3);
      for (const r of fromStart) expect(r.source).toMatch(/\.start/);
      expect(routed.every((r) => r.source !== undefined)).toBe(true);
    } finally {
      await inspected.close();
    }
  });
});

describe('base v2: continueFrom keeps every turn what it was (tau-bench findings)', () => {
  /** Triage looks something up, then hands off; Refund uses a tool that looks like a handoff. */
  function desk(toolCallFilter?: 'all' | ((messages: ChatMessage[], info: { from: string; to: string }) => ChatMessage[]), resumeWith?: 'start') {
    const lookup = tool({ name: 'lookup', description: 'look up', parameters: z.object({}), execute: () => 'found it' });
    const human = tool({ name: 'transfer_to_human_agents', description: 'escalate to a person', parameters: z.object({}), execute: () => 'escalated' });
    const triage = scripted((request, i) => (i === 0 ? { toolCalls: [{ name: 'lookup', arguments: {} }] } : i === 1 ? transfer('Refund') : { text: 'triage again' }));
    const refund = scripted((request, i) => (i === 0 ? { toolCalls: [{ name: 'transfer_to_human_agents', arguments: {} }] } : { text: `refund ${i}` }));
    const support = new HandoffOrchestration({
      members: [agent('Triage', triage, { tools: [lookup] }), agent('Refund', refund, { tools: [human] })],
      humanResponse: () => null,
      ...(toolCallFilter ? { toolCallFilter } : {}),
      ...(resumeWith ? { resumeWith } : {}),
    });
    return { support, triage, refund };
  }

  it("with toolCallFilter 'all' an agent keeps its own tool calls after continueFrom, as it does within one invocation", async () => {
    runtime = startedRuntime();
    const { support, refund } = desk('all');
    const first = await (await support.invoke('refund please', runtime)).get();
    await (await support.invoke('and again', runtime, { continueFrom: first })).get();
    const later = refund.requests.at(-1)!.messages;
    expect(later.some((m) => m.toolCalls?.some((c) => c.name === 'transfer_to_human_agents'))).toBe(true);
    expect(later.some((m) => m.role === 'tool' && m.content === 'escalated')).toBe(true);
    // Another agent's tool calls stay hidden from it.
    expect(later.some((m) => m.role === 'tool' && m.content === 'found it')).toBe(false);
  });

  it('an ordinary tool named transfer_to_* is not a handoff after continueFrom; a custom filter is told who spoke', async () => {
    runtime = startedRuntime();
    for (const filter of [undefined, (messages: ChatMessage[], info: { from: string }) => { froms.push(info.from); return messages; }]) {
      var froms: string[] = [];
      const { support, triage } = desk(filter, 'start');
      const first = await (await support.invoke('refund please', runtime)).get();
      await (await support.invoke('and again', runtime, { continueFrom: first })).get();
      const triageLater = triage.requests.at(-1)!.messages; // resumeWith 'start': Triage answers the new message
      expect(triageLater.some((m) => m.toolCalls?.some((c) => c.name === 'transfer_to_human_agents'))).toBe(true);
      expect(triageLater.some((m) => m.role === 'tool' && m.content === 'escalated')).toBe(true);
      if (filter) expect([...new Set(froms)].sort()).toEqual(['Refund', 'Triage']); // live turns and the earlier transcript alike
      else expect(triageLater.some((m) => m.toolCalls?.some((c) => c.name === 'transfer_to_Refund'))).toBe(true); // its own handoff call is its own turn
    }
  });

  it('message ids in output.conversation are unique, across continueFrom too, even when models reuse tool-call ids', async () => {
    runtime = startedRuntime();
    for (const filter of [undefined, 'all'] as const) {
      const { support } = desk(filter);
      let output: OrchestrationOutput | undefined;
      for (const turn of ['one', 'two', 'three']) {
        output = await (await support.invoke(turn, runtime, output ? { continueFrom: output } : {})).get();
      }
      const ids = output!.conversation.map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('events of concurrent runs carry their own invocationId', async () => {
    runtime = startedRuntime();
    const pipeline = new SequentialOrchestration({ members: [agent('A', scripted(() => ({ text: 'a' })))] });
    const [x, y] = await Promise.all([pipeline.invoke('1', runtime), pipeline.invoke('2', runtime)]);
    const [ex, ey] = await Promise.all([collect(x.events), collect(y.events)]);
    // Each run streams its own agent_response and completed (an empty stream would pass `every`).
    expect(ex.map((e) => e.type)).toEqual(['agent_response', 'completed']);
    expect(ey.map((e) => e.type)).toEqual(['agent_response', 'completed']);
    expect(ex.every((e) => e.invocationId === x.invocationId)).toBe(true);
    expect(ey.every((e) => e.invocationId === y.invocationId)).toBe(true);
  });
});

describe('base v2: runs and the actors shared between them', () => {
  it('a run cancelled before the shared start executor got its start never starts (no model call, no actor left)', async () => {
    // A slow onSend (an audit log awaiting I/O) holds the start message while the run is cancelled.
    runtime = new InProcessRuntime({ interventions: [{ onSend: async (message) => { await new Promise((r) => setTimeout(r, 20)); return message; } }] });
    runtime.start();
    const model = scripted(() => ({ text: 'Hello.' }));
    const desk = new HandoffOrchestration({ members: [agent('Triage', model), agent('Refund', model)] });
    const result = await desk.invoke('My card was charged twice.', runtime);
    result.cancel();
    await expect(result.get()).rejects.toBeInstanceOf(InvocationCancelledError);
    await new Promise((r) => setTimeout(r, 60));
    await runtime.stopWhenIdle();
    expect(model.callCount).toBe(0);
    expect(runtime.keyStatus(result.invocationId)).toEqual({ actors: 0, queued: 0, busy: 0 });
  });

  it('a dropped task broadcast (published by the shared start executor) fails its run with the cause', async () => {
    runtime = new InProcessRuntime({ interventions: [{ onPublish: (message) => (message.type === 'conversation' ? DROP : message) }] });
    runtime.start();
    const chain = new SequentialOrchestration({ members: [agent('Writer', scripted(() => ({ text: 'Done.' })))] });
    const result = await chain.invoke('Write.', runtime);
    await expect(result.get(2000)).rejects.toMatchObject({ name: 'MessageDroppedError', message: expect.stringContaining('"conversation"') });
  });
});
