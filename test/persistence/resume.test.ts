import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CHECKPOINT_VERSION, CheckpointError, ConcurrentOrchestration, HandoffOrchestration, tool, InProcessRuntime, InvocationStateError, MemoryCheckpointStore, SequentialOrchestration,
  type Checkpoint, type ChatClient, type OrchestrationResult, type OrchestrationOutput,
} from '../../src/index.js';
import { agent, answerUser, collect, nextHumanRequest, runActors, scripted, startedRuntime } from '../orchestrations/helpers.js';
import { approvalDesk, said, supportDesk, transfer } from './helpers.js';

const runtimes: InProcessRuntime[] = [];
function fresh(): InProcessRuntime {
  const runtime = startedRuntime();
  runtimes.push(runtime);
  return runtime;
}
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.close();
});

/** Waits until the run is at rest (the scripted model answers in microtasks). */
async function settleDown(runtime: InProcessRuntime, id: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { queued, busy } = runtime.keyStatus(id);
    if (queued === 0 && busy === 0) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`invocation ${id} never came to rest`);
}

/** A support conversation, stopped when it first waits on the user: its checkpoint, as JSON text. */
async function waitingCheckpoint(make = () => supportDesk().orchestration): Promise<{ json: string; checkpoint: Checkpoint; first: OrchestrationResult<OrchestrationOutput> }> {
  const runtime = fresh();
  const first = await make().invoke('refund please', runtime);
  await nextHumanRequest(first);
  await settleDown(runtime, first.invocationId);
  const checkpoint = await first.checkpoint();
  return { json: JSON.stringify(checkpoint), checkpoint, first };
}

