import { afterEach, describe, expect, it } from 'vitest';
import { InProcessRuntime, TopicId, TypeSubscription } from '../../src/runtime/index.js';
import { forwarder, type Delivery } from './fixtures.js';

describe('cascades', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('stopWhenIdle drains a chain of actors that publish while handling, several hops deep', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    const stages = 6;
    for (let i = 0; i < stages; i++) {
      runtime.registerFactory(`stage${i}`, () => forwarder(log, `topic${(i + 1) % stages}`));
      runtime.addSubscription(new TypeSubscription(`topic${i}`, `stage${i}`));
    }
    runtime.start();
    const hops = 20; // wraps around the ring of stages more than three times
    await runtime.publishMessage({ type: 'hop', n: hops }, new TopicId('topic0', 'conv'));
    await runtime.stopWhenIdle();

    expect(log).toHaveLength(hops + 1);
    expect(log.map((d) => d.message.n)).toEqual(Array.from({ length: hops + 1 }, (_, i) => hops - i));
    expect(log.map((d) => d.agent)).toEqual(Array.from({ length: hops + 1 }, (_, i) => `stage${i % stages}/conv`));
    // Each hop after the first names the previous stage as sender.
    expect(log.slice(1).map((d) => d.sender)).toEqual(log.slice(0, -1).map((d) => d.agent));
    expect(runtime.stats).toMatchObject({ queued: 0, busy: 0, actors: stages });
  });

  it('a fan-out cascade (every stage has two subscribers) is fully drained', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    const depth = 5;
    for (let i = 0; i < depth; i++) {
      for (const side of ['l', 'r']) {
        runtime.registerFactory(`s${i}${side}`, () => forwarder(log, `t${i + 1}`));
        runtime.addSubscription(new TypeSubscription(`t${i}`, `s${i}${side}`));
      }
    }
    runtime.start();
    await runtime.publishMessage({ type: 'hop', n: depth - 1 }, new TopicId('t0', 'x'));
    await runtime.stopWhenIdle();
    // Level i receives 2^(i+1) messages (two subscribers, each getting every message of the level above ×2).
    const expected = Array.from({ length: depth }, (_, i) => 2 ** (i + 1)).reduce((a, b) => a + b, 0);
    expect(log).toHaveLength(expected);
    expect(runtime.stats.queued).toBe(0);
  });

  it('independent cascades on separate sources do not interfere', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('ping', () => forwarder(log, 'pong'));
    runtime.registerFactory('pong', () => forwarder(log, 'ping'));
    runtime.addSubscription(new TypeSubscription('ping', 'ping'));
    runtime.addSubscription(new TypeSubscription('pong', 'pong'));
    runtime.start();
    await Promise.all(['a', 'b', 'c'].map((source) => runtime.publishMessage({ type: 'hop', n: 9 }, new TopicId('ping', source))));
    await runtime.stopWhenIdle();
    for (const source of ['a', 'b', 'c']) {
      const mine = log.filter((d) => d.agent.endsWith(`/${source}`));
      expect(mine.map((d) => d.message.n)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    }
    expect(runtime.stats.actors).toBe(6);
  });
});
