/**
 * The contract between the runtime and the actors it hosts. Actors stay pure: they never call the
 * runtime. They receive routed messages as events and *emit* commands (XState `emit`), which the
 * runtime carries out after the transition. A test can step a machine and read these commands in
 * the actions `transition()` returns.
 */
import type { AgentIdLike, TopicIdLike } from './ids.js';

/** A routed message: plain JSON, discriminated by `type`. */
export interface Message {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** What the runtime knows about a message it delivers. */
export interface EnvelopeInfo {
  /** Unique per publish/send. */
  readonly id: string;
  readonly sender?: AgentIdLike;
  /** Set when the message was published on a topic. */
  readonly topic?: TopicIdLike;
  /** True when the sender waits for a reply (RPC through `sendMessage`). */
  readonly rpc: boolean;
}

/**
 * The XState event a hosted actor receives for a routed message: its `type` is the message's
 * type, so machines write `on: { turn_request: … }` and the inspector shows the message by name.
 */
export interface MessageEvent<M extends Message = Message> {
  readonly type: M['type'];
  readonly message: M;
  readonly envelope: EnvelopeInfo;
}

/** Tag a machine state with this while it works on a message (e.g. awaits the model). The
 * runtime delivers the actor's next message only once no state carries it. */
export const BUSY_TAG = 'busy';

/** Commands a hosted actor emits. */
export type RuntimeCommand =
  | { type: 'runtime.publish'; message: Message; topic: TopicIdLike; deliverToSelf?: boolean }
  | { type: 'runtime.send'; message: Message; recipient: AgentIdLike }
  | { type: 'runtime.reply'; value: unknown }
  | { type: 'runtime.reply_error'; error: unknown }
  | { type: 'runtime.error'; error: unknown };

/** Publish `message` on `topic` (every subscriber but the sender gets it). */
export function publishCommand(message: Message, topic: TopicIdLike, options: { deliverToSelf?: boolean } = {}): RuntimeCommand {
  return { type: 'runtime.publish', message, topic, ...options };
}

/** Send `message` to one actor, without waiting for a reply. */
export function sendCommand(message: Message, recipient: AgentIdLike): RuntimeCommand {
  return { type: 'runtime.send', message, recipient };
}

/** Reply to the RPC being handled. An RPC handled without a reply resolves with `undefined`. */
export function replyCommand(value: unknown): RuntimeCommand {
  return { type: 'runtime.reply', value };
}

/** Reject the RPC being handled with `error` (its type is kept for the caller). */
export function replyErrorCommand(error: unknown): RuntimeCommand {
  return { type: 'runtime.reply_error', error };
}

/** Report a failure to the runtime's error channel. */
export function errorCommand(error: unknown): RuntimeCommand {
  return { type: 'runtime.error', error };
}

/** Whether `value` can be routed: an object with a non-empty string `type`. */
export function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
    && (value as { type: string }).type.length > 0;
}
