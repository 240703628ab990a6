/**
 * Helpers for stepping troupe's machines with XState's pure `initialTransition` / `transition`:
 * build the events the runtime would deliver, and read what the machine asked for.
 */
import type { AnyEventObject, EventObject } from 'xstate';
import type { EnvelopeInfo, Message, MessageEvent, RuntimeCommand } from '../runtime/actor-contract.js';
import type { ActorEvent, BoundaryMessage } from '../actors/events.js';
import { effectNameOf, type EffectDoneEvent, type EffectErrorEvent } from '../runtime/effects.js';

let envelopeCount = 0;

/**
 * The event a hosted actor receives when the runtime delivers `message`.
 *
 * @example
 * const [next] = transition(agentMachine, snapshot, messageEvent({ type: 'turn_request' }));
 */
export function messageEvent<M extends Message>(message: M, envelope: Partial<EnvelopeInfo> = {}): MessageEvent<M> {
  return { type: message.type, message, envelope: { id: envelope.id ?? `env_${++envelopeCount}`, rpc: false, ...envelope } };
}

/**
 * `<name>.done`: the host's answer when the effect `name` (e.g. `callModel`, `runTools`,
 * `checkTermination`) succeeded with `output`. Feed it to the step after the one that asked.
 *
 * @example
 * const [busy, actions] = transition(agentMachine, idle, messageEvent({ type: 'turn_request' }));
 * effectsOf(actions); // [{ name: 'callModel', input: { agent, invocationId, messages, tools } }]
 * const [done] = transition(agentMachine, busy, effectDone('callModel', { text: 'hi', toolCalls: [], usage }));
 */
export function effectDone<N extends string, O>(name: N, output: O): EffectDoneEvent<N, O> {
  return { type: `${name}.done`, output };
}

/**
 * `<name>.error`: the host's answer when the effect `name` failed with `error`.
 *
 * @example
 * const [idle, actions] = transition(agentMachine, busy, effectError('callModel', new Error('rate limited')));
 */
export function effectError<N extends string>(name: N, error: unknown): EffectErrorEvent<N> {
  return { type: `${name}.error`, error };
}

/**
 * `xstate.done.actor.<id>`: an invoked actor (e.g. a group chat's `selectNextSpeaker`) finished with `output`.
 * Typed as whatever event the machine takes (`E`), since XState does not list these events.
 *
 * @example
 * const [next] = transition(endExecutorMachine, finalizing, doneEvent('finalize', output));
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function doneEvent<E = any>(invokeId: string, output: unknown): E {
  const event: AnyEventObject = { type: `xstate.done.actor.${invokeId}`, output, actorId: invokeId };
  return event as E;
}

/** `xstate.error.actor.<id>`: an invoked actor failed with `error`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function errorEvent<E = any>(invokeId: string, error: unknown): E {
  const event: AnyEventObject = { type: `xstate.error.actor.${invokeId}`, error, actorId: invokeId };
  return event as E;
}

interface ActionLike {
  type: string;
  params?: unknown;
  /** The implementation (`transition()` returns it with each action). */
  exec?: unknown;
}

function emitted(actions: readonly ActionLike[]): RuntimeCommand[] {
  return actions
    .filter((a) => a.type === 'xstate.emit')
    .map((a) => (a.params as { event: EventObject }).event as RuntimeCommand)
    .filter((e) => e.type.startsWith('runtime.'));
}

/** Whether a command is a message to the run's boundary (a report or a settlement). */
function toBoundary(command: RuntimeCommand): boolean {
  return command.type === 'runtime.send' && /^(invocation_|request_opened$|request_closed$)/.test(command.message.type);
}

/**
 * The runtime commands (publish, send, reply, error) among the actions `transition()` returned —
 * without the messages to the run's boundary (see {@link reportsOf} and {@link boundaryOf}).
 */
export function commandsOf(actions: readonly ActionLike[]): RuntimeCommand[] {
  return emitted(actions).filter((c) => !toBoundary(c));
}

/** The events reported to the invocation (`invocation_event` messages to the boundary). */
export function reportsOf(actions: readonly ActionLike[]): ActorEvent[] {
  return boundaryOf(actions).flatMap((m) => (m.type === 'invocation_event' ? [m.event] : []));
}

/** Every message to the run's boundary: reports, closed requests, the settled output or failure. */
export function boundaryOf(actions: readonly ActionLike[]): BoundaryMessage[] {
  return emitted(actions).filter(toBoundary).map((c) => (c as Extract<RuntimeCommand, { type: 'runtime.send' }>).message as unknown as BoundaryMessage);
}

/**
 * The effects the step asked the host to perform, in order: each one's name and input (e.g. what
 * `callModel` will be called with). Answer one with {@link effectDone} or {@link effectError}.
 *
 * @example
 * const [busy, actions] = transition(agentMachine, idle, messageEvent({ type: 'turn_request' }));
 * effectsOf(actions)[0]; // { name: 'callModel', input: { agent: 'Refund', invocationId: 'run', messages, tools } }
 */
export function effectsOf(actions: readonly ActionLike[]): Array<{ name: string; input: unknown }> {
  const out: Array<{ name: string; input: unknown }> = [];
  for (const a of actions) {
    const name = effectNameOf(a.exec);
    if (name !== undefined) out.push({ name, input: a.params });
  }
  return out;
}

/** The input of each actor the step started (e.g. what a group chat's `selectNextSpeaker` will be called with). */
export function invokedOf(actions: readonly ActionLike[]): Array<{ id: string; src: unknown; input: unknown }> {
  return actions
    .filter((a) => a.type === 'xstate.spawnChild')
    .map((a) => a.params as { id: string; src: unknown; input: unknown });
}