describe('checkpoint and resume in process', () => {
  it('a handoff waiting on the user: checkpoint → resume on a fresh runtime → answer → the transcript, usage and lastAgent equal an uninterrupted run', async () => {
    const reference = await answerUser(await supportDesk().orchestration.invoke('refund please', fresh()), ['order 42', null]);

    const { json, first } = await waitingCheckpoint();
    const runtime = fresh();
    const resumed = await supportDesk().orchestration.resume(JSON.parse(json), runtime);
    expect(resumed.invocationId).toBe(first.invocationId);
    expect(resumed.pending).toEqual(first.pending);
    expect(resumed.pending).toEqual([{ requestId: `${first.invocationId}:human:1`, kind: 'input', agent: 'Refund', recipient: expect.objectContaining({ key: first.invocationId }) }]);
    const output = await answerUser(resumed, ['order 42', null]);
    expect(said(output.conversation)).toEqual(said(reference.conversation));
    expect(output.usage).toEqual(reference.usage);
    expect(output.lastAgent).toBe('Refund');
    expect(output.reason).toBe('user_ended');
    // The open request was re-emitted as the first event, with the run's id.
    const events = await collect(resumed.events);
    expect(events[0]).toMatchObject({ type: 'human_input_requested', requestId: `${first.invocationId}:human:1`, invocationId: first.invocationId, agent: 'Refund', kind: 'input' });
    await runtime.stopWhenIdle();
    expect(runActors(runtime)).toBe(0);
  });

  it('a pending tool approval: checkpoint → resume → approve → the tool runs once and the transcript equals an uninterrupted run', async () => {
    const plain = approvalDesk();
    const uninterrupted = await plain.orchestration.invoke('refund order 42', fresh());
    for await (const event of uninterrupted.events) {
      if (event.type === 'approval_requested') uninterrupted.approve(event.requestId);
      if (event.type === 'human_input_requested') uninterrupted.respond(event.requestId, null);
    }
    const reference = await uninterrupted.get();

    const before = approvalDesk();
    const runtime = fresh();
    const first = await before.orchestration.invoke('refund order 42', runtime);
    for await (const event of first.events) if (event.type === 'approval_requested') break;
    await settleDown(runtime, first.invocationId);
    const checkpoint = JSON.parse(JSON.stringify(await first.checkpoint())) as Checkpoint;
    expect(checkpoint.pending).toEqual([{ requestId: expect.any(String), kind: 'approval', agent: 'Refund' }]);

    const after = approvalDesk();
    const resumed = await after.orchestration.resume(checkpoint, fresh());
    for await (const event of resumed.events) {
      if (event.type === 'approval_requested') {
        expect(event.toolCall).toMatchObject({ name: 'issue_refund' });
        resumed.approve(event.requestId);
      }
      if (event.type === 'human_input_requested') resumed.respond(event.requestId, null);
    }
    const output = await resumed.get();
    expect(said(output.conversation)).toEqual(said(reference.conversation));
    expect(before.executed).toEqual([]);
    expect(after.executed).toEqual(['42']);
  });

  it('routing state survives: the handoff count carries over, so maxHandoffs counts the handoffs made before the checkpoint', async () => {
    const build = () => new HandoffOrchestration({
      id: 'capped',
      maxHandoffs: 1,
      members: [
        agent('Triage', scripted(() => transfer('Refund'))),
        agent('Refund', scripted((request) => (request.messages.filter((m) => m.role === 'user').length === 1 ? { text: 'Which order?' } : transfer('Triage')))),
      ],
    });
    const runtime = fresh();
    const first = await build().invoke('refund please', runtime);
    await nextHumanRequest(first);
    await settleDown(runtime, first.invocationId);
    const checkpoint = await first.checkpoint();
    const manager = checkpoint.actors.find((a) => a.role === 'manager')!;
    expect(manager.context).toMatchObject({ handoffs: 1, lastAgent: 'Refund', userRequests: 1 });
    const resumed = await build().resume(checkpoint, fresh());
    resumed.respond(resumed.pending[0].requestId, 'actually, something else');
    const output = await resumed.get();
    expect(output.reason).toBe('max_handoffs');
  });

  it("resumeWith 'asker': the user's reply after a resume goes to the agent that asked, and autonomous counters carry over", async () => {
    let refundTurns = 0;
    const build = () => new HandoffOrchestration({
      id: 'auto',
      autonomous: { agents: ['Refund'], turnLimit: 2 },
      members: [
        agent('Triage', scripted(() => transfer('Refund'))),
        agent('Refund', scripted(() => ({ text: `step ${++refundTurns}` }))),
      ],
    });
    const runtime = fresh();
    const first = await build().invoke('refund please', runtime);
    await nextHumanRequest(first);
    await settleDown(runtime, first.invocationId);
    const checkpoint = await first.checkpoint();
    // Refund spoke 3 times (1 + 2 autonomous continuations) before asking.
    expect(refundTurns).toBe(3);
    const resumed = await build().resume(checkpoint, fresh());
    let asked = 0;
    const output = await answerUser(resumed, ['go on'], () => asked++);
    // The reply went to Refund (the asker), who again continued twice on its own before asking.
    expect(refundTurns).toBe(6);
    expect(asked).toBe(2); // the re-emitted request, then the next one
    expect(output.lastAgent).toBe('Refund');
  });

  it('configuration comes from the resuming orchestration: changed instructions are used, and none are copied into the checkpoint', async () => {
    const { checkpoint, json } = await waitingCheckpoint(() => supportDesk({ refundInstructions: 'OLD refund rules.' }).orchestration);
    expect(json).not.toContain('OLD refund rules.');
    expect(json).not.toContain('You are part of a team'); // the handoff instructions
    expect(json).not.toContain('Transfer the conversation to'); // tool definitions
    expect(json).not.toContain('"parameters"');
    const agentContext = checkpoint.actors.find((a) => a.member === 'Refund')!.context;
    expect(Object.keys(agentContext).sort()).toEqual(['cache', 'deferred', 'history', 'turn']);

    const after = supportDesk({ refundInstructions: 'NEW refund rules.' });
    const resumed = await after.orchestration.resume(checkpoint, fresh());
    await answerUser(resumed, ['order 42', null]);
    const system = after.refund.requests[0].messages[0];
    expect(system.role).toBe('system');
    expect(system.content).toContain('NEW refund rules.');
    expect(system.content).not.toContain('OLD');
    expect(after.refund.requests[0].tools?.map((t) => t.name)).toEqual(['transfer_to_Triage']);
  });

  it('a checkpoint cannot bring configuration of its own: instructions written into it are ignored', async () => {
    const { checkpoint } = await waitingCheckpoint();
    const tampered = structuredClone(checkpoint);
    tampered.actors.find((a) => a.member === 'Refund')!.context.instructions = 'INJECTED';
    const after = supportDesk();
    const resumed = await after.orchestration.resume(tampered, fresh());
    await answerUser(resumed, ['order 42', null]);
    expect(after.refund.requests[0].messages[0].content).toContain('You refund orders.');
    expect(JSON.stringify(after.refund.requests)).not.toContain('INJECTED');
  });

  it('an API key never appears in a checkpoint (clients and functions stay out)', async () => {
    const secret = 'sk-test-DO-NOT-PERSIST-0123456789';
    const withKey = (inner: ChatClient): ChatClient & { apiKey: string } => ({
      apiKey: secret,
      complete: (request) => inner.complete(request),
      stream: (request) => inner.stream(request),
    });
    const desk = () => new HandoffOrchestration({
      id: 'keyed',
      members: [agent('Triage', withKey(scripted(() => transfer('Refund')))), agent('Refund', withKey(scripted(() => ({ text: 'Which order?' }))))],
      terminationCondition: () => false,
    });
    const { json } = await waitingCheckpoint(desk);
    expect(json).not.toContain(secret);
    expect(json).not.toContain('Bearer');
  });

  it('a busy invocation cannot be checkpointed: InvocationStateError says so; a settled one neither', async () => {
    const slow = new HandoffOrchestration({ id: 'slow', members: [agent('Solo', scripted([{ text: 'hi', delayMs: 50 }]))] });
    const runtime = fresh();
    const result = await slow.invoke('hello', runtime);
    await new Promise((r) => setTimeout(r, 5));
    await expect(result.checkpoint()).rejects.toThrow(InvocationStateError);
    await expect(result.checkpoint()).rejects.toThrow(/busy/);
    await nextHumanRequest(result);
    await settleDown(runtime, result.invocationId);
    await expect(result.checkpoint()).resolves.toMatchObject({ format: 'troupe.checkpoint', version: CHECKPOINT_VERSION, invocationId: result.invocationId });
    result.respond(result.pending[0].requestId, null);
    await result.get();
    await expect(result.checkpoint()).rejects.toThrow(InvocationStateError);
  });

  it('members never asked anything are not actors: the checkpoint keeps what they heard (parked), and after a resume under another prefix the one handed to speaks from the same conversation as in an uninterrupted run', async () => {
    // Triage asks the user first, then hands off to Refund; Billing is never asked anything.
    const desk = (id: string) => {
      const triage = scripted((request) => (request.messages.some((m) => m.role === 'user' && m.content === 'order 42') ? transfer('Refund') : { text: 'Which order?' }));
      const refund = scripted((request) => ({ text: `Refunded ${request.messages.filter((m) => m.role === 'user').at(-1)!.content}.` }));
      const billing = scripted(() => ({ text: 'never asked' }));
      const orchestration = new HandoffOrchestration({ id, members: [agent('Triage', triage), agent('Refund', refund), agent('Billing', billing)] });
      return { orchestration, refund, billing };
    };
    const plain = desk('desk');
    const reference = await answerUser(await plain.orchestration.invoke('refund please', fresh()), ['order 42', null]);

    const runtime = fresh();
    const first = await desk('desk').orchestration.invoke('refund please', runtime);
    await nextHumanRequest(first);
    await settleDown(runtime, first.invocationId);
    // Only the start agent exists among the members; the others' conversation is parked.
    expect(runtime.getActor({ type: 'desk.Refund', key: first.invocationId })).toBeUndefined();
    expect(runtime.getActor({ type: 'desk.Triage', key: first.invocationId })).toBeDefined();
    expect(runtime.stats.parked).toBeGreaterThan(0);
    const checkpoint = JSON.parse(JSON.stringify(await first.checkpoint())) as Checkpoint;
    expect(checkpoint.actors.map((a) => a.member ?? a.role).sort()).toEqual(['Triage', 'end', 'gateway', 'manager']);
    expect([...new Set(checkpoint.parked!.map((p) => p.member))].sort()).toEqual(['Billing', 'Refund']);

    const later = fresh();
    const resumedDesk = desk('desk2'); // another prefix: the parked messages' ids are moved to it
    const resumed = await resumedDesk.orchestration.resume(checkpoint, later);
    const output = await answerUser(resumed, ['order 42', null]);
    expect(said(output.conversation)).toEqual(said(reference.conversation));
    expect(output.lastAgent).toBe('Refund');
    // Refund heard the whole conversation (the parked part from before the checkpoint included).
    const asked = (client: ChatClient & { requests: ReadonlyArray<{ messages: Array<{ role: string; content: string }> }> }) => client.requests.map((r) => r.messages.map((m) => [m.role, m.content]));
    expect(asked(resumedDesk.refund)).toEqual(asked(plain.refund));
    expect(resumedDesk.billing.requests).toEqual([]);
    await later.stopWhenIdle();
    expect(later.stats.parked).toBe(0);
    expect(runActors(later)).toBe(0);
  });

  it('the checkpoint format: versioned JSON with the open requests, usage so far, the transcript and each actor', async () => {
    const { checkpoint } = await waitingCheckpoint();
    expect(checkpoint).toMatchObject({
      format: 'troupe.checkpoint',
      version: CHECKPOINT_VERSION,
      status: 'waiting',
      orchestration: { kind: 'HandoffOrchestration', prefix: 'support', members: ['Triage', 'Refund'] },
      usage: { byAgent: { Refund: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } } },
    });
    expect(said(checkpoint.transcript).map((m) => m[2])).toEqual(['refund please', '', 'Transferred to Refund.', 'Which order?']);
    expect(checkpoint.actors.map((a) => a.member ?? a.role).sort()).toEqual(['Refund', 'Triage', 'end', 'gateway', 'manager']);
    expect(new Date(checkpoint.savedAt).getTime()).not.toBeNaN();
  });
});

