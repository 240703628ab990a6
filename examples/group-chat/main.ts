/**
 * The group chat example: a writer, a reviewer and an editor refine a product description; a
 * model manager (ModelGroupChatManager) picks who speaks each round and decides when it is done.
 * `npx tsx examples/group-chat/main.ts`:
 * - with OPENAI_API_KEY set: every agent and the manager talk to a real model (OPENAI_MODEL,
 *   default gpt-4o-mini; OPENAI_BASE_URL for Ollama, vLLM, LM Studio, Azure OpenAI's v1 endpoint…);
 * - otherwise (or with --scripted): scripted models play the whole chat offline.
 */
import { pathToFileURL } from 'node:url';
import {
  ChatCompletionAgent, GroupChatOrchestration, InProcessRuntime, ModelGroupChatManager, OpenAIChatClient,
  type ChatClient, type OrchestrationOutput,
} from '../../src/index.js';
import { ScriptedChatClient } from '../../src/testing/index.js';

export type Print = (line: string) => void;

/** The models: one per member and one for the manager. */
export interface ChatClients {
  writer: ChatClient;
  reviewer: ChatClient;
  editor: ChatClient;
  manager: ChatClient;
}

export const TASK = 'Write a two-sentence product description for the Swift kettle: 1.7 l, boils in 90 seconds, auto shut-off, $49.';

/** What the scripted models say: a draft, a review, a revision, the edit; the manager steers and finishes. */
export function scriptedClients(): ChatClients {
  const decide = (fields: { terminate?: boolean; reason: string; nextSpeaker?: string; finalMessage?: string }) => ({
    text: JSON.stringify({ terminate: false, nextSpeaker: '', finalMessage: '', ...fields }),
  });
  const final = 'Meet the Swift kettle: 1.7 litres boiled in 90 seconds. Auto shut-off keeps it safe — all for $49.';
  return {
    writer: new ScriptedChatClient([
      { text: 'The Swift kettle is a kettle that boils water. It holds 1.7 l and costs $49.' },
      { text: 'The Swift kettle boils 1.7 litres in just 90 seconds, then switches itself off. Fast, safe and only $49.' },
    ]),
    reviewer: new ScriptedChatClient([{ text: 'Lead with speed (90 seconds) and mention the auto shut-off; "a kettle that boils water" says nothing.' }]),
    editor: new ScriptedChatClient([{ text: final }]),
    manager: new ScriptedChatClient([
      decide({ reason: 'A first draft is needed.', nextSpeaker: 'Writer' }),
      decide({ reason: 'The draft needs a critical read.', nextSpeaker: 'Reviewer' }),
      decide({ reason: 'The writer should address the review.', nextSpeaker: 'Writer' }),
      decide({ reason: 'The revision is good; polish it.', nextSpeaker: 'Editor' }),
      decide({ terminate: true, reason: 'The edited description covers every fact.', finalMessage: final }),
    ]),
  };
}

export function openAIClients(env: Record<string, string | undefined> = process.env): ChatClients {
  const baseURL = env.OPENAI_BASE_URL?.trim();
  const client = new OpenAIChatClient({ model: env.OPENAI_MODEL?.trim() || 'gpt-4o-mini', apiKey: env.OPENAI_API_KEY, ...(baseURL ? { baseURL } : {}) });
  return { writer: client, reviewer: client, editor: client, manager: client };
}

/** The team and its chat. */
export function createChat(clients: ChatClients): GroupChatOrchestration {
  const writer = new ChatCompletionAgent({
    name: 'Writer', description: 'Writes and revises product copy.', client: clients.writer,
    instructions: 'You write product copy. Write or revise the description; answer with the description only.',
  });
  const reviewer = new ChatCompletionAgent({
    name: 'Reviewer', description: 'Critiques drafts: facts, clarity, what is missing.', client: clients.reviewer,
    instructions: 'You review product copy. Give one or two concrete improvements; do not rewrite it.',
  });
  const editor = new ChatCompletionAgent({
    name: 'Editor', description: 'Polishes a good draft into the final text.', client: clients.editor,
    instructions: 'You edit product copy. Return the polished description only.',
  });
  return new GroupChatOrchestration({
    members: [writer, reviewer, editor],
    manager: new ModelGroupChatManager({
      client: clients.manager,
      instructions: 'You run a copywriting session. Usually: the writer drafts, the reviewer critiques, the writer revises, the editor polishes; finish once the editor has produced a text covering every fact, with that text as the final message.',
    }),
    maxRounds: 8,
  });
}

/** Runs one chat, printing each turn; resolves with the output. */
export async function runGroupChat(clients: ChatClients, print: Print = console.log): Promise<OrchestrationOutput> {
  const runtime = new InProcessRuntime();
  runtime.start();
  try {
    const result = await createChat(clients).invoke(TASK, runtime, { timeoutMs: 300_000 });
    for await (const event of result.events) {
      if (event.type === 'group_chat_turn') print(`  [round ${event.round}] → ${event.speaker}${event.reason ? ` (${event.reason})` : ''}`);
      if (event.type === 'agent_response') print(`${event.agent}: ${event.message.content}`);
    }
    const output = await result.get();
    print('');
    print(`Final (${output.reason}): ${output.messages[0]?.content ?? ''}`);
    print(`Tokens: ${Object.entries(output.usage.byAgent).map(([name, u]) => `${name} ${u.totalTokens}`).join(', ')}`);
    return output;
  } finally {
    await runtime.stopWhenIdle();
  }
}

export async function main(env: Record<string, string | undefined> = process.env, argv: readonly string[] = process.argv.slice(2), print: Print = console.log): Promise<number> {
  const real = Boolean(env.OPENAI_API_KEY?.trim()) && !argv.includes('--scripted');
  print('troupe · group chat: Writer, Reviewer and Editor refine a product description');
  print(`Model: ${real ? `${env.OPENAI_MODEL?.trim() || 'gpt-4o-mini'}${env.OPENAI_BASE_URL ? ` at ${env.OPENAI_BASE_URL}` : ''}` : 'scripted (offline). Set OPENAI_API_KEY to use a real model.'}`);
  print(`Task: ${TASK}`);
  print('');
  try {
    await runGroupChat(real ? openAIClients(env) : scriptedClients(), print);
    return 0;
  } catch (error) {
    print(`\nThe chat failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}
