import { afterEach, describe, expect, it } from 'vitest';
import { fromPromise, setup } from 'xstate';
import {
  AgentId, BUSY_TAG, InProcessRuntime, MessageDroppedError, TopicId, TypeSubscription, type MessageEvent,
} from '../../src/runtime/index.js';
import { Gates, counter, gatedWorker, recorder, runtimeWithErrors, stuck, type Delivery } from './fixtures.js';

/** Busy until its invoked work is aborted; counts the aborts in `aborts`. */
function abortable(aborts: string[]) {
  return setup({
    types: { events: {} as MessageEvent },
    actors: {
      work: fromPromise(({ signal, input }: { signal: AbortSignal; input: string }) => new Promise<never>(() => {
        signal.addEventListener('abort', () => aborts.push(input));
      })),
    },
  }).createMachine({
    id: 'abortable',
    initial: 'idle',
    states: {
      idle: { on: { '*': 'working' } },
      working: { tags: [BUSY_TAG], invoke: { src: 'work', input: ({ self }) => self.id } },
    },
  });
}

describe('retireKey', () => {
  const runtimes: InProcessRuntime[] = [];
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.close();
  });
  const track = <T extends { runtime: InProcessRuntime }>(made: T): T => {
    runtimes.push(made.runtime);
    return made;
  };

  it("stops only that key's actors, keeps factories and subscriptions, and a later message creates a fresh actor", async () => {
    const { runtime, errors } = track(runtimeWithErrors());
    runtime.registerFactory('counter', () => counter);
    runtime.registerFactory('other', () => counter);
    runtime.addSubscription(new TypeSubscription('counts', 'counter'));
    runtime.start();
    for (const key of ['run-1', 'run-2']) {
      await runtime.sendMessage({ type: 'inc', by: 5 }, new AgentId('counter', key));
      await runtime.sendMessage({ type: 'inc', by: 1 }, new AgentId('other', key));
    }
    expect(runtime.stats.actors).toBe(4);

    runtime.retireKey('run-1');
    expect(runtime.stats).toMatchObject({ actors: 2, factories: 2, subscriptions: 1, queued: 0, busy: 0 });
    expect(runtime.getActor(new AgentId('counter', 'run-1'))).toBeUndefined();
    expect(runtime.getActor(new AgentId('other', 'run-1'))).toBeUndefined();
    await expect(runtime.sendMessage({ type: 'get' }, new AgentId('counter', 'run-2'))).resolves.toBe(5);

    // Lazily re-created, from scratch, through a subscription as well as directly.
    await runtime.publishMessage({ type: 'inc', by: 2 }, new TopicId('counts', 'run-1'));
    await expect(runtime.sendMessage({ type: 'get' }, new AgentId('counter', 'run-1'))).resolves.toBe(2);
    await runtime.stopWhenIdle();
    expect(errors).toEqual([]); // idle actors retire silently
  });

  it('rejects an RPC in flight with MessageDroppedError naming the key and aborts the invoked work', async () => {
    const aborts: string[] = [];
    const { runtime, errors } = track(runtimeWithErrors());
    runtime.registerFactory('slow', () => abortable(aborts));
    runtime.start();
    const inFlight = runtime.sendMessage({ type: 'work' }, new AgentId('slow', 'run-1'));
    const other = runtime.sendMessage({ type: 'work' }, new AgentId('slow', 'run-2'));
    other.catch(() => {}); // settled by close()
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(runtime.stats.busy).toBe(2);

    runtime.retireKey('run-1');
    const error = await inFlight.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageDroppedError);
    expect((error as Error).message).toContain('"run-1"');
    expect(aborts).toEqual(['slow/run-1']);
    expect(runtime.stats).toMatchObject({ actors: 1, busy: 1 });
    expect(errors).toEqual([]);
  });

  it('rejects the RPCs waiting in a retired actor\'s mailbox', async () => {
    const trace: string[] = [];
    const gates = new Gates();
    const { runtime } = track(runtimeWithErrors());
    runtime.registerFactory('worker', () => gatedWorker(trace, gates));
    runtime.start();
    const to = new AgentId('worker', 'run-1');
    const first = runtime.sendMessage({ type: 'job', seq: 1 }, to);
    const second = runtime.sendMessage({ type: 'job', seq: 2 }, to);
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(runtime.stats).toMatchObject({ busy: 1, queued: 1 });

    runtime.retireKey('run-1');
    await expect(first).rejects.toBeInstanceOf(MessageDroppedError);
    await expect(second).rejects.toBeInstanceOf(MessageDroppedError);
    expect(runtime.stats).toMatchObject({ actors: 0, busy: 0, queued: 0 });
    expect(trace).toEqual(['started:1']);
    await runtime.stopWhenIdle(); // nothing left to wait for
  });

  it('drops the deliveries queued for the key (RPCs reject naming it) and keeps the others in order', async () => {
    const log: Delivery[] = [];
    const { runtime, errors } = track(runtimeWithErrors());
    runtime.registerFactory('rec', () => recorder(log));
    runtime.registerFactory('stuck', () => stuck);
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    // Not started: everything stays queued.
    const rpc = runtime.sendMessage({ type: 'ask' }, new AgentId('stuck', 'run-1'));
    await runtime.publishMessage({ type: 'one' }, new TopicId('chat', 'run-1'));
    await runtime.publishMessage({ type: 'two' }, new TopicId('chat', 'run-2'));
    await runtime.publishMessage({ type: 'three' }, new TopicId('chat', 'run-2'));
    expect(runtime.stats.queued).toBe(4);

    runtime.retireKey('run-1');
    const error = await rpc.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageDroppedError);
    expect((error as Error).message).toContain('"run-1"');
    expect(runtime.stats.queued).toBe(2);

    runtime.start();
    await runtime.stopWhenIdle();
    expect(log.map((d) => `${d.agent}:${d.type}`)).toEqual(['rec/run-2:two', 'rec/run-2:three']);
    expect(errors).toEqual([]);
  });

  it('is a no-op for a key with no actors and nothing queued', async () => {
    const { runtime } = track(runtimeWithErrors());
    runtime.registerFactory('counter', () => counter);
    runtime.start();
    await runtime.sendMessage({ type: 'inc' }, new AgentId('counter', 'a'));
    runtime.retireKey('nobody');
    expect(runtime.stats.actors).toBe(1);
    expect(() => runtime.retireKey(42 as never)).toThrow(/string/);
  });

  it('a message still inside an async intervention when its key is retired does not bring the actors back', async () => {
    const slow = { onPublish: async (m: unknown) => { await new Promise((r) => setTimeout(r, 20)); return m; }, onSend: async (m: unknown) => { await new Promise((r) => setTimeout(r, 20)); return m; } };
    const runtime = new InProcessRuntime({ interventions: [slow as never] });
    runtimes.push(runtime);
    runtime.registerFactory('counter', () => counter);
    runtime.addSubscription(new TypeSubscription('t', 'counter'));
    runtime.start();
    const published = runtime.publishMessage({ type: 'tick' }, new TopicId('t', 'run1'));
    const rpc = runtime.sendMessage({ type: 'tick' }, new AgentId('counter', 'run1'));
    const other = runtime.sendMessage({ type: 'tick' }, new AgentId('counter', 'run2'));
    runtime.retireKey('run1');
    await published;
    await expect(rpc).rejects.toBeInstanceOf(MessageDroppedError);
    await other;
    await runtime.stopWhenIdle();
    expect(runtime.getActor(new AgentId('counter', 'run1'))).toBeUndefined();
    expect(runtime.getActor(new AgentId('counter', 'run2'))).toBeDefined();
    // Once the chain is empty, the key may be used again.
    runtime.start();
    await runtime.sendMessage({ type: 'tick' }, new AgentId('counter', 'run1'));
    expect(runtime.getActor(new AgentId('counter', 'run1'))).toBeDefined();
  });
});
