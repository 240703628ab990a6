import { afterEach, describe, expect, it } from 'vitest';
import { emit, setup, type AnyActorRef, type InspectionEvent } from 'xstate';
import {
  AgentId, InProcessRuntime, InvalidArgumentError, TopicId, TypeSubscription, publishCommand,
  type MessageEvent, type RuntimeCommand, type RuntimeErrorEvent,
} from '../../src/runtime/index.js';
import { echo, recorder, sender, type Delivery } from './fixtures.js';

const chat = (key: string) => new TopicId('chat', key);
const member = (key: string) => new AgentId('member', key);

/**
 * `member` (createOnSend, answers every message) and `rec` (an ordinary recorder) both hear topic
 * `chat`; `created` counts the member actors made.
 */
function setupRuntime(options: { createOnSend?: boolean; runtime?: InProcessRuntime } = {}) {
  const runtime = options.runtime ?? new InProcessRuntime();
  const log: Delivery[] = [];
  const counts = { created: 0 };
  runtime.registerFactory('member', () => {
    counts.created++;
    return echo(log);
  }, { createOnSend: options.createOnSend ?? true });
  runtime.registerFactory('rec', () => recorder(log));
  runtime.addSubscription(new TypeSubscription('chat', 'member'));
  runtime.addSubscription(new TypeSubscription('chat', 'rec'));
  const errors: RuntimeErrorEvent[] = [];
  runtime.onError((e) => errors.push(e));
  const heard = (agent: string) => log.filter((d) => d.agent === agent).map((d) => d.type);
  return { runtime, log, counts, errors, heard };
}

