/**
 * Orchestration overhead per agent turn, with a zero-latency model (`ScriptedChatClient`):
 * - sequential-5: a 5-member `SequentialOrchestration`, each member answers a fixed text;
 * - handoff-2: a `HandoffOrchestration` where Triage calls `transfer_to_Refund`, Refund answers,
 *   and `terminationCondition: () => true` ends the run after Refund's reply.
 * Each runs many invocations one after another on one runtime, and in waves of CONCURRENCY at
 * once. Baseline, same process: the very requests the agents sent (recorded by the scripted
 * clients on a verification run) replayed directly on `ScriptedChatClient.complete`, awaited in a
 * loop — the model-call cost troupe cannot avoid. Every run's output is checked.
 * Targets (DESIGN.md): handoff-2 ≤ 150 µs/run, sequential-5 ≤ 235 µs/run.
 */
import type { ChatRequest } from '../src/agents/chat-client.js';
import { ChatCompletionAgent, HandoffOrchestration, InProcessRuntime, OrchestrationHandoffs, SequentialOrchestration, type Orchestration, type OrchestrationOutput } from '../src/index.js';
import { ScriptedChatClient } from '../src/testing/index.js';
import { check, medianOf, now, printTable, runMain } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 1_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const TASK = 'I was charged twice for order 42; please refund one of the charges.';

/** One workload: how to build it (fresh clients per sample, so their request logs stay small) and check an output. */
interface Workload {
  name: string;
  turns: number;
  targetUs: number;
  build(): { orchestration: Orchestration<OrchestrationOutput>; clients: ScriptedChatClient[] };
  verify(output: OrchestrationOutput): void;
}

const sequential5: Workload = {
  name: 'sequential-5',
  turns: 5,
  targetUs: 235,
  build() {
    const clients = [0, 1, 2, 3, 4].map((i) => new ScriptedChatClient(() => ({ text: `Reply from member ${i}.` })));
    const members = clients.map((client, i) => new ChatCompletionAgent({ name: `Member${i}`, instructions: `You are member ${i} of a pipeline.`, client }));
    return { orchestration: new SequentialOrchestration({ members }), clients };
  },
  verify(output) {
    check(output.reason === 'completed', `sequential-5: reason ${output.reason}`);
    check(output.messages.length === 1 && output.messages[0].content === 'Reply from member 4.', 'sequential-5: output is the last reply');
    check(output.lastAgent === 'Member4', `sequential-5: lastAgent ${output.lastAgent}`);
    check(output.conversation.length === 6 && output.conversation.map((m) => m.content).join('|') === [TASK, 0, 1, 2, 3, 4].map((x) => (typeof x === 'number' ? `Reply from member ${x}.` : x)).join('|'), 'sequential-5: transcript');
    check(output.usage.byAgent.Member0 !== undefined && output.usage.byAgent.Member4 !== undefined, 'sequential-5: usage per agent');
  },
};

const handoff2: Workload = {
  name: 'handoff-2',
  turns: 2,
  targetUs: 150,
  build() {
    const triageModel = new ScriptedChatClient(() => ({ toolCalls: [{ name: 'transfer_to_Refund', arguments: { reason: 'refund request' } }] }));
    const refundModel = new ScriptedChatClient(() => ({ text: 'Done: the duplicate charge on order 42 is refunded.' }));
    const triage = new ChatCompletionAgent({ name: 'Triage', description: 'Routes customers.', instructions: 'Route the customer to the right agent.', client: triageModel });
    const refund = new ChatCompletionAgent({ name: 'Refund', description: 'Handles refunds.', instructions: 'You process refunds.', client: refundModel });
    const orchestration = new HandoffOrchestration({
      members: [triage, refund],
      handoffs: OrchestrationHandoffs.startWith(triage).add(triage, refund),
      terminationCondition: () => true,
    });
    return { orchestration, clients: [triageModel, refundModel] };
  },
  verify(output) {
    check(output.reason === 'terminated', `handoff-2: reason ${output.reason}`);
    check(output.lastAgent === 'Refund', `handoff-2: lastAgent ${output.lastAgent}`);
    check(output.messages.length === 1 && output.messages[0].content === 'Done: the duplicate charge on order 42 is refunded.', 'handoff-2: output is Refund\'s reply');
    const roles = output.conversation.map((m) => m.role).join(',');
    check(roles === 'user,assistant,tool,assistant', `handoff-2: transcript roles ${roles}`);
    check(output.conversation[1].toolCalls?.[0]?.name === 'transfer_to_Refund', 'handoff-2: the transfer call is in the transcript');
  },
};

