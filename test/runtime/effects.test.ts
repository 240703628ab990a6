import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, createActor, emit, initialTransition, setup, transition } from 'xstate';
import {
  AgentId, BUSY_TAG, InProcessRuntime, MessageDroppedError, UnknownEffectError, cancelEffect, effect, replyCommand,
  type EffectDoneEvent, type EffectErrorEvent, type EffectEvents, type EffectOptions, type EffectRun, type MessageEvent, type RuntimeState,
} from '../../src/runtime/index.js';
import { effectDone, effectError, effectsOf, messageEvent } from '../../src/testing/step.js';

/** A call the test settles by hand (it ignores its signal, like an uncooperative client). */
interface Pending {
  input: { n: number };
  signal: AbortSignal;
  resolve: (value: number) => void;
  reject: (error: unknown) => void;
}

function calls() {
  const pending: Pending[] = [];
  const run: EffectRun<{ n: number }, number> = (input, { signal }) => new Promise<number>((resolve, reject) => {
    pending.push({ input, signal, resolve, reject });
  });
  return { pending, run };
}

type Events = MessageEvent | EffectEvents<'square', number>;

/**
 * Asks for `square` on entry to `working` (busy), records the answer: `go` (n) starts, `skip`
 * leaves `working` without an answer, `get` replies with what it has.
 */
const squarer = setup({
  types: { context: {} as { n: number; answers: number[]; errors: string[] }, events: {} as Events },
  actions: {
    square: effect('square', (_input: { n: number }, _options): Promise<number> => {
      throw new Error('square is not provided');
    }),
  },
}).createMachine({
  id: 'squarer',
  context: { n: 0, answers: [], errors: [] },
  initial: 'idle',
  states: {
    idle: {
      on: {
        go: { target: 'working', actions: assign({ n: ({ event }) => ((event as MessageEvent<{ type: 'go'; n: number }>).message.n) }) },
        get: { actions: emit(({ context }) => replyCommand({ answers: context.answers, errors: context.errors })) },
      },
    },
    working: {
      tags: [BUSY_TAG],
      entry: { type: 'square', params: ({ context }) => ({ n: context.n }) },
      exit: cancelEffect('square'),
      on: {
        'square.done': { target: 'idle', actions: assign({ answers: ({ context, event }) => [...context.answers, (event as EffectDoneEvent<'square', number>).output] }) },
        'square.error': { target: 'idle', actions: assign({ errors: ({ context, event }) => [...context.errors, String(((event as EffectErrorEvent<'square'>).error as Error).message)] }) },
        skip: 'idle',
      },
    },
  },
});

const go = (n: number) => messageEvent({ type: 'go', n });
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('effects (stepped)', () => {
  it('a step returns the effect with its input; the test feeds the answer as an event', () => {
    const [idle] = initialTransition(squarer);
    const [working, actions] = transition(squarer, idle, go(3));
    expect(effectsOf(actions)).toEqual([{ name: 'square', input: { n: 3 } }]);
    const [answered, after] = transition(squarer, working, effectDone('square', 9));
    expect(answered.value).toBe('idle');
    expect(answered.context.answers).toEqual([9]);
    expect(effectsOf(after)).toEqual([]);
    const [failed] = transition(squarer, working, effectError('square', new Error('no')));
    expect(failed.context.errors).toEqual(['no']);
  });
});

