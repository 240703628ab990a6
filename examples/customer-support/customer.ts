/**
 * Who plays the customer: canned lines (offline), or a person at the terminal.
 * `reply` has the shape of `HandoffOptions.humanResponse`, so a customer can also be passed to
 * the orchestration directly as its `humanResponse` callback.
 */
import { createInterface } from 'node:readline/promises';
import type { HandoffOptions } from '../../src/index.js';

export type HumanResponse = NonNullable<HandoffOptions<unknown, unknown>['humanResponse']>;

export interface Customer {
  /** The customer's first message: the task. `null` or '' means there is nothing to ask. */
  opening(): Promise<string | null>;
  /** Answers an agent. `null` or '' ends the conversation. */
  reply: HumanResponse;
  /** Whether the transcript should print what the customer says (a terminal already shows it). */
  readonly echo: boolean;
  close(): void;
}

export const OPENING_LINE = 'Hi! Where is my order 123? It should have arrived by now.';

/** What the scripted customer says each time an agent waits for them; then it ends (''). */
export const CUSTOMER_LINES: readonly string[] = [
  'Oh, found it at the front desk. But both mugs arrived broken. Can I get a refund for order 123?',
  "That's all, thank you!",
];

/** A customer who says `opening`, then each of `lines` in turn, then ends the conversation. */
export function scriptedCustomer(lines: readonly string[] = CUSTOMER_LINES, opening: string = OPENING_LINE): Customer {
  let next = 0;
  return {
    echo: true,
    opening: async () => opening,
    reply: async () => lines[next++] ?? '',
    close: () => {},
  };
}

/** A person at the terminal. An empty line (or Ctrl+D) ends the conversation. */
export function terminalCustomer(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Customer {
  const rl = createInterface({ input, output });
  let closed = false;
  const closing = new Promise<null>((resolve) => rl.once('close', () => {
    closed = true;
    resolve(null);
  }));
  const ask = async (): Promise<string | null> => {
    if (closed) return null;
    const line = await Promise.race([rl.question('Customer: '), closing]);
    // A terminal echoes what is typed; piped input does not, so show it for a readable transcript.
    if (!(input as { isTTY?: boolean }).isTTY) output.write(`${line ?? ''}\n`);
    return line === null || line.trim() === '' ? null : line;
  };
  return { echo: false, opening: ask, reply: ask, close: () => rl.close() };
}
