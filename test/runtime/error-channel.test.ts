import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentId, InProcessRuntime, TopicId, TypeSubscription, UnknownAgentTypeError,
} from '../../src/runtime/index.js';
import { MyError, complainer, failsAtStart, recorder, runtimeWithErrors, sender, thrower, type Delivery } from './fixtures.js';

describe('error channel (runtime.onError)', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('a handler that throws while handling a publish reaches the error channel with the agent id', async () => {
    const log: Delivery[] = [];
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    runtime.registerFactory('thrower', () => thrower);
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'thrower'));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    runtime.start();
    await runtime.publishMessage({ type: 'boom' }, new TopicId('chat', 'r'), { sender: new AgentId('someone', 'r') });
    await runtime.stopWhenIdle();

    expect(errors).toHaveLength(1);
    const [event] = errors;
    expect(event.error).toBeInstanceOf(MyError);
    expect((event.error as Error).message).toBe('exploded on "boom"');
    expect(event.agent).toEqual(new AgentId('thrower', 'r'));
    expect(event.message).toEqual({ type: 'boom' });
    expect(event.topic).toEqual(new TopicId('chat', 'r'));
    expect(event.sender).toEqual(new AgentId('someone', 'r'));
    // The other subscriber is unaffected.
    expect(log.map((d) => d.agent)).toEqual(['rec/r']);
  });

  it('errorCommand reports through the channel without stopping the actor', async () => {
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    runtime.registerFactory('complainer', () => complainer);
    runtime.addSubscription(new TypeSubscription('chat', 'complainer'));
    runtime.start();
    await runtime.publishMessage({ type: 'meh' }, new TopicId('chat', 'r'));
    await runtime.stopWhenIdle();
    expect(errors).toEqual([expect.objectContaining({ agent: new AgentId('complainer', 'r'), message: { type: 'meh' } })]);
    expect(errors[0].error).toBeInstanceOf(MyError);
    expect(runtime.getActor(new AgentId('complainer', 'r'))).toBeDefined();
  });

  it('a fire-and-forget send (sendCommand) to an unknown type is reported', async () => {
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    runtime.registerFactory('sender', () => sender);
    runtime.start();
    await runtime.sendMessage({ type: 'forward', to: { type: 'nobody', key: 'k' }, payload: 1 }, new AgentId('sender', 'k'));
    await runtime.stopWhenIdle();
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toBeInstanceOf(UnknownAgentTypeError);
    expect(errors[0].agent).toEqual({ type: 'nobody', key: 'k' });
    expect(errors[0].sender).toEqual(new AgentId('sender', 'k'));
  });

  it('a publish to a subscription whose type has no factory is reported, not swallowed', async () => {
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    runtime.addSubscription(new TypeSubscription('chat', 'unregistered'));
    runtime.start();
    await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'r'));
    await runtime.stopWhenIdle();
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toBeInstanceOf(UnknownAgentTypeError);
    expect(errors[0].agent).toEqual({ type: 'unregistered', key: 'r' });
  });

  it('the listener can unsubscribe; a throwing listener does not break delivery', async () => {
    runtime = new InProcessRuntime();
    const seen: unknown[] = [];
    const off = runtime.onError(() => {
      throw new Error('listener bug');
    });
    runtime.onError((e) => seen.push(e.error));
    const origError = console.error;
    const logged: unknown[][] = [];
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      runtime.registerFactory('thrower', () => thrower);
      runtime.addSubscription(new TypeSubscription('chat', 'thrower'));
      runtime.start();
      await runtime.publishMessage({ type: 'a' }, new TopicId('chat', 'r'));
      await runtime.stopWhenIdle();
      off();
      runtime.start();
      await runtime.publishMessage({ type: 'b' }, new TopicId('chat', 'r'));
      await runtime.stopWhenIdle();
    } finally {
      console.error = origError;
    }
    expect(seen).toHaveLength(2);
    expect(logged.filter((args) => String(args[0]).includes('onError listener threw'))).toHaveLength(1);
  });

  it('an actor that fails as it starts: the RPC that created it rejects with the error', async () => {
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    runtime.registerFactory('fragile', () => failsAtStart);
    runtime.start();
    const error = await runtime.sendMessage({ type: 'hello' }, new AgentId('fragile', 'k')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MyError);
    expect((error as Error).message).toBe('cannot start');
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
    expect(errors).toEqual([]); // the caller got it; reported once, not twice
    expect(runtime.stats.actors).toBe(0);
  });

  it('an actor that fails as it starts on a publish is reported once, with the message', async () => {
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    runtime.registerFactory('fragile', () => failsAtStart);
    runtime.addSubscription(new TypeSubscription('chat', 'fragile'));
    runtime.start();
    await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'r'));
    await runtime.stopWhenIdle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ agent: { type: 'fragile', key: 'r' }, message: { type: 'hello' } });
    expect(errors[0].error).toBeInstanceOf(MyError);
  });
});
