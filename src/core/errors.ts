/** The base of every troupe error: a stable `code` to branch on without `instanceof`. */

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
