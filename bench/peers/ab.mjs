/**
 * A/B of two troupe builds on the peers workloads: `node bench/peers/ab.mjs <distA> <distB> [rounds]`
 * (each a `dist/` directory, e.g. the parent commit built elsewhere and this one). Alternating
 * fresh processes (A, B, B, A, …), each warmed up until settled; CPU µs per run, median of
 * rounds, and B ÷ A.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './median.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [a, b, rounds = '4'] = process.argv.slice(2);
const workloads = (process.env.PEERS_WORKLOADS ?? 'handoff-2,sequential-5').split(',');
const one = (dist, workload) => {
  const r = spawnSync(process.execPath, [join(here, 'worker.mjs'), 'troupe', workload, 'latency'], { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production', TROUPE_DIST: resolve(dist) } });
  if (r.status !== 0) throw new Error(r.stderr || r.stdout);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
};
for (const workload of workloads) {
  const res = { A: [], B: [] };
  for (let i = 0; i < Number(rounds); i++) {
    for (const arm of i % 2 ? ['B', 'A'] : ['A', 'B']) res[arm].push(one(arm === 'A' ? a : b, workload));
  }
  const cpuA = median(res.A.map((r) => r.cpuUs));
  const cpuB = median(res.B.map((r) => r.cpuUs));
  const ratios = res.A.map((r, i) => res.B[i].cpuUs / r.cpuUs);
  console.log(`${workload}: A ${cpuA.toFixed(0)} µs cpu/run [${res.A.map((r) => r.cpuUs.toFixed(0)).join(', ')}], B ${cpuB.toFixed(0)} [${res.B.map((r) => r.cpuUs.toFixed(0)).join(', ')}]; B ÷ A ${(cpuB / cpuA).toFixed(3)} (pairwise median ${median(ratios).toFixed(3)})`);
}
