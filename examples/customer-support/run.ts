/**
 * One customer-support conversation, end to end: start a runtime, invoke the handoff
 * orchestration with the customer's first message, print every event, answer each
 * `human_input_requested` with the customer's next line, and return the output.
 */
import { InProcessRuntime, type InProcessRuntimeOptions, type OrchestrationOutput } from '../../src/index.js';
import type { Customer } from './customer.js';
import { createPrinter, printSummary, type Print } from './printer.js';
import { createSupportOrchestration, createSupportTeam, type SupportOptions, type TeamClients } from './support-team.js';

export interface RunOptions extends Omit<SupportOptions, 'humanResponse'> {
  /** One model for all agents, or one per agent. */
  clients: TeamClients;
  customer: Customer;
  /** Where the transcript goes (default `console.log`). */
  print?: Print;
  /** E.g. `{ inspect }` to watch the actors in the Stately inspector. */
  runtimeOptions?: InProcessRuntimeOptions;
  /** Cancels the conversation (e.g. on Ctrl+C). */
  signal?: AbortSignal;
}

/** Runs one conversation; `null` if the customer had nothing to say. */
export async function runCustomerSupport(options: RunOptions): Promise<OrchestrationOutput | null> {
  const { clients, customer, print = console.log, runtimeOptions, signal, ...handoffOptions } = options;
  const orchestration = createSupportOrchestration(createSupportTeam(clients), handoffOptions);
  const printEvent = createPrinter(print);

  const task = await customer.opening();
  if (!task) return null;
  if (customer.echo) print(`Customer: ${task}`);

  const runtime = new InProcessRuntime(runtimeOptions);
  runtime.start();
  try {
    const result = await orchestration.invoke(task, runtime, { signal });
    for await (const event of result.events) {
      printEvent(event);
      if (event.type === 'human_input_requested') {
        const reply = await customer.reply({ requestId: event.requestId, invocationId: event.invocationId, kind: event.kind, agent: event.agent, ...(event.message ? { message: event.message } : {}) });
        const text = typeof reply === 'string' ? reply : reply?.content ?? '';
        if (customer.echo) print(text.trim() ? `Customer: ${text}` : 'Customer: (says nothing more)');
        // '' or null ends the conversation (reason `user_ended`).
        result.respond(event.requestId, reply ?? null);
      }
    }
    const output = await result.get();
    await runtime.stopWhenIdle();
    printSummary(output, print);
    return output;
  } finally {
    await runtime.close();
  }
}
