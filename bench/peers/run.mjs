/**
 * troupe beside its peers, same workloads, same machine, one interleaved run:
 * - arms: troupe (the built package, ../../dist), the OpenAI Agents SDK (`Runner.run`, a scripted
 *   `Model`, tracing disabled) and LangGraph.js (swarm for handoff-2, `StateGraph` for sequential-5);
 * - every measurement is a fresh Node process (worker.mjs) that warms up until its figures stop
 *   falling, then measures; arms alternate within each round, in a rotating order;
 * - PEERS_ROUNDS rounds (default 5); median, min and max per arm, ratios to troupe (CPU time per run,
 *   the machine being shared; wall time is printed beside it);
 * - handoff-2 throughput with 1,000 runs in flight ÷ with 1 in flight (troupe and the Agents SDK).
 * Usage: `npm run bench:peers` at the root (builds troupe, installs these packages if missing).
 * TROUPE_BASE_DIST=<another build's dist/> adds the arm `troupe-base`: before/after in one run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './median.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.PEERS_ROUNDS ?? 5);
const ARMS = (process.env.PEERS_ARMS ?? `troupe,agents,langgraph${process.env.TROUPE_BASE_DIST ? ',troupe-base' : ''}`).split(',');
const WORKLOADS = (process.env.PEERS_WORKLOADS ?? 'handoff-2,sequential-5').split(',');
const THROUGHPUT_ARMS = (process.env.PEERS_THROUGHPUT_ARMS ?? `troupe,agents${process.env.TROUPE_BASE_DIST ? ',troupe-base' : ''}`).split(',').filter(Boolean);

function ensureInstalled() {
  const needed = ['@openai/agents', '@langchain/langgraph', '@langchain/langgraph-swarm'];
  if (needed.every((name) => existsSync(join(here, 'node_modules', name, 'package.json')))) return;
  console.log('bench/peers: installing its own dependencies (npm ci)…');
  const cmd = existsSync(join(here, 'package-lock.json')) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  const r = spawnSync('npm', cmd, { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('bench/peers: npm install failed');
}

function version(name) {
  try {
    return JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

function worker(arm, workload, mode) {
  const r = spawnSync(process.execPath, [join(here, 'worker.mjs'), arm, workload, mode], { cwd: here, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${arm} ${workload} ${mode} failed:\n${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const rotate = (xs, n) => xs.map((_, i) => xs[(i + n) % xs.length]);

function main() {
  if (!existsSync(join(here, '..', '..', 'dist', 'index.js'))) throw new Error('bench/peers: build troupe first (npm run build at the root)');
  ensureInstalled();
  const versions = {
    node: process.version,
    troupe: JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')).version,
    xstate: JSON.parse(readFileSync(join(here, '..', '..', 'node_modules', 'xstate', 'package.json'), 'utf8')).version,
    '@openai/agents': version('@openai/agents'),
    '@langchain/langgraph': version('@langchain/langgraph'),
    '@langchain/langgraph-swarm': version('@langchain/langgraph-swarm'),
    '@langchain/core': version('@langchain/core'),
  };
  console.log(`peers bench, ${new Date().toISOString().slice(0, 10)}, ${ROUNDS} rounds; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const results = {}; // `${workload}|${arm}` → worker results per round
  const throughput = {};
  for (let round = 0; round < ROUNDS; round++) {
    const line = [];
    for (const workload of WORKLOADS) {
      for (const arm of rotate(ARMS, round)) {
        const r = worker(arm, workload, 'latency');
        (results[`${workload}|${arm}`] ??= []).push(r);
        line.push(`${workload}/${arm} ${fmt(r.cpuUs)} µs cpu (${fmt(r.wallUs)} wall; warm-up ${r.warmup.ms} ms${r.warmup.settled ? '' : ', not settled'})`);
      }
    }
    if (WORKLOADS.includes('handoff-2')) {
      for (const arm of rotate(THROUGHPUT_ARMS, round)) {
        const r = worker(arm, 'handoff-2', 'throughput');
        (throughput[arm] ??= []).push(r);
        line.push(`throughput/${arm} ${r.ratio.toFixed(2)}× (1: ${fmt(r.oneWallUs)} µs, ${r.inFlight}: ${fmt(r.loadedWallUs)} µs)`);
      }
    }
    console.log(`round ${round + 1}: ${line.join('; ')}`);
  }

  console.log('\nCPU µs per run (median of rounds, [min–max]); wall µs in parentheses; ratio = peer ÷ troupe (higher: troupe faster)\n');
  const header = ['workload', ...ARMS.map((a) => a), ...ARMS.filter((a) => a !== 'troupe').map((a) => `${a} ÷ troupe`)];
  const rows = [];
  const summary = { date: new Date().toISOString(), versions, rounds: ROUNDS, workloads: {} };
  for (const workload of WORKLOADS) {
    const stats = {};
    for (const arm of ARMS) {
      const rs = results[`${workload}|${arm}`] ?? [];
      const cpu = rs.map((r) => r.cpuUs);
      stats[arm] = { median: median(cpu), min: Math.min(...cpu), max: Math.max(...cpu), wall: median(rs.map((r) => r.wallUs)), perRound: cpu };
    }
    summary.workloads[workload] = stats;
    rows.push([
      workload,
      ...ARMS.map((a) => `${fmt(stats[a].median)} [${fmt(stats[a].min)}–${fmt(stats[a].max)}] (${fmt(stats[a].wall)})`),
      ...ARMS.filter((a) => a !== 'troupe').map((a) => (stats.troupe ? `${(stats[a].median / stats.troupe.median).toFixed(2)}×` : '—')),
    ]);
  }
  if (Object.keys(throughput).length > 0) {
    const cells = ARMS.map((a) => {
      const rs = throughput[a];
      if (!rs) return '—';
      const ratios = rs.map((r) => r.ratio);
      return `${median(ratios).toFixed(2)}× [${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}]`;
    });
    rows.push([`handoff-2 throughput, ${throughput[THROUGHPUT_ARMS[0]]?.[0]?.inFlight ?? 1000} in flight ÷ 1`, ...cells, ...ARMS.filter((a) => a !== 'troupe').map(() => '')]);
    summary.throughput = Object.fromEntries(Object.entries(throughput).map(([a, rs]) => [a, rs.map((r) => ({ ratio: r.ratio, cpuRatio: r.cpuRatio, oneWallUs: r.oneWallUs, loadedWallUs: r.loadedWallUs }))]));
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const out = (r) => `| ${r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  console.log(out(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(out(r));
  const warmups = Object.values(results).flat().map((r) => r.warmup);
  console.log(`\nwarm-up: ${warmups.filter((w) => w.settled).length}/${warmups.length} processes settled (last 4 chunks no faster than 3 % below the best before them), median ${median(warmups.map((w) => w.ms))} ms`);
  writeFileSync(join(here, 'last-run.json'), `${JSON.stringify({ ...summary, raw: results, rawThroughput: throughput }, null, 1)}\n`);
}

main();
