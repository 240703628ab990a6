/** Routes sends and publishes: validates them, passes them through the intervention chain in call order, and queues their deliveries. */
import type { AnyActorRef } from 'xstate';
import { AgentId, TopicId, agentIdKey, type AgentIdLike, type TopicIdLike } from './ids.js';
import { isMessage, type Message, type RuntimeCommand } from './actor-contract.js';
import { DROP } from './interventions.js';
import type { PublishOptions, SendOptions } from './agent-runtime.js';
import { AbortedError, InvalidArgumentError, MessageDroppedError, RuntimeStateError } from './errors.js';
import type { Hosted } from './actor-host.js';
import { enqueue } from './delivery-loop.js';
import { pushDeliveries } from './dispatch-queue.js';
import type { Envelope } from './envelope.js';
import { settlePending } from './idle-tracker.js';
import { inOrder, runHandlers } from './intervention-chain.js';
import { createRpc, settleOnAbort, settleRpc, type Rpc } from './rpc.js';
import { nextEnvelopeId, report, retiredSince, sourceOf, type RuntimeCore } from './runtime-core.js';
import { recipientsOf } from './subscription-index.js';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * `publishMessage`; with `onError`, a failure (a handler or a custom subscription threw) goes
 * there instead, before the publish stops counting as pending work.
 */
export function publish(core: RuntimeCore, message: Message, topic: TopicIdLike, options: PublishOptions, source?: AnyActorRef, onError?: (error: unknown) => void): Promise<void> {
  try {
    assertOpen(core);
    assertMessage(message);
    TopicId.from(topic);
  } catch (error) {
    if (!onError) return Promise.reject(error);
    onError(error);
    return RESOLVED;
  }
  const deliverToSelf = options.deliverToSelf ?? core.deliverToSelf;
  const { sender } = options;
  // Captured now: the sending actor may have stopped by the time its message is delivered.
  const from = source ?? sourceOf(core, sender);
  if (core.interventions.handlers.length === 0) {
    try {
      routePublish(core, message, topic, sender, from, deliverToSelf);
    } catch (error) {
      // A custom subscription's isMatch or mapToAgent threw.
      if (!onError) return Promise.reject(error);
      onError(error);
    }
    return RESOLVED;
  }
  core.idle.pending++;
  const entered = core.retires;
  return inOrder(
    core.interventions,
    () => runHandlers(core.interventions.handlers, message, (h, m) => h.onPublish?.(m, { sender, topic })),
    (result) => {
      if (result === DROP) {
        report(core, { error: new MessageDroppedError(`An intervention handler dropped "${message.type}" published on "${topic.type}".`), sender, topic, message });
      } else {
        routePublish(core, result as Message, topic, sender, from, deliverToSelf, entered);
      }
    },
    onError,
    () => settlePending(core),
  );
}

function routePublish(core: RuntimeCore, message: Message, topic: TopicIdLike, sender: AgentIdLike | undefined, source: AnyActorRef, deliverToSelf: boolean, entered?: number): void {
  if (core.closed) return; // an intervention finished after close(): nothing is left to deliver to
  let recipients = recipientsOf(core.subscriptions, topic, sender, deliverToSelf);
  // Recipients whose key was retired while this message was in the chain are gone for good.
  if (entered !== undefined && core.retiredInChain.size > 0) recipients = recipients.filter((r) => !retiredSince(core, r.key, entered));
  if (recipients.length === 0) return;
  const env: Envelope = { id: nextEnvelopeId(core), message, sender, topic, source };
  pushDeliveries(core.queue, env, recipients);
  core.schedule();
}

