/**
 * Runtime throughput, as ratios against raw XState measured in the same process:
 * - publish: deliveries/s for one topic with 1, 10 and 100 subscribers (each a distinct agent type);
 * - RPC: sendMessage round trips/s, one at a time and 100 in flight;
 * - baseline: `actor.send` to a bare counting machine, the same number of events.
 * Every run checks that each delivery was actually handled. Target (DESIGN.md): publish delivery
 * ≥ 1/3 of raw send throughput.
 */
import { assign, createActor, emit, setup } from 'xstate';
import { AgentId, InProcessRuntime, TopicId, TypeSubscription, replyCommand, type MessageEvent, type RuntimeCommand } from '../src/runtime/index.js';
import { check, median, now, printTable, runMain } from './support.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const RPC_SEQUENTIAL = Number(process.env.BENCH_RPC ?? 30_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

/** The bare machine both sides use: counts the events it receives. */
const countingMachine = setup({
  types: { context: {} as { n: number } },
}).createMachine({
  id: 'counter',
  context: { n: 0 },
  on: { tick: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

/** The same counter, answering RPCs. */
const echoMachine = setup({
  types: { context: {} as { n: number }, events: {} as MessageEvent, emitted: {} as RuntimeCommand },
}).createMachine({
  id: 'echo',
  context: { n: 0 },
  on: { ping: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit(({ context }) => replyCommand(context.n))] } },
});

/** Runs `once` (returns events handled and seconds) warm-up + REPEATS times; median events/s. */
async function measure(once: () => Promise<{ events: number; seconds: number }> | { events: number; seconds: number }): Promise<number> {
  await once(); // warm up
  const rates: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const { events, seconds } = await once();
    rates.push(events / seconds);
  }
  return median(rates);
}

function rawSend(events: number): { events: number; seconds: number } {
  const actor = createActor(countingMachine).start();
  const event = { type: 'tick' } as const;
  const t0 = now();
  for (let i = 0; i < events; i++) actor.send(event);
  const seconds = now() - t0;
  check(actor.getSnapshot().context.n === events, `raw actor counted ${actor.getSnapshot().context.n} of ${events}`);
  actor.stop();
  return { events, seconds };
}

async function publishDeliveries(subscribers: number, deliveries: number): Promise<{ events: number; seconds: number }> {
  const runtime = new InProcessRuntime();
  for (let i = 0; i < subscribers; i++) {
    runtime.registerFactory(`sub${i}`, () => countingMachine);
    runtime.addSubscription(new TypeSubscription('bench', `sub${i}`));
  }
  const topic = new TopicId('bench', 'room');
  // Create the actors first: the benchmark measures delivery, not actor creation.
  runtime.start();
  await runtime.publishMessage({ type: 'warm' }, topic);
  await runtime.stopWhenIdle();

  const publishes = Math.max(1, Math.round(deliveries / subscribers));
  const message = { type: 'tick' };
  runtime.start();
  const t0 = now();
  for (let i = 0; i < publishes; i++) void runtime.publishMessage(message, topic);
  await runtime.stopWhenIdle();
  const seconds = now() - t0;

  let handled = 0;
  for (let i = 0; i < subscribers; i++) handled += runtime.getActor(new AgentId(`sub${i}`, 'room'))!.getSnapshot().context.n;
  check(handled === publishes * subscribers, `publish to ${subscribers}: handled ${handled} of ${publishes * subscribers}`);
  await runtime.close();
  return { events: handled, seconds };
}

async function rpcRoundTrips(calls: number, inFlight: number): Promise<{ events: number; seconds: number }> {
  const runtime = new InProcessRuntime();
  runtime.registerFactory('echo', () => echoMachine);
  runtime.start();
  const id = new AgentId('echo', 'k');
  await runtime.sendMessage({ type: 'ping' }, id); // create it
  const message = { type: 'ping' };
  let last = 0;
  const t0 = now();
  if (inFlight === 1) {
    for (let i = 0; i < calls; i++) last = await runtime.sendMessage<number>(message, id);
  } else {
    const batch: Promise<number>[] = new Array(inFlight);
    for (let done = 0; done < calls; done += inFlight) {
      for (let j = 0; j < inFlight; j++) batch[j] = runtime.sendMessage<number>(message, id);
      last = (await Promise.all(batch))[inFlight - 1];
    }
  }
  const seconds = now() - t0;
  const total = inFlight === 1 ? calls : Math.ceil(calls / inFlight) * inFlight;
  check(last === total + 1, `RPC: last reply ${last}, expected ${total + 1}`);
  check(runtime.getActor(id)!.getSnapshot().context.n === total + 1, 'RPC: echo count');
  await runtime.close();
  return { events: total, seconds };
}

interface Row { workload: string; events: number; troupe: number; raw: number }

const fmt = (perSecond: number) => (perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`);

async function main(): Promise<void> {
  const started = now();
  const rows: Row[] = [];
  const baseline = async (events: number) => measure(() => rawSend(events));

  for (const subscribers of [1, 10, 100]) {
    const raw = await baseline(EVENTS);
    const troupe = await measure(() => publishDeliveries(subscribers, EVENTS));
    rows.push({ workload: `publish → ${subscribers} subscriber${subscribers > 1 ? 's' : ''} (deliveries)`, events: EVENTS, troupe, raw });
  }
  {
    const raw = await baseline(RPC_SEQUENTIAL);
    const troupe = await measure(() => rpcRoundTrips(RPC_SEQUENTIAL, 1));
    rows.push({ workload: 'RPC round trips, 1 in flight', events: RPC_SEQUENTIAL, troupe, raw });
  }
  {
    const raw = await baseline(EVENTS);
    const troupe = await measure(() => rpcRoundTrips(EVENTS, 100));
    rows.push({ workload: 'RPC round trips, 100 in flight', events: EVENTS, troupe, raw });
  }

  console.log(`\nruntime throughput — Node ${process.version}, median of ${REPEATS} after a warm-up; raw = XState actor.send to a bare counting machine, same event count\n`);
  const header = ['workload', 'events', 'troupe', 'raw XState', 'troupe/raw'];
  const body = rows.map((r) => [r.workload, String(r.events), fmt(r.troupe), fmt(r.raw), r.troupe / r.raw]);
  printTable(header, body);

  const worstPublish = Math.min(...rows.filter((r) => r.workload.startsWith('publish')).map((r) => r.troupe / r.raw));
  console.log(`\ntarget: publish delivery ≥ 0.33 × raw send — worst publish ratio ${worstPublish.toFixed(2)}: ${worstPublish >= 1 / 3 ? 'MET' : 'MISSED'}`);
  console.log(`(${(now() - started).toFixed(1)} s)`);
}

runMain(main);
