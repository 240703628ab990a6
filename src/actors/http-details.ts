/** Internal: the HTTP details typed errors copy from the failure that caused them. */

/** `status`/`retryAfterMs` from the first error in the cause chain that has a status (duck-typed: errors cross bundles). */
export function httpDetails(cause: unknown): { status?: number; retryAfterMs?: number } {
  const seen = new Set<unknown>();
  for (let error = cause; typeof error === 'object' && error !== null && !seen.has(error); error = (error as { cause?: unknown }).cause) {
    seen.add(error);
    const { status, retryAfterMs } = error as { status?: unknown; retryAfterMs?: unknown };
    if (typeof status === 'number') {
      return { status, ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}) };
    }
  }
  return {};
}