describe('resume errors: a CheckpointError naming the problem, nothing left on the runtime', () => {
  async function rejects(run: (runtime: InProcessRuntime) => Promise<unknown>, reason: string, message: RegExp): Promise<void> {
    const runtime = fresh();
    const error = await run(runtime).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).reason).toBe(reason);
    expect((error as CheckpointError).code).toBe('invalid_checkpoint');
    expect((error as Error).message).toMatch(message);
    expect(runtime.stats).toEqual({ actors: 0, factories: 0, subscriptions: 0, queued: 0, busy: 0, parked: 0 });
  }

  it('another orchestration kind', async () => {
    const { checkpoint } = await waitingCheckpoint();
    const sequential = new SequentialOrchestration({ members: [agent('Triage', scripted([])), agent('Refund', scripted([]))] });
    await rejects((rt) => sequential.resume(checkpoint, rt), 'kind', /saved by a HandoffOrchestration, not a SequentialOrchestration/);
  });

  it('a member set that changed, naming which', async () => {
    const { checkpoint } = await waitingCheckpoint();
    const changed = new HandoffOrchestration({ id: 'support', members: [agent('Triage', scripted([])), agent('Refunds', scripted([]))] });
    await rejects((rt) => changed.resume(checkpoint, rt), 'members', /no longer has "Refund" and now also has "Refunds"/);
  });

  it('an unsupported version', async () => {
    const { checkpoint } = await waitingCheckpoint();
    await rejects((rt) => supportDesk().orchestration.resume({ ...checkpoint, version: 99 } as unknown as Checkpoint, rt), 'version', /version 99 is not supported/);
  });

  it('a malformed field, named by its path', async () => {
    const { checkpoint } = await waitingCheckpoint();
    const bad = structuredClone(checkpoint);
    (bad.transcript[0] as { role: string }).role = 'robot';
    await rejects((rt) => supportDesk().orchestration.resume(bad, rt), 'malformed', /transcript\.0\.role/);
    const badHistory = structuredClone(checkpoint);
    const refund = badHistory.actors.find((a) => a.member === 'Refund')!;
    (refund.context.history as unknown[])[1] = { role: 'assistant' };
    await rejects((rt) => supportDesk().orchestration.resume(badHistory, rt), 'malformed', /actors\.\d\.context\.history\.1\.(id|content)/);
    await rejects((rt) => supportDesk().orchestration.resume({ hello: 'world' } as unknown as Checkpoint, rt), 'malformed', /Not a troupe checkpoint/);
  });

  it('an unknown invocation id in the store (or no store to look in)', async () => {
    const store = new MemoryCheckpointStore();
    await rejects((rt) => supportDesk().orchestration.resume('run_nope', rt, { checkpointStore: store }), 'not_found', /no checkpoint for invocation "run_nope"/);
    await rejects((rt) => supportDesk().orchestration.resume('run_nope', rt), 'not_found', /give the checkpointStore/);
  });

  it('resuming the same invocation twice on one runtime', async () => {
    const { checkpoint } = await waitingCheckpoint();
    const runtime = fresh();
    const support = supportDesk().orchestration;
    const once = await support.resume(checkpoint, runtime);
    await expect(support.resume(checkpoint, runtime)).rejects.toMatchObject({ reason: 'already_running' });
    // Another object of the same orchestration sees it too; the live run is untouched.
    await expect(supportDesk().orchestration.resume(checkpoint, runtime)).rejects.toThrow(/already running on this runtime/);
    expect(once.pending).toHaveLength(1);
    const output = await answerUser(once, ['order 42', null]);
    expect(output.reason).toBe('user_ended');
  });
});

