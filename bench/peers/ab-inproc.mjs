/**
 * A/B of two troupe builds in one process: `node bench/peers/ab-inproc.mjs <distA> <distB> [seconds]`.
 * Both are loaded (they share xstate), warmed up together, then alternate in blocks of runs
 * (A B B A …) for the given time; CPU µs per run per block, median per build, and B ÷ A
 * (median of the pairwise ratios of adjacent blocks).
 */
import { resolve } from 'node:path';
import { troupeArmAt } from './arms.mjs';
import { median } from './median.mjs';

const [a, b, seconds = '20'] = process.argv.slice(2);
const workloads = (process.env.PEERS_WORKLOADS ?? 'handoff-2,sequential-5').split(',');
const BLOCK = Number(process.env.AB_BLOCK ?? 200);
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
for (const workload of workloads) {
  const arms = { A: await troupeArmAt(resolve(a), workload), B: await troupeArmAt(resolve(b), workload) };
  const block = async (arm) => { const c0 = cpu(); for (let i = 0; i < BLOCK; i++) await arms[arm].run(); return (cpu() - c0) / BLOCK; };
  const until = (ms) => performance.now() + ms;
  for (const t = until(3000); performance.now() < t;) { await block('A'); await block('B'); }
  const res = { A: [], B: [] };
  const ratios = [];
  for (let i = 0, t = until(Number(seconds) * 1000); performance.now() < t; i++) {
    const order = i % 2 ? ['B', 'A'] : ['A', 'B'];
    const r = {};
    for (const arm of order) res[arm].push((r[arm] = await block(arm)));
    ratios.push(r.B / r.A);
  }
  console.log(`${workload}: A ${median(res.A).toFixed(0)} µs cpu/run, B ${median(res.B).toFixed(0)}; B ÷ A ${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}] over ${ratios.length} block pairs of ${BLOCK} runs`);
}
process.exit(0);
