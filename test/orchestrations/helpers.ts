import { ChatCompletionAgent, InProcessRuntime, type ChatClient, type Tool } from '../../src/index.js';
import { ScriptedChatClient, type ScriptedResponder, type ScriptedStep } from '../../src/testing/index.js';

export function agent(name: string, client: ChatClient, extra: { tools?: Tool[]; instructions?: string } = {}): ChatCompletionAgent {
  return new ChatCompletionAgent({ name, description: `${name} agent`, client, ...extra });
}

export function scripted(steps: ScriptedStep[] | ScriptedResponder): ScriptedChatClient {
  return new ScriptedChatClient(steps);
}

/** A started runtime, closed by the caller with `await using` or `close()`. */
export function startedRuntime(): InProcessRuntime {
  const runtime = new InProcessRuntime();
  runtime.start();
  return runtime;
}

export async function collect<E>(events: AsyncIterable<E>): Promise<E[]> {
  const out: E[] = [];
  for await (const e of events) out.push(e);
  return out;
}
