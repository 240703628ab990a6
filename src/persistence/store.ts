import type { Checkpoint, CheckpointSummary } from './checkpoint.js';
import { summarize } from './checkpoint.js';

/**
 * Where checkpoints live, one per invocation id. `invoke`/`resume` with a `checkpointStore` save
 * at every rest point and delete once the run settles; `list()` shows the conversations waiting
 * on people. A server database implements the same interface.
 *
 * @example
 * for (const waiting of await store.list()) console.log(waiting.invocationId, waiting.pending);
 */
export interface CheckpointStore {
  /** Stores `checkpoint` under `id`, replacing the one there. */
  save(id: string, checkpoint: Checkpoint): Promise<void>;
  /** The checkpoint stored under `id`, or undefined. */
  load(id: string): Promise<Checkpoint | undefined>;
  /** Removes it (no error when there is none). */
  delete(id: string): Promise<void>;
  /** Every stored conversation, oldest update first. */
  list(): Promise<CheckpointSummary[]>;
}

/**
 * Checkpoints in this process's memory (tests, or a process that only needs `list()`); each is
 * kept as JSON, so what `load` returns is a copy.
 *
 * @example
 * const store = new MemoryCheckpointStore();
 * const result = await support.invoke('refund please', runtime, { checkpointStore: store });
 */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly rows = new Map<string, { json: string; summary: CheckpointSummary }>();

  async save(id: string, checkpoint: Checkpoint): Promise<void> {
    this.rows.delete(id); // re-inserted last: Map order is update order
    this.rows.set(id, { json: JSON.stringify(checkpoint), summary: summarize(checkpoint) });
  }

  async load(id: string): Promise<Checkpoint | undefined> {
    const row = this.rows.get(id);
    return row ? (JSON.parse(row.json) as Checkpoint) : undefined;
  }

  async delete(id: string): Promise<void> {
    this.rows.delete(id);
  }

  async list(): Promise<CheckpointSummary[]> {
    return [...this.rows.values()].map((r) => structuredClone(r.summary));
  }
}
