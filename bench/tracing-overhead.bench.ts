/**
 * What tracing costs per run, handoff-2 (Triage hands off to Refund, Refund answers) on a
 * zero-latency `ScriptedChatClient`, three ways interleaved in one process (the machine is noisy:
 * only ratios within a run mean anything):
 * - off: `tracing: false` — the run as before tracing existed;
 * - idle: the default, `@opentelemetry/api` installed but no tracer provider registered — the
 *   budget is a few µs per run over "off";
 * - on: a `BasicTracerProvider` whose exporter drops every span (5 spans per run: the run, 2 turns, 2 model calls).
 */
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ChatCompletionAgent, HandoffOrchestration, InProcessRuntime, OrchestrationHandoffs, type OrchestrationOutput } from '../src/index.js';
import { ScriptedChatClient } from '../src/testing/index.js';
import { check, collectGarbage, median, now, printTable, runMain } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 1_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);

function handoff2(tracing: false | undefined): HandoffOrchestration {
  const triageModel = new ScriptedChatClient(() => ({ toolCalls: [{ name: 'transfer_to_Refund', arguments: { reason: 'refund request' } }] }));
  const refundModel = new ScriptedChatClient(() => ({ text: 'Done: refunded.' }));
  const triage = new ChatCompletionAgent({ name: 'Triage', instructions: 'Route the customer.', client: triageModel });
  const refund = new ChatCompletionAgent({ name: 'Refund', instructions: 'You process refunds.', client: refundModel });
  return new HandoffOrchestration({
    members: [triage, refund],
    handoffs: OrchestrationHandoffs.startWith(triage).add(triage, refund),
    terminationCondition: () => true,
    ...(tracing === false ? { tracing } : {}),
  });
}

let exported = 0;
const dropping: SpanExporter = {
  export: (spans: ReadableSpan[], done) => { exported += spans.length; done({ code: 0 }); },
  shutdown: async () => {},
};
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(dropping)] });

async function runs(runtime: InProcessRuntime, orchestration: HandoffOrchestration, traced: boolean): Promise<number> {
  if (traced) trace.setGlobalTracerProvider(provider);
  const before = exported;
  const t0 = now();
  for (let i = 0; i < RUNS; i++) {
    const output: OrchestrationOutput = await (await orchestration.invoke('Refund order 42', runtime)).get();
    check(output.lastAgent === 'Refund', 'handoff-2: Refund answered');
  }
  const seconds = now() - t0;
  if (traced) trace.disable();
  check(exported - before === (traced ? RUNS * 5 : 0), `spans exported: ${exported - before}`);
  return (seconds * 1e6) / RUNS;
}

async function main(): Promise<void> {
  const runtime = new InProcessRuntime();
  runtime.start();
  const off = handoff2(false);
  const idle = handoff2(undefined);
  const results = { off: [] as number[], idle: [] as number[], on: [] as number[] };
  const modes = {
    off: () => runs(runtime, off, false),
    idle: () => runs(runtime, idle, false),
    on: () => runs(runtime, idle, true),
  };
  const order = ['off', 'idle', 'on'] as const;
  // A warm-up of each mode, then samples interleaved in a rotating order (a mode that follows
  // "on" inherits its garbage), with a full GC before each when run with --expose-gc.
  for (let r = -1; r < REPEATS; r++) {
    for (let i = 0; i < order.length; i++) {
      const mode = order[(i + Math.max(r, 0)) % order.length];
      collectGarbage();
      const value = await modes[mode]();
      if (r >= 0) results[mode].push(value);
    }
  }
  await runtime.close();
  const base = median(results.off);
  console.log(`\ntracing overhead — handoff-2, Node ${process.version}, median of ${REPEATS} interleaved samples of ${RUNS} runs\n`);
  printTable(['mode', 'µs/run', 'Δ vs off µs/run', 'ratio'], (['off', 'idle', 'on'] as const).map((mode) => {
    const value = median(results[mode]);
    return [mode, value.toFixed(1), (value - base).toFixed(1), value / base];
  }));
}

runMain(main);
