/**
 * Tiny machines shared by the runtime tests. Each one is built the way real troupe actors are:
 * `setup({...}).createMachine(...)`, receiving routed messages as events and emitting runtime
 * commands. Closures over a test's `log` array are fine here (tests only; real actors keep
 * functions out of context and get them through `setup`/`provide`).
 */
import { assign, emit, fromPromise, setup } from 'xstate';
import {
  BUSY_TAG, InProcessRuntime, errorCommand, publishCommand, replyCommand, replyErrorCommand, sendCommand,
  type AgentIdLike, type InProcessRuntimeOptions, type MessageEvent, type RuntimeCommand, type RuntimeErrorEvent,
} from '../../src/runtime/index.js';

export interface Delivery {
  agent: string;
  type: string;
  message: Record<string, unknown>;
  sender?: string;
  topic?: string;
  rpc: boolean;
}

export interface AgentInput {
  agentId: AgentIdLike;
}

const idOf = (id: AgentIdLike | undefined) => (id ? `${id.type}/${id.key}` : undefined);

function toDelivery(agentId: AgentIdLike, event: MessageEvent): Delivery {
  const { envelope } = event;
  return {
    agent: idOf(agentId)!,
    type: event.type,
    message: event.message as Record<string, unknown>,
    sender: idOf(envelope.sender),
    topic: envelope.topic ? `${envelope.topic.type}/${envelope.topic.source}` : undefined,
    rpc: envelope.rpc,
  };
}

/** A custom error class, to check that RPC errors keep their type. */
export class MyError extends Error {
  readonly code = 'my_error';
  constructor(message: string) {
    super(message);
    this.name = 'MyError';
  }
}

/** Records every message it receives into `log` (and counts them in its context). */
export function recorder(log: Delivery[]) {
  return setup({
    types: { context: {} as { agentId: AgentIdLike; count: number }, events: {} as MessageEvent, input: {} as AgentInput },
    actions: { record: ({ context, event }) => log.push(toDelivery(context.agentId, event)) },
  }).createMachine({
    id: 'recorder',
    context: ({ input }) => ({ agentId: input.agentId, count: 0 }),
    on: { '*': { actions: ['record', assign({ count: ({ context }) => context.count + 1 })] } },
  });
}

/** Replies to `ping` with `{ pong: n, by }`; records everything. */
export function echo(log: Delivery[] = []) {
  return setup({
    types: { context: {} as { agentId: AgentIdLike }, events: {} as MessageEvent, input: {} as AgentInput, emitted: {} as RuntimeCommand },
    actions: { record: ({ context, event }) => log.push(toDelivery(context.agentId, event)) },
  }).createMachine({
    id: 'echo',
    context: ({ input }) => ({ agentId: input.agentId }),
    on: {
      '*': {
        actions: [
          'record',
          emit(({ context, event }) => replyCommand({ pong: event.message.n, by: idOf(context.agentId) })),
        ],
      },
    },
  });
}

/** Answers every RPC with `replyErrorCommand(new MyError(...))`. */
export const rejecter = setup({
  types: { events: {} as MessageEvent, emitted: {} as RuntimeCommand },
}).createMachine({
  id: 'rejecter',
  on: { '*': { actions: emit(({ event }) => replyErrorCommand(new MyError(`cannot handle "${event.type}"`))) } },
});

/** An actor whose action throws `MyError` on every message. */
export const thrower = setup({
  types: { events: {} as MessageEvent },
  actions: {
    explode: ({ event }) => {
      throw new MyError(`exploded on "${event.type}"`);
    },
  },
}).createMachine({ id: 'thrower', on: { '*': { actions: 'explode' } } });

/** Reports a failure through `errorCommand` (the error channel) without stopping. */
export const complainer = setup({
  types: { events: {} as MessageEvent, emitted: {} as RuntimeCommand },
}).createMachine({
  id: 'complainer',
  on: { '*': { actions: emit(({ event }) => errorCommand(new MyError(`complaint about "${event.type}"`))) } },
});

