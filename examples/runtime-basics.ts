/**
 * The runtime on its own, without agents: `npx tsx examples/runtime-basics.ts`.
 *
 * A factory creates an XState actor lazily, one per AgentId, on its first message; a
 * subscription routes a topic type to it (the topic's `source` picks the instance); published
 * messages are broadcast; `sendMessage` is an RPC that resolves with the actor's reply;
 * `stopWhenIdle` waits until nothing is queued and no actor is busy.
 */
import { pathToFileURL } from 'node:url';
import { assign, emit, setup } from 'xstate';
import {
  AgentId,
  InProcessRuntime,
  TopicId,
  TypeSubscription,
  replyCommand,
  type AgentIdLike,
  type MessageEvent,
  type RuntimeCommand,
} from '../src/index.js';

type Hello = { type: 'hello'; name: string };
type HowMany = { type: 'how_many' };

/**
 * A greeter: remembers who said hello and answers `how_many` RPCs. Pure logic: the `log` action
 * is a placeholder the factory provides (functions never go into an actor's context).
 */
const greeterMachine = setup({
  types: {
    context: {} as { agentId: AgentIdLike; names: string[] },
    input: {} as { agentId: AgentIdLike },
    events: {} as MessageEvent<Hello> | MessageEvent<HowMany>,
    emitted: {} as RuntimeCommand,
  },
  actions: {
    log: (_, _line: string) => {},
  },
}).createMachine({
  id: 'greeter',
  context: ({ input }) => ({ agentId: input.agentId, names: [] }),
  on: {
    hello: {
      actions: [
        assign({ names: ({ context, event }) => [...context.names, (event as MessageEvent<Hello>).message.name] }),
        { type: 'log', params: ({ context, event }) => `greeter/${context.agentId.key} heard hello from ${(event as MessageEvent<Hello>).message.name}` },
      ],
    },
    how_many: { actions: emit(({ context }) => replyCommand(context.names.length)) },
  },
});

export interface RuntimeBasicsResult {
  log: string[];
  /** The RPC answers: how many hellos each room's greeter heard. */
  counts: Record<string, number>;
  /** Actors the runtime created (lazily, one per room). */
  actors: number;
}

export async function main(print: (line: string) => void = console.log): Promise<RuntimeBasicsResult> {
  const log: string[] = [];
  const say = (line: string) => {
    log.push(line);
    print(line);
  };

  const runtime = new InProcessRuntime();
  // The factory runs once per AgentId, on that actor's first message. A factory may return bare
  // logic (its input is then `{ agentId }`) or `{ logic, input }`.
  runtime.registerFactory('greeter', ({ id }) => {
    say(`factory: creating ${id}`);
    return greeterMachine.provide({ actions: { log: (_, line) => say(line) } });
  });
  // Everything published on topics of type "greetings" goes to greeter/<topic source>.
  runtime.addSubscription(new TypeSubscription('greetings', 'greeter'));
  runtime.start();

  await runtime.publishMessage({ type: 'hello', name: 'Ada' }, new TopicId('greetings', 'room-1'));
  await runtime.publishMessage({ type: 'hello', name: 'Grace' }, new TopicId('greetings', 'room-1'));
  await runtime.publishMessage({ type: 'hello', name: 'Linus' }, new TopicId('greetings', 'room-2'));

  // RPC: messages to one actor are handled in order, so both hellos are counted before this.
  const counts: Record<string, number> = {};
  for (const room of ['room-1', 'room-2']) {
    counts[room] = await runtime.sendMessage<number>({ type: 'how_many' }, new AgentId('greeter', room));
    say(`rpc: greeter/${room} heard ${counts[room]} hello(s)`);
  }

  await runtime.stopWhenIdle();
  const { actors } = runtime.stats;
  say(`idle: ${actors} actors, ${runtime.stats.queued} messages queued`);
  await runtime.close();
  return { log, counts, actors };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
