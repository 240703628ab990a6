import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FileCheckpointStore, MemoryCheckpointStore, SqliteCheckpointStore, type Checkpoint, type CheckpointStore, type InProcessRuntime,
} from '../../src/index.js';
import { nextHumanRequest, startedRuntime } from '../orchestrations/helpers.js';
import { said, supportDesk } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-stores-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const folder = () => join(root, `case-${++n}`);

function checkpoint(id: string, savedAt: string, requestId = `${id}:human:1`): Checkpoint {
  return {
    format: 'troupe.checkpoint', version: 1, invocationId: id,
    orchestration: { kind: 'HandoffOrchestration', prefix: 'support', members: ['Triage', 'Refund'] },
    status: 'waiting', savedAt,
    pending: [{ requestId, kind: 'input', agent: 'Refund' }],
    usage: { total: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, byAgent: {} },
    transcript: [{ id: 'm1', role: 'user', content: 'héllo ✓ "quoted"' }],
    actors: [],
  };
}

const stores: Array<[string, () => CheckpointStore & { close?: () => void }]> = [
  ['MemoryCheckpointStore', () => new MemoryCheckpointStore()],
  ['FileCheckpointStore', () => new FileCheckpointStore(folder())],
  ['SqliteCheckpointStore', () => new SqliteCheckpointStore(join(root, `db-${++n}.db`))],
];

describe.each(stores)('%s', (_name, make) => {
  it('save, load (a copy), replace, list (oldest update first, with kind, status and open requests), delete', async () => {
    const store = make();
    try {
      expect(await store.list()).toEqual([]);
      expect(await store.load('run_a')).toBeUndefined();
      await store.save('run_a', checkpoint('run_a', '2026-01-01T00:00:00.000Z'));
      await store.save('run/b?', checkpoint('run/b?', '2026-01-02T00:00:00.000Z'));
      const loaded = await store.load('run_a');
      expect(loaded).toEqual(checkpoint('run_a', '2026-01-01T00:00:00.000Z'));
      loaded!.pending = [];
      expect((await store.load('run_a'))!.pending).toHaveLength(1);
      await store.save('run_a', checkpoint('run_a', '2026-01-03T00:00:00.000Z', 'run_a:human:2'));
      expect(await store.list()).toEqual([
        { invocationId: 'run/b?', kind: 'HandoffOrchestration', status: 'waiting', updatedAt: '2026-01-02T00:00:00.000Z', pending: [{ requestId: 'run/b?:human:1', kind: 'input', agent: 'Refund' }] },
        { invocationId: 'run_a', kind: 'HandoffOrchestration', status: 'waiting', updatedAt: '2026-01-03T00:00:00.000Z', pending: [{ requestId: 'run_a:human:2', kind: 'input', agent: 'Refund' }] },
      ]);
      await store.delete('run_a');
      await store.delete('run_a');
      expect((await store.list()).map((s) => s.invocationId)).toEqual(['run/b?']);
    } finally {
      store.close?.();
    }
  });

  it('a conversation saved automatically to it is resumed from it by invocation id and removed once it settles', async () => {
    const store = make();
    const runtimes: InProcessRuntime[] = [];
    try {
      const first = startedRuntime();
      runtimes.push(first);
      const result = await supportDesk().orchestration.invoke('refund please', first, { checkpointStore: store });
      await nextHumanRequest(result);
      await expect.poll(async () => (await store.list()).length).toBe(1);
      await first.close();
      const second = startedRuntime();
      runtimes.push(second);
      const resumed = await supportDesk().orchestration.resume(result.invocationId, second, { checkpointStore: store });
      resumed.respond(resumed.pending[0].requestId, 'order 42');
      await expect.poll(async () => (await store.load(result.invocationId))?.pending[0].requestId).toBe(`${result.invocationId}:human:2`);
      resumed.respond(`${result.invocationId}:human:2`, null);
      const output = await resumed.get();
      expect(said(output.conversation).map((m) => m[2])).toEqual(['refund please', '', 'Transferred to Refund.', 'Which order?', 'order 42', 'Refunded order 42.']);
      await expect.poll(() => store.list()).toEqual([]);
    } finally {
      for (const runtime of runtimes) await runtime.close();
      store.close?.();
    }
  });
});

describe('FileCheckpointStore', () => {
  it('writes atomically (temp file, then rename): no temp file is left, and a torn temp file from a crash is ignored', async () => {
    const dir = folder();
    const store = new FileCheckpointStore(dir);
    await store.save('run_a', checkpoint('run_a', '2026-01-01T00:00:00.000Z'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save('run_a', checkpoint('run_a', `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`))));
    expect(readdirSync(dir)).toEqual(['run_a.checkpoint.json']);
    // A crash between writing and renaming leaves a partial temp file beside the last good checkpoint.
    writeFileSync(join(dir, 'run_a.checkpoint.json.123.abc.tmp'), '{"format":"troupe.check');
    expect((await store.list()).map((s) => s.invocationId)).toEqual(['run_a']);
    expect((await store.load('run_a'))!.invocationId).toBe('run_a');
  });

  it('list() of a folder that does not exist yet is empty', async () => {
    expect(await new FileCheckpointStore(join(root, 'missing')).list()).toEqual([]);
  });
});

describe('SqliteCheckpointStore', () => {
  it('uses WAL and one row per invocation with its kind, status and update time', async () => {
    const file = join(root, 'rows.db');
    const store = new SqliteCheckpointStore(file);
    await store.save('run_a', checkpoint('run_a', '2026-01-01T00:00:00.000Z'));
    await store.save('run_a', checkpoint('run_a', '2026-01-02T00:00:00.000Z'));
    await store.save('run_b', checkpoint('run_b', '2026-01-03T00:00:00.000Z'));
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT invocation_id, kind, status, updated_at FROM troupe_checkpoints ORDER BY invocation_id').all()).toEqual([
        { invocation_id: 'run_a', kind: 'HandoffOrchestration', status: 'waiting', updated_at: '2026-01-02T00:00:00.000Z' },
        { invocation_id: 'run_b', kind: 'HandoffOrchestration', status: 'waiting', updated_at: '2026-01-03T00:00:00.000Z' },
      ]);
    } finally {
      db.close();
      store.close();
    }
  });

  it('importing troupe does not load better-sqlite3 (an optional peer dependency, loaded on first use)', () => {
    const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
    const script = `const m = await import(${JSON.stringify(entry)}); const { createRequire } = await import('node:module');
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('better-sqlite3'));
      console.log(JSON.stringify({ exported: typeof m.SqliteCheckpointStore, loaded }));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout.trim())).toEqual({ exported: 'function', loaded: [] });
  });
});