describe('automatic checkpoints (checkpointStore)', () => {
  it('saves at every rest point and deletes the checkpoint when the run settles; list() shows who waits', async () => {
    const store = new MemoryCheckpointStore();
    const runtime = fresh();
    const support = supportDesk().orchestration;
    const result = await support.invoke('refund please', runtime, { checkpointStore: store });
    await nextHumanRequest(result);
    await expect.poll(() => store.list()).toEqual([
      { invocationId: result.invocationId, kind: 'HandoffOrchestration', status: 'waiting', updatedAt: expect.any(String), pending: [{ requestId: `${result.invocationId}:human:1`, kind: 'input', agent: 'Refund' }] },
    ]);
    result.respond(`${result.invocationId}:human:1`, 'order 42');
    await expect.poll(async () => (await store.load(result.invocationId))?.pending[0].requestId).toBe(`${result.invocationId}:human:2`);
    // Resumed elsewhere from the store, by id, with the store: the store follows the resumed run.
    const elsewhere = fresh();
    const resumed = await supportDesk().orchestration.resume(result.invocationId, elsewhere, { checkpointStore: store });
    resumed.respond(resumed.pending[0].requestId, null);
    await resumed.get();
    await expect.poll(() => store.list()).toEqual([]);
  });

  it('a cancelled run is deleted; a run whose runtime is closed under it (a shutdown) keeps its checkpoint', async () => {
    const store = new MemoryCheckpointStore();
    const runtime = fresh();
    const cancelled = await supportDesk().orchestration.invoke('refund please', runtime, { checkpointStore: store });
    await nextHumanRequest(cancelled);
    await expect.poll(async () => (await store.list()).length).toBe(1);
    cancelled.cancel();
    await expect.poll(async () => (await store.list()).length).toBe(0);

    const shutdown = new InProcessRuntime();
    shutdown.start();
    const kept = await supportDesk().orchestration.invoke('refund please', shutdown, { checkpointStore: store });
    await nextHumanRequest(kept);
    await expect.poll(async () => (await store.list()).length).toBe(1);
    await shutdown.close();
    await expect(kept.get()).rejects.toThrow(/closed/);
    await new Promise((r) => setTimeout(r, 20));
    expect((await store.list()).map((s) => s.invocationId)).toEqual([kept.invocationId]);
    const output = await answerUser(await supportDesk().orchestration.resume(kept.invocationId, fresh(), { checkpointStore: store }), ['order 42', null]);
    expect(output.reason).toBe('user_ended');
  });

  it('resume with an already-aborted signal: cancelled at once, nothing loaded, the checkpoint stays in the store', async () => {
    const store = new MemoryCheckpointStore();
    const first = await supportDesk().orchestration.invoke('refund please', fresh(), { checkpointStore: store });
    await nextHumanRequest(first);
    await first.saved();
    const runtime = fresh();
    const resumed = await supportDesk().orchestration.resume(first.invocationId, runtime, { checkpointStore: store, signal: AbortSignal.abort() });
    await expect(resumed.get()).rejects.toThrow(/aborted/);
    expect(runtime.stats).toMatchObject({ actors: 0, queued: 0, busy: 0 });
    expect((await store.list()).map((s) => s.invocationId)).toEqual([first.invocationId]);
  });

  it('a store that fails fails the run with a CheckpointError', async () => {
    const store = new MemoryCheckpointStore();
    store.save = async () => { throw new Error('disk full'); };
    const result = await supportDesk().orchestration.invoke('refund please', fresh(), { checkpointStore: store });
    await expect(result.get()).rejects.toThrow(/Could not save invocation .*disk full/);
    await expect(result.get()).rejects.toBeInstanceOf(CheckpointError);
  });
});

