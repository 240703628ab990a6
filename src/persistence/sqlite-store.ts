import { createRequire } from 'node:module';
import type { Checkpoint, CheckpointSummary } from './checkpoint.js';
import { summarize } from './checkpoint.js';
import { CheckpointError } from './errors.js';
import type { CheckpointStore } from './store.js';

/** The slice of better-sqlite3's API this store uses (its types are not needed to use troupe). */
interface Statement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface Database {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  prepare(source: string): Statement;
  close(): unknown;
  readonly open: boolean;
}
type DatabaseConstructor = new (file: string) => Database;

let driver: DatabaseConstructor | undefined;

/** better-sqlite3, loaded on first use: importing troupe never needs it. */
function loadDriver(): DatabaseConstructor {
  if (driver) return driver;
  try {
    driver = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
    return driver;
  } catch (error) {
    throw new CheckpointError('store', 'SqliteCheckpointStore needs the optional peer dependency "better-sqlite3" (12.x): npm install better-sqlite3', { cause: error });
  }
}

interface Row {
  invocation_id: string;
  kind: string;
  status: string;
  updated_at: string;
  pending: string;
}

/**
 * Checkpoints in a SQLite database file (better-sqlite3, an optional peer dependency loaded on
 * first use), in WAL mode: one row per invocation with its orchestration kind, status, open
 * requests and update time beside the checkpoint JSON. Several processes may share the file.
 * Call {@link close} when done.
 *
 * @example
 * const store = new SqliteCheckpointStore('conversations.db');
 * const result = await support.invoke(task, runtime, { checkpointStore: store }); // saved at every rest point
 * console.log(await store.list()); // the conversations waiting on people
 * store.close();
 */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly db: Database;
  private readonly statements: { save: Statement; load: Statement; delete: Statement; list: Statement };

  constructor(readonly file: string) {
    if (typeof file !== 'string' || file === '') throw new TypeError('SqliteCheckpointStore: give the database file (or ":memory:").');
    const Sqlite = loadDriver();
    this.db = new Sqlite(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS troupe_checkpoints (
      invocation_id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      status TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      pending TEXT NOT NULL,
      checkpoint TEXT NOT NULL
    ) WITHOUT ROWID`);
    this.statements = {
      save: this.db.prepare(`INSERT INTO troupe_checkpoints (invocation_id, kind, status, updated_at, pending, checkpoint)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (invocation_id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
          updated_at = excluded.updated_at, pending = excluded.pending, checkpoint = excluded.checkpoint`),
      load: this.db.prepare('SELECT checkpoint FROM troupe_checkpoints WHERE invocation_id = ?'),
      delete: this.db.prepare('DELETE FROM troupe_checkpoints WHERE invocation_id = ?'),
      list: this.db.prepare('SELECT invocation_id, kind, status, updated_at, pending FROM troupe_checkpoints ORDER BY updated_at, invocation_id'),
    };
  }

  async save(id: string, checkpoint: Checkpoint): Promise<void> {
    const { kind, status, updatedAt, pending } = summarize(checkpoint);
    this.statements.save.run(id, kind, status, updatedAt, JSON.stringify(pending), JSON.stringify(checkpoint));
  }

  async load(id: string): Promise<Checkpoint | undefined> {
    const row = this.statements.load.get(id) as { checkpoint: string } | undefined;
    return row ? (JSON.parse(row.checkpoint) as Checkpoint) : undefined;
  }

  async delete(id: string): Promise<void> {
    this.statements.delete.run(id);
  }

  async list(): Promise<CheckpointSummary[]> {
    return (this.statements.list.all() as Row[]).map((r) => ({
      invocationId: r.invocation_id,
      kind: r.kind,
      status: r.status as 'waiting',
      updatedAt: r.updated_at,
      pending: JSON.parse(r.pending) as CheckpointSummary['pending'],
    }));
  }

  /** Closes the database (further calls throw). */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
