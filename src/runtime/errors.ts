/**
 * Typed errors. Every troupe error carries a stable `code` so callers can branch on it without
 * `instanceof` (which breaks across bundles and realms).
 */
export class TroupeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An id, topic, option or argument that does not have the required form. */
export class InvalidArgumentError extends TroupeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_argument', message, options);
  }
}

/** `registerFactory` was called twice for one agent type. */
export class DuplicateAgentTypeError extends TroupeError {
  constructor(readonly agentType: string) {
    super('duplicate_agent_type', `A factory for agent type "${agentType}" is already registered.`);
  }
}

/** A message was addressed to an agent type that has no factory. */
export class UnknownAgentTypeError extends TroupeError {
  constructor(readonly agentType: string) {
    super('unknown_agent_type', `No factory is registered for agent type "${agentType}".`);
  }
}

/** An intervention handler dropped the message, or it could not be delivered. */
export class MessageDroppedError extends TroupeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('message_dropped', message, options);
  }
}

/** A hosted actor stopped with an error; messages waiting for it are settled with this. */
export class ActorFailedError extends TroupeError {
  constructor(readonly agent: string, options?: { cause?: unknown }) {
    super('actor_failed', `Actor "${agent}" failed${describeCause(options?.cause)}.`, options);
  }
}

/** The runtime was closed, or asked to drain while it is not running. */
export class RuntimeStateError extends TroupeError {
  constructor(message: string) {
    super('runtime_state', message);
  }
}

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

function describeCause(cause: unknown): string {
  return cause instanceof Error ? `: ${cause.message}` : '';
}
