/** Subscriptions by id, TypeSubscriptions also by topic type, so a publish does not scan them all. */
import { AgentId, agentIdKey, type AgentIdLike, type TopicIdLike } from './ids.js';
import { TypeSubscription, type Subscription } from './subscriptions.js';
import { InvalidArgumentError } from './errors.js';

export interface SubscriptionIndex {
  readonly byId: Map<string, Subscription>;
  readonly byTopicType: Map<string, TypeSubscription[]>;
  /** Every subscription that is not a plain TypeSubscription: asked topic by topic. */
  readonly others: Subscription[];
}

export function createSubscriptionIndex(): SubscriptionIndex {
  return { byId: new Map(), byTopicType: new Map(), others: [] };
}

/**
 * A TypeSubscription as the runtime knows it (indexed by topic type, mapped to
 * `(agentType, topic.source)` without calling `mapToAgent`). A subclass may override `isMatch` or
 * `mapToAgent`, so it is treated like any custom subscription.
 */
function isTypeSubscription(subscription: Subscription): subscription is TypeSubscription {
  return Object.getPrototypeOf(subscription) === TypeSubscription.prototype;
}

export function addToIndex(index: SubscriptionIndex, subscription: Subscription): void {
  if (index.byId.has(subscription.id)) {
    throw new InvalidArgumentError(`A subscription with id "${subscription.id}" already exists.`);
  }
  index.byId.set(subscription.id, subscription);
  if (isTypeSubscription(subscription)) {
    const list = index.byTopicType.get(subscription.topicType);
    if (list) list.push(subscription);
    else index.byTopicType.set(subscription.topicType, [subscription]);
  } else {
    index.others.push(subscription);
  }
}

export function removeFromIndex(index: SubscriptionIndex, id: string): void {
  const subscription = index.byId.get(id);
  if (!subscription) throw new InvalidArgumentError(`No subscription with id "${id}".`);
  index.byId.delete(id);
  if (isTypeSubscription(subscription)) {
    const list = index.byTopicType.get(subscription.topicType)!;
    list.splice(list.indexOf(subscription), 1);
    if (list.length === 0) index.byTopicType.delete(subscription.topicType);
  } else {
    index.others.splice(index.others.indexOf(subscription), 1);
  }
}

const NONE: AgentIdLike[] = [];

/**
 * The agents a publish on `topic` reaches: each once, without the sender unless `deliverToSelf`.
 * Throws, before anything is routed, when a custom subscription's `isMatch` or `mapToAgent` does
 * (so a publish is never delivered in part).
 */
export function recipientsOf(index: SubscriptionIndex, topic: TopicIdLike, sender: AgentIdLike | undefined, deliverToSelf: boolean): AgentIdLike[] {
  const direct = index.byTopicType.get(topic.type);
  if (index.others.length === 0) {
    if (!direct) return NONE;
    // The common case: only TypeSubscriptions, each mapping to (agentType, topic.source) by
    // definition, so the agent type alone tells recipients apart.
    const recipients: AgentIdLike[] = [];
    let seen: Set<string> | undefined;
    for (const subscription of direct) {
      const type = subscription.agentType;
      if (!deliverToSelf && sender && sender.type === type && sender.key === topic.source) continue;
      // Two subscriptions that map to one agent deliver once.
      if (direct.length > 1) {
        seen ??= new Set();
        if (seen.has(type)) continue;
        seen.add(type);
      }
      recipients.push({ type, key: topic.source });
    }
    return recipients;
  }
  const recipients: AgentIdLike[] = [];
  const seen = new Set<string>();
  for (const subscription of direct ? [...direct, ...index.others] : index.others) {
    if (!subscription.isMatch(topic)) continue;
    const recipient: AgentIdLike = isTypeSubscription(subscription)
      ? { type: subscription.agentType, key: topic.source }
      : AgentId.from(subscription.mapToAgent(topic));
    if (!deliverToSelf && sender && sender.type === recipient.type && sender.key === recipient.key) continue;
    const key = agentIdKey(recipient);
    if (seen.has(key)) continue;
    seen.add(key);
    recipients.push(recipient);
  }
  return recipients;
}
