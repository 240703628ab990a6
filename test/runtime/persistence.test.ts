import { afterEach, describe, expect, it } from 'vitest';
import { AgentId, InProcessRuntime, InvalidArgumentError, TopicId, TypeSubscription, UnknownAgentTypeError, type RuntimeState } from '../../src/runtime/index.js';
import { counter, recorder, type Delivery } from './fixtures.js';

describe('saveState / loadState', () => {
  const runtimes: InProcessRuntime[] = [];
  const make = () => {
    const runtime = new InProcessRuntime();
    runtimes.push(runtime);
    runtime.registerFactory('counter', () => counter);
    runtime.addSubscription(new TypeSubscription('counts', 'counter'));
    return runtime;
  };
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.close();
  });

  it("round-trips an actor's context and a queued message through JSON into a fresh runtime", async () => {
    const first = make();
    first.start();
    await first.sendMessage({ type: 'inc', by: 5 }, new AgentId('counter', 'c1'));
    await first.sendMessage({ type: 'inc', by: 2 }, new AgentId('counter', 'c1'));
    await first.stopWhenIdle(); // stopped: the next message stays queued
    await first.publishMessage({ type: 'inc', by: 100 }, new TopicId('counts', 'c1'));
    expect(first.stats.queued).toBe(1);

    const json = JSON.stringify(await first.saveState());
    const state = JSON.parse(json) as RuntimeState;
    expect(state.actors).toHaveLength(1);
    expect(state.queue).toEqual([expect.objectContaining({ message: { type: 'inc', by: 100 }, recipient: { type: 'counter', key: 'c1' } })]);

    const second = make();
    await second.loadState(state);
    expect(second.getActor(new AgentId('counter', 'c1'))!.getSnapshot().context.count).toBe(7);
    second.start();
    await second.stopWhenIdle();
    second.start();
    await expect(second.sendMessage({ type: 'get' }, new AgentId('counter', 'c1'))).resolves.toBe(107);
  });

  it('keeps the topic of queued publishes and the state of actors created by processNext', async () => {
    const log: Delivery[] = [];
    const first = new InProcessRuntime();
    runtimes.push(first);
    first.registerFactory('rec', () => recorder(log));
    first.addSubscription(new TypeSubscription('chat', 'rec'));
    await first.publishMessage({ type: 'one' }, new TopicId('chat', 'r'), { sender: new AgentId('someone', 'r') });
    await first.publishMessage({ type: 'two' }, new TopicId('chat', 'r'));
    first.processNext();
    const state = JSON.parse(JSON.stringify(await first.saveState())) as RuntimeState;
    expect(state.queue).toEqual([{ message: { type: 'two' }, recipient: { type: 'rec', key: 'r' }, topic: { type: 'chat', source: 'r' } }]);

    const replayLog: Delivery[] = [];
    const second = new InProcessRuntime();
    runtimes.push(second);
    second.registerFactory('rec', () => recorder(replayLog));
    await second.loadState(state);
    second.start();
    await second.stopWhenIdle();
    expect(replayLog).toEqual([expect.objectContaining({ agent: 'rec/r', type: 'two', topic: 'chat/r' })]);
    expect(second.getActor(new AgentId('rec', 'r'))!.getSnapshot().context.count).toBe(2);
  });

  it('refuses a state that is not a runtime state, or names a type with no factory', async () => {
    const runtime = make();
    await expect(runtime.loadState({ nope: true } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    const error = await runtime.loadState({ version: 1, actors: [{ id: { type: 'ghost', key: 'k' }, snapshot: {} }], queue: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownAgentTypeError);
    expect((error as Error).message).toContain('"ghost"');
  });
});
