import { TroupeError } from '../core/index.js';

/** What is wrong with a checkpoint (see {@link CheckpointError.reason}). */
export type CheckpointProblem =
  /** Saved by another orchestration kind (e.g. a sequential run resumed by a handoff). */
  | 'kind'
  /** The resuming orchestration's members differ from the saved run's. */
  | 'members'
  /** A checkpoint version this troupe does not read. */
  | 'version'
  /** A field of the wrong form (named by its path). */
  | 'malformed'
  /** No checkpoint with that invocation id in the store. */
  | 'not_found'
  /** The invocation is already running on that runtime. */
  | 'already_running'
  /** The run could not be restored on the runtime, or a store failed. */
  | 'restore'
  | 'store';

/**
 * A checkpoint cannot be used, named in the message; `reason` says which problem. Nothing is
 * left on the runtime when `resume` rejects with it.
 *
 * @example
 * try { await support.resume(id, runtime, { checkpointStore }); }
 * catch (error) { if (error instanceof CheckpointError && error.reason === 'not_found') startOver(); }
 */
export class CheckpointError extends TroupeError {
  constructor(readonly reason: CheckpointProblem, message: string, options?: { cause?: unknown }) {
    super('invalid_checkpoint', message, options);
  }
}
