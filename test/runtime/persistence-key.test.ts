import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentId, InProcessRuntime, InvalidArgumentError, RuntimeStateSchema, TopicId, TypeSubscription, UnknownAgentTypeError, type RuntimeState,
} from '../../src/runtime/index.js';
import { counter } from './fixtures.js';

describe('saveState / loadState for one key', () => {
  const runtimes: InProcessRuntime[] = [];
  const make = () => {
    const runtime = new InProcessRuntime();
    runtimes.push(runtime);
    runtime.registerFactory('counter', () => counter);
    runtime.registerFactory('tally', () => counter);
    runtime.addSubscription(new TypeSubscription('counts', 'counter'));
    return runtime;
  };
  const count = (runtime: InProcessRuntime, type: string, key: string) => runtime.sendMessage<number>({ type: 'get' }, new AgentId(type, key));
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.close();
  });

  /** Two conversations, c1 and c2, each with two actors and a message queued behind them. */
  async function twoConversations() {
    const runtime = make();
    runtime.start();
    for (const [key, by] of [['c1', 1], ['c2', 10]] as const) {
      await runtime.sendMessage({ type: 'inc', by }, new AgentId('counter', key));
      await runtime.sendMessage({ type: 'inc', by: by * 2 }, new AgentId('tally', key));
    }
    await runtime.stopWhenIdle(); // stopped: the next publishes stay queued
    await runtime.publishMessage({ type: 'inc', by: 100 }, new TopicId('counts', 'c1'));
    await runtime.publishMessage({ type: 'inc', by: 1000 }, new TopicId('counts', 'c2'));
    return runtime;
  }

  it('saves one key out of two conversations and continues it in a fresh runtime', async () => {
    const first = await twoConversations();
    const saved = JSON.parse(JSON.stringify(await first.saveState({ key: 'c1' }))) as RuntimeState;
    expect(saved.version).toBe(2);
    expect(saved.key).toBe('c1');
    expect(saved.actors.map((a) => a.id)).toEqual([{ type: 'counter', key: 'c1' }, { type: 'tally', key: 'c1' }]);
    expect(saved.queue).toEqual([{ message: { type: 'inc', by: 100 }, recipient: { type: 'counter', key: 'c1' }, topic: { type: 'counts', source: 'c1' } }]);
    expect(RuntimeStateSchema.safeParse(saved).success).toBe(true);

    const second = make();
    await second.loadState(saved, { key: 'c1' });
    expect(second.stats).toMatchObject({ actors: 2, queued: 1 });
    second.start();
    await expect(count(second, 'counter', 'c1')).resolves.toBe(101);
    await expect(count(second, 'tally', 'c1')).resolves.toBe(2);
    await second.sendMessage({ type: 'inc', by: 5 }, new AgentId('counter', 'c1'));
    await expect(count(second, 'counter', 'c1')).resolves.toBe(106);
    expect(second.getActor(new AgentId('counter', 'c2'))).toBeUndefined();
  });

  it("loads one key into a runtime that hosts other keys, replacing that key's actors and leaving the others alone", async () => {
    const first = await twoConversations();
    const everything = await first.saveState();
    const target = make();
    target.start();
    await target.sendMessage({ type: 'inc', by: 7 }, new AgentId('counter', 'c1'));
    await target.sendMessage({ type: 'inc', by: 3 }, new AgentId('counter', 'c2'));
    await target.sendMessage({ type: 'inc', by: 4 }, new AgentId('counter', 'c3'));

    // A whole-runtime state can be loaded for one of its keys.
    await target.loadState(everything, { key: 'c1' });
    await expect(count(target, 'counter', 'c1')).resolves.toBe(101);
    await expect(count(target, 'tally', 'c1')).resolves.toBe(2);
    await expect(count(target, 'counter', 'c2')).resolves.toBe(3);
    await expect(count(target, 'counter', 'c3')).resolves.toBe(4);
    expect(target.getActor(new AgentId('tally', 'c2'))).toBeUndefined();
  });

  it('refuses another version, a malformed field (named by its path), and a state saved for another key', async () => {
    const runtime = make();
    const v2 = await runtime.loadState({ version: 99, actors: [], queue: [] } as never).catch((e: unknown) => e);
    expect(v2).toBeInstanceOf(InvalidArgumentError);
    expect((v2 as Error).message).toMatch(/version 99 .*versions 1 and 2/);

    const bad = await runtime.loadState({ version: 1, actors: [{ id: { type: 5, key: 'k' }, snapshot: {} }], queue: [] } as never).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect((bad as Error).message).toContain('actors.0.id.type');

    const noType = await runtime.loadState({ version: 1, actors: [], queue: [{ message: {}, recipient: { type: 'counter', key: 'k' } }] } as never).catch((e: unknown) => e);
    expect((noType as Error).message).toContain('queue.0.message.type');

    const saved = await (await twoConversations()).saveState({ key: 'c1' });
    await expect(runtime.loadState(saved, { key: 'c2' })).rejects.toThrow(/"c1".*"c2"/);
  });

  it('fails with UnknownAgentTypeError before changing anything', async () => {
    const source = await twoConversations();
    source.registerFactory('ghost', () => counter);
    source.start();
    await source.sendMessage({ type: 'inc' }, new AgentId('ghost', 'c1'));
    const saved = await source.saveState({ key: 'c1' });

    const target = make(); // no 'ghost' factory
    target.start();
    await target.sendMessage({ type: 'inc', by: 9 }, new AgentId('counter', 'c1'));
    const error = await target.loadState(saved, { key: 'c1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownAgentTypeError);
    await expect(count(target, 'counter', 'c1')).resolves.toBe(9);
    expect(target.stats.actors).toBe(1);
  });
});
