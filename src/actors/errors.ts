import { TroupeError } from '../core/index.js';
import { httpDetails } from './http-details.js';

/**
 * An agent's turn failed (model error, tool runtime failure); `cause` holds the original error.
 * When the cause (or its own cause) is an HTTP failure such as a `ChatClientError`, its `status`
 * and `retryAfterMs` are copied here, so a caller can back off on a 429 without digging:
 *
 * @example
 * catch (error) { if (error instanceof AgentTurnError && error.status === 429) await sleep(error.retryAfterMs ?? 1000); }
 */
export class AgentTurnError extends TroupeError {
  /** The HTTP status of the model call that failed, when the server answered. */
  declare readonly status?: number;
  /** The server's back-off hint in milliseconds (`retry-after`), when it sent one. */
  declare readonly retryAfterMs?: number;
  constructor(readonly agent: string, options: { cause?: unknown } = {}) {
    const cause = options.cause;
    super('agent_turn_failed', `Agent "${agent}" failed its turn${cause instanceof Error ? `: ${cause.message}` : ''}.`, options);
    const http = httpDetails(cause);
    if (http.status !== undefined) this.status = http.status;
    if (http.retryAfterMs !== undefined) this.retryAfterMs = http.retryAfterMs;
  }
}

/** An agent kept calling tools past its per-turn limit. */
export class TurnLimitError extends TroupeError {
  constructor(readonly agent: string, readonly limit: number) {
    super('turn_limit', `Agent "${agent}" made ${limit} model calls in one turn without a final answer (maxToolIterations = ${limit}).`);
  }
}
