/**
 * The magentic example: "which of our three suppliers had the best on-time rate last quarter,
 * and by how much?" A Researcher looks deliveries up in local data (a tool), an Analyst does the
 * arithmetic (a calculator tool), and a Magentic-One manager plans, directs and answers.
 * `npx tsx examples/magentic/main.ts`:
 * - with OPENAI_API_KEY set: every agent and the manager use a real model (OPENAI_MODEL, default
 *   gpt-4o-mini; OPENAI_BASE_URL for any OpenAI-compatible server);
 * - otherwise (or with --scripted): scripted models play a run offline — the manager first sends
 *   the Analyst off without data, the team stalls, the manager resets and replans, and the
 *   Researcher's lookups let the Analyst finish.
 */
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  ChatCompletionAgent, InProcessRuntime, MagenticOrchestration, OpenAIChatClient, StandardMagenticManager, tool,
  type ChatClient, type ChatRequest, type OrchestrationOutput, type ProgressLedger,
} from '../../src/index.js';
import { ScriptedChatClient } from '../../src/testing/index.js';

export const TASK = 'Which of our three suppliers had the best on-time rate last quarter, and by how much?';

/** Last quarter's deliveries (the "local data" the Researcher's tool reads). */
export const DELIVERIES: Record<string, { delivered: number; onTime: number }> = {
  Acme: { delivered: 120, onTime: 108 },
  Birch: { delivered: 80, onTime: 76 },
  Cobalt: { delivered: 150, onTime: 129 },
};

export const lookupDeliveries = tool({
  name: 'lookup_deliveries',
  description: "Last quarter's deliveries of a supplier: how many, and how many arrived on time.",
  parameters: z.object({ supplier: z.string().describe('Acme, Birch or Cobalt') }),
  execute: ({ supplier }) => {
    const row = DELIVERIES[supplier];
    return row ? JSON.stringify({ supplier, ...row }) : `No supplier named ${supplier}; we have ${Object.keys(DELIVERIES).join(', ')}.`;
  },
});

export const calculate = tool({
  name: 'calculate',
  description: 'Arithmetic on two numbers.',
  parameters: z.object({ operation: z.enum(['add', 'subtract', 'multiply', 'divide']), a: z.number(), b: z.number() }),
  execute: ({ operation, a, b }) => {
    const result = { add: a + b, subtract: a - b, multiply: a * b, divide: a / b }[operation];
    return String(Math.round(result * 10_000) / 10_000);
  },
});

export interface ResearchClients {
  manager: ChatClient;
  researcher: ChatClient;
  analyst: ChatClient;
}

/** The team and its manager. `maxStallCount: 1`: the stall count (+1 per stalled round, −1 per good one, never below 0) reaching 2 resets the team. */
export function createResearch(clients: ResearchClients) {
  const researcher = new ChatCompletionAgent({
    name: 'Researcher',
    description: "Looks up suppliers' delivery records (lookup_deliveries).",
    instructions: 'You look up facts with your tools and report them exactly, without interpreting them.',
    client: clients.researcher,
    tools: [lookupDeliveries],
  });
  const analyst = new ChatCompletionAgent({
    name: 'Analyst',
    description: 'Computes rates and differences from figures given to it (calculate).',
    instructions: 'You compute with the calculate tool, from figures already in the conversation. Never invent data: say what is missing.',
    client: clients.analyst,
    tools: [calculate],
  });
  return new MagenticOrchestration({
    members: [researcher, analyst],
    manager: new StandardMagenticManager({ client: clients.manager }),
    maxRounds: 12,
    maxStallCount: 1,
  });
}

function progress(next: string, instruction: string, flags: { done?: boolean; progressing?: boolean } = {}): string {
  const ledger: ProgressLedger = {
    isRequestSatisfied: { reason: flags.done ? 'We have the rates and the difference.' : 'We have no rates yet.', answer: flags.done ?? false },
    isInLoop: { reason: 'No repetition so far.', answer: false },
    isProgressBeingMade: { reason: flags.progressing === false ? 'The last turns added nothing.' : 'We are moving.', answer: flags.progressing ?? true },
    nextSpeaker: { reason: `${next} can do this.`, answer: next },
    instructionOrQuestion: { reason: 'The next step of the plan.', answer: instruction },
  };
  return JSON.stringify(ledger);
}

