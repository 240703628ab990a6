import { TroupeError } from '../core/index.js';

/** An orchestration was configured wrongly (no members, duplicate names, bad limits…). */
export class OrchestrationConfigError extends TroupeError {
  constructor(message: string) {
    super('invalid_orchestration', message);
  }
}

/** The invocation was cancelled (`cancel()`, its AbortSignal, or its `timeoutMs`). */
export class InvocationCancelledError extends TroupeError {
  constructor(message = 'The invocation was cancelled.', options?: { cause?: unknown }) {
    super('cancelled', message, options);
  }
}

/** `get(timeoutMs)` gave up waiting (the invocation goes on), or `invoke`'s `timeoutMs` ran out. */
export class OrchestrationTimeoutError extends TroupeError {
  constructor(message: string) {
    super('timeout', message);
  }
}

/** An operation that does not fit the invocation's state (e.g. `cancel()` after completion). */
export class InvocationStateError extends TroupeError {
  constructor(message: string) {
    super('invalid_state', message);
  }
}

/** The model's structured output did not match `outputSchema`. */
export class OutputValidationError extends TroupeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_output', message, options);
  }
}
