/**
 * Throughput under load, A/B of two troupe builds in one process:
 * `node bench/peers/ab-throughput.mjs <distA> [<distB>] [rounds]` (one build, or two).
 * handoff-2 runs in pools of 1 and of PEERS_IN_FLIGHT (1,000) in flight, alternating builds and
 * modes each round; per build, CPU and wall µs per run in each mode and the ratio 1 ÷ loaded
 * (1.00: no fall-off under load; the target is ≥ 0.95). CPU is the steadier figure on a shared box.
 */
import { resolve } from 'node:path';
import { troupeArmAt } from './arms.mjs';
import { median } from './median.mjs';

const args = process.argv.slice(2);
// A number last is the round count: `<distA> [<distB>] [rounds]`.
const rounds = /^\d+$/.test(args.at(-1) ?? '') ? args.pop() : '5';
const [a, b] = args;
const IN_FLIGHT = Number(process.env.PEERS_IN_FLIGHT ?? 1000);
const TOTAL = Number(process.env.AB_TOTAL ?? 3000);

/** `total` runs with `inFlight` at a time (a pool: each finished run starts the next); µs per run. */
async function pool(run, total, inFlight) {
  let started = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const lane = async () => {
    while (started < total) {
      started++;
      await run();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
  const c = process.cpuUsage(c0);
  return { wall: ((performance.now() - t0) * 1000) / total, cpu: (c.user + c.system) / total };
}

const builds = b ? { A: a, B: b } : { A: a };
const arms = {};
for (const [name, dir] of Object.entries(builds)) arms[name] = await troupeArmAt(resolve(dir), 'handoff-2');
for (const arm of Object.values(arms)) {
  for (let i = 0; i < 2000; i++) await arm.run();
  await pool(arm.run, TOTAL, IN_FLIGHT);
}
const res = Object.fromEntries(Object.keys(arms).map((k) => [k, { one: [], many: [], cpuRatio: [], wallRatio: [] }]));
for (let r = 0; r < Number(rounds); r++) {
  const names = r % 2 ? Object.keys(arms).reverse() : Object.keys(arms);
  for (const name of names) {
    const one = await pool(arms[name].run, TOTAL, 1);
    const many = await pool(arms[name].run, TOTAL, IN_FLIGHT);
    const x = res[name];
    x.one.push(one);
    x.many.push(many);
    x.cpuRatio.push(one.cpu / many.cpu);
    x.wallRatio.push(one.wall / many.wall);
  }
}
for (const [name, x] of Object.entries(res)) {
  const m = (k, f) => median(x[k].map((v) => v[f])).toFixed(0);
  console.log(`${name} (${builds[name]}): 1 in flight ${m('one', 'cpu')} µs cpu (${m('one', 'wall')} wall), ${IN_FLIGHT} in flight ${m('many', 'cpu')} µs cpu (${m('many', 'wall')} wall); ratio cpu ${median(x.cpuRatio).toFixed(3)} [${Math.min(...x.cpuRatio).toFixed(2)}–${Math.max(...x.cpuRatio).toFixed(2)}], wall ${median(x.wallRatio).toFixed(3)}`);
}
process.exit(0);
