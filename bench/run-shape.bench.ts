/**
 * The shape of one run: how many actors it creates, and how many events and snapshots XState
 * processes for it (counted by an inspector, so the figures are what the Stately inspector sees),
 * for handoff-2 and sequential-5 (the workloads of orchestration-overhead and bench/peers).
 * They set the floor of the cost per run (DESIGN.md, Performance targets), so they are printed
 * beside nothing else: compare them between commits.
 */
import type { InspectionEvent } from 'xstate';
import { ChatCompletionAgent, HandoffOrchestration, InProcessRuntime, OrchestrationHandoffs, SequentialOrchestration, type Orchestration, type OrchestrationOutput } from '../src/index.js';
import { ScriptedChatClient } from '../src/testing/index.js';
import { check, printTable, runMain } from './support.js';

const TASK = 'I was charged twice for order 42; please refund one of the charges.';
const RUNS = 100;

function handoff2(): Orchestration<OrchestrationOutput> {
  const triage = new ChatCompletionAgent({ name: 'Triage', instructions: 'Route.', client: new ScriptedChatClient(() => ({ toolCalls: [{ name: 'transfer_to_Refund', arguments: {} }] })) });
  const refund = new ChatCompletionAgent({ name: 'Refund', instructions: 'Refunds.', client: new ScriptedChatClient(() => ({ text: 'Done.' })) });
  return new HandoffOrchestration({ members: [triage, refund], handoffs: OrchestrationHandoffs.startWith(triage).add(triage, refund), terminationCondition: () => true });
}

function sequential5(): Orchestration<OrchestrationOutput> {
  const members = [0, 1, 2, 3, 4].map((i) => new ChatCompletionAgent({ name: `Member${i}`, instructions: `Member ${i}.`, client: new ScriptedChatClient(() => ({ text: `Reply ${i}.` })) }));
  return new SequentialOrchestration({ members });
}

async function main(): Promise<void> {
  const rows: Array<Array<string | number>> = [];
  for (const [name, build, lastAgent] of [['handoff-2', handoff2, 'Refund'], ['sequential-5', sequential5, 'Member4']] as const) {
    const counts: Record<string, number> = {};
    const byType: Record<string, number> = {};
    const created: Record<string, number> = {};
    const inspect = (event: InspectionEvent) => {
      counts[event.type] = (counts[event.type] ?? 0) + 1;
      if (event.type === '@xstate.event') {
        const type = event.event.type.replace(/^(xstate\.done\.actor)\..*run_.*$/, '$1.<hosted actor>');
        byType[type] = (byType[type] ?? 0) + 1;
      }
      if (event.type === '@xstate.actor') {
        const id = (event.actorRef as unknown as { id: string }).id.replace(/run_[\w-]+/, '<run>').replace(/^[a-z]+_[a-z0-9]+\./, '');
        created[id] = (created[id] ?? 0) + 1;
      }
    };
    const runtime = new InProcessRuntime({ inspect });
    runtime.start();
    const orchestration = build();
    await (await orchestration.invoke(TASK, runtime)).get(); // registration and first-run costs out of the count
    for (const k of Object.keys(counts)) delete counts[k];
    for (const k of Object.keys(byType)) delete byType[k];
    for (const k of Object.keys(created)) delete created[k];
    for (let i = 0; i < RUNS; i++) {
      const output = await (await orchestration.invoke(TASK, runtime)).get();
      check(output.lastAgent === lastAgent, `${name}: last agent ${output.lastAgent}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
    const per = (k: string) => (counts[k] ?? 0) / RUNS;
    rows.push([name, per('@xstate.actor'), per('@xstate.event'), per('@xstate.snapshot'), per('@xstate.microstep'), per('@xstate.action')]);
    console.log(`${name}: actors per run: ${Object.entries(created).map(([k, v]) => `${k} ${v / RUNS}`).join(', ')}`);
    console.log(`${name}: events per run: ${Object.entries(byType).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v / RUNS}`).join(', ')}`);
    await runtime.close();
  }
  printTable(['workload', 'actors / run', 'events / run', 'snapshots / run', 'microsteps / run', 'actions / run'], rows);
}

runMain(main);
