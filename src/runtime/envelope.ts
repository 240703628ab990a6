/** What the runtime routes: an envelope (one send or publish) and its delivery to one recipient. */
import type { AnyActorRef } from 'xstate';
import type { AgentIdLike, TopicIdLike } from './ids.js';
import type { EnvelopeInfo, Message, MessageEvent } from './actor-contract.js';
import type { Rpc } from './rpc.js';

export interface Envelope {
  readonly id: string;
  readonly message: Message;
  readonly sender?: AgentIdLike;
  readonly topic?: TopicIdLike;
  readonly rpc?: Rpc;
  /**
   * What the inspector shows as the event's source: the sending actor, captured when it sent (it
   * may have stopped by delivery), or the runtime's root for messages from outside any actor.
   */
  readonly source: AnyActorRef;
  /** The event actors receive, built once and shared by every recipient of a publish (it is data). */
  event?: MessageEvent;
}

export interface Delivery {
  readonly env: Envelope;
  readonly recipient: AgentIdLike;
  /** The dispatch queue's count for `recipient.key`, while queued (kept here so dequeuing need not look it up). */
  count: KeyCount | null;
}

/** How many queued deliveries are addressed to one AgentId key. */
export interface KeyCount {
  n: number;
}

/** The XState event for `env`, built on first use. */
export function messageEvent(env: Envelope): MessageEvent {
  if (env.event) return env.event;
  const envelope: EnvelopeInfo = { id: env.id, sender: env.sender, topic: env.topic, rpc: env.rpc !== undefined };
  return (env.event = { type: env.message.type, message: env.message, envelope });
}
