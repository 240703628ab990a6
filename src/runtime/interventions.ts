import type { AgentIdLike, TopicIdLike } from './ids.js';
import type { Message } from './actor-contract.js';

/** Return this from an intervention handler to drop the message. */
export const DROP: unique symbol = Symbol.for('troupe.drop');
export type Drop = typeof DROP;

type Maybe<T> = T | Promise<T>;

/**
 * Sees (and may rewrite or drop) every message the runtime routes.
 *
 * Sends and publishes pass through the handlers one at a time, in the order they were made, and
 * are routed in that order (an actor that publishes and then sends is heard in that order, even
 * when `onPublish` is slower than `onSend`). So a slow handler delays every message behind it, and
 * a handler must not wait for a message it sends or publishes itself through the same runtime:
 * that message is queued behind the one being handled. `onResponse` runs outside that queue.
 *
 * @example
 * const noSecrets: InterventionHandler = {
 *   onPublish: (message) => (JSON.stringify(message).includes('sk-') ? DROP : message),
 * };
 * new InProcessRuntime({ interventions: [noSecrets] });
 */
export interface InterventionHandler {
  onSend?(message: Message, context: { sender?: AgentIdLike; recipient: AgentIdLike }): Maybe<Message | Drop>;
  onPublish?(message: Message, context: { sender?: AgentIdLike; topic: TopicIdLike }): Maybe<Message | Drop>;
  onResponse?(value: unknown, context: { sender: AgentIdLike; recipient?: AgentIdLike }): Maybe<unknown | Drop>;
}
