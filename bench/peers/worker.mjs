/**
 * One arm of one workload, in a fresh process: `node worker.mjs <arm> <workload> <mode>`.
 * - warm-up in chunks of runs until the per-chunk figure has stopped falling (at least
 *   PEERS_WARMUP_MIN_MS, at most PEERS_WARMUP_MAX_MS);
 * - `latency`: runs one after another for PEERS_MEASURE_MS; µs per run, wall and CPU;
 * - `throughput`: alternates batches with 1 run in flight and with PEERS_IN_FLIGHT (1,000) in
 *   flight; runs per second of each, and their ratio.
 * Prints one JSON line. Every run is verified (the arm throws on a wrong final text or agent).
 */
import { ARMS } from './arms.mjs';
import { median } from './median.mjs';

const [arm, workload, mode = 'latency'] = process.argv.slice(2);
const WARMUP_MIN_MS = Number(process.env.PEERS_WARMUP_MIN_MS ?? 2500);
const WARMUP_MAX_MS = Number(process.env.PEERS_WARMUP_MAX_MS ?? 8000);
const CHUNK_MS = 250;
const MEASURE_MS = Number(process.env.PEERS_MEASURE_MS ?? 2000);
const IN_FLIGHT = Number(process.env.PEERS_IN_FLIGHT ?? 1000);

const nowMs = () => performance.now();
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Runs one after another for about `ms`; µs per run (wall and CPU). */
async function timed(run, ms) {
  const t0 = nowMs();
  const c0 = cpuMs();
  let n = 0;
  do {
    for (let i = 0; i < 10; i++) await run();
    n += 10;
  } while (nowMs() - t0 < ms);
  return { runs: n, wallUs: ((nowMs() - t0) * 1000) / n, cpuUs: ((cpuMs() - c0) * 1000) / n };
}

/** `total` runs with `inFlight` at a time (a pool: each finished run starts the next). */
async function pool(run, total, inFlight) {
  let started = 0;
  const t0 = nowMs();
  const c0 = cpuMs();
  const lane = async () => {
    while (started < total) {
      started++;
      await run();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
  return { runs: total, wallUs: ((nowMs() - t0) * 1000) / total, cpuUs: ((cpuMs() - c0) * 1000) / total };
}

/** Warm-up until chunks stop getting faster: the best of the last 4 is within 3 % of the best before them. */
async function warmUp(run) {
  const chunks = [];
  const t0 = nowMs();
  for (;;) {
    chunks.push((await timed(run, CHUNK_MS)).cpuUs);
    const elapsed = nowMs() - t0;
    if (elapsed >= WARMUP_MAX_MS) return { ms: elapsed, chunks, settled: false };
    if (elapsed < WARMUP_MIN_MS || chunks.length < 8) continue;
    const recent = Math.min(...chunks.slice(-4));
    const before = Math.min(...chunks.slice(0, -4));
    if (recent >= before * 0.97) return { ms: elapsed, chunks, settled: true };
  }
}


async function main() {
  const build = ARMS[arm];
  if (!build) throw new Error(`unknown arm ${arm}`);
  const { run } = await build(workload);
  const first = await timed(run, 0); // the very first runs, cold
  const warm = await warmUp(run);
  const warmup = { ms: Math.round(warm.ms), settled: warm.settled, firstChunkCpuUs: warm.chunks[0], lastChunkCpuUs: warm.chunks.at(-1), chunks: warm.chunks.length };
  if (mode === 'latency') {
    const m = await timed(run, MEASURE_MS);
    console.log(JSON.stringify({ arm, workload, mode, coldUs: first.wallUs, warmup, ...m, memMB: process.memoryUsage().rss / 1e6 }));
    return;
  }
  // throughput: alternate 1 in flight and IN_FLIGHT in flight, same number of runs each.
  const ones = [];
  const many = [];
  const perBatch = Math.max(IN_FLIGHT * 2, Math.round((MEASURE_MS * 1000) / Math.max(1, warm.chunks.at(-1)) / 3));
  for (let i = 0; i < 3; i++) {
    ones.push(await pool(run, perBatch, 1));
    many.push(await pool(run, perBatch, IN_FLIGHT));
  }
  const one = median(ones.map((r) => r.wallUs));
  const loaded = median(many.map((r) => r.wallUs));
  const oneCpu = median(ones.map((r) => r.cpuUs));
  const loadedCpu = median(many.map((r) => r.cpuUs));
  console.log(JSON.stringify({ arm, workload, mode, warmup, perBatch, inFlight: IN_FLIGHT, oneWallUs: one, loadedWallUs: loaded, ratio: one / loaded, oneCpuUs: oneCpu, loadedCpuUs: loadedCpu, cpuRatio: oneCpu / loadedCpu }));
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
