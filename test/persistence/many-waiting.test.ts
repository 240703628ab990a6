import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcessRuntime, SqliteCheckpointStore, type OrchestrationResult, type OrchestrationOutput } from '../../src/index.js';
import { supportDesk } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-many-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A seeded shuffle, so a failure can be replayed. */
function pick<T>(items: T[], count: number, seed = 42): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, count);
}

describe('SqliteCheckpointStore at scale', () => {
  it('1,000 conversations waiting at once in one store: list them, resume a random 100 on another runtime, finish them; nothing lost or duplicated', async () => {
    const file = join(root, 'many.db');
    const store = new SqliteCheckpointStore(file);
    const first = new InProcessRuntime();
    const second = new InProcessRuntime();
    first.start();
    second.start();
    try {
      const support = supportDesk().orchestration;
      const results: Array<OrchestrationResult<OrchestrationOutput>> = [];
      for (let i = 0; i < 1000; i++) results.push(await support.invoke(`refund please (${i})`, first, { checkpointStore: store }));
      await expect.poll(async () => (await store.list()).length, { timeout: 20_000 }).toBe(1000);
      const listed = await store.list();
      const ids = results.map((r) => r.invocationId);
      expect(new Set(listed.map((s) => s.invocationId))).toEqual(new Set(ids));
      expect(listed.every((s) => s.pending.length === 1 && s.pending[0].requestId === `${s.invocationId}:human:1`)).toBe(true);
      // The first process goes away (its runtime is closed: the checkpoints stay).
      await first.close();
      expect((await store.list()).length).toBe(1000);

      const chosen = pick(ids, 100);
      const resumer = supportDesk().orchestration;
      const outputs = await Promise.all(chosen.map(async (id) => {
        const resumed = await resumer.resume(id, second, { checkpointStore: store });
        expect(resumed.pending).toEqual([{ requestId: `${id}:human:1`, kind: 'input', agent: 'Refund', recipient: expect.objectContaining({ key: id }) }]);
        resumed.respond(`${id}:human:1`, `order ${id}`);
        for await (const event of resumed.events) if (event.type === 'human_input_requested' && event.requestId === `${id}:human:2`) resumed.respond(event.requestId, null);
        return { id, output: await resumed.get() };
      }));
      for (const { id, output } of outputs) {
        expect(output.reason).toBe('user_ended');
        // Each conversation kept its own task and its own answer: nothing crossed over.
        const n = ids.indexOf(id);
        expect(output.conversation[0].content).toBe(`refund please (${n})`);
        expect(output.messages[0].content).toBe(`Refunded order ${id}.`);
      }
      await expect.poll(async () => (await store.list()).length, { timeout: 10_000 }).toBe(900);
      const left = new Set((await store.list()).map((s) => s.invocationId));
      expect(chosen.some((id) => left.has(id))).toBe(false);
      expect(ids.filter((id) => !chosen.includes(id)).every((id) => left.has(id))).toBe(true);
    } finally {
      await first.close();
      await second.close();
      store.close();
    }
  }, 60_000);
});
