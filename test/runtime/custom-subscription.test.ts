import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentId, InProcessRuntime, InvalidArgumentError, TopicId, TypePrefixSubscription, TypeSubscription,
  type Subscription, type TopicIdLike,
} from '../../src/runtime/index.js';
import { recorder, runtimeWithErrors, type Delivery } from './fixtures.js';

/** Everything published on `topicType` goes to one agent, `sink/default`, whatever the topic's source. */
class FunnelSubscription implements Subscription {
  readonly agentType = 'sink';
  constructor(readonly id: string, readonly topicType = 'chat') {}
  isMatch(topic: TopicIdLike): boolean {
    return topic.type === this.topicType;
  }
  mapToAgent(): AgentId {
    return new AgentId('sink', 'default');
  }
}

describe('custom subscriptions', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('deliver to the agent mapToAgent returns, not to (agentType, topic.source)', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('sink', () => recorder(log));
    runtime.addSubscription(new FunnelSubscription('funnel'));
    runtime.start();
    await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'room-1'));
    await runtime.publishMessage({ type: 'again' }, new TopicId('chat', 'room-2'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => `${d.agent}:${d.type}:${d.topic}`)).toEqual(['sink/default:hello:chat/room-1', 'sink/default:again:chat/room-2']);
    expect(runtime.getActor(new AgentId('sink', 'room-1'))).toBeUndefined();
    expect(runtime.stats.actors).toBe(1);
  });

  it('two subscriptions that map to the same agent deliver once; different keys of one type each receive', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('sink', () => recorder(log));
    runtime.addSubscription(new FunnelSubscription('funnel-1'));
    runtime.addSubscription(new FunnelSubscription('funnel-2'));
    // Maps chat/room-1 to sink/room-1: same agent type, another agent.
    runtime.addSubscription(new TypeSubscription('chat', 'sink'));
    runtime.start();
    await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'room-1'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.agent).sort()).toEqual(['sink/default', 'sink/room-1']);
  });

  it('sender exclusion compares against the mapped agent', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('sink', () => recorder(log));
    runtime.addSubscription(new FunnelSubscription('funnel'));
    runtime.start();
    // sink/default publishing on chat/room-1 is the mapped agent: excluded by default...
    await runtime.publishMessage({ type: 'own' }, new TopicId('chat', 'room-1'), { sender: new AgentId('sink', 'default') });
    // ...while sink/room-1 is someone else.
    await runtime.publishMessage({ type: 'other' }, new TopicId('chat', 'room-1'), { sender: new AgentId('sink', 'room-1') });
    await runtime.publishMessage({ type: 'self' }, new TopicId('chat', 'room-1'), { sender: new AgentId('sink', 'default'), deliverToSelf: true });
    await runtime.stopWhenIdle();
    expect(log.map((d) => `${d.agent}:${d.type}`)).toEqual(['sink/default:other', 'sink/default:self']);
    expect(runtime.stats.actors).toBe(1);
  });

  it('a TypeSubscription subclass that overrides mapToAgent is honoured', async () => {
    class Shared extends TypeSubscription {
      override mapToAgent(): AgentId {
        return new AgentId(this.agentType, 'shared');
      }
    }
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('sink', () => recorder(log));
    const sub = new Shared('chat', 'sink');
    runtime.addSubscription(sub);
    runtime.start();
    await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'room-1'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.agent)).toEqual(['sink/shared']);
    runtime.removeSubscription(sub.id);
    expect(runtime.stats.subscriptions).toBe(0);
  });

  it('TypePrefixSubscription still maps to (agentType, topic.source)', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('auditor', () => recorder(log));
    runtime.addSubscription(new TypePrefixSubscription('audit.', 'auditor'));
    runtime.start();
    await runtime.publishMessage({ type: 'x' }, new TopicId('audit.login', 'u1'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.agent)).toEqual(['auditor/u1']);
  });

  it('a mapToAgent that throws or returns an invalid id rejects the publish and delivers nothing', async () => {
    const log: Delivery[] = [];
    const { runtime: rt } = runtimeWithErrors();
    runtime = rt;
    runtime.registerFactory('sink', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'sink'));
    runtime.addSubscription({ id: 'broken', agentType: 'sink', isMatch: () => true, mapToAgent: () => ({ type: 'sink', key: '' }) as AgentId });
    runtime.start();
    await expect(runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'r'))).rejects.toBeInstanceOf(InvalidArgumentError);
    await runtime.stopWhenIdle();
    expect(log).toEqual([]);
  });
});
