import { afterEach, describe, expect, it } from 'vitest';
import { AgentId, InProcessRuntime, TopicId, TypeSubscription } from '../../src/runtime/index.js';
import { recorder, type Delivery } from './fixtures.js';

/** Registers a recorder for 'rec' on topic 'chat' and counts the actors its factory creates. */
function countingRecorder(runtime: InProcessRuntime, log: Delivery[]): { created: number } {
  const counts = { created: 0 };
  runtime.registerFactory('rec', () => {
    counts.created++;
    return recorder(log);
  });
  runtime.addSubscription(new TypeSubscription('chat', 'rec'));
  return counts;
}

describe('lazy creation', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('creates no actor before its first message, then exactly one on the first message', async () => {
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    const factory = countingRecorder(runtime, log);
    runtime.start();

    expect(factory.created).toBe(0);
    expect(runtime.getActor(new AgentId('rec', 'room-1'))).toBeUndefined();
    expect(runtime.stats.actors).toBe(0);

    await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'room-1'));
    await runtime.stopWhenIdle();

    expect(factory.created).toBe(1);
    expect(runtime.getActor(new AgentId('rec', 'room-1'))).toBeDefined();
    expect(log).toEqual([expect.objectContaining({ agent: 'rec/room-1', type: 'hello', topic: 'chat/room-1' })]);
  });

  it('passes the AgentId to the factory and as input to logic returned bare', async () => {
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    const seen: string[] = [];
    runtime.registerFactory('rec', ({ id }) => {
      seen.push(String(id));
      return recorder(log);
    });
    runtime.start();
    await runtime.sendMessage({ type: 'hi' }, new AgentId('rec', 'k1'));
    expect(seen).toEqual(['rec/k1']);
    expect(runtime.getActor({ type: 'rec', key: 'k1' })!.getSnapshot().context.agentId).toEqual({ type: 'rec', key: 'k1' });
  });

  it('creates one actor per AgentId: two topic sources give two actors, one source gives one', async () => {
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    const factory = countingRecorder(runtime, log);
    runtime.start();

    await runtime.publishMessage({ type: 'm1' }, new TopicId('chat', 'a'));
    await runtime.publishMessage({ type: 'm2' }, new TopicId('chat', 'a'));
    await runtime.publishMessage({ type: 'm3' }, new TopicId('chat', 'a'));
    await runtime.stopWhenIdle();
    expect(factory.created).toBe(1);

    runtime.start();
    await runtime.publishMessage({ type: 'm4' }, new TopicId('chat', 'b'));
    await runtime.stopWhenIdle();
    expect(factory.created).toBe(2);
    expect(runtime.stats.actors).toBe(2);

    const a = runtime.getActor(new AgentId('rec', 'a'))!;
    const b = runtime.getActor(new AgentId('rec', 'b'))!;
    expect(a).not.toBe(b);
    expect(a.getSnapshot().context.count).toBe(3);
    expect(b.getSnapshot().context.count).toBe(1);
    expect(log.map((d) => `${d.agent}:${d.type}`)).toEqual(['rec/a:m1', 'rec/a:m2', 'rec/a:m3', 'rec/b:m4']);
  });

  it('a sendMessage and a publish to the same AgentId reach the same instance', async () => {
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    const factory = countingRecorder(runtime, log);
    runtime.start();
    await runtime.publishMessage({ type: 'via_topic' }, new TopicId('chat', 'x'));
    await runtime.sendMessage({ type: 'direct' }, new AgentId('rec', 'x'));
    await runtime.stopWhenIdle();
    expect(factory.created).toBe(1);
    expect(runtime.getActor(new AgentId('rec', 'x'))!.getSnapshot().context.count).toBe(2);
  });

  it('a subscription matching by prefix delivers to the same lazily-created actor once', async () => {
    const { TypePrefixSubscription } = await import('../../src/runtime/index.js');
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('audit.login', 'rec'));
    runtime.addSubscription(new TypePrefixSubscription('audit.', 'rec'));
    runtime.start();
    await runtime.publishMessage({ type: 'login' }, new TopicId('audit.login', 's'));
    await runtime.publishMessage({ type: 'logout' }, new TopicId('audit.logout', 's'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.type)).toEqual(['login', 'logout']);
    expect(runtime.stats.actors).toBe(1);
  });
});
