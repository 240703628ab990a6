/**
 * Heap per idle conversation: N 4-agent `HandoffOrchestration` conversations, each at rest waiting
 * on a human (the start agent answers without handing off → `human_input_requested`; no
 * `humanResponse` callback). After a full GC, heapUsed delta / N = bytes per waiting conversation.
 * The scripted model logs every request it receives (a deep copy); that log is measured on its own
 * (the same requests replayed on a fresh client) and subtracted, since a real model keeps nothing.
 * Baseline, same process: N bare XState actors of a trivial machine.
 * Every conversation is checked (waiting, human input requested), then ended with
 * `respond(requestId, null)` and checked to end as `user_ended`, leaving the runtime empty.
 * Target (DESIGN.md): ≥ 50,000 idle 4-agent handoff conversations per GB of heap (≤ 20 kB each).
 * Also measured: the same conversations with only the start agent as a member, so the table
 * shows what one member that was never asked to speak costs (members are created by the first
 * message sent to them, so such a member is no actor: only the broadcasts parked for it).
 * For a per-part breakdown, `v8.writeHeapSnapshot()` after the loop and group retained sizes by
 * the hosted actor that dominates them (XState's per-actor `Actor`, `options`, observers…).
 * Run through tsx, esbuild's keepNames wraps named closures in `__name()`, which gives each one
 * dictionary properties (~10–16 kB per conversation). So the benchmark then runs itself again
 * compiled by `tsc` under plain Node — what users of `dist/` get — and prints both.
 */
import { execFileSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { assign, createActor, setup, type AnyActorRef } from 'xstate';
import type { ChatRequest } from '../src/agents/chat-client.js';
import { ChatCompletionAgent, HandoffOrchestration, InProcessRuntime, type OrchestrationOutput, type OrchestrationResult } from '../src/index.js';
import { ScriptedChatClient } from '../src/testing/index.js';
import { check, collectGarbage, median, now, printTable, runMain } from './support.js';

const N = Number(process.env.BENCH_CONVERSATIONS ?? 2_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const TARGET_PER_GB = 50_000;
const GB = 1e9;

// `run-all` starts benchmarks without --expose-gc: expose it from here when missing.
if (!(globalThis as { gc?: unknown }).gc) {
  setFlagsFromString('--expose-gc');
  (globalThis as { gc?: unknown }).gc = runInNewContext('gc');
}

const heap = (): number => {
  check(collectGarbage(), 'gc is not exposed');
  return process.memoryUsage().heapUsed;
};

const trivialMachine = setup({ types: { context: {} as { n: number } } }).createMachine({
  id: 'trivial',
  context: { n: 0 },
  on: { tick: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

/** Bytes per bare started XState actor. */
function bareActors(count: number): number {
  const before = heap();
  const actors: AnyActorRef[] = [];
  for (let i = 0; i < count; i++) actors.push(createActor(trivialMachine).start());
  actors.forEach((a) => a.send({ type: 'tick' }));
  const bytes = (heap() - before) / count;
  check(actors.every((a) => a.getSnapshot().context.n === 1), 'bare actors handled their event');
  actors.forEach((a) => a.stop());
  return bytes;
}

function support(memberCount: number): { orchestration: HandoffOrchestration; startModel: ScriptedChatClient } {
  const startModel = new ScriptedChatClient(() => ({ text: 'Which order is it about?' }));
  const unused = () => new ScriptedChatClient(() => ({ error: new Error('only the start agent is asked') }));
  const members = [
    new ChatCompletionAgent({ name: 'Triage', description: 'Routes customers.', instructions: 'Route the customer.', client: startModel }),
    new ChatCompletionAgent({ name: 'Refund', description: 'Handles refunds.', instructions: 'You process refunds.', client: unused() }),
    new ChatCompletionAgent({ name: 'OrderStatus', description: 'Tracks orders.', instructions: 'You track orders.', client: unused() }),
    new ChatCompletionAgent({ name: 'Billing', description: 'Billing questions.', instructions: 'You answer billing questions.', client: unused() }),
  ];
  // Default graph: start with Triage, everyone may hand off to everyone (3 transfer tools each).
  return { orchestration: new HandoffOrchestration({ members: members.slice(0, memberCount) }), startModel };
}

/** The first `human_input_requested` event already streamed, without waiting for more. */
async function pendingRequest(result: OrchestrationResult<OrchestrationOutput>): Promise<{ requestId: string; agent: string } | undefined> {
  const it = result.events[Symbol.asyncIterator]();
  const later = new Promise<'none'>((resolve) => setImmediate(() => resolve('none')));
  for (;;) {
    const next = await Promise.race([it.next(), later]);
    if (next === 'none' || next.done) return undefined;
    if (next.value.type === 'human_input_requested') {
      await it.return?.();
      return { requestId: next.value.requestId, agent: next.value.agent };
    }
  }
}

interface Sample { perConversation: number; log: number; actorsPerConversation: number; parkedPerConversation: number }

async function idleConversations(count: number, memberCount = 4): Promise<Sample> {
  const runtime = new InProcessRuntime();
  runtime.start();
  const { orchestration, startModel } = support(memberCount);
  const before = heap();
  const results: OrchestrationResult<OrchestrationOutput>[] = [];
  for (let i = 0; i < count; i++) results.push(await orchestration.invoke(`Where is my refund for order ${i}?`, runtime));
  await runtime.stopWhenIdle(); // every conversation is at rest, waiting on its human
  const after = heap();
  const stats = runtime.stats;
  const shared = runtime.keyStatus('_shared').actors; // the start executor and boundary every run shares
  check(stats.busy === 0 && stats.queued === 0, `not at rest: ${JSON.stringify(stats)}`);
  check(startModel.callCount === count, `${startModel.callCount} model calls for ${count} conversations`);

  // The scripted model's request log, measured alone.
  const requests: ChatRequest[] = startModel.requests.map((r) => ({ messages: r.messages, tools: r.tools }));
  const logBefore = heap();
  const replay = new ScriptedChatClient(() => ({ text: 'Which order is it about?' }));
  for (const request of requests) await replay.complete(request);
  const log = (heap() - logBefore) / count;
  check(replay.callCount === count, 'replayed log');

  // Every conversation waits on its human; ending each one leaves nothing behind.
  runtime.start();
  const ends: Array<Promise<OrchestrationOutput>> = [];
  for (const result of results) {
    check(result.status === 'running', `a conversation is ${result.status}`);
    const request = await pendingRequest(result);
    check(request?.agent === 'Triage', 'human input was requested from Triage');
    result.respond(request!.requestId, null);
    ends.push(result.get());
  }
  const outputs = await Promise.all(ends);
  check(outputs.every((o) => o.reason === 'user_ended' && o.lastAgent === 'Triage'), 'every conversation ended as user_ended');
  await runtime.stopWhenIdle();
  await new Promise((resolve) => setImmediate(resolve));
  const left = runtime.stats;
  check(left.actors <= 2 && left.actors === runtime.keyStatus('_shared').actors, `runtime not clean (only the shared start executor and boundary may stay): ${JSON.stringify(left)}`);
  await runtime.close();
  return { perConversation: (after - before) / count, log, actorsPerConversation: (stats.actors - shared) / count, parkedPerConversation: stats.parked / count };
}

async function main(): Promise<void> {
  const started = now();
  await idleConversations(Math.min(N, 200)); // warm up
  bareActors(Math.min(N, 200));
  const samples: Sample[] = [];
  const alone: Sample[] = [];
  const bare: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    samples.push(await idleConversations(N));
    alone.push(await idleConversations(N, 1));
    bare.push(bareActors(N));
  }
  const raw = median(samples.map((s) => s.perConversation));
  const log = median(samples.map((s) => s.log));
  const net = raw - log;
  const actor = median(bare);
  // What one member that never spoke adds: (4 members − the start agent alone) / 3, each net of
  // its own request log (the start agent's requests carry no transfer tools when it is alone).
  const idleMember = (net - median(alone.map((s) => s.perConversation - s.log))) / 3;
  const actors = samples[0].actorsPerConversation;

  const build = process.env.BENCH_COMPILED ? 'tsc build, plain node' : 'tsx';
  console.log(`\nidle memory (${build}) — Node ${process.version}, ${N} idle 4-agent handoff conversations waiting on a human, heapUsed after forced GC, median of ${REPEATS}`);
  console.log(`baseline = one bare started XState actor of a trivial machine; a conversation hosts ${actors} actors and ${samples[0].parkedPerConversation} parked broadcasts\n`);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
  printTable(['measure', 'per conversation', 'conversations / GB', '÷ bare actor', '÷ (bare actor × actors hosted)'], [
    ['heap delta (incl. scripted model log)', kb(raw), Math.floor(GB / raw).toLocaleString('en-US'), raw / actor, raw / (actor * actors)],
    ['scripted model request log', kb(log), '', log / actor, ''],
    ['one member never asked to speak', kb(idleMember), '', idleMember / actor, ''],
    ['troupe (delta − log)', kb(net), Math.floor(GB / net).toLocaleString('en-US'), net / actor, net / (actor * actors)],
    ['bare XState actor', kb(actor), Math.floor(GB / actor).toLocaleString('en-US'), 1, ''],
  ]);
  const perGb = GB / net;
  console.log(`\ntarget: ≥ ${TARGET_PER_GB.toLocaleString('en-US')} idle conversations per GB — ${Math.floor(perGb).toLocaleString('en-US')} (${(perGb / TARGET_PER_GB).toFixed(2)} × target): ${perGb >= TARGET_PER_GB ? 'MET' : 'MISSED'}`);
  console.log(`(${(now() - started).toFixed(1)} s)`);
}

/** The same benchmark compiled by tsc, in a child process with plain Node. */
function compiledRun(): void {
  const outDir = '.bench-build';
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['--expose-gc', `${outDir}/bench/idle-memory.bench.js`], { stdio: 'inherit', env: { ...process.env, BENCH_COMPILED: '1' } });
}

runMain(async () => {
  await main();
  if (!process.env.BENCH_COMPILED) compiledRun();
});
