import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Checkpoint, CheckpointSummary } from './checkpoint.js';
import { summarize } from './checkpoint.js';
import type { CheckpointStore } from './store.js';

const SUFFIX = '.checkpoint.json';

/**
 * One JSON file per invocation in `dir` (created if needed). Writes are atomic: the checkpoint
 * goes to a temporary file in the same folder, which is then renamed over the old one, so a
 * crash mid-write leaves the previous checkpoint intact.
 *
 * @example
 * const store = new FileCheckpointStore('./conversations');
 * const resumed = await support.resume(invocationId, runtime, { checkpointStore: store });
 */
export class FileCheckpointStore implements CheckpointStore {
  private ready: Promise<unknown> | undefined;

  constructor(readonly dir: string) {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('FileCheckpointStore: give the folder to keep checkpoints in.');
  }

  async save(id: string, checkpoint: Checkpoint): Promise<void> {
    await (this.ready ??= mkdir(this.dir, { recursive: true }));
    const file = this.fileOf(id);
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(checkpoint), { flush: true });
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async load(id: string): Promise<Checkpoint | undefined> {
    try {
      return JSON.parse(await readFile(this.fileOf(id), 'utf8')) as Checkpoint;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    await rm(this.fileOf(id), { force: true });
  }

  async list(): Promise<CheckpointSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const found: CheckpointSummary[] = [];
    for (const name of names) {
      if (!name.endsWith(SUFFIX)) continue;
      const checkpoint = await this.load(decodeURIComponent(name.slice(0, -SUFFIX.length)));
      if (checkpoint) found.push(summarize(checkpoint));
    }
    return found.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  }

  private fileOf(id: string): string {
    return join(this.dir, `${encodeURIComponent(id)}${SUFFIX}`);
  }
}