describe('effects (a plain createActor)', () => {
  it('performs the effect with its input and answers with <name>.done / <name>.error (a sync throw too)', async () => {
    const { pending, run } = calls();
    const actor = createActor(squarer.provide({ actions: { square: effect('square', run) } })).start();
    actor.send(go(4));
    expect(pending.map((p) => p.input)).toEqual([{ n: 4 }]);
    pending[0].resolve(16);
    await flush();
    expect(actor.getSnapshot().context.answers).toEqual([16]);
    actor.send(go(5));
    pending[1].reject(new Error('overflow'));
    await flush();
    expect(actor.getSnapshot().context.errors).toEqual(['overflow']);

    const throwing = createActor(squarer).start(); // the placeholder throws synchronously
    throwing.send(go(1));
    await flush();
    expect(throwing.getSnapshot().value).toBe('idle');
    expect(throwing.getSnapshot().context.errors).toEqual(['square is not provided']);
  });

  it('leaving the state aborts the call; its late answer never reaches a later call of the same effect', async () => {
    const { pending, run } = calls();
    const actor = createActor(squarer.provide({ actions: { square: effect('square', run) } })).start();
    actor.send(go(2));
    actor.send(messageEvent({ type: 'skip' }));
    expect(pending[0].signal.aborted).toBe(true);
    actor.send(go(3)); // working again: a newer call
    pending[0].resolve(4); // the stale answer
    await flush();
    expect(actor.getSnapshot().value).toBe('working');
    expect(actor.getSnapshot().context.answers).toEqual([]);
    pending[1].resolve(9);
    await flush();
    expect(actor.getSnapshot().context.answers).toEqual([9]);
  });

  it('a run that reads its signal only after the state was left gets an already-aborted one', async () => {
    const seen: EffectOptions[] = [];
    const actor = createActor(squarer.provide({ actions: { square: effect('square', (_input: { n: number }, options) => { seen.push(options); return new Promise<number>(() => {}); }) } })).start();
    actor.send(go(2));
    actor.send(messageEvent({ type: 'skip' }));
    expect(seen[0].signal.aborted).toBe(true);
    expect(seen[0].signal.reason).toMatchObject({ code: 'effect_cancelled' });
    actor.send(go(3));
    expect(seen[1].signal.aborted).toBe(false);
    actor.stop();
    expect(seen[1].signal.aborted).toBe(true);
  });

  it('stopping the actor aborts the call, and its late answer is dropped (not sent to the stopped actor)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const { pending, run } = calls();
      const actor = createActor(squarer.provide({ actions: { square: effect('square', run) } })).start();
      actor.send(go(2));
      actor.stop();
      expect(pending[0].signal.aborted).toBe(true);
      expect(pending[0].signal.reason).toMatchObject({ code: 'effect_cancelled', effect: 'square' });
      pending[0].resolve(4);
      await flush();
      expect(warn).not.toHaveBeenCalled();
      expect(actor.getSnapshot().context.answers).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('effects under the runtime', () => {
  const runtimes: InProcessRuntime[] = [];
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.close();
  });
  function make(run: EffectRun<{ n: number }, number>) {
    const runtime = new InProcessRuntime();
    runtimes.push(runtime);
    runtime.registerFactory('sq', () => squarer.provide({ actions: { square: effect('square', run) } }));
    runtime.start();
    return runtime;
  }
  const id = new AgentId('sq', 'k1');

  it('retiring the key aborts the call; the late answer reaches neither the retired actor nor its successor', async () => {
    const { pending, run } = calls();
    const runtime = make(run);
    const first = runtime.sendMessage({ type: 'go', n: 2 }, id);
    await flush();
    expect(pending).toHaveLength(1);
    runtime.retireKey('k1');
    await expect(first).rejects.toBeInstanceOf(MessageDroppedError);
    expect(pending[0].signal.aborted).toBe(true);

    const second = runtime.sendMessage({ type: 'go', n: 3 }, id); // a fresh actor under the same AgentId
    await flush();
    pending[0].resolve(4); // late, from the retired actor's call
    await flush();
    expect(runtime.getActor(id)!.getSnapshot().value).toBe('working');
    pending[1].resolve(9);
    await second;
    await expect(runtime.sendMessage({ type: 'get' }, id)).resolves.toEqual({ answers: [9], errors: [] });
  });

  it('close() aborts what actors have in flight', async () => {
    const { pending, run } = calls();
    const runtime = make(run);
    void runtime.sendMessage({ type: 'go', n: 2 }, id).catch(() => {});
    await flush();
    await runtime.close();
    expect(pending[0].signal.aborted).toBe(true);
  });

  it('saveState records a call in flight (name and input); loadState performs it again and the actor finishes', async () => {
    const before = calls();
    const first = make(before.run);
    void first.sendMessage({ type: 'go', n: 6 }, id).catch(() => {});
    await flush();
    const state = JSON.parse(JSON.stringify(await first.saveState())) as RuntimeState;
    expect(state.actors).toEqual([expect.objectContaining({ id: { type: 'sq', key: 'k1' }, effects: [{ name: 'square', input: { n: 6 } }] })]);

    const after = calls();
    const second = make(after.run);
    await second.loadState(state);
    expect(after.pending.map((p) => p.input)).toEqual([{ n: 6 }]);
    after.pending[0].resolve(36);
    await second.stopWhenIdle();
    second.start();
    await expect(second.sendMessage({ type: 'get' }, id)).resolves.toEqual({ answers: [36], errors: [] });
    // At rest, nothing is in flight: the saved actor carries no `effects`.
    expect((await second.saveState()).actors[0]).not.toHaveProperty('effects');
  });

  it('loading a call the logic (as registered now) cannot perform answers <name>.error with UnknownEffectError, not a hang', async () => {
    const { run } = calls();
    const first = make(run);
    void first.sendMessage({ type: 'go', n: 6 }, id).catch(() => {});
    await flush();
    const state = JSON.parse(JSON.stringify(await first.saveState())) as RuntimeState;

    const second = new InProcessRuntime();
    runtimes.push(second);
    // `square` is now an ordinary action, not an effect: nothing can perform the saved call.
    second.registerFactory('sq', () => squarer.provide({ actions: { square: () => {} } }));
    await second.loadState(state);
    second.start();
    await second.stopWhenIdle();
    second.start();
    const { errors } = await second.sendMessage({ type: 'get' }, id) as { errors: string[] };
    expect(errors).toEqual([new UnknownEffectError('sq/k1', 'square').message]);
    expect(errors[0]).toMatch(/Actor "sq\/k1" was saved while performing "square"/);
  });
});
