export * from './errors.js';
export {
  CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointSchema, parseCheckpoint,
  type Checkpoint, type CheckpointActor, type CheckpointSummary,
} from './checkpoint.js';
export { MemoryCheckpointStore, type CheckpointStore } from './store.js';
export { FileCheckpointStore } from './file-store.js';
export { SqliteCheckpointStore } from './sqlite-store.js';