/** `sendMessage`: an RPC, settled with the recipient's reply or error, or on abort. */
export function sendMessage<R>(core: RuntimeCore, message: Message, recipient: AgentIdLike, options: SendOptions): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let to: AgentId;
    try {
      assertOpen(core);
      assertMessage(message);
      to = AgentId.from(recipient);
    } catch (error) {
      reject(error);
      return;
    }
    const { signal, sender } = options;
    const rpc = createRpc(resolve as (value: unknown) => void, reject);
    if (signal) {
      const aborted = () => new AbortedError(`sendMessage "${message.type}" to "${agentIdKey(to)}" was aborted.`, { cause: signal.reason });
      if (signal.aborted) {
        reject(aborted());
        return;
      }
      settleOnAbort(rpc, signal, aborted);
    }
    routeSend(core, message, to, sender, sourceOf(core, sender), rpc);
  });
}

/**
 * Routes a direct message. With `rpc` the caller waits for the reply and every failure settles
 * it; without (an actor's `sendCommand`), failures go to the error channel.
 */
function routeSend(core: RuntimeCore, message: Message, recipient: AgentIdLike, sender: AgentIdLike | undefined, source: AnyActorRef, rpc: Rpc | undefined): void {
  if (core.interventions.handlers.length === 0) {
    enqueue(core, { id: nextEnvelopeId(core), message, sender, rpc, source }, recipient);
    return;
  }
  const failed = (error: unknown) => (rpc ? settleRpc(rpc, { ok: false, error }) : report(core, { error, agent: recipient, sender, message }));
  core.idle.pending++;
  const entered = core.retires;
  void inOrder(
    core.interventions,
    // An RPC aborted while it waited in the queue is not shown to the handlers.
    () => (rpc?.settled ? Promise.resolve(DROP) : runHandlers(core.interventions.handlers, message, (h, m) => h.onSend?.(m, { sender, recipient }))),
    (result) => {
      if (result === DROP) failed(new MessageDroppedError(`An intervention handler dropped "${message.type}" sent to "${agentIdKey(recipient)}".`));
      else if (retiredSince(core, recipient.key, entered)) {
        // Its recipient's run was retired while it was in the chain: an RPC learns why; a command is moot.
        if (rpc) failed(new MessageDroppedError(`"${message.type}" was not delivered: the actors of key "${recipient.key}" were retired.`));
      } else enqueue(core, { id: nextEnvelopeId(core), message: result as Message, sender, rpc, source }, recipient);
    },
    failed,
    () => settlePending(core),
  );
}

/** Carries out a command the hosted actor `h` emitted. */
export function onCommand(core: RuntimeCore, h: Hosted, command: RuntimeCommand): void {
  switch (command.type) {
    case 'runtime.publish':
      void publish(core, command.message, command.topic, { sender: h.id, deliverToSelf: command.deliverToSelf }, h.ref,
        (error) => report(core, { error, agent: h.id, topic: command.topic, message: command.message }));
      return;
    case 'runtime.send': {
      // Fire and forget: the recipient sees `envelope.rpc === false`; failures are reported.
      const { message, recipient } = command;
      try {
        assertOpen(core);
        assertMessage(message);
        AgentId.from(recipient);
      } catch (error) {
        report(core, { error, agent: h.id, message });
        return;
      }
      routeSend(core, message, recipient, h.id, h.ref, undefined);
      return;
    }
    case 'runtime.reply':
      h.reply = { ok: true, value: command.value };
      return;
    case 'runtime.reply_error':
      h.reply = { ok: false, error: command.error };
      return;
    case 'runtime.error':
      report(core, { error: command.error, agent: h.id, message: h.current?.env.message });
      return;
    default:
      return; // other emitted events belong to whoever listens on the actor
  }
}

export function assertOpen(core: RuntimeCore): void {
  if (core.closed) throw new RuntimeStateError('The runtime is closed.');
}

function assertMessage(message: Message): void {
  if (!isMessage(message)) {
    throw new InvalidArgumentError(`A message must be a plain object with a string "type"; got ${describe(message)}.`);
  }
  if (message.type.startsWith('xstate.') || message.type.startsWith('runtime.')) {
    throw new InvalidArgumentError(`Message type "${message.type}" is reserved (the "xstate." and "runtime." prefixes belong to XState and troupe).`);
  }
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  return `an object without a string "type" (keys: ${Object.keys(value).join(', ') || 'none'})`;
}
