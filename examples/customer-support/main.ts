/**
 * The customer-support example. `npm start` (or `npx tsx examples/customer-support/main.ts`):
 * - with OPENAI_API_KEY set: every agent talks to a real model (OPENAI_MODEL, default
 *   gpt-4o-mini; OPENAI_BASE_URL for Ollama, vLLM, LM Studio, Azure OpenAI's v1 endpoint…) and
 *   you are the customer — type your messages, an empty line ends the conversation;
 * - otherwise (or with --scripted): the built-in scripted model and a scripted customer play a
 *   whole conversation offline.
 * With --inspect (or --inspect=PORT), the run can be watched in the Stately inspector: it prints
 * the page to open and, after the conversation, waits for Enter so you can still open it.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { OpenAIChatClient, type ChatClient } from '../../src/index.js';
import { inspect, type Inspector } from '../../src/inspect/index.js';
import { scriptedCustomer, terminalCustomer, type Customer } from './customer.js';
import type { Print } from './printer.js';
import { runCustomerSupport } from './run.js';
import { createScriptedClassifier, createScriptedModel } from './scripted-model.js';
import type { TeamClients } from './support-team.js';

export const DEFAULT_MODEL = 'gpt-4o-mini';

export type Setup =
  | { mode: 'scripted' }
  | { mode: 'openai'; model: string; baseURL?: string };

/** Which model to use: a real one when OPENAI_API_KEY is set (and --scripted is not given). */
export function chooseSetup(env: Record<string, string | undefined> = process.env, argv: readonly string[] = process.argv.slice(2)): Setup {
  if (argv.includes('--scripted') || !env.OPENAI_API_KEY?.trim()) return { mode: 'scripted' };
  const baseURL = env.OPENAI_BASE_URL?.trim();
  return { mode: 'openai', model: env.OPENAI_MODEL?.trim() || DEFAULT_MODEL, ...(baseURL ? { baseURL } : {}) };
}

/** The model(s) for a setup: the scripted model per agent, or one OpenAI-compatible client for all. No network here. */
export function createClients(setup: Setup, env: Record<string, string | undefined> = process.env): TeamClients {
  if (setup.mode === 'scripted') return createScriptedModel();
  return new OpenAIChatClient({ model: setup.model, apiKey: env.OPENAI_API_KEY, ...(setup.baseURL ? { baseURL: setup.baseURL } : {}) });
}

/** The models, the customer, and a line saying which they are (never the key). */
export function createParticipants(setup: Setup, env: Record<string, string | undefined> = process.env): { clients: TeamClients; customer: Customer; description: string } {
  const clients = createClients(setup, env);
  if (setup.mode === 'scripted') {
    return {
      clients,
      customer: scriptedCustomer(),
      description: 'the built-in scripted model and customer (offline). Set OPENAI_API_KEY to talk to a real model yourself.',
    };
  }
  return {
    clients,
    customer: terminalCustomer(),
    description: `${setup.model}${setup.baseURL ? ` at ${setup.baseURL}` : ''}. You are the customer: type a message; an empty line ends.`,
  };
}

export interface MainOptions {
  env?: Record<string, string | undefined>;
  argv?: readonly string[];
  print?: Print;
  /** Instead of the setup's own participants (tests). */
  participants?: ReturnType<typeof createParticipants>;
}

/** `--routing intent` (or `--routing=intent`): routing by intent; default `handoff`. */
export function routingOf(argv: readonly string[]): 'handoff' | 'intent' {
  const i = argv.findIndex((arg) => arg === '--routing' || arg.startsWith('--routing='));
  if (i < 0) return 'handoff';
  const value = argv[i].startsWith('--routing=') ? argv[i].slice('--routing='.length) : argv[i + 1];
  if (value !== 'handoff' && value !== 'intent') throw new Error(`--routing: expected 'handoff' or 'intent', got ${JSON.stringify(value)}`);
  return value;
}

/** `--inspect` → port 0 (any free port), `--inspect=4100` → 4100; `undefined` without the flag. */
export function inspectPort(argv: readonly string[]): number | undefined {
  const flag = argv.find((arg) => arg === '--inspect' || arg.startsWith('--inspect='));
  if (!flag) return undefined;
  const port = Number(flag.slice('--inspect='.length) || 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--inspect: not a port: ${flag}`);
  return port;
}

/** Resolves on Enter, or at once when stdin is closed or not a terminal (nobody to press it). */
function enterPressed(): Promise<void> {
  if (!process.stdin.isTTY) return Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    lines.once('line', () => lines.close());
    lines.once('close', resolve);
  });
}

/** Runs the example; resolves with the process exit code. */
export async function main({ env = process.env, argv = process.argv.slice(2), print = console.log, participants }: MainOptions = {}): Promise<number> {
  const setup = chooseSetup(env, argv);
  const port = inspectPort(argv);
  const routing = routingOf(argv);
  const inspector: Inspector | undefined = port === undefined ? undefined : await inspect({ port, print });
  const { clients, customer, description } = participants ?? createParticipants(setup, env);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  print(`troupe · customer support (handoff orchestration${routing === 'intent' ? ', routing by intent' : ''})`);
  print(routing === 'intent'
    ? 'Agents: OrderStatus | Refund | Returns; a classifier picks who answers, again whenever one says a request is outside its area'
    : 'Agents: Triage → OrderStatus | Refund | Returns; each specialist → back to Triage');
  print(`Model: ${description}`);
  print('');
  try {
    const runtimeOptions = inspector ? { inspect: inspector.inspect } : undefined;
    // Routing by intent: offline, a scripted classifier; with a real model, the same model classifies.
    const intent = routing === 'intent' ? { routing, classifier: 'complete' in clients ? clients as ChatClient : createScriptedClassifier() } : {};
    const output = await runCustomerSupport({ clients, customer, print, signal: controller.signal, ...intent, ...(runtimeOptions ? { runtimeOptions } : {}) });
    if (!output) print('Nothing to ask; bye.');
    return 0;
  } catch (error) {
    print(`\nThe conversation failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    customer.close();
    if (inspector) {
      // The inspector replays the whole run to a tab opened now; the process would exit at once.
      if (process.stdin.isTTY) print(`\nThe inspector keeps the whole run: open ${inspector.url} — press Enter to exit.`);
      await enterPressed();
      await inspector.close();
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}
