/**
 * Cost of one automatic checkpoint of a waiting 4-agent handoff conversation (the
 * customer-support team, scripted model, waiting for the customer after a handoff and a tool
 * call): taking the checkpoint (`result.checkpoint()`: the runtime's keyed snapshot, configuration
 * stripped) and saving it to each store — memory, file (temp file + rename, flushed) and SQLite
 * (better-sqlite3, WAL, synchronous=NORMAL) — beside a plain `JSON.stringify` of the same
 * checkpoint object (the baseline). Median µs per checkpoint over REPEATS rounds of N; bytes =
 * the checkpoint's JSON. Every round's last save is loaded back and validated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileCheckpointStore, InProcessRuntime, MemoryCheckpointStore, SqliteCheckpointStore, parseCheckpoint,
  type Checkpoint, type CheckpointStore,
} from '../src/index.js';
import { OPENING_LINE } from '../examples/customer-support/customer.js';
import { createScriptedModel } from '../examples/customer-support/scripted-model.js';
import { createSupportOrchestration, createSupportTeam } from '../examples/customer-support/support-team.js';
import { check, medianOf, now, printTable, runMain } from './support.js';

const N = Number(process.env.BENCH_CHECKPOINTS ?? 500);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

runMain(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-checkpoint-bench-'));
  const runtime = new InProcessRuntime();
  runtime.start();
  const sqlite = new SqliteCheckpointStore(join(dir, 'bench.db'));
  try {
    const support = createSupportOrchestration(createSupportTeam(createScriptedModel()));
    const result = await support.invoke(OPENING_LINE, runtime);
    for await (const event of result.events) if (event.type === 'human_input_requested') break;
    while (runtime.keyStatus(result.invocationId).busy > 0 || runtime.keyStatus(result.invocationId).queued > 0) await new Promise((r) => setImmediate(r));
    const sample = await result.checkpoint();
    // Triage and OrderStatus (they spoke), the coordinator, the gateway and the end executor; the
    // 2 members never asked are no actors, only the broadcasts parked for them.
    check(sample.actors.length === 5 && (sample.parked?.length ?? 0) > 0 && sample.pending.length === 1, `a waiting 4-agent conversation (${sample.actors.length} actors, ${sample.parked?.length ?? 0} parked)`);
    const bytes = Buffer.byteLength(JSON.stringify(sample));
    const runtimeStateBytes = Buffer.byteLength(JSON.stringify(await runtime.saveState({ key: result.invocationId })));

    const perCheckpoint = (once: () => Promise<void> | void) => medianOf(REPEATS, async () => {
      const start = now();
      for (let i = 0; i < N; i++) await once();
      return ((now() - start) / N) * 1e6;
    });
    const stringify = await perCheckpoint(() => void JSON.stringify(sample));
    const take = await perCheckpoint(async () => void (await result.checkpoint()));
    const stores: Array<[string, CheckpointStore]> = [
      ['memory', new MemoryCheckpointStore()],
      ['file', new FileCheckpointStore(join(dir, 'files'))],
      ['SQLite', sqlite],
    ];
    const rows: Array<Array<string | number>> = [
      ['JSON.stringify of the checkpoint (baseline)', stringify, 1, bytes],
      ['take it: result.checkpoint()', take, take / stringify, bytes],
    ];
    for (const [name, store] of stores) {
      let last: Checkpoint | undefined;
      const cost = await perCheckpoint(async () => {
        last = await result.checkpoint();
        await store.save(result.invocationId, last);
      });
      const loaded = parseCheckpoint(await store.load(result.invocationId));
      check(loaded.invocationId === result.invocationId && loaded.transcript.length === last!.transcript.length, `${name} store round trip`);
      rows.push([`take + save: ${name} store`, cost, cost / stringify, bytes]);
    }
    console.log(`One automatic checkpoint of a waiting 4-agent handoff conversation (${sample.transcript.length} messages; N=${N}, median of ${REPEATS}).`);
    console.log(`The runtime's own saveState({ key }) of the same run, configuration included: ${runtimeStateBytes} bytes.`);
    printTable(['what', 'µs / checkpoint', '× JSON.stringify', 'bytes'], rows);
    result.respond(result.pending[0].requestId, null);
    await result.get();
  } finally {
    await runtime.close();
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
