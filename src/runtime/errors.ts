/** The runtime's typed errors (each with a stable `code`). */
import { TroupeError } from '../core/errors.js';

// The shared basics live in core; re-exported here so existing imports keep compiling.
export { TroupeError } from '../core/errors.js';
export { AbortedError, throwIfAborted, abortedError } from '../core/abort.js';

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

function describeCause(cause: unknown): string {
  return cause instanceof Error ? `: ${cause.message}` : '';
}