/** Offline models for a whole run, with one stall → reset → replan. */
export function createScriptedClients(): ResearchClients {
  const ledgers = [
    progress('Analyst', 'Compute the on-time rate of Acme, Birch and Cobalt for last quarter.'),
    progress('Analyst', 'Please compute the on-time rates now.', { progressing: false }),
    progress('Analyst', 'Compute the rates.', { progressing: false }),
    // After the reset:
    progress('Researcher', "Look up last quarter's deliveries of Acme, Birch and Cobalt."),
    progress('Analyst', 'Compute each on-time rate (on time / delivered) and how far the best is ahead of the second.'),
    progress('', '', { done: true }),
  ];
  let round = 0;
  const manager = new ScriptedChatClient((request: ChatRequest) => {
    if (request.responseFormat) return { text: ledgers[round++] };
    const ask = request.messages.at(-1)!.content;
    if (ask.includes('pre-survey')) return { text: 'GIVEN: three suppliers (Acme, Birch, Cobalt).\nTO LOOK UP: nothing, we can compute.\nTO DERIVE: on-time rates.\nGUESSES: none.' };
    if (ask.includes('Now write a plan')) return { text: '- Analyst: compute the on-time rates and compare them.' };
    if (ask.includes('Rewrite the fact sheet')) return { text: 'GIVEN: three suppliers.\nTO LOOK UP: each supplier\'s deliveries and on-time deliveries (Researcher\'s records).\nTO DERIVE: rates and the gap.\nGUESSES: the Analyst cannot work without the records.' };
    if (ask.includes('First explain')) return { text: 'What went wrong: the Analyst was asked to compute before anyone looked up the data.\n- Researcher: look up each supplier\'s deliveries\n- Analyst: compute the rates and the gap' };
    return { text: 'Birch had the best on-time rate last quarter: 95% (76 of 80 deliveries), 5 points ahead of Acme at 90% (108 of 120); Cobalt was at 86%.' };
  });
  const researcher = new ScriptedChatClient([
    { toolCalls: [{ name: 'lookup_deliveries', arguments: { supplier: 'Acme' } }, { name: 'lookup_deliveries', arguments: { supplier: 'Birch' } }, { name: 'lookup_deliveries', arguments: { supplier: 'Cobalt' } }] },
    { text: 'Last quarter: Acme 108 of 120 on time, Birch 76 of 80, Cobalt 129 of 150.' },
  ]);
  const analyst = new ScriptedChatClient([
    { text: 'I have no delivery figures to compute from.' },
    { text: 'I still have no figures; someone needs to look them up.' },
    { toolCalls: [{ name: 'calculate', arguments: { operation: 'divide', a: 108, b: 120 } }, { name: 'calculate', arguments: { operation: 'divide', a: 76, b: 80 } }, { name: 'calculate', arguments: { operation: 'divide', a: 129, b: 150 } }] },
    { toolCalls: [{ name: 'calculate', arguments: { operation: 'subtract', a: 0.95, b: 0.9 } }] },
    { text: 'Acme 90%, Birch 95%, Cobalt 86%. Birch leads Acme by 5 percentage points.' },
  ]);
  return { manager, researcher, analyst };
}

/** Runs the research task, printing what happens; resolves with the output. */
export async function runResearch(clients: ResearchClients, print: (line: string) => void = console.log): Promise<OrchestrationOutput> {
  const runtime = new InProcessRuntime();
  runtime.start();
  try {
    const research = createResearch(clients);
    const members = research.members.map((m) => m.name);
    const { maxStallCount, maxResets } = research.limits;
    let resets = 0;
    const result = await research.invoke(TASK, runtime, { timeoutMs: 300_000 });
    for await (const event of result.events) {
      if (event.type === 'magentic_plan') {
        resets = event.resetCount;
        print(`[plan${event.resetCount ? ` after reset ${event.resetCount}` : ''}]\n${event.plan}`);
      } else if (event.type === 'magentic_progress') {
        const { isRequestSatisfied, nextSpeaker, instructionOrQuestion } = event.ledger;
        // What the manager does with this ledger (the same order as the manager's own decision).
        const next = isRequestSatisfied.answer ? '(done)'
          : event.stallCount > maxStallCount ? (resets < maxResets ? 'reset' : 'partial answer (max_resets)')
          : !members.includes(nextSpeaker.answer) ? '(nobody: no such member)'
          : `${nextSpeaker.answer}: ${instructionOrQuestion.answer}`;
        print(`[round ${event.round}]${event.stall ? ` stall (${event.stall}), count ${event.stallCount}` : ''} → ${next}`);
      } else if (event.type === 'tool_call') print(`  [tool] ${event.agent}: ${event.toolCall.name}(${event.toolCall.arguments})`);
      else if (event.type === 'agent_response') print(`${event.agent}: ${event.message.content}`);
    }
    const output = await result.get();
    print(`[${output.reason}] tokens: ${Object.entries(output.usage.byAgent).map(([agent, u]) => `${agent} ${u.totalTokens}`).join(', ')}`);
    return output;
  } finally {
    await runtime.close();
  }
}

export async function main(env: Record<string, string | undefined> = process.env, argv: readonly string[] = process.argv.slice(2)): Promise<OrchestrationOutput> {
  if (argv.includes('--scripted') || !env.OPENAI_API_KEY?.trim()) {
    console.log('(scripted models; set OPENAI_API_KEY to use a real one)');
    return runResearch(createScriptedClients());
  }
  const model = env.OPENAI_MODEL?.trim() || 'gpt-4o-mini';
  const client = new OpenAIChatClient({ model, apiKey: env.OPENAI_API_KEY, ...(env.OPENAI_BASE_URL?.trim() ? { baseURL: env.OPENAI_BASE_URL.trim() } : {}) });
  console.log(`(model ${model})`);
  return runResearch({ manager: client, researcher: client, analyst: client });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
