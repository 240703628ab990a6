/**
 * A conversation that outlives the process: `npx tsx examples/durable/main.ts [--db=FILE] [--scripted]`.
 * The customer-support team (a real model when OPENAI_API_KEY is set, else the scripted one) runs
 * with a SqliteCheckpointStore: every time it waits for you it is saved. Stop the process then —
 * Ctrl+C, or kill it — and run the command again: it carries on where you left, in a new process.
 * An empty line (or Ctrl+D) ends the conversation, and its checkpoint is deleted.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InProcessRuntime, SqliteCheckpointStore, type OrchestrationOutput } from '../../src/index.js';
import { createParticipants, chooseSetup } from '../customer-support/main.js';
import { createPrinter, type Print } from '../customer-support/printer.js';
import type { Customer } from '../customer-support/customer.js';
import { createSupportOrchestration, createSupportTeam, type TeamClients } from '../customer-support/support-team.js';

export const DEFAULT_DB = join(tmpdir(), 'troupe-durable-example.db');

export interface DurableOptions {
  argv?: readonly string[];
  env?: Record<string, string | undefined>;
  print?: Print;
  /** Instead of the setup's own (tests). */
  participants?: { clients: TeamClients; customer: Customer };
  /** Stop the process (as Ctrl+C would) when the conversation waits for the customer this many times (tests). */
  stopAfterWaits?: number;
}

/** Starts or carries on the conversation; resolves with its output, or null when the process "stopped" while it waited. */
export async function main({ argv = process.argv.slice(2), env = process.env, print = console.log, participants, stopAfterWaits }: DurableOptions = {}): Promise<OrchestrationOutput | null> {
  const db = argv.find((a) => a.startsWith('--db='))?.slice('--db='.length) || DEFAULT_DB;
  const { clients, customer } = participants ?? createParticipants(chooseSetup(env, argv), env);
  const store = new SqliteCheckpointStore(db);
  const support = createSupportOrchestration(createSupportTeam(clients));
  const runtime = new InProcessRuntime();
  runtime.start();
  try {
    const [waiting] = (await store.list()).slice(-1);
    let result;
    if (waiting) {
      const saved = await store.load(waiting.invocationId);
      print(`Carrying on conversation ${waiting.invocationId} (saved ${waiting.updatedAt}, ${saved?.transcript.length ?? 0} messages so far).`);
      result = await support.resume(waiting.invocationId, runtime, { checkpointStore: store });
    } else {
      print(`A new conversation, saved in ${db} whenever it waits for you.`);
      const opening = await customer.opening();
      if (opening === null) return null;
      if (customer.echo) print(`Customer: ${opening}`);
      result = await support.invoke(opening, runtime, { checkpointStore: store });
    }
    const printEvent = createPrinter(print);
    let waits = 0;
    for await (const event of result.events) {
      printEvent(event);
      if (event.type !== 'human_input_requested') continue;
      await result.saved();
      if (stopAfterWaits !== undefined && ++waits >= stopAfterWaits) {
        print('(the process stops here; run it again to carry on)');
        return null;
      }
      const reply = await customer.reply({ requestId: event.requestId, invocationId: result.invocationId, kind: 'input', agent: event.agent, ...(event.message ? { message: event.message } : {}) });
      if (customer.echo && typeof reply === 'string' && reply) print(`Customer: ${reply}`);
      result.respond(event.requestId, reply || null);
    }
    const output = await result.get();
    print(`Conversation ended: ${output.reason}.`);
    await result.saved();
    return output;
  } finally {
    customer.close();
    await runtime.close(); // a run still waiting keeps its checkpoint
    store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
