/** The longest delay `setTimeout` honours; larger values fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks a timeout option: `undefined` or `Infinity` mean "no timeout" (returns undefined);
 * anything else must be a number from 0 to 2^31 − 1 ms, or a RangeError names the option.
 */
export function timerDelay(value: number | undefined, option: string): number | undefined {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return undefined;
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMER_MS)) {
    throw new RangeError(`${option}: expected a number of milliseconds from 0 to ${MAX_TIMER_MS} (or Infinity for none), got ${String(value)}.`);
  }
  return value;
}
