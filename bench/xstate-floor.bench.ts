/**
 * The floor XState sets under a run: what an actor (created, started and stopped as the runtime
 * hosts them — children of one root, one system) and one event cost on this machine, for a
 * one-state machine and for troupe's agent machine. Multiplied by the fewest actors and events a
 * run can have while keeping the promises of the Performance issue (every participant an XState
 * actor, every member hears the conversation before it speaks), they give the CPU a run cannot go
 * below, to compare with the targets (handoff-2 ≤ 150 µs, sequential-5 ≤ 235 µs, ≥ 4× faster
 * than the OpenAI Agents SDK warmed). CPU time, median of several blocks.
 */
import { assign, createActor, setup, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { agentMachine } from '../src/actors/agent-machine.js';
import { messageEvent } from '../src/testing/index.js';
import { median, printTable, runMain } from './support.js';

const BLOCK = 20_000;
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 7);

const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** CPU µs per iteration of `body`, median of BLOCKS blocks after one warm-up block. */
function measure(body: (i: number) => void): number {
  const blocks: number[] = [];
  for (let b = 0; b <= BLOCKS; b++) {
    const c0 = cpu();
    for (let i = 0; i < BLOCK; i++) body(b * BLOCK + i);
    if (b > 0) blocks.push((cpu() - c0) / BLOCK);
  }
  return median(blocks);
}

const root = createActor(setup({}).createMachine({}));
root.start();

function stop(actor: AnyActorRef): void {
  // Hosted actors are children of the runtime's root: XState's public stop() refuses them.
  (actor as unknown as { _stop(): void })._stop();
}

function actorCost(logic: AnyActorLogic, input?: unknown): number {
  return measure((i) => {
    const actor = createActor(logic, { parent: root, id: `a${i}`, systemId: `a${i}`, input });
    actor.start();
    stop(actor);
  });
}

function eventCost(logic: AnyActorLogic, input: unknown, event: { type: string }): number {
  const actor = createActor(logic, { parent: root, id: 'target', input });
  actor.start();
  const cost = measure(() => actor.send(event));
  stop(actor);
  return cost;
}

const counter = setup({ types: { context: {} as { n: number }, events: {} as { type: 'tick' } } }).createMachine({
  context: { n: 0 },
  initial: 'on',
  states: { on: { on: { tick: { actions: assign({ n: ({ context }) => context.n + 1 }) } } } },
});

/**
 * The fewest per-run actors and events with the promises kept (start and end executors and the
 * boundary long-lived, model calls answered by one event, no gateway, no termination check):
 * handoff-2 — actors: 2 members + the manager; events: start, the task to 2 members, kickoff,
 * 2 × (turn request, model result), Triage's reply to Refund and the manager, Refund's reply to
 * Triage and the manager, completion, settle = 14.
 * sequential-5 — actors: 5 members + the manager; events: start, the task to 5, kickoff,
 * 5 × (turn request, model result, reply to 4 others and the manager), completion, settle = 44.
 */
const SHAPES = [
  { name: 'handoff-2', actors: 3, events: 14, target: 150 },
  { name: 'sequential-5', actors: 6, events: 44, target: 235 },
];

async function main(): Promise<void> {
  const agentInput = { agent: 'Refund', topic: null };
  const conversation = messageEvent({ type: 'conversation', messages: [] });
  const costs = {
    tinyActor: actorCost(counter),
    tinyEvent: eventCost(counter, undefined, { type: 'tick' }),
    agentActor: actorCost(agentMachine, agentInput),
    agentEvent: eventCost(agentMachine, agentInput, conversation),
  };
  console.log(`\nXState ${'5'} floor — Node ${process.version}; CPU µs, median of ${BLOCKS} blocks of ${BLOCK}\n`);
  printTable(['unit', 'one-state machine µs', 'agent machine µs'], [
    ['actor (create, start, stop)', costs.tinyActor, costs.agentActor],
    ['event (one assign)', costs.tinyEvent, costs.agentEvent],
  ]);
  console.log('');
  printTable(['workload', 'actors / run', 'events / run', 'floor, one-state µs', 'floor, agent machine µs', 'target µs'], SHAPES.map((s) => [
    s.name, String(s.actors), String(s.events),
    s.actors * costs.tinyActor + s.events * costs.tinyEvent,
    s.actors * costs.agentActor + s.events * costs.agentEvent,
    String(s.target),
  ]));
  console.log('\nThe floor is XState alone: routing, envelopes, model-call plumbing and GC come on top.');
}

runMain(main);
