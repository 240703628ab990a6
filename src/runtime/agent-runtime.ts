import type { AnyActorLogic } from 'xstate';
import type { AgentId, AgentIdLike, TopicIdLike } from './ids.js';
import type { Subscription } from './subscriptions.js';
import type { Message } from './actor-contract.js';

/** What a factory returns: actor logic, optionally with the input the actor starts from. */
export type HostedActorSpec = AnyActorLogic | { logic: AnyActorLogic; input?: unknown };

/** Creates the actor for one {@link AgentId}, lazily, on its first message. */
export type AgentFactory = (context: { id: AgentId; runtime: AgentRuntime }) => HostedActorSpec;

/** Options of `registerFactory`. */
export interface FactoryOptions {
  /**
   * Create this type's actors only when a message is *sent* to them (`sendMessage`, an RPC, a
   * `runtime.send` command); a *published* message for one that does not exist yet does not
   * create it but is parked (per AgentId, in order) until then, and the new actor receives the
   * parked messages first, in order, then the sent one. So every actor still hears every
   * broadcast before it handles a message sent to it, and one that is never sent anything costs
   * nothing but its parked messages (references to envelopes shared with the other recipients).
   * Parked messages are not work: `stopWhenIdle` does not wait on them, `keyStatus` does not
   * count them as queued, `saveState` keeps them apart (`parked`), and `retireKey`,
   * `unregisterFactory` and `close` drop them without error reports. Default: false.
   *
   * @example
   * // Members hear the conversation (published) but only exist once asked to speak (sent).
   * runtime.registerFactory('chat.member', memberFactory, { createOnSend: true });
   */
  createOnSend?: boolean;
}

/** A failure the runtime could not hand to a waiting caller (publish errors, crashed actors). */
export interface RuntimeErrorEvent {
  readonly error: unknown;
  /** The actor at fault, or the one the message could not reach. */
  readonly agent?: AgentIdLike;
  readonly sender?: AgentIdLike;
  readonly topic?: TopicIdLike;
  readonly message?: Message;
}

/**
 * A JSON snapshot of every hosted actor and every message not yet handled (checked against
 * `RuntimeStateSchema` on load).
 */
export interface RuntimeState {
  /** 2 since states may hold `parked` broadcasts; `loadState` reads 1 and 2. */
  readonly version: 1 | 2;
  /** Set when only the actors with this `AgentId.key` (one invocation) were saved. */
  readonly key?: string;
  /** `effects`: the calls (see `effect`) an actor had in flight when saved; loading performs them again. */
  readonly actors: Array<{ id: AgentIdLike; snapshot: unknown; effects?: Array<{ name: string; input: unknown }> }>;
  readonly queue: Array<{ message: Message; recipient: AgentIdLike; sender?: AgentIdLike; topic?: TopicIdLike }>;
  /**
   * Published messages parked for actors of `createOnSend` types not created yet (see
   * {@link FactoryOptions.createOnSend}), in order; loading parks them again. Absent when none.
   */
  readonly parked?: Array<{ message: Message; recipient: AgentIdLike; sender?: AgentIdLike; topic: TopicIdLike }>;
}

export interface PublishOptions {
  sender?: AgentIdLike;
  /** Deliver to the sender too, when it subscribes to the topic. */
  deliverToSelf?: boolean;
}

/** Options of `saveState` and `loadState`. */
export interface StateOptions {
  /** Only the actors whose `AgentId.key` is this (one invocation), and the messages waiting for them. */
  key?: string;
}

/** See {@link AgentRuntime.keyStatus}. */
export interface KeyStatus {
  /** Actors hosted under the key. */
  actors: number;
  /** Messages for the key not yet handled: in the runtime's queue or waiting in a mailbox. */
  queued: number;
  /** Actors of the key handling a message or in a busy-tagged state. */
  busy: number;
}

export interface SendOptions {
  sender?: AgentIdLike;
  signal?: AbortSignal;
}

/**
 * The runtime contract (mirrors Semantic Kernel's `CoreRuntime`). {@link InProcessRuntime} is the
 * embedded implementation; a distributed runtime can implement the same interface.
 */
export interface AgentRuntime {
  /**
   * Registers the factory of `type`'s actors, each created on its first message (or, with
   * `options.createOnSend`, on the first message sent to it: see {@link FactoryOptions}).
   *
   * @example
   * runtime.registerFactory('echo', () => echoMachine);
   * runtime.registerFactory('member', memberFactory, { createOnSend: true });
   */
  registerFactory(type: string, factory: AgentFactory, options?: FactoryOptions): void;
  /** Removes a factory and stops every actor it created. */
  unregisterFactory(type: string): void;
  addSubscription(subscription: Subscription): void;
  removeSubscription(id: string): void;
  publishMessage(message: Message, topic: TopicIdLike, options?: PublishOptions): Promise<void>;
  sendMessage<R = unknown>(message: Message, recipient: AgentIdLike, options?: SendOptions): Promise<R>;
  /** Listens to failures that have no caller to reject. Returns the unsubscribe function. */
  onError(listener: (event: RuntimeErrorEvent) => void): () => void;
  start(): void;
  stop(): Promise<void>;
  stopWhenIdle(): Promise<void>;
  /**
   * Whether queued messages are being delivered: false before `start()`, after `stop()` or
   * `stopWhenIdle()` has resolved, and after `close()`. While false, messages sent or published
   * are queued (or rejected, once closed) and nothing handles them until `start()`.
   */
  readonly isRunning: boolean;
  /**
   * Stops every hosted actor whose `AgentId.key` is `key` (aborting their invoked work), rejects
   * what waits on them with `MessageDroppedError` and drops the messages queued for them.
   * Factories and subscriptions stay: a later message to that key creates fresh actors.
   */
  retireKey(key: string): void;
  /**
   * What one key (one invocation) is doing: its hosted actors, the messages not yet handled by
   * them (queued or in a mailbox) and how many of them are busy. Costs that key's actors, not the
   * runtime's. A key is at rest when `queued` and `busy` are both 0.
   */
  keyStatus(key: string): KeyStatus;
  /** Saves every hosted actor and waiting message, or (with `key`) one invocation's. */
  saveState(options?: StateOptions): Promise<RuntimeState>;
  /** Restores a saved state, or (with `key`) only that key's part of it, leaving other keys alone. */
  loadState(state: RuntimeState, options?: StateOptions): Promise<void>;
}
