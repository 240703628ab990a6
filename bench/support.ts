/**
 * Helpers shared by the `bench/*.bench.ts` files: verification, medians, timing and the table
 * every benchmark prints.
 */

/** Fails the benchmark (non-zero exit through `run-all`) when a run produced the wrong output. */
export function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`bench verification failed: ${what}`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Seconds, from `performance.now()`. */
export const now = (): number => performance.now() / 1000;

/** Runs `once` once to warm up, then `repeats` times; the median of what it returns. */
export async function medianOf(repeats: number, once: () => number | Promise<number>): Promise<number> {
  await once();
  const values: number[] = [];
  for (let i = 0; i < repeats; i++) values.push(await once());
  return median(values);
}

/** Runs a full GC when the process has `--expose-gc` (a few passes, so weak/finalised objects go too). */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  for (let i = 0; i < 3; i++) gc();
  return true;
}

/** Prints a Markdown table: the first column left-aligned, the others right-aligned; numbers with two decimals. */
export function printTable(header: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(2) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of cells) console.log(line(r));
}

/** Runs `main`, exiting non-zero on failure (so `run-all` reports it). */
export function runMain(main: () => Promise<void>): void {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
