import { afterEach, describe, expect, it } from 'vitest';
import { AgentId, InProcessRuntime, RuntimeStateError, TopicId, TypeSubscription } from '../../src/runtime/index.js';
import { echo, forwarder, recorder, type Delivery } from './fixtures.js';

describe('processNext (manual stepping, runtime not started)', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('delivers one message per call, in order, and returns false when the queue is empty', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('a', () => recorder(log));
    runtime.registerFactory('b', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'a'));
    runtime.addSubscription(new TypeSubscription('chat', 'b'));
    await runtime.publishMessage({ type: 'm1' }, new TopicId('chat', 'r'));
    await runtime.publishMessage({ type: 'm2' }, new TopicId('chat', 'r'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(log).toEqual([]);
    expect(runtime.stats.queued).toBe(4);

    const steps: string[][] = [];
    while (runtime.processNext()) steps.push(log.map((d) => `${d.agent}:${d.type}`));
    expect(steps).toEqual([
      ['a/r:m1'],
      ['a/r:m1', 'b/r:m1'],
      ['a/r:m1', 'b/r:m1', 'a/r:m2'],
      ['a/r:m1', 'b/r:m1', 'a/r:m2', 'b/r:m2'],
    ]);
    expect(runtime.processNext()).toBe(false);
    expect(runtime.stats.queued).toBe(0);
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
  });

  it('messages an actor publishes while stepped are queued, not delivered, until the next step', () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('first', () => forwarder(log, 'second'));
    runtime.registerFactory('second', () => forwarder(log, 'first'));
    runtime.addSubscription(new TypeSubscription('first', 'first'));
    runtime.addSubscription(new TypeSubscription('second', 'second'));
    void runtime.publishMessage({ type: 'hop', n: 2 }, new TopicId('first', 's'));

    expect(runtime.processNext()).toBe(true);
    expect(log.map((d) => `${d.agent}:${d.message.n}`)).toEqual(['first/s:2']);
    expect(runtime.stats.queued).toBe(1);
    expect(runtime.processNext()).toBe(true);
    expect(log.map((d) => `${d.agent}:${d.message.n}`)).toEqual(['first/s:2', 'second/s:1']);
    expect(runtime.processNext()).toBe(true);
    expect(runtime.processNext()).toBe(false);
    expect(log.map((d) => d.message.n)).toEqual([2, 1, 0]);
  });

  it('an RPC resolves when its step is processed', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('echo', () => echo());
    let reply: unknown;
    const pending = runtime.sendMessage({ type: 'ping', n: 1 }, new AgentId('echo', 'k')).then((r) => (reply = r));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reply).toBeUndefined();
    expect(runtime.processNext()).toBe(true);
    await pending;
    expect(reply).toEqual({ pong: 1, by: 'echo/k' });
  });

  it('stopWhenIdle on a stopped runtime with queued messages rejects instead of hanging', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('a', () => recorder(log));
    void runtime.sendMessage({ type: 'waiting' }, new AgentId('a', 'k'));
    await expect(runtime.stopWhenIdle()).rejects.toBeInstanceOf(RuntimeStateError);
    expect(runtime.processNext()).toBe(true);
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
  });
});
