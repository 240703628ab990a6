/**
 * Concurrent fan-out: a `ConcurrentOrchestration` of 5, 20 and 100 members whose scripted model
 * takes a fixed DELAY_MS per answer. Truly parallel members finish in ≈ DELAY_MS whatever their
 * number; efficiency = DELAY_MS / wall time (1.00 = ideal). Baseline, same process: the same
 * number of scripted calls made at once with `Promise.all` (the timer floor troupe cannot beat).
 * Every run checks one reply per member, in member order.
 * Target (DESIGN.md): 100 members within 5 % of the ideal DELAY_MS (efficiency ≥ 0.95).
 *
 * Where the rest goes: "calls out" is how long after `invoke` the last model call started
 * (creating the members' actors, telling them the task, asking each); "replies in" is how long
 * after the first answer was due (first call + DELAY_MS) the output was ready (each answer
 * handled by its agent, the collector and the end executor, then the run torn down). The model
 * calls wait side by side, so wall ≈ calls out + DELAY_MS + replies in when they barely overlap.
 * Running this file under tsx costs the same CPU per run as the built package (measured), so the
 * figures are the package's.
 */
import { ChatCompletionAgent, ConcurrentOrchestration, InProcessRuntime } from '../src/index.js';
import { ScriptedChatClient } from '../src/testing/index.js';
import { check, median, medianOf, now, printTable, runMain } from './support.js';

const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 100);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);
const SIZES = [5, 20, 100];

interface Panel {
  orchestration: ConcurrentOrchestration;
  client: ScriptedChatClient;
  /** `now()` at each model call's start, since the last reset. */
  starts: number[];
}

function panel(size: number): Panel {
  const starts: number[] = [];
  // One client for every member (agents are configuration); each answers with its own name. It
  // records no requests: deep copies of every request would be the bench's cost, not troupe's.
  const client = new ScriptedChatClient((request) => {
    starts.push(now());
    return { text: `answer of ${request.messages[0].content.slice(4)}`, delayMs: DELAY_MS };
  }, { record: false });
  const members = Array.from({ length: size }, (_, i) => new ChatCompletionAgent({ name: `M${i}`, instructions: `You M${i}`, client }));
  return { orchestration: new ConcurrentOrchestration({ members }), client, starts };
}

interface Timing {
  ms: number;
  /** ms from invoke to the last model call's start. */
  callsOut: number;
  /** ms from the first answer being due to the output. */
  repliesIn: number;
}

/** Wall time of one invocation, ms, and its phases; checks the output. The orchestration is reused, as an application would. */
async function troupeRun(size: number, runtime: InProcessRuntime, { orchestration, client, starts }: Panel): Promise<Timing> {
  const calls = client.callCount;
  starts.length = 0;
  const t0 = now();
  const output = await (await orchestration.invoke('What is temperature?', runtime)).get();
  const t1 = now();
  const ms = (t1 - t0) * 1000;
  check(output.reason === 'completed', `fan-out ${size}: reason ${output.reason}`);
  check(output.messages.length === size, `fan-out ${size}: ${output.messages.length} replies`);
  output.messages.forEach((m, i) => check(m.content === `answer of M${i}` && m.name === `M${i}`, `fan-out ${size}: reply ${i} is "${m.content}" from ${m.name}`));
  check(client.callCount - calls === size && starts.length === size, `fan-out ${size}: ${client.callCount - calls} model calls`);
  return { ms, callsOut: (Math.max(...starts) - t0) * 1000, repliesIn: (t1 - Math.min(...starts)) * 1000 - DELAY_MS };
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
    const timings: Timing[] = [];
    const troupe = await medianOf(REPEATS, async () => {
      const timing = await troupeRun(size, runtime, setup);
      timings.push(timing);
      return timing.ms;
    });
    timings.shift(); // the warm-up
    const efficiency = DELAY_MS / troupe;
    if (size === 100) efficiency100 = efficiency;
    const callsOut = median(timings.map((t) => t.callsOut));
    const repliesIn = median(timings.map((t) => t.repliesIn));
    rows.push([`${size} members`, troupe.toFixed(1), direct.toFixed(1), String(DELAY_MS), efficiency, DELAY_MS / direct, troupe - direct, callsOut, repliesIn]);
  }
  await new Promise((resolve) => setImmediate(resolve));
  // Settled runs leave no actor; the orchestrations' own registrations stay (reused by every run).
  check(runtime.stats.actors === runtime.keyStatus('_shared').actors && runtime.stats.actors <= 2 * SIZES.length, `runtime not clean (only each registration's shared start executor and boundary may stay): ${JSON.stringify(runtime.stats)}`);
  await runtime.close();

  console.log(`\nconcurrent fan-out — Node ${process.version}, scripted model with a ${DELAY_MS} ms delay, median wall time of ${REPEATS} invocations after a warm-up`);
  console.log(`direct = the same number of scripted calls with Promise.all; efficiency = ${DELAY_MS} ms / wall time\n`);
  console.log(`calls out = ms from invoke to the last model call's start; replies in = ms from the first answer due to the output (medians)\n`);
  printTable(['fan-out', 'troupe ms', 'direct ms', 'ideal ms', 'troupe efficiency', 'direct efficiency', 'troupe − direct ms', 'calls out ms', 'replies in ms'], rows);
  console.log(`\ntarget: 100 members within 5 % of ideal (efficiency ≥ 0.95) — ${efficiency100.toFixed(3)}: ${efficiency100 >= 0.95 ? 'MET' : 'MISSED'}`);
  console.log(`(${(now() - started).toFixed(1)} s)`);
}

runMain(main);
