import { afterEach, describe, expect, it } from 'vitest';
import {
  AbortedError, AgentId, InProcessRuntime, UnknownAgentTypeError,
} from '../../src/runtime/index.js';
import { MyError, echo, rejecter, runtimeWithErrors, slowWorker, stuck, thrower, until, type Delivery } from './fixtures.js';

describe('sendMessage (RPC)', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('resolves with the value the actor replies with (replyCommand)', async () => {
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    runtime.registerFactory('echo', () => echo(log));
    runtime.start();
    const reply = await runtime.sendMessage({ type: 'ping', n: 7 }, new AgentId('echo', 'k'), { sender: new AgentId('caller', 'k') });
    expect(reply).toEqual({ pong: 7, by: 'echo/k' });
    expect(log).toEqual([expect.objectContaining({ agent: 'echo/k', type: 'ping', sender: 'caller/k', rpc: true, topic: undefined })]);
  });

  it('resolves with undefined when the actor handles the message without replying', async () => {
    runtime = new InProcessRuntime();
    const { counter } = await import('./fixtures.js');
    runtime.registerFactory('counter', () => counter);
    runtime.start();
    await expect(runtime.sendMessage({ type: 'inc' }, new AgentId('counter', 'k'))).resolves.toBeUndefined();
    await expect(runtime.sendMessage({ type: 'get' }, new AgentId('counter', 'k'))).resolves.toBe(1);
  });

  it('resolves with the reply an async (busy) step emits when it finishes', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('slow', () => slowWorker([], 2));
    runtime.start();
    await expect(runtime.sendMessage({ type: 'job', seq: 'only' }, new AgentId('slow', 'k'))).resolves.toBe('only');
    await runtime.stopWhenIdle();
  });

  it('concurrent RPCs to one actor each get their own reply', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('echo', () => echo());
    runtime.start();
    const replies = await Promise.all([1, 2, 3].map((n) => runtime.sendMessage({ type: 'ping', n }, new AgentId('echo', 'k'))));
    expect(replies).toEqual([1, 2, 3].map((n) => ({ pong: n, by: 'echo/k' })));
  });

  it('rejects with the error the actor replies with, class and fields kept (replyErrorCommand)', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('rejecter', () => rejecter);
    runtime.start();
    const error = await runtime.sendMessage({ type: 'ping' }, new AgentId('rejecter', 'k')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MyError);
    expect(error).toMatchObject({ name: 'MyError', code: 'my_error', message: 'cannot handle "ping"' });
    // The actor is still alive: replying with an error is not a crash.
    expect(runtime.getActor(new AgentId('rejecter', 'k'))).toBeDefined();
  });

  it('rejects with the very error an action threw', async () => {
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    runtime.registerFactory('thrower', () => thrower);
    runtime.start();
    const error = await runtime.sendMessage({ type: 'ping' }, new AgentId('thrower', 'k')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MyError);
    expect((error as MyError).message).toBe('exploded on "ping"');
    await runtime.stopWhenIdle();
    // The caller got the error; the crashed actor is gone and a new message gets a fresh one.
    expect(runtime.getActor(new AgentId('thrower', 'k'))).toBeUndefined();
    expect(errors).toEqual([]);
    runtime.start(); // stopWhenIdle stopped delivery
    await expect(runtime.sendMessage({ type: 'again' }, new AgentId('thrower', 'k'))).rejects.toBeInstanceOf(MyError);
  });

  it('rejects with UnknownAgentTypeError for an unregistered type, and stopWhenIdle still resolves', async () => {
    runtime = new InProcessRuntime();
    runtime.start();
    const error = await runtime.sendMessage({ type: 'ping' }, new AgentId('ghost', 'k')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownAgentTypeError);
    expect(error).toMatchObject({ code: 'unknown_agent_type', agentType: 'ghost' });
    expect((error as Error).message).toContain('"ghost"');
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
    expect(runtime.stats).toMatchObject({ actors: 0, queued: 0, busy: 0 });
  });

  it('an AbortSignal aborted while the reply is pending rejects with AbortedError', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('stuck', () => stuck);
    runtime.start();
    const controller = new AbortController();
    const pending = runtime.sendMessage({ type: 'work' }, new AgentId('stuck', 'k'), { signal: controller.signal });
    await until(() => runtime.stats.busy === 1, 'stuck/k busy with the RPC');
    controller.abort(new Error('user gave up'));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error).toMatchObject({ code: 'aborted' });
    expect((error as AbortedError).cause).toEqual(new Error('user gave up'));
  });

  it('an already-aborted signal rejects at once and delivers nothing', async () => {
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    runtime.registerFactory('echo', () => echo(log));
    runtime.start();
    const controller = new AbortController();
    controller.abort();
    await expect(runtime.sendMessage({ type: 'ping' }, new AgentId('echo', 'k'), { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    await runtime.stopWhenIdle();
    expect(log).toEqual([]);
    expect(runtime.stats.actors).toBe(0);
  });

  it('a message aborted while queued is never delivered', async () => {
    runtime = new InProcessRuntime(); // not started: the message waits in the queue
    const log: Delivery[] = [];
    runtime.registerFactory('echo', () => echo(log));
    const controller = new AbortController();
    const pending = runtime.sendMessage({ type: 'ping' }, new AgentId('echo', 'k'), { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    runtime.start();
    await runtime.stopWhenIdle();
    expect(log).toEqual([]);
  });
});
