/** Runs the intervention handlers on each message; sends and publishes pass through one at a time, in call order. */
import { DROP, type InterventionHandler } from './interventions.js';

const noop = (): void => {};

export interface InterventionChain {
  readonly handlers: InterventionHandler[];
  /** The last message in line: the next one's handlers start once it has been routed. Never rejects. */
  tail: Promise<unknown>;
}

export function createInterventionChain(handlers: InterventionHandler[]): InterventionChain {
  return { handlers, tail: Promise.resolve() };
}

/** Passes `value` through every handler in order: the last rewrite, or DROP as soon as one drops it. */
export async function runHandlers<T>(handlers: InterventionHandler[], value: T, call: (handler: InterventionHandler, value: T) => unknown): Promise<T | typeof DROP> {
  let current: unknown = value;
  for (const handler of handlers) {
    const result = await call(handler, current as T);
    if (result === DROP) return DROP;
    if (result !== undefined) current = result;
  }
  return current as T;
}

/**
 * Appends one message to the chain: `run` (its handlers) starts once every message before it has
 * been routed (or dropped, or failed), then `route` acts on the outcome, then `done` runs. If `run`
 * or `route` throws, the error goes to `onError` (before `done`) or else rejects the returned
 * promise; either way the chain goes on.
 */
export function inOrder<T>(chain: InterventionChain, run: () => Promise<T>, route: (result: T) => void, onError: ((error: unknown) => void) | undefined, done: () => void): Promise<void> {
  let routed = chain.tail.then(run).then(route);
  if (onError) routed = routed.catch(onError);
  const settled = routed.finally(done);
  chain.tail = settled.then(undefined, noop);
  return settled;
}
