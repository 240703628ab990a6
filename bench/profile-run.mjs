/**
 * CPU profile of troupe on one workload, from the built package (run `npm run build` first):
 *   node --cpu-prof --cpu-prof-dir=.profiles bench/profile-run.mjs handoff-2 [seconds]
 *   node bench/profile-run.mjs --summarize .profiles/<file>.cpuprofile
 * The summary gives the self time per package (xstate, troupe, zod, nanoid, node, GC…) and the
 * hottest functions.
 */
import { readFileSync } from 'node:fs';

if (process.argv[2] === '--summarize') {
  const profile = JSON.parse(readFileSync(process.argv[3], 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (deltas[i] ?? 0));
  const pkg = (n) => {
    const { url, functionName } = n.callFrame;
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'program (V8/native)';
    if (!url) return 'native/builtin';
    if (url.startsWith('node:')) return 'node';
    const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    if (m) return m[1];
    if (url.includes('/dist/testing/')) return 'scripted model (troupe/testing)';
    if (url.includes('/dist/')) return 'troupe';
    return 'bench';
  };
  const perPkg = new Map();
  const perFn = new Map();
  let total = 0;
  for (const [id, t] of self) {
    const n = byId.get(id);
    const p = pkg(n);
    if (p === 'idle') continue;
    total += t;
    perPkg.set(p, (perPkg.get(p) ?? 0) + t);
    const key = `${p} ${n.callFrame.functionName || '(anon)'} ${(n.callFrame.url.split('/').pop() || '')}:${n.callFrame.lineNumber + 1}`;
    perFn.set(key, (perFn.get(key) ?? 0) + t);
  }
  console.log(`non-idle samples: ${(total / 1000).toFixed(0)} ms`);
  for (const [p, t] of [...perPkg].sort((a, b) => b[1] - a[1])) console.log(`${p.padEnd(24)} ${((100 * t) / total).toFixed(1)} %`);
  console.log('\nhottest functions (self):');
  for (const [f, t] of [...perFn].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[4] ?? 30))) console.log(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${f}`);
  process.exit(0);
}

const workload = process.argv[2] ?? 'handoff-2';
const seconds = Number(process.argv[3] ?? 5);
const { ARMS } = await import('./peers/arms.mjs');
const { run } = await ARMS.troupe(workload);
const until = performance.now() + seconds * 1000;
let n = 0;
while (performance.now() < until) {
  for (let i = 0; i < 50; i++) await run();
  n += 50;
}
const c = process.cpuUsage();
console.log(`${workload}: ${n} runs; ${(((c.user + c.system) / n)).toFixed(0)} µs CPU per run (whole process)`);
