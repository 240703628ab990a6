/**
 * Effects the host performs: a machine's step *asks* for work (a model call, a tool run, a
 * termination check) with an action carrying the work's input as params, and the host runs it
 * and answers with an event — `<name>.done` `{ output }` or `<name>.error` `{ error }`. Unlike an
 * invoked promise actor, no child actor is created per call (no `xstate.init`, no
 * `xstate.promise.resolve`, no child snapshots), and a pure `transition()` still returns the
 * request (the action, with its input), so a test steps the machine by feeding the answer.
 *
 * Rules that keep it cancel-safe:
 * - perform an effect on a state's `entry`, and cancel it on that state's `exit` with
 *   {@link cancelEffect}: leaving the state aborts the call's signal and drops its late answer;
 * - an actor has at most one call in flight per effect name (a new one aborts the previous);
 * - an answer is only delivered while it is the actor's current call of that name and the actor
 *   is active: a stopped actor, or a later state that performs the same effect, never gets it;
 * - when an actor stops (final state, `stop()`, or retired by the runtime), its calls are aborted.
 * The runtime saves an actor's in-flight calls with it (`saveState`) and performs them again on
 * `loadState` (see {@link resumeEffect}).
 */
import type { AnyActorRef } from 'xstate';
import { TroupeError } from '../core/errors.js';
import { relayEvent } from './xstate-internals.js';

const EFFECT = Symbol.for('troupe.effect');

/** What an effect's `run` gets besides its input. */
export interface EffectOptions {
  /** Aborted when the actor leaves the state that asked, or stops. */
  signal: AbortSignal;
  /** The actor that asked. */
  self: AnyActorRef;
}

/** The work behind an effect: its input (the action's params) in, its output (or a throw) out. */
export type EffectRun<I, O> = (input: I, options: EffectOptions) => Promise<O> | O;

/** The event an effect answers with when `run` resolves. */
export interface EffectDoneEvent<N extends string = string, O = unknown> {
  type: `${N}.done`;
  output: O;
}

/** The event an effect answers with when `run` throws or rejects. */
export interface EffectErrorEvent<N extends string = string> {
  type: `${N}.error`;
  error: unknown;
}

/** Both answers of one effect, to add to a machine's event types. */
export type EffectEvents<N extends string, O> = EffectDoneEvent<N, O> | EffectErrorEvent<N>;

/**
 * An XState action implementation that performs an effect (made by {@link effect}). Its params
 * are the effect's input.
 */
// `args` is unknown (XState's ActionArgs of any machine), so `setup` infers the machine's own types.
export interface EffectAction<I = unknown> {
  (args: unknown, input: I): void;
  readonly [EFFECT]: EffectDefinition;
}

interface EffectDefinition {
  name: string;
  run: EffectRun<never, unknown>;
}

interface InFlight {
  /** Made when `run` first reads its signal (many never do: a termination condition, say). */
  controller: AbortController | undefined;
  /** Why it was aborted, if it was before anyone read the signal. */
  aborted: EffectCancelledError | undefined;
  input: unknown;
}

function abort(call: InFlight, name: string): void {
  const reason = new EffectCancelledError(name);
  if (call.controller) call.controller.abort(reason);
  else call.aborted = reason;
}

function signalOf(call: InFlight): AbortSignal {
  if (!call.controller) {
    call.controller = new AbortController();
    if (call.aborted) call.controller.abort(call.aborted);
  }
  return call.controller.signal;
}

/** Each actor's calls in flight, by effect name. Weak: a forgotten actor takes its entry with it. */
const inFlight = new WeakMap<AnyActorRef, Map<string, InFlight>>();

/**
 * The action implementation of the effect `name`: it starts `run(input, { signal, self })` and
 * answers the actor with `<name>.done` / `<name>.error`. `name` must be the action's key in
 * `setup({ actions })` / `provide({ actions })`: it names the answer events.
 *
 * In `setup({ actions })`, write `run` with one parameter left untyped (e.g. `(input: I, _options)`):
 * XState infers a machine's action types from `setup` only when each implementation there is
 * context-sensitive, and an effect built elsewhere would make the other actions' params `unknown`.
 * In `provide()` any form works.
 *
 * @example
 * const machine = setup({
 *   actions: { fetchQuote: effect('fetchQuote', (_input: { symbol: string }, _options): Promise<number> => { throw new Error('not provided'); }) },
 * }).createMachine({
 *   initial: 'asking',
 *   states: {
 *     asking: {
 *       entry: { type: 'fetchQuote', params: { symbol: 'ACME' } },
 *       exit: cancelEffect('fetchQuote'),
 *       on: { 'fetchQuote.done': 'known', 'fetchQuote.error': 'failed' },
 *     },
 *     known: {}, failed: {},
 *   },
 * });
 * const live = machine.provide({ actions: { fetchQuote: effect('fetchQuote', async ({ symbol }, { signal }) => quote(symbol, signal)) } });
 */
export function effect<I, O>(name: string, run: EffectRun<I, O>): EffectAction<I> {
  const definition: EffectDefinition = { name, run: run as EffectRun<never, unknown> };
  const action = ((args: { self: AnyActorRef }, input: I) => perform(args.self, definition, input)) as EffectAction<I>;
  Object.defineProperty(action, EFFECT, { value: definition });
  return action;
}

