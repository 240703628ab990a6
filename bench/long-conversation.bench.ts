/**
 * Cost per turn as a conversation grows: one handoff invocation of TURNS user turns (the user's
 * replies come from `humanResponse`, the agent answers each with a zero-latency scripted model),
 * CPU per turn over the first and the last BUCKET turns. Target (DESIGN.md): flat from 1 to 500
 * turns — what grows with the transcript (the model request holds it all) must stay small
 * beside the per-turn overhead. Baseline, same process: the same model calls made directly on
 * the scripted client with the same growing transcripts.
 */
import type { ChatMessage } from '../src/agents/chat-message.js';
import { ChatCompletionAgent, HandoffOrchestration, InProcessRuntime, OrchestrationHandoffs } from '../src/index.js';
import { ScriptedChatClient } from '../src/testing/index.js';
import { check, median, printTable, runMain } from './support.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 500);
const BUCKET = Number(process.env.BENCH_BUCKET ?? 50);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** CPU µs spent by each user turn of one conversation of TURNS turns. */
async function conversation(runtime: InProcessRuntime): Promise<number[]> {
  const client = new ScriptedChatClient(() => ({ text: 'Noted.' }), { record: false });
  const agent = new ChatCompletionAgent({ name: 'Support', instructions: 'Help.', client });
  const perTurn: number[] = [];
  let turns = 0;
  let last = cpu();
  const orchestration = new HandoffOrchestration({
    members: [agent],
    handoffs: OrchestrationHandoffs.startWith(agent),
    humanResponse: () => {
      const now = cpu();
      perTurn.push(now - last);
      last = now;
      return ++turns < TURNS ? `Question ${turns}.` : null;
    },
  });
  const output = await (await orchestration.invoke('Question 0.', runtime)).get();
  check(client.callCount === TURNS, `${client.callCount} model calls, expected ${TURNS}`);
  check(output.conversation.length >= 2 * TURNS, `transcript of ${output.conversation.length} messages`);
  return perTurn;
}

/** The same TURNS model calls on the scripted client directly, the transcript growing as in a run. */
async function direct(): Promise<number[]> {
  const client = new ScriptedChatClient(() => ({ text: 'Noted.' }), { record: false });
  const messages: ChatMessage[] = [{ id: 's', role: 'system', content: 'Help.' }];
  const perTurn: number[] = [];
  for (let i = 0; i < TURNS; i++) {
    const t0 = cpu();
    messages.push({ id: `u${i}`, role: 'user', content: `Question ${i}.` });
    const reply = await client.complete({ messages: [...messages] });
    messages.push({ id: `a${i}`, role: 'assistant', content: reply.text ?? '' });
    perTurn.push(cpu() - t0);
  }
  return perTurn;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const runtime = new InProcessRuntime();
  runtime.start();
  await conversation(runtime); // warm-up
  const first: number[] = [];
  const lastBucket: number[] = [];
  const directFirst: number[] = [];
  const directLast: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const turns = await conversation(runtime);
    first.push(mean(turns.slice(1, BUCKET + 1)));
    lastBucket.push(mean(turns.slice(-BUCKET)));
    const d = await direct();
    directFirst.push(mean(d.slice(0, BUCKET)));
    directLast.push(mean(d.slice(-BUCKET)));
  }
  await runtime.close();
  const [f, l, df, dl] = [first, lastBucket, directFirst, directLast].map(median);
  console.log(`\ncost per turn in one ${TURNS}-turn handoff conversation — Node ${process.version}; CPU µs per turn, mean over ${BUCKET} turns, median of ${REPEATS} conversations\n`);
  printTable(['turns', 'troupe µs / turn', 'direct model calls µs / turn'], [
    [`2–${BUCKET + 1}`, f, df],
    [`${TURNS - BUCKET + 1}–${TURNS}`, l, dl],
    ['last ÷ first', l / f, dl / df],
  ]);
  console.log(`\ntarget: flat (the last turns cost no more than 1.25 × the first) — ${(l / f).toFixed(2)}: ${l / f <= 1.25 ? 'MET' : 'MISSED'}`);
}

runMain(main);
