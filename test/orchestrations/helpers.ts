import { afterAll, beforeAll, beforeEach } from 'vitest';
import { ChatCompletionAgent, InProcessRuntime, OpenAIChatClient, SHARED_ACTOR_KEY, type ChatClient, type Tool } from '../../src/index.js';
import { ScriptedChatClient, type ScriptedResponder, type ScriptedStep } from '../../src/testing/index.js';
import { FakeOpenAIServer } from '../support/fake-openai-server.js';

export function agent(name: string, client: ChatClient, extra: { tools?: Tool[]; instructions?: string } = {}): ChatCompletionAgent {
  return new ChatCompletionAgent({ name, description: `${name} agent`, client, ...extra });
}

export function scripted(steps: ScriptedStep[] | ScriptedResponder): ScriptedChatClient {
  return new ScriptedChatClient(steps);
}

/**
 * The actors on `runtime` that belong to a run: all of them but the start executor and the
 * boundary, which each registration shares between its runs (key `SHARED_ACTOR_KEY`).
 */
export function runActors(runtime: InProcessRuntime): number {
  return runtime.stats.actors - runtime.keyStatus(SHARED_ACTOR_KEY).actors;
}

/** A started runtime, closed by the caller with `await using` or `close()`. */
export function startedRuntime(): InProcessRuntime {
  const runtime = new InProcessRuntime();
  runtime.start();
  return runtime;
}

/** A model group chat manager's structured answer, as a scripted or fake model sends it. */
export const groupChatDecision = (fields: { terminate?: boolean; reason?: string; nextSpeaker?: string; finalMessage?: string }) => ({
  text: JSON.stringify({ terminate: false, reason: 'r', nextSpeaker: '', finalMessage: '', ...fields }),
});

export async function collect<E>(events: AsyncIterable<E>): Promise<E[]> {
  const out: E[] = [];
  for await (const e of events) out.push(e);
  return out;
}

type HumanRequest = { type: 'human_input_requested'; requestId: string; agent: string };
type Answerable<T> = {
  events: AsyncIterable<{ type: string }>;
  respond(requestId: string, reply: string | null): void;
  get(): Promise<T>;
};

/**
 * Answers every `human_input_requested` with the next of `replies` (null once they run out,
 * which ends the conversation), calling `check` first; resolves with the output.
 */
export async function answerUser<T>(result: Answerable<T>, replies: Array<string | null>, check?: (request: HumanRequest) => void): Promise<T> {
  for await (const event of result.events) {
    if (event.type !== 'human_input_requested') continue;
    const request = event as HumanRequest;
    check?.(request);
    result.respond(request.requestId, replies.shift() ?? null);
  }
  return result.get();
}

/** The first `human_input_requested` event (the conversation is then at rest, waiting). */
export async function nextHumanRequest(result: Pick<Answerable<unknown>, 'events'>): Promise<HumanRequest> {
  for await (const event of result.events) if (event.type === 'human_input_requested') return event as HumanRequest;
  throw new Error('The invocation ended without asking the user.');
}

/**
 * A fake OpenAI server for the calling test file (started before its tests, reset before each,
 * closed after them) and `model()`: a client reaching it through the real openai SDK over HTTP.
 */
export function useFakeOpenAI(): { readonly server: FakeOpenAIServer; model(): OpenAIChatClient } {
  let server: FakeOpenAIServer | undefined;
  beforeAll(async () => { server = await FakeOpenAIServer.start(); });
  afterAll(async () => { await server?.close(); });
  beforeEach(() => { openai.server.reset(); });
  const openai = {
    get server(): FakeOpenAIServer {
      if (!server) throw new Error('useFakeOpenAI: the server starts in beforeAll; use it inside a test.');
      return server;
    },
    model: () => new OpenAIChatClient({ model: 'fake-model', apiKey: 'sk-test-e2e', baseURL: openai.server.baseURL, maxRetries: 0 }),
  };
  return openai;
}
