import { nanoid } from 'nanoid';
import { AgentId, validateAgentType, type TopicIdLike } from './ids.js';
import { InvalidArgumentError } from './errors.js';

/** Maps topics to the agents that receive what is published on them. */
export interface Subscription {
  readonly id: string;
  /** The agent type this subscription delivers to. */
  readonly agentType: string;
  isMatch(topic: TopicIdLike): boolean;
  mapToAgent(topic: TopicIdLike): AgentId;
}

/**
 * Delivers every message published on topics of `topicType` to the agent
 * `AgentId(agentType, topic.source)`.
 *
 * @example
 * runtime.addSubscription(new TypeSubscription('chat', 'echo'));
 */
export class TypeSubscription implements Subscription {
  readonly id: string;
  constructor(readonly topicType: string, readonly agentType: string, id: string = nanoid()) {
    if (typeof topicType !== 'string' || topicType.length === 0) {
      throw new InvalidArgumentError(`Invalid topic type ${JSON.stringify(topicType)} for a subscription of "${agentType}".`);
    }
    validateAgentType(agentType);
    this.id = id;
  }
  isMatch(topic: TopicIdLike): boolean {
    return topic.type === this.topicType;
  }
  mapToAgent(topic: TopicIdLike): AgentId {
    return new AgentId(this.agentType, topic.source);
  }
}

/**
 * Like {@link TypeSubscription}, for every topic type that starts with `prefix`.
 *
 * @example
 * runtime.addSubscription(new TypePrefixSubscription('audit.', 'auditor'));
 */
export class TypePrefixSubscription implements Subscription {
  readonly id: string;
  constructor(readonly topicTypePrefix: string, readonly agentType: string, id: string = nanoid()) {
    if (typeof topicTypePrefix !== 'string') {
      throw new InvalidArgumentError(`Invalid topic type prefix ${JSON.stringify(topicTypePrefix)} for a subscription of "${agentType}".`);
    }
    validateAgentType(agentType);
    this.id = id;
  }
  isMatch(topic: TopicIdLike): boolean {
    return topic.type.startsWith(this.topicTypePrefix);
  }
  mapToAgent(topic: TopicIdLike): AgentId {
    return new AgentId(this.agentType, topic.source);
  }
}
