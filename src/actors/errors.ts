import { TroupeError } from '../runtime/errors.js';

/** An agent's turn failed (model error, tool runtime failure); `cause` holds the original error. */
export class AgentTurnError extends TroupeError {
  constructor(readonly agent: string, options: { cause?: unknown } = {}) {
    const cause = options.cause;
    super('agent_turn_failed', `Agent "${agent}" failed its turn${cause instanceof Error ? `: ${cause.message}` : ''}.`, options);
  }
}

/** An agent kept calling tools past its per-turn limit. */
export class TurnLimitError extends TroupeError {
  constructor(readonly agent: string, readonly limit: number) {
    super('turn_limit', `Agent "${agent}" made ${limit} model calls in one turn without a final answer (maxToolIterations = ${limit}).`);
  }
}
