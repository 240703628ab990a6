/**
 * What a handoff conversation costs in model calls and tokens under each tool-call filter and
 * with a context window: the customer-support example's scripted conversation (status question →
 * refund → thanks → end; 3 handoffs, 2 tool calls), played by the example's own scripted model
 * and customer. Tokens sent = the sum of `inputTokens` over the conversation, which the
 * ScriptedChatClient counts deterministically (characters of every request / 4), so the numbers
 * are exact and repeatable. Every run is verified (reason, handoffs, tool calls, and that the
 * reported usage equals what the model received). Also reports wall time per conversation (a
 * fresh runtime each, events printed to an array) for scale, not as a target.
 */
import { scriptedCustomer } from '../examples/customer-support/customer.js';
import { runCustomerSupport, type RunOptions } from '../examples/customer-support/run.js';
import { createScriptedModel, modelCalls } from '../examples/customer-support/scripted-model.js';
import { estimateInputTokens } from '../src/testing/index.js';
import { median } from './support.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 200);

interface Setting {
  name: string;
  options: Partial<RunOptions>;
  /** The handoffs the conversation must make under this setting. */
  handoffs: number;
}

const settings: Setting[] = [
  { name: "handoffOnly (default)", options: { toolCallFilter: 'handoffOnly' }, handoffs: 3 },
  { name: 'all', options: { toolCallFilter: 'all' }, handoffs: 3 },
  { name: 'none', options: { toolCallFilter: 'none' }, handoffs: 3 },
  { name: 'handoffOnly + contextWindow 6', options: { toolCallFilter: 'handoffOnly', contextWindow: 6 }, handoffs: 3 },
  { name: "handoffOnly, resumeWith 'start'", options: { resumeWith: 'start' }, handoffs: 2 },
];

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`bench verification failed: ${what}`);
}

async function conversation(setting: Setting) {
  const model = createScriptedModel();
  const lines: string[] = [];
  const output = await runCustomerSupport({ clients: model, customer: scriptedCustomer(), print: (l) => lines.push(l), ...setting.options });
  check(output !== null, `${setting.name}: the conversation ran`);
  check(output!.reason === 'user_ended', `${setting.name}: ended with reason "${output!.reason}", expected "user_ended"`);
  const handoffs = lines.filter((l) => l.includes('[handoff]')).length;
  check(handoffs === setting.handoffs, `${setting.name}: ${handoffs} handoffs, expected ${setting.handoffs}`);
  const tools = lines.filter((l) => l.includes('[tool]')).map((l) => l.trim().slice(0, l.trim().indexOf('(')));
  check(tools.join() === '[tool] check_order_status,[tool] process_refund', `${setting.name}: tool calls ${tools.join()}`);
  const sent = Object.values(model).flatMap((c) => c.requests)
    .reduce((sum, r) => sum + estimateInputTokens(r), 0);
  check(sent === output!.usage.total.inputTokens, `${setting.name}: reported input tokens ${output!.usage.total.inputTokens} ≠ sent ${sent}`);
  const messagesSent = Object.values(model).flatMap((c) => c.requests).reduce((sum, r) => sum + r.messages.length, 0);
  return { calls: modelCalls(model), input: output!.usage.total.inputTokens, output: output!.usage.total.outputTokens, messagesSent, handoffs };
}

// Warm up (JIT) so the first setting's times are not penalised.
for (let i = 0; i < Math.min(50, REPEATS); i++) await conversation(settings[0]);

const rows: string[][] = [];
let baselineInput = 0;
for (const setting of settings) {
  const first = await conversation(setting);
  baselineInput ||= first.input;
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const again = await conversation(setting);
    times.push(performance.now() - t0);
    check(again.input === first.input && again.calls === first.calls, `${setting.name}: run ${i} differs from the first`);
  }
  rows.push([
    setting.name,
    String(first.calls),
    String(first.handoffs),
    String(first.messagesSent),
    String(first.input),
    `${((first.input / baselineInput) * 100).toFixed(0)} %`,
    String(first.output),
    `${(median(times) * 1000).toFixed(0)} µs`,
  ]);
}

const header = ['setting', 'LLM calls', 'handoffs', 'messages sent', 'input tokens', 'vs default', 'output tokens', 'median time'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(`customer-support conversation (scripted), per conversation; ${REPEATS} verified runs per setting`);
console.log(line(header));
console.log(`|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`);
for (const row of rows) console.log(line(row));