describe('registerFactory({ createOnSend }): created by the first message sent, broadcasts wait for it', () => {
  const runtimes: InProcessRuntime[] = [];
  const track = <T extends { runtime: InProcessRuntime }>(t: T): T => (runtimes.push(t.runtime), t);
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.close();
  });

  it('parks published messages per AgentId, in order, and hands them over before the sent one that creates the actor', async () => {
    const { runtime, counts, heard, errors } = track(setupRuntime());
    runtime.start();
    await runtime.publishMessage({ type: 'a' }, chat('k1'));
    await runtime.publishMessage({ type: 'b' }, chat('k1'));
    await runtime.publishMessage({ type: 'other' }, chat('k2'));
    await runtime.stopWhenIdle(); // does not wait for the parked ones
    runtime.start();

    expect(counts.created).toBe(0);
    expect(runtime.getActor(member('k1'))).toBeUndefined();
    expect(heard('rec/k1')).toEqual(['a', 'b']); // an ordinary subscriber is created by the publish
    expect(runtime.stats).toMatchObject({ actors: 2, parked: 3, queued: 0, busy: 0 });
    // At rest: parked messages are not queued work (checkpoints rely on it).
    expect(runtime.keyStatus('k1')).toEqual({ actors: 1, queued: 0, busy: 0 });

    const reply = await runtime.sendMessage<{ pong: number }>({ type: 'ping', n: 7 }, member('k1'));
    expect(reply).toEqual({ pong: 7, by: 'member/k1' });
    expect(counts.created).toBe(1);
    expect(heard('member/k1')).toEqual(['a', 'b', 'ping']);
    expect(runtime.stats.parked).toBe(1); // k2's is still waiting

    // Once it exists, a publish reaches it like any actor.
    await runtime.publishMessage({ type: 'c' }, chat('k1'));
    await runtime.stopWhenIdle();
    expect(heard('member/k1')).toEqual(['a', 'b', 'ping', 'c']);
    expect(heard('member/k2')).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a runtime.send command from an actor creates it too, and the parked messages keep their envelope (topic, not an RPC)', async () => {
    const { runtime, log, heard } = track(setupRuntime());
    runtime.registerFactory('sender', () => sender);
    runtime.start();
    await runtime.publishMessage({ type: 'task' }, chat('k1'));
    await runtime.sendMessage({ type: 'forward', payload: 1, to: member('k1') }, new AgentId('sender', 'k1'));
    await runtime.stopWhenIdle();
    expect(heard('member/k1')).toEqual(['task', 'forwarded']);
    const [task, forwarded] = log.filter((d) => d.agent === 'member/k1');
    expect(task).toMatchObject({ topic: 'chat/k1', rpc: false });
    expect(forwarded).toMatchObject({ sender: 'sender/k1', topic: undefined, rpc: false });
  });

  it('stopWhenIdle does not wait for parked messages: once stepped out of the queue, the runtime is at rest', async () => {
    const { runtime } = track(setupRuntime());
    await runtime.publishMessage({ type: 'a' }, chat('k1'));
    // Not started: queued, so stopWhenIdle reports the stall rather than hang.
    await expect(runtime.stopWhenIdle()).rejects.toThrow(/queued but the runtime is not started/);
    while (runtime.processNext());
    expect(runtime.stats).toMatchObject({ queued: 0, parked: 1 });
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
  });

  it('retireKey drops the key\'s parked messages without error reports; a later send creates a fresh actor without them', async () => {
    const { runtime, heard, errors } = track(setupRuntime());
    runtime.start();
    await runtime.publishMessage({ type: 'a' }, chat('k1'));
    await runtime.publishMessage({ type: 'b' }, chat('k2'));
    await runtime.stopWhenIdle();
    runtime.start();
    runtime.retireKey('k1');
    expect(runtime.stats.parked).toBe(1);
    await runtime.sendMessage({ type: 'ping' }, member('k1'));
    await runtime.sendMessage({ type: 'ping' }, member('k2'));
    expect(heard('member/k1')).toEqual(['ping']);
    expect(heard('member/k2')).toEqual(['b', 'ping']);
    expect(errors).toEqual([]);
  });

  it('unregisterFactory and close drop parked messages without error reports', async () => {
    const { runtime, errors } = track(setupRuntime());
    runtime.start();
    await runtime.publishMessage({ type: 'a' }, chat('k1'));
    await runtime.publishMessage({ type: 'b' }, chat('k2'));
    await runtime.stopWhenIdle();
    expect(runtime.stats.parked).toBe(2); // so the drop below has something to drop
    runtime.unregisterFactory('member');
    expect(runtime.stats.parked).toBe(0);

    // Registered again without the option: a publish creates the actor, and nothing old is replayed.
    const after: Delivery[] = [];
    runtime.registerFactory('member', () => recorder(after));
    runtime.start();
    await runtime.publishMessage({ type: 'c' }, chat('k1'));
    await runtime.stopWhenIdle();
    expect(runtime.getActor(member('k1'))).toBeDefined();
    expect(after.map((d) => d.type)).toEqual(['c']);
    expect(runtime.stats.parked).toBe(0);

    const other = track(setupRuntime());
    other.runtime.start();
    await other.runtime.publishMessage({ type: 'a' }, chat('k1'));
    await other.runtime.stopWhenIdle();
    expect(other.runtime.stats.parked).toBe(1);
    await other.runtime.close();
    expect(other.runtime.stats.parked).toBe(0);
    expect([...errors, ...other.errors.filter((e) => (e.agent as AgentId | undefined)?.type === 'member')]).toEqual([]);
  });

  it('a factory that fails leaves the parked messages parked for the next send', async () => {
    const runtime = new InProcessRuntime();
    runtimes.push(runtime);
    const log: Delivery[] = [];
    let fail = true;
    runtime.registerFactory('member', () => {
      if (fail) throw new Error('not yet');
      return echo(log);
    }, { createOnSend: true });
    runtime.addSubscription(new TypeSubscription('chat', 'member'));
    runtime.start();
    await runtime.publishMessage({ type: 'a' }, chat('k1'));
    await expect(runtime.sendMessage({ type: 'ping' }, member('k1'))).rejects.toThrow('not yet');
    expect(runtime.stats.parked).toBe(1);
    fail = false;
    await runtime.sendMessage({ type: 'ping' }, member('k1'));
    expect(log.map((d) => d.type)).toEqual(['a', 'ping']);
  });

  it('saveState keeps parked messages apart (all, or one key\'s) and loadState parks them again', async () => {
    const { runtime } = track(setupRuntime());
    runtime.start();
    await runtime.publishMessage({ type: 'a', n: 1 }, chat('k1'));
    await runtime.publishMessage({ type: 'b' }, chat('k1'), { sender: new AgentId('human', 'k1') });
    await runtime.publishMessage({ type: 'c' }, chat('k2'));
    await runtime.stopWhenIdle();

    const all = await runtime.saveState();
    expect(all.queue).toEqual([]);
    expect(all.parked).toEqual([
      { message: { type: 'a', n: 1 }, recipient: { type: 'member', key: 'k1' }, topic: { type: 'chat', source: 'k1' } },
      { message: { type: 'b' }, recipient: { type: 'member', key: 'k1' }, sender: { type: 'human', key: 'k1' }, topic: { type: 'chat', source: 'k1' } },
      { message: { type: 'c' }, recipient: { type: 'member', key: 'k2' }, topic: { type: 'chat', source: 'k2' } },
    ]);
    const k1 = await runtime.saveState({ key: 'k1' });
    expect(k1.parked?.map((p) => p.message.type)).toEqual(['a', 'b']);
    // None parked: no field (states saved before this option read the same).
    runtime.retireKey('k1');
    runtime.retireKey('k2');
    expect((await runtime.saveState()).parked).toBeUndefined();

    // Restored parked: not queued work, handed over when the actor is sent something.
    const fresh = track(setupRuntime());
    await fresh.runtime.loadState(JSON.parse(JSON.stringify(k1)), { key: 'k1' });
    expect(fresh.runtime.stats).toMatchObject({ queued: 0, parked: 2, actors: 1 });
    expect(fresh.runtime.keyStatus('k1').queued).toBe(0);
    fresh.runtime.start();
    await fresh.runtime.sendMessage({ type: 'ping' }, member('k1'));
    expect(fresh.heard('member/k1')).toEqual(['a', 'b', 'ping']);
    expect(fresh.log.find((d) => d.type === 'b')).toMatchObject({ sender: 'human/k1', topic: 'chat/k1', rpc: false });

    // A keyed load replaces the key's parked messages as a whole.
    const again = track(setupRuntime());
    again.runtime.start();
    await again.runtime.publishMessage({ type: 'stale' }, chat('k1'));
    await again.runtime.stopWhenIdle();
    await again.runtime.loadState(k1, { key: 'k1' });
    again.runtime.start();
    await again.runtime.sendMessage({ type: 'ping' }, member('k1'));
    expect(again.heard('member/k1')).toEqual(['a', 'b', 'ping']);

    // Where the type is an ordinary one, they are ordinary queued messages (and create the actor).
    const eager = track(setupRuntime({ createOnSend: false }));
    await eager.runtime.loadState(k1);
    expect(eager.runtime.stats).toMatchObject({ queued: 2, parked: 0 });
    eager.runtime.start();
    await eager.runtime.stopWhenIdle();
    expect(eager.heard('member/k1')).toEqual(['a', 'b']);
  });

  it('refuses a malformed parked entry, naming it', async () => {
    const { runtime } = track(setupRuntime());
    const state = { version: 1 as const, actors: [], queue: [], parked: [{ message: { type: 'a' }, recipient: { type: 'member', key: 'k1' } }] };
    await expect(runtime.loadState(state as never)).rejects.toThrow(/parked\.0\.topic/);
  });

  it('the inspector sees a parked message routed when it is delivered, from its original source', async () => {
    const events: InspectionEvent[] = [];
    const { runtime } = track(setupRuntime({ runtime: new InProcessRuntime({ inspect: (e) => events.push(e) }) }));
    const announcer = setup({ types: { events: {} as MessageEvent, emitted: {} as RuntimeCommand } }).createMachine({
      on: { go: { actions: emit(() => publishCommand({ type: 'news' }, chat('k1'))) } },
    });
    runtime.registerFactory('announcer', () => announcer);
    runtime.start();
    await runtime.sendMessage({ type: 'go' }, new AgentId('announcer', 'k1'));
    await runtime.stopWhenIdle();
    const routed = () => events.filter((e): e is Extract<InspectionEvent, { type: '@xstate.event' }> => e.type === '@xstate.event' && e.event.type === 'news');
    expect(routed().map((e) => (e.actorRef as AnyActorRef).id)).toEqual(['rec/k1']);
    runtime.start();
    await runtime.sendMessage({ type: 'ping' }, member('k1'));
    const news = routed().find((e) => (e.actorRef as AnyActorRef).id === 'member/k1')!;
    expect((news.sourceRef as AnyActorRef).id).toBe('announcer/k1');
  });

  it('rejects options that are not an object', () => {
    const runtime = new InProcessRuntime();
    runtimes.push(runtime);
    expect(() => runtime.registerFactory('member', () => recorder([]), null as never)).toThrow(InvalidArgumentError);
    expect(runtime.stats.factories).toBe(0);
  });
  it('a long parked list is handed over without overflowing the stack', async () => {
    const { runtime, heard } = track(setupRuntime());
    runtime.start();
    const n = 150_000;
    for (let i = 0; i < n; i++) void runtime.publishMessage({ type: 'news', i }, chat('k'));
    await runtime.stopWhenIdle();
    expect(runtime.stats.parked).toBe(n);
    const saved = await runtime.saveState({ key: 'k' });
    expect(saved.parked).toHaveLength(n);
    runtime.start();
    await runtime.sendMessage({ type: 'ping' }, member('k'));
    expect(heard('member/k')).toHaveLength(n + 1);
    expect(runtime.stats.parked).toBe(0);
  });

  it('a whole-state load: what was parked here for an actor it restores is delivered to it; a parked list it brings replaces this one', async () => {
    const a = track(setupRuntime());
    a.runtime.start();
    await a.runtime.sendMessage({ type: 'ping' }, member('k'));
    await a.runtime.publishMessage({ type: 'for-j' }, chat('j'));
    const saved = await a.runtime.saveState(); // the actor member/k, and member/j's parked broadcast
    const b = track(setupRuntime());
    b.runtime.start();
    await b.runtime.publishMessage({ type: 'before-load' }, chat('k')); // parked here for member/k
    await b.runtime.publishMessage({ type: 'j-here' }, chat('j')); // parked here for member/j
    await b.runtime.stopWhenIdle();
    expect(b.runtime.stats.parked).toBe(2);
    await b.runtime.loadState(saved);
    b.runtime.start();
    await b.runtime.stopWhenIdle();
    // member/k exists now: it gets what waited for it, as it would have had it been queued.
    expect(b.heard('member/k')).toEqual(['before-load']);
    // member/j's list is the state's, not the state's plus this runtime's (nothing twice, nothing stranded).
    expect(b.runtime.stats.parked).toBe(1);
    b.runtime.start();
    await b.runtime.sendMessage({ type: 'ping' }, member('j'));
    expect(b.heard('member/j')).toEqual(['for-j', 'ping']);
    const again = await b.runtime.saveState();
    expect(again.parked ?? []).toEqual([]);
  });
});
