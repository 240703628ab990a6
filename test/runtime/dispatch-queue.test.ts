import { describe, expect, it } from 'vitest';
import {
  createDispatchQueue, pushDeliveries, pushDelivery, queuedCount, queuedDeliveries, queuedForKey, removeDeliveries, shiftDelivery, unshiftDeliveries,
} from '../../src/runtime/dispatch-queue.js';
import type { Envelope } from '../../src/runtime/envelope.js';

const env = (type: string) => ({ id: type, message: { type } }) as unknown as Envelope;

describe('dispatch queue', () => {
  it('counts queued deliveries per key through push, shift, remove and unshift', () => {
    const q = createDispatchQueue();
    pushDelivery(q, env('a'), { type: 't', key: 'k1' });
    pushDeliveries(q, env('b'), [{ type: 't', key: 'k1' }, { type: 'u', key: 'k1' }, { type: 'v', key: 'k2' }]);
    expect([queuedCount(q), queuedForKey(q, 'k1'), queuedForKey(q, 'k2'), queuedForKey(q, 'k3')]).toEqual([4, 3, 1, 0]);

    const first = shiftDelivery(q)!;
    expect(first.env.message.type).toBe('a');
    expect(queuedForKey(q, 'k1')).toBe(2);
    const removed = removeDeliveries(q, (d) => d.recipient.type === 'u');
    expect(removed.map((d) => d.recipient.type)).toEqual(['u']);
    expect(queuedForKey(q, 'k1')).toBe(1);

    unshiftDeliveries(q, [first]);
    expect(queuedForKey(q, 'k1')).toBe(2);
    expect(queuedDeliveries(q, 'k1').map((d) => d.env.message.type)).toEqual(['a', 'b']);
    expect(queuedDeliveries(q).map((d) => `${d.recipient.type}/${d.recipient.key}`)).toEqual(['t/k1', 't/k1', 'v/k2']);
    while (shiftDelivery(q));
    expect([queuedCount(q), queuedForKey(q, 'k1'), queuedForKey(q, 'k2')]).toEqual([0, 0, 0]);
  });

  it('keeps its per-key counts bounded as keys come and go', () => {
    const q = createDispatchQueue();
    for (let i = 0; i < 50_000; i++) {
      pushDelivery(q, env('m'), { type: 't', key: `run-${i}` });
      shiftDelivery(q);
    }
    expect(q.byKey.size).toBeLessThanOrEqual(2048);
  });
});
