import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentId, InProcessRuntime, MessageDroppedError, RuntimeStateError, TopicId, TypeSubscription, type AgentRuntime,
} from '../../src/runtime/index.js';
import { Gates, echo, finisher, gatedWorker, oneShot, recorder, runtimeWithErrors, sender, stuck, until, type Delivery } from './fixtures.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('lifecycle', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('unregisterFactory stops the actors of that type and forgets the type', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('rec', () => recorder(log));
    runtime.registerFactory('other', () => recorder(log));
    runtime.start();
    await runtime.sendMessage({ type: 'hi' }, new AgentId('rec', 'a'));
    await runtime.sendMessage({ type: 'hi' }, new AgentId('rec', 'b'));
    await runtime.sendMessage({ type: 'hi' }, new AgentId('other', 'a'));
    const refA = runtime.getActor(new AgentId('rec', 'a'))!;
    expect(runtime.stats.actors).toBe(3);

    runtime.unregisterFactory('rec');
    expect(refA.getSnapshot().status).toBe('stopped');
    expect(runtime.getActor(new AgentId('rec', 'a'))).toBeUndefined();
    expect(runtime.getActor(new AgentId('rec', 'b'))).toBeUndefined();
    expect(runtime.getActor(new AgentId('other', 'a'))).toBeDefined();
    expect(runtime.stats).toMatchObject({ actors: 1, factories: 1 });
    // The type can be registered again.
    runtime.registerFactory('rec', () => recorder(log));
  });

  it('unregisterFactory rejects the RPCs its actors were handling or had queued', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('stuck', () => stuck);
    runtime.start();
    const inFlight = runtime.sendMessage({ type: 'work' }, new AgentId('stuck', 'k'));
    const waiting = runtime.sendMessage({ type: 'more' }, new AgentId('stuck', 'k'));
    await until(() => runtime.stats.busy === 1 && runtime.stats.queued === 1, 'stuck/k busy with one message, holding the other');
    runtime.unregisterFactory('stuck');
    await expect(inFlight).rejects.toBeInstanceOf(MessageDroppedError);
    await expect(waiting).rejects.toBeInstanceOf(MessageDroppedError);
    expect(runtime.stats).toMatchObject({ busy: 0, actors: 0, queued: 0 });
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
  });

  it('close() rejects pending RPCs (in flight and still queued) with RuntimeStateError and stops every actor', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('stuck', () => stuck);
    runtime.registerFactory('echo', () => echo());
    runtime.start();
    const inFlight = runtime.sendMessage({ type: 'work' }, new AgentId('stuck', 'k'));
    await until(() => runtime.stats.busy === 1, 'stuck/k busy');
    const ref = runtime.getActor(new AgentId('stuck', 'k'))!;
    await runtime.stop();
    const queued = runtime.sendMessage({ type: 'ping' }, new AgentId('echo', 'k'));
    const idle = runtime.stopWhenIdle();

    await runtime.close();
    await expect(inFlight).rejects.toBeInstanceOf(RuntimeStateError);
    await expect(queued).rejects.toBeInstanceOf(RuntimeStateError);
    await expect(idle).resolves.toBeUndefined();
    expect(ref.getSnapshot().status).toBe('stopped');
    expect(runtime.stats).toMatchObject({ actors: 0, queued: 0, busy: 0 });
    // A closed runtime refuses new work.
    await expect(runtime.sendMessage({ type: 'ping' }, new AgentId('echo', 'k'))).rejects.toBeInstanceOf(RuntimeStateError);
    await expect(runtime.publishMessage({ type: 'x' }, new TopicId('chat', 'k'))).rejects.toBeInstanceOf(RuntimeStateError);
    expect(() => runtime.start()).toThrow(RuntimeStateError);
  });

  it('await using disposes the runtime', async () => {
    let pending: Promise<unknown>;
    {
      await using rt = new InProcessRuntime();
      rt.registerFactory('stuck', () => stuck);
      rt.start();
      pending = rt.sendMessage({ type: 'work' }, new AgentId('stuck', 'k'));
      pending.catch(() => {});
      await until(() => rt.stats.busy === 1, 'stuck/k busy');
    }
    await expect(pending).rejects.toBeInstanceOf(RuntimeStateError);
  });

  it('an actor that reaches a final state is removed; its reply still arrives; the next message creates a fresh one', async () => {
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    let created = 0;
    runtime.registerFactory('fin', () => {
      created++;
      return finisher;
    });
    runtime.start();
    const id = new AgentId('fin', 'k');
    await expect(runtime.sendMessage({ type: 'ping' }, id)).resolves.toBe('pong');
    const first = runtime.getActor(id)!;
    await expect(runtime.sendMessage({ type: 'finish' }, id)).resolves.toBe('bye');
    expect(first.getSnapshot().status).toBe('done');
    expect(runtime.getActor(id)).toBeUndefined();
    expect(runtime.stats.actors).toBe(0);

    await expect(runtime.sendMessage({ type: 'ping' }, id)).resolves.toBe('pong');
    expect(created).toBe(2);
    expect(runtime.getActor(id)).not.toBe(first);
    await runtime.stopWhenIdle();
    expect(errors).toEqual([]);
  });

  it('messages queued behind the message that finishes an actor are delivered to a fresh instance', async () => {
    runtime = new InProcessRuntime();
    let created = 0;
    runtime.registerFactory('fin', () => {
      created++;
      return finisher;
    });
    const id = new AgentId('fin', 'k');
    const replies = Promise.all([runtime.sendMessage({ type: 'finish' }, id), runtime.sendMessage({ type: 'ping' }, id)]);
    runtime.start();
    await expect(replies).resolves.toEqual(['bye', 'pong']);
    expect(created).toBe(2);
  });

  it('stats reports actors, factories, subscriptions, queued and busy counts', async () => {
    runtime = new InProcessRuntime();
    expect(runtime.stats).toEqual({ actors: 0, factories: 0, subscriptions: 0, queued: 0, busy: 0, parked: 0 });
    runtime.registerFactory('stuck', () => stuck);
    runtime.registerFactory('echo', () => echo());
    runtime.addSubscription(new TypeSubscription('chat', 'echo'));
    await runtime.publishMessage({ type: 'a' }, new TopicId('chat', 'r'));
    await runtime.publishMessage({ type: 'b' }, new TopicId('chat', 'r'));
    expect(runtime.stats).toEqual({ actors: 0, factories: 2, subscriptions: 1, queued: 2, busy: 0, parked: 0 });

    runtime.start();
    const first = runtime.sendMessage({ type: 'work' }, new AgentId('stuck', 'k'));
    const second = runtime.sendMessage({ type: 'work' }, new AgentId('stuck', 'k'));
    first.catch(() => {});
    second.catch(() => {});
    await until(() => runtime.stats.busy === 1 && runtime.stats.actors === 2, 'stuck/k busy');
    // echo/r and stuck/k exist; stuck/k is busy with one message and holds the other in its mailbox.
    expect(runtime.stats).toEqual({ actors: 2, factories: 2, subscriptions: 1, queued: 1, busy: 1, parked: 0 });
  });

  it('stop() pauses delivery until start()', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('rec', () => recorder(log));
    runtime.start();
    await runtime.stop();
    const reply = runtime.sendMessage({ type: 'y' }, new AgentId('rec', 'k'));
    await tick();
    expect(log).toEqual([]);
    runtime.start();
    await runtime.stopWhenIdle();
    await reply;
    expect(log.map((d) => d.type)).toEqual(['y']);
  });

  it('messages waiting in the mailbox of an actor that reaches a final state go to a fresh instance', async () => {
    runtime = new InProcessRuntime();
    let created = 0;
    runtime.registerFactory('once', () => {
      created++;
      return oneShot(2);
    });
    runtime.start();
    const id = new AgentId('once', 'k');
    const replies = await Promise.all(['a', 'b', 'c'].map((seq) => runtime.sendMessage({ type: 'job', seq }, id)));
    expect(replies).toEqual(['a', 'b', 'c']);
    expect(created).toBe(3);
    await runtime.stopWhenIdle();
    expect(runtime.stats).toMatchObject({ actors: 0, queued: 0, busy: 0 });
  });

  it('sendCommand delivers fire-and-forget: the recipient sees rpc false and the sender', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('sender', () => sender);
    runtime.registerFactory('rec', () => recorder(log));
    runtime.start();
    await runtime.sendMessage({ type: 'forward', to: { type: 'rec', key: 'z' }, payload: 42 }, new AgentId('sender', 'k'));
    await runtime.stopWhenIdle();
    expect(log).toEqual([{ agent: 'rec/z', type: 'forwarded', message: { type: 'forwarded', payload: 42 }, sender: 'sender/k', topic: undefined, rpc: false }]);
  });

  it('stopWhenIdle on a stopped runtime rejects (rather than hangs) once the busy actor it waited for is done', async () => {
    const gates = new Gates();
    runtime = new InProcessRuntime();
    runtime.registerFactory('worker', () => gatedWorker([], gates));
    const first = runtime.sendMessage({ type: 'job', seq: 1 }, new AgentId('worker', 'k'));
    expect(runtime.processNext()).toBe(true);
    expect(runtime.stats.busy).toBe(1); // the worker is busy until its gate opens
    const second = runtime.sendMessage({ type: 'job', seq: 2 }, new AgentId('worker', 'k'));
    second.catch(() => {});
    expect(runtime.stats.queued).toBe(1);
    let settled = false;
    const idle = runtime.stopWhenIdle();
    idle.then(() => (settled = true), () => (settled = true));
    await tick();
    expect(settled).toBe(false); // it waits for the busy worker...
    gates.open(1);
    await expect(first).resolves.toBe(1);
    // ...and then rejects: 'job 2' is queued and nothing will deliver it.
    await expect(idle).rejects.toBeInstanceOf(RuntimeStateError);
  });
  it('isRunning: false before start(), true while delivering, false after stop(), stopWhenIdle() and close()', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('echo', () => echo());
    expect(runtime.isRunning).toBe(false);
    runtime.start();
    expect(runtime.isRunning).toBe(true);
    await runtime.stop();
    expect(runtime.isRunning).toBe(false);
    runtime.start();
    await expect(runtime.sendMessage({ type: 'ping', n: 1 }, new AgentId('echo', 'k'))).resolves.toEqual({ pong: 1, by: 'echo/k' });
    const idle = runtime.stopWhenIdle();
    await idle;
    expect(runtime.isRunning).toBe(false);
    runtime.start();
    expect(runtime.isRunning).toBe(true);
    await runtime.close();
    expect(runtime.isRunning).toBe(false);
  });

  it('isRunning is part of the AgentRuntime contract', () => {
    const contract: AgentRuntime = new InProcessRuntime();
    runtime = contract as InProcessRuntime;
    expect(contract.isRunning).toBe(false);
  });
});