describe('every orchestration can be checkpointed while it waits on people', () => {
  it('sequential with humanReview: a review waiting is resumed, the feedback is answered again, the next member hears the approved turn', async () => {
    const build = () => {
      const writer = scripted((request) => ({ text: request.messages.some((m) => m.content === 'Shorter.') ? 'Boil fast.' : 'Kettles boil.' }));
      const editor = scripted((request) => ({ text: `Edited: ${request.messages.at(-1)!.content}` }));
      return { pipeline: new SequentialOrchestration({ id: 'slogans', members: [agent('Writer', writer), agent('Editor', editor)], humanReview: ['Writer'] }), editor };
    };
    const runtime = fresh();
    const first = await build().pipeline.invoke('A kettle slogan', runtime);
    await nextHumanRequest(first);
    await settleDown(runtime, first.invocationId);
    const checkpoint = JSON.parse(JSON.stringify(await first.checkpoint())) as Checkpoint;
    expect(checkpoint.pending).toEqual([{ requestId: expect.any(String), kind: 'review', agent: 'Writer' }]);
    const after = build();
    const resumed = await after.pipeline.resume(checkpoint, fresh());
    const seen: string[] = [];
    for await (const event of resumed.events) {
      if (event.type !== 'human_input_requested') continue;
      seen.push(event.message!.content);
      resumed.respond(event.requestId, event.message!.content === 'Kettles boil.' ? 'Shorter.' : '');
    }
    expect(seen).toEqual(['Kettles boil.', 'Boil fast.']);
    expect((await resumed.get()).messages[0].content).toBe('Edited: Boil fast.');
  });

  it('concurrent with two tool approvals open: approving one, then a checkpoint at the next rest point, then the other after a resume', async () => {
    const build = () => {
      const ran: string[] = [];
      const member = (name: string) => {
        const act = tool({ name: `act_${name}`, description: 'acts', parameters: z.object({}), needsApproval: true, execute: () => { ran.push(name); return `${name} done`; } });
        return agent(name, scripted((request) => (request.messages.at(-1)!.role === 'tool' ? { text: `${name} finished` } : { toolCalls: [{ name: `act_${name}`, arguments: {} }] })), { tools: [act] });
      };
      return { panel: new ConcurrentOrchestration({ id: 'panel', members: [member('A'), member('B')] }), ran };
    };
    const store = new MemoryCheckpointStore();
    const before = build();
    const runtime = fresh();
    const first = await before.panel.invoke('go', runtime, { checkpointStore: store });
    await expect.poll(async () => (await store.load(first.invocationId))?.pending.length).toBe(2);
    const [a] = first.pending.filter((r) => r.agent === 'A');
    first.approve(a.requestId);
    await expect.poll(async () => (await store.load(first.invocationId))?.pending.map((r) => r.agent)).toEqual(['B']);
    expect(before.ran).toEqual(['A']);
    await runtime.close();

    const after = build();
    const resumed = await after.panel.resume(first.invocationId, fresh(), { checkpointStore: store });
    expect(resumed.pending.map((r) => r.agent)).toEqual(['B']);
    resumed.approve(resumed.pending[0].requestId);
    const output = await resumed.get();
    expect(output.messages.map((m) => m.content)).toEqual(['A finished', 'B finished']);
    expect(after.ran).toEqual(['B']); // A's tool did not run again
    await expect.poll(() => store.list()).toEqual([]);
  });
});