/**
 * Records `hop` messages and, while `n > 0`, publishes `{ type: 'hop', n: n - 1 }` on topic type
 * `next` (same source) — a cascade several hops deep.
 */
export function forwarder(log: Delivery[], next: string) {
  return setup({
    types: { context: {} as { agentId: AgentIdLike }, events: {} as MessageEvent, input: {} as AgentInput, emitted: {} as RuntimeCommand },
    actions: { record: ({ context, event }) => log.push(toDelivery(context.agentId, event)) },
    guards: { more: ({ event }) => (event.message.n as number) > 0 },
  }).createMachine({
    id: 'forwarder',
    context: ({ input }) => ({ agentId: input.agentId }),
    on: {
      hop: [
        {
          guard: 'more',
          actions: ['record', emit(({ context, event }) => publishCommand({ type: 'hop', n: (event.message.n as number) - 1 }, { type: next, source: context.agentId.key }))],
        },
        { actions: 'record' },
      ],
    },
  });
}

/** On `forward`, sends `{ type: 'forwarded', payload }` to `message.to` (fire and forget). */
export const sender = setup({
  types: { events: {} as MessageEvent, emitted: {} as RuntimeCommand },
}).createMachine({
  id: 'sender',
  on: {
    forward: {
      actions: emit(({ event }) => sendCommand({ type: 'forwarded', payload: event.message.payload }, event.message.to as AgentIdLike)),
    },
  },
});

/**
 * One message at a time, each taking `delayMs` in an invoked promise while the machine sits in a
 * state tagged `busy`. Events arriving in `working` are not handled by the machine (it would drop
 * them), so the runtime must hold them. Records `started:<seq>` / `done:<seq>` and replies `seq`.
 */
export function slowWorker(trace: string[], delayMs = 5) {
  return setup({
    types: { context: {} as { current?: MessageEvent; handled: number }, events: {} as MessageEvent, emitted: {} as RuntimeCommand },
    actors: {
      work: fromPromise(async ({ input }: { input: { seq: unknown } }) => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return input.seq;
      }),
    },
  }).createMachine({
    id: 'slowWorker',
    context: { handled: 0 },
    initial: 'idle',
    states: {
      idle: {
        on: {
          '*': {
            target: 'working',
            actions: [assign({ current: ({ event }) => event }), ({ event }) => trace.push(`started:${event.message.seq}`)],
          },
        },
      },
      working: {
        tags: [BUSY_TAG],
        invoke: {
          src: 'work',
          input: ({ context }) => ({ seq: context.current!.message.seq }),
          onDone: {
            target: 'idle',
            actions: [
              ({ event }) => trace.push(`done:${event.output}`),
              assign({ handled: ({ context }) => context.handled + 1, current: undefined }),
              emit(({ event }) => replyCommand(event.output)),
            ],
          },
        },
      },
    },
  });
}

/** A promise the test settles explicitly. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One gate per key, created on first use: the actor waits on `wait(key)`, the test calls `open(key)`. */
export class Gates {
  private readonly gates = new Map<unknown, Deferred>();
  private get(key: unknown): Deferred {
    let gate = this.gates.get(key);
    if (!gate) this.gates.set(key, (gate = deferred()));
    return gate;
  }
  wait(key: unknown): Promise<void> {
    return this.get(key).promise;
  }
  open(key: unknown): void {
    this.get(key).resolve();
  }
}

/**
 * Like {@link slowWorker}, but each job stays busy until the test opens its gate
 * (`gates.open(seq)`), so a test controls exactly when it finishes (no timing assumption).
 */
export function gatedWorker(trace: string[], gates: Gates) {
  return slowWorker(trace, 0).provide({
    actors: {
      work: fromPromise(async ({ input }: { input: { seq: unknown } }) => {
        await gates.wait(input.seq);
        return input.seq;
      }),
    },
  });
}

