import { InvalidArgumentError } from './errors.js';

// Re-exported so existing imports keep compiling; it lives in core.
export { sanitizeName } from '../core/names.js';

const AGENT_TYPE = /^[\w\-.]+$/;
const AGENT_KEY = /^[\x20-\x7E]+$/;
const TOPIC_TYPE = /^[\w\-.:=]+$/;

/** Plain-data form of an {@link AgentId}; anything with these two fields is accepted. */
export interface AgentIdLike {
  readonly type: string;
  readonly key: string;
}

/** Plain-data form of a {@link TopicId}. */
export interface TopicIdLike {
  readonly type: string;
  readonly source: string;
}

/**
 * Identifies one hosted actor: its `type` (the factory that creates it) and its `key` (which
 * instance). Serialises as `{ type, key }`.
 *
 * @example
 * const id = new AgentId('refund', 'conversation-42');
 * String(id); // "refund/conversation-42"
 */
export class AgentId implements AgentIdLike {
  readonly type: string;
  readonly key: string;
  constructor(type: string, key: string) {
    validateAgentType(type);
    if (!validKey(key)) {
      throw new InvalidArgumentError(`Invalid agent key ${JSON.stringify(key)} for agent type "${type}": use printable ASCII characters.`);
    }
    this.type = type;
    this.key = key;
  }
  /** Accepts an AgentId, a `{ type, key }` object or a `"type/key"` string. */
  static from(value: AgentIdLike | string): AgentId {
    if (typeof value === 'string') {
      const slash = value.indexOf('/');
      if (slash < 0) throw new InvalidArgumentError(`Invalid agent id ${JSON.stringify(value)}: expected "type/key".`);
      return new AgentId(value.slice(0, slash), value.slice(slash + 1));
    }
    return value instanceof AgentId ? value : new AgentId(value?.type, value?.key);
  }
  toString(): string {
    return agentIdKey(this);
  }
  toJSON(): AgentIdLike {
    return { type: this.type, key: this.key };
  }
}

/**
 * Identifies a topic: its `type` (what subscriptions match) and its `source` (which becomes the
 * key of the agents it reaches, so each conversation gets its own instances).
 *
 * @example
 * await runtime.publishMessage(msg, new TopicId('chat', 'conversation-42'));
 */
export class TopicId implements TopicIdLike {
  readonly type: string;
  readonly source: string;
  constructor(type: string, source: string) {
    if (typeof type !== 'string' || !TOPIC_TYPE.test(type)) {
      throw new InvalidArgumentError(`Invalid topic type ${JSON.stringify(type)}: it must match ${TOPIC_TYPE}.`);
    }
    if (!validKey(source)) {
      throw new InvalidArgumentError(`Invalid topic source ${JSON.stringify(source)} for topic "${type}": use printable ASCII characters.`);
    }
    this.type = type;
    this.source = source;
  }
  static from(value: TopicIdLike): TopicId {
    return value instanceof TopicId ? value : new TopicId(value?.type, value?.source);
  }
  toString(): string {
    return `${this.type}/${this.source}`;
  }
  toJSON(): TopicIdLike {
    return { type: this.type, source: this.source };
  }
}

/**
 * Agent types already found valid: ids are built on every send and publish, from a handful of
 * registered types. Bounded, so odd callers cannot grow it without limit.
 */
const validTypes = new Set<string>();
const MAX_VALID_TYPES = 1024;
/** The last key found valid: a run's ids share their key. */
let lastValidKey = '';

/** Throws an {@link InvalidArgumentError} naming the value when it is not a valid agent type. */
export function validateAgentType(type: unknown): asserts type is string {
  if (typeof type === 'string' && validTypes.has(type)) return;
  if (typeof type !== 'string' || !AGENT_TYPE.test(type)) {
    throw new InvalidArgumentError(`Invalid agent type ${JSON.stringify(type)}: it must match ${AGENT_TYPE} (letters, digits, _, - and .).`);
  }
  if (validTypes.size >= MAX_VALID_TYPES) validTypes.clear();
  validTypes.add(type);
}

/** Whether `key` is a valid agent key or topic source (printable ASCII, not empty). */
function validKey(key: unknown): key is string {
  if (key === lastValidKey && key !== '') return true;
  if (typeof key !== 'string' || !AGENT_KEY.test(key)) return false;
  lastValidKey = key;
  return true;
}

/** The string key an actor is registered under ("type/key"). */
export function agentIdKey(id: AgentIdLike): string {
  return `${id.type}/${id.key}`;
}
