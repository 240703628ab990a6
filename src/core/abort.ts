/** Cancellation: the error an aborted operation fails with, and the helpers that raise it. */
import { TroupeError } from './errors.js';

/** An operation was aborted through its AbortSignal. */
export class AbortedError extends TroupeError {
  constructor(message = 'The operation was aborted.', options?: { cause?: unknown }) {
    super('aborted', message, options);
  }
}

/**
 * Throws an {@link AbortedError} ("<what> was aborted.") when `signal` has aborted; an abort
 * reason that already is an AbortedError is thrown as it is.
 *
 * @example
 * throwIfAborted(request.signal, 'The request');
 */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal.reason, what);
}

/** The {@link AbortedError} for an abort of `what` with `reason`. */
export function abortedError(reason: unknown, what: string): AbortedError {
  return reason instanceof AbortedError ? reason : new AbortedError(`${what} was aborted.`, { cause: reason });
}