/** `runs` invocations on `runtime`, `concurrency` at a time; µs per run. Verifies every output and that nothing is left behind. */
async function troupeRuns(workload: Workload, runtime: InProcessRuntime, runs: number, concurrency: number): Promise<number> {
  const { orchestration, clients } = workload.build();
  const one = async () => {
    const output = await (await orchestration.invoke(TASK, runtime)).get();
    workload.verify(output);
  };
  const t0 = now();
  if (concurrency === 1) {
    for (let i = 0; i < runs; i++) await one();
  } else {
    const wave: Promise<void>[] = new Array(concurrency);
    for (let done = 0; done < runs; done += concurrency) {
      for (let j = 0; j < concurrency; j++) wave[j] = one();
      await Promise.all(wave);
    }
  }
  const seconds = now() - t0;
  const total = concurrency === 1 ? runs : Math.ceil(runs / concurrency) * concurrency;
  const calls = clients.reduce((sum, c) => sum + c.callCount, 0);
  check(calls === total * workload.turns, `${workload.name}: ${calls} model calls for ${total} runs`);
  // Each invocation retires its actors once settled (the orchestration's registrations stay).
  await new Promise((resolve) => setImmediate(resolve));
  const { actors, queued, busy } = runtime.stats;
  // Only the registrations' shared start executor and boundary stay (one of each per registration, however many runs).
  check(actors === runtime.keyStatus('_shared').actors && queued + busy === 0, `${workload.name}: runtime not clean after the runs: ${JSON.stringify(runtime.stats)}`);
  return (seconds * 1e6) / total;
}

/** The same model calls, made directly: the requests a verification run recorded, replayed in order. */
async function directCalls(workload: Workload, requests: ChatRequest[][], runs: number): Promise<number> {
  const clients = workload.build().clients;
  const t0 = now();
  for (let i = 0; i < runs; i++) {
    for (let c = 0; c < clients.length; c++) {
      for (const request of requests[c]) {
        const response = await clients[c].complete(request);
        if (response.model !== 'scripted') throw new Error('unexpected response');
      }
    }
  }
  const seconds = now() - t0;
  check(clients.reduce((sum, c) => sum + c.callCount, 0) === runs * workload.turns, `${workload.name}: direct call count`);
  return (seconds * 1e6) / runs;
}

/** One run, to check the workload and record the requests each client received. */
async function recordRequests(workload: Workload, runtime: InProcessRuntime): Promise<ChatRequest[][]> {
  const { orchestration, clients } = workload.build();
  workload.verify(await (await orchestration.invoke(TASK, runtime)).get());
  return clients.map((c) => c.requests.map((r) => ({ messages: r.messages, tools: r.tools.length > 0 ? r.tools : undefined })));
}

async function main(): Promise<void> {
  const started = now();
  const runtime = new InProcessRuntime();
  runtime.start();
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  for (const workload of [handoff2, sequential5]) {
    const requests = await recordRequests(workload, runtime);
    check(requests.flat().length === workload.turns, `${workload.name}: ${requests.flat().length} model calls on the recording run`);
    const direct = await medianOf(REPEATS, () => directCalls(workload, requests, RUNS));
    for (const concurrency of [1, CONCURRENCY]) {
      const troupe = await medianOf(REPEATS, () => troupeRuns(workload, runtime, RUNS, concurrency));
      rows.push([
        `${workload.name}, ${concurrency === 1 ? 'one at a time' : `${concurrency} concurrent`}`,
        String(RUNS),
        troupe.toFixed(0),
        ((troupe - direct) / workload.turns).toFixed(0),
        direct.toFixed(1),
        troupe / direct,
        String(workload.targetUs),
        troupe / workload.targetUs,
      ]);
      if (concurrency === 1) verdicts.push(`${workload.name} ≤ ${workload.targetUs} µs/run: ${troupe.toFixed(0)} µs — ${troupe <= workload.targetUs ? 'MET' : 'MISSED'}`);
    }
  }
  await runtime.close();

  console.log(`\norchestration overhead — Node ${process.version}, zero-latency ScriptedChatClient, median of ${REPEATS} samples of ${RUNS} runs after a warm-up`);
  console.log('direct = the same model calls (requests recorded from a real run) awaited in a loop on ScriptedChatClient\n');
  printTable(['workload', 'runs', 'troupe µs/run', 'overhead µs/turn', 'direct µs/run', 'troupe/direct', 'target µs/run', 'troupe/target'], rows);
  console.log(`\ntargets: ${verdicts.join('; ')}`);
  console.log(`(${(now() - started).toFixed(1)} s)`);
}

runMain(main);