/**
 * An action that cancels the actor's call of effect `name`, if one is in flight: its signal is
 * aborted and its answer will not be delivered. Put it on the `exit` of the state that performs it.
 *
 * @example
 * callingModel: { entry: { type: 'callModel', params: toInput }, exit: cancelEffect('callModel'), on: { … } }
 */
export function cancelEffect(name: string): (args: { self: AnyActorRef }) => void {
  // Named, so the action reads `cancelEffect.<name>` in `transition()`'s actions and in inspectors.
  const label = `cancelEffect.${name}`;
  return {
    [label]: ({ self }: { self: AnyActorRef }) => {
      const calls = inFlight.get(self);
      const call = calls?.get(name);
      if (!call) return;
      calls!.delete(name);
      abort(call, name);
    },
  }[label];
}

/** The effect an action implementation performs (`undefined` if it is not one): for test helpers. */
export function effectNameOf(implementation: unknown): string | undefined {
  return definitionOf(implementation)?.name;
}

function definitionOf(implementation: unknown): EffectDefinition | undefined {
  return (implementation as Partial<EffectAction> | undefined)?.[EFFECT];
}

/** Aborts every call `actor` has in flight; none of them will answer. The runtime calls it when it retires an actor. */
export function abortEffects(actor: AnyActorRef): void {
  const calls = inFlight.get(actor);
  if (!calls) return;
  inFlight.delete(actor);
  for (const [name, call] of calls) abort(call, name);
}

/** The calls `actor` has in flight (name and input), e.g. to save them with its snapshot. */
export function inFlightEffects(actor: AnyActorRef): Array<{ name: string; input: unknown }> {
  const calls = inFlight.get(actor);
  if (!calls || calls.size === 0) return [];
  return [...calls].map(([name, call]) => ({ name, input: call.input }));
}

/**
 * Performs again a call `actor` had in flight when it was saved (its snapshot does not hold the
 * call, and a restored actor does not re-run entry actions): through the effect of that name in
 * the actor's logic. If the logic has no such effect, the actor is answered with
 * `<name>.error` ({@link UnknownEffectError}) rather than left waiting forever.
 *
 * @example
 * const actor = createActor(machine, { snapshot: saved.snapshot }).start();
 * for (const call of saved.effects) resumeEffect(actor, call.name, call.input);
 */
export function resumeEffect(actor: AnyActorRef, name: string, input: unknown): void {
  const logic = (actor as unknown as { logic?: unknown }).logic;
  const implementation = (logic as { implementations?: { actions?: Record<string, unknown> } }).implementations?.actions?.[name];
  const definition = definitionOf(implementation);
  if (definition) perform(actor, definition, input);
  else if (actor.getSnapshot().status === 'active') relayEvent(actor, actor, { type: `${name}.error`, error: new UnknownEffectError(actor.id, name) } as EffectErrorEvent);
}

function perform(self: AnyActorRef, definition: EffectDefinition, input: unknown): void {
  const { name, run } = definition;
  let calls = inFlight.get(self);
  if (!calls) {
    calls = new Map();
    inFlight.set(self, calls);
    // A plain `createActor` has no runtime to retire it: abort its calls when it stops or ends.
    // (Only `complete`: an error listener would hide the actor's error from XState's reporting;
    // after an error, answers are dropped by the status check in `answer`.)
    self.subscribe({ complete: () => abortEffects(self) });
  }
  const previous = calls.get(name);
  if (previous) abort(previous, name);
  const call: InFlight = { controller: undefined, aborted: undefined, input };
  calls.set(name, call);
  const options: EffectOptions = {
    get signal() {
      return signalOf(call);
    },
    self,
  };
  let result: Promise<unknown>;
  try {
    result = Promise.resolve((run as EffectRun<unknown, unknown>)(input, options));
  } catch (error) {
    result = Promise.reject(error);
  }
  result.then(
    (output) => answer(self, name, call, { type: `${name}.done`, output }),
    (error: unknown) => answer(self, name, call, { type: `${name}.error`, error }),
  );
}

function answer(self: AnyActorRef, name: string, call: InFlight, event: EffectDoneEvent | EffectErrorEvent): void {
  const calls = inFlight.get(self);
  // Cancelled, replaced by a newer call, or the actor was retired: nobody is waiting for this.
  if (calls?.get(name) !== call) return;
  calls.delete(name);
  if (self.getSnapshot().status !== 'active') return;
  // Sent as from the actor itself: inspectors show the answer with a source (no other actor sent it).
  relayEvent(self, self, event);
}

/** The reason an effect's signal is aborted when its state is left or its actor stops. */
export class EffectCancelledError extends TroupeError {
  constructor(readonly effect: string) {
    super('effect_cancelled', `The "${effect}" call was cancelled: the actor left the state that asked for it, or stopped.`);
  }
}

/** A saved actor was performing an effect its logic (as registered now) does not have. */
export class UnknownEffectError extends TroupeError {
  constructor(readonly actor: string, readonly effect: string) {
    super('unknown_effect', `Actor "${actor}" was saved while performing "${effect}", but its logic has no effect of that name to perform it again.`);
  }
}
