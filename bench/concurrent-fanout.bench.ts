/**
 * Concurrent fan-out: a `ConcurrentOrchestration` of 5, 20 and 100 members whose scripted model
 * takes a fixed DELAY_MS per answer. Truly parallel members finish in ≈ DELAY_MS whatever their
 * number; efficiency = DELAY_MS / wall time (1.00 = ideal). Baseline, same process: the same
 * number of scripted calls made at once with `Promise.all` (the timer floor troupe cannot beat).
 * Every run checks one reply per member, in member order.
 * Target (DESIGN.md): 100 members within 5 % of the ideal DELAY_MS (efficiency ≥ 0.95).
 */
import { ChatCompletionAgent, ConcurrentOrchestration, InProcessRuntime } from '../src/index.js';
import { ScriptedChatClient } from '../src/testing/index.js';
import { check, medianOf, now, printTable, runMain } from './support.js';

const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 100);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);
const SIZES = [5, 20, 100];

function panel(size: number): { orchestration: ConcurrentOrchestration; client: ScriptedChatClient } {
  // One client for every member (agents are configuration); each answers with its own name.
  const client = new ScriptedChatClient((request) => ({ text: `answer of ${request.messages[0].content.slice(4)}`, delayMs: DELAY_MS }));
  const members = Array.from({ length: size }, (_, i) => new ChatCompletionAgent({ name: `M${i}`, instructions: `You M${i}`, client }));
  return { orchestration: new ConcurrentOrchestration({ members }), client };
}

/** Wall time of one invocation, ms; checks the output. The orchestration is reused, as an application would. */
async function troupeRun(size: number, runtime: InProcessRuntime, { orchestration, client }: ReturnType<typeof panel>): Promise<number> {
  const calls = client.callCount;
  const t0 = now();
  const output = await (await orchestration.invoke('What is temperature?', runtime)).get();
  const ms = (now() - t0) * 1000;
  check(output.reason === 'completed', `fan-out ${size}: reason ${output.reason}`);
  check(output.messages.length === size, `fan-out ${size}: ${output.messages.length} replies`);
  output.messages.forEach((m, i) => check(m.content === `answer of M${i}` && m.name === `M${i}`, `fan-out ${size}: reply ${i} is "${m.content}" from ${m.name}`));
  check(client.callCount - calls === size, `fan-out ${size}: ${client.callCount - calls} model calls`);
  return ms;
}

/** The same calls on the scripted client directly, all at once; ms. */
async function directRun(size: number): Promise<number> {
  const { client } = panel(size);
  const t0 = now();
  const responses = await Promise.all(Array.from({ length: size }, (_, i) => client.complete({ messages: [{ id: 's', role: 'system', content: `You M${i}` }] })));
  const ms = (now() - t0) * 1000;
  check(responses.every((r, i) => r.text === `answer of M${i}`), `direct ${size}: answers`);
  return ms;
}

async function main(): Promise<void> {
  const started = now();
  const runtime = new InProcessRuntime();
  runtime.start();
  const rows: Array<Array<string | number>> = [];
  let efficiency100 = 0;
  for (const size of SIZES) {
    const direct = await medianOf(REPEATS, () => directRun(size));
    const setup = panel(size);
    const troupe = await medianOf(REPEATS, () => troupeRun(size, runtime, setup));
    const efficiency = DELAY_MS / troupe;
    if (size === 100) efficiency100 = efficiency;
    rows.push([`${size} members`, troupe.toFixed(1), direct.toFixed(1), String(DELAY_MS), efficiency, DELAY_MS / direct, troupe - direct]);
  }
  await new Promise((resolve) => setImmediate(resolve));
  // Settled runs leave no actor; the orchestrations' own registrations stay (reused by every run).
  check(runtime.stats.actors === runtime.keyStatus('_shared').actors && runtime.stats.actors <= 2 * SIZES.length, `runtime not clean (only each registration's shared start executor and boundary may stay): ${JSON.stringify(runtime.stats)}`);
  await runtime.close();

  console.log(`\nconcurrent fan-out — Node ${process.version}, scripted model with a ${DELAY_MS} ms delay, median wall time of ${REPEATS} invocations after a warm-up`);
  console.log(`direct = the same number of scripted calls with Promise.all; efficiency = ${DELAY_MS} ms / wall time\n`);
  printTable(['fan-out', 'troupe ms', 'direct ms', 'ideal ms', 'troupe efficiency', 'direct efficiency', 'troupe − direct ms'], rows);
  console.log(`\ntarget: 100 members within 5 % of ideal (efficiency ≥ 0.95) — ${efficiency100.toFixed(3)}: ${efficiency100 >= 0.95 ? 'MET' : 'MISSED'}`);
  console.log(`(${(now() - started).toFixed(1)} s)`);
}

runMain(main);
