/**
 * Stands in for 'vitest' when the README's test samples run inside test/examples/readme.test.ts:
 * `test`/`it` collect the sample's tests (vitest does not allow declaring tests inside a running
 * test), `expect` is vitest's own.
 */
export { expect } from 'vitest';

export const collected: Array<{ name: string; fn: () => unknown }> = [];

export function test(name: string, fn: () => unknown): void {
  collected.push({ name, fn });
}
export const it = test;