/** A counter: `inc` adds `by` (default 1), `get` replies with the count. */
export const counter = setup({
  types: { context: {} as { count: number }, events: {} as MessageEvent, emitted: {} as RuntimeCommand },
}).createMachine({
  id: 'counter',
  context: { count: 0 },
  on: {
    inc: { actions: assign({ count: ({ context, event }) => context.count + ((event.message.by as number | undefined) ?? 1) }) },
    get: { actions: emit(({ context }) => replyCommand(context.count)) },
  },
});

/** Replies `'bye'` to `finish` and reaches a final state. */
export const finisher = setup({
  types: { events: {} as MessageEvent, emitted: {} as RuntimeCommand },
}).createMachine({
  id: 'finisher',
  initial: 'open',
  states: {
    open: { on: { finish: { target: 'closed', actions: emit(() => replyCommand('bye')) }, ping: { actions: emit(() => replyCommand('pong')) } } },
    closed: { type: 'final' },
  },
});

/** Never leaves a busy state (for close/abort tests): waits on a promise that never settles. */
export const stuck = setup({
  types: { events: {} as MessageEvent },
  actors: { forever: fromPromise(() => new Promise<never>(() => {})) },
}).createMachine({
  id: 'stuck',
  initial: 'idle',
  states: {
    idle: { on: { '*': 'waiting' } },
    waiting: { tags: [BUSY_TAG], invoke: { src: 'forever' } },
  },
});

/** A runtime whose error channel is collected in `errors` (so nothing goes to stderr). */
export function runtimeWithErrors(options: InProcessRuntimeOptions = {}): { runtime: InProcessRuntime; errors: RuntimeErrorEvent[] } {
  const runtime = new InProcessRuntime(options);
  const errors: RuntimeErrorEvent[] = [];
  runtime.onError((event) => errors.push(event));
  return { runtime, errors };
}

/** Resolves once `predicate()` holds, checking on every macrotask (no timing assertion). */
export async function until(predicate: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`Timed out waiting for ${what}.`);
}

/** Its entry action throws: the actor fails as it starts. */
export const failsAtStart = setup({
  types: { events: {} as MessageEvent },
  actions: {
    explode: () => {
      throw new MyError('cannot start');
    },
  },
}).createMachine({ id: 'failsAtStart', entry: 'explode' });

/** Handles one message (busy for `delayMs`), replies with `seq`, then reaches a final state. */
export function oneShot(delayMs = 2) {
  return setup({
    types: { context: {} as { seq?: unknown }, events: {} as MessageEvent, emitted: {} as RuntimeCommand },
    actors: { work: fromPromise(() => new Promise((resolve) => setTimeout(resolve, delayMs))) },
  }).createMachine({
    id: 'oneShot',
    context: {},
    initial: 'idle',
    states: {
      idle: { on: { '*': { target: 'working', actions: assign({ seq: ({ event }) => event.message.seq }) } } },
      working: {
        tags: [BUSY_TAG],
        invoke: { src: 'work', onDone: { target: 'done', actions: emit(({ context }) => replyCommand(context.seq)) } },
      },
      done: { type: 'final' },
    },
  });
}

/** Two async steps in a row, both busy; replies `[step1, step2]` outputs at the end. */
export const twoStep = setup({
  types: { context: {} as { first?: unknown }, events: {} as MessageEvent, emitted: {} as RuntimeCommand },
  actors: {
    step: fromPromise(async ({ input }: { input: string }) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return input;
    }),
  },
}).createMachine({
  id: 'twoStep',
  context: {},
  initial: 'idle',
  states: {
    idle: { on: { '*': 'first' } },
    first: {
      tags: [BUSY_TAG],
      invoke: { src: 'step', input: () => 'one', onDone: { target: 'second', actions: assign({ first: ({ event }) => event.output }) } },
    },
    second: {
      tags: [BUSY_TAG],
      invoke: { src: 'step', input: () => 'two', onDone: { target: 'idle', actions: emit(({ context, event }) => replyCommand([context.first, event.output])) } },
    },
  },
});
