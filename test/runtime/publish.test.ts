import { afterEach, describe, expect, it } from 'vitest';
import { AgentId, InProcessRuntime, TopicId, TypeSubscription } from '../../src/runtime/index.js';
import { recorder, type Delivery } from './fixtures.js';

/** Two subscribers ('a', 'b') on topic type 'chat'. */
function twoSubscribers(options: ConstructorParameters<typeof InProcessRuntime>[0] = {}) {
  const runtime = new InProcessRuntime(options);
  const log: Delivery[] = [];
  runtime.registerFactory('a', () => recorder(log));
  runtime.registerFactory('b', () => recorder(log));
  runtime.addSubscription(new TypeSubscription('chat', 'a'));
  runtime.addSubscription(new TypeSubscription('chat', 'b'));
  runtime.start();
  return { runtime, log };
}

describe('publish', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('delivers to every subscriber, with the topic and sender in the envelope', async () => {
    let log: Delivery[];
    ({ runtime, log } = twoSubscribers());
    await runtime.publishMessage({ type: 'news', text: 'hi' }, new TopicId('chat', 'r'), { sender: new AgentId('outsider', 'r') });
    await runtime.stopWhenIdle();
    expect(log).toEqual([
      { agent: 'a/r', type: 'news', message: { type: 'news', text: 'hi' }, sender: 'outsider/r', topic: 'chat/r', rpc: false },
      { agent: 'b/r', type: 'news', message: { type: 'news', text: 'hi' }, sender: 'outsider/r', topic: 'chat/r', rpc: false },
    ]);
  });

  it('excludes the sender by default', async () => {
    let log: Delivery[];
    ({ runtime, log } = twoSubscribers());
    await runtime.publishMessage({ type: 'said' }, new TopicId('chat', 'r'), { sender: new AgentId('a', 'r') });
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.agent)).toEqual(['b/r']);
  });

  it('excludes only the exact sender: the same type under another key still receives', async () => {
    let log: Delivery[];
    ({ runtime, log } = twoSubscribers());
    // Sender a/other publishes on chat/r: a/r is a different actor, so it gets the message.
    await runtime.publishMessage({ type: 'said' }, new TopicId('chat', 'r'), { sender: new AgentId('a', 'other') });
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.agent)).toEqual(['a/r', 'b/r']);
  });

  it('deliverToSelf per call delivers to the sender too', async () => {
    let log: Delivery[];
    ({ runtime, log } = twoSubscribers());
    await runtime.publishMessage({ type: 'said' }, new TopicId('chat', 'r'), { sender: new AgentId('a', 'r'), deliverToSelf: true });
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.agent)).toEqual(['a/r', 'b/r']);
  });

  it('the constructor default deliverToSelf applies, and a call can override it', async () => {
    let log: Delivery[];
    ({ runtime, log } = twoSubscribers({ deliverToSelf: true }));
    await runtime.publishMessage({ type: 'first' }, new TopicId('chat', 'r'), { sender: new AgentId('a', 'r') });
    await runtime.publishMessage({ type: 'second' }, new TopicId('chat', 'r'), { sender: new AgentId('a', 'r'), deliverToSelf: false });
    await runtime.stopWhenIdle();
    expect(log.map((d) => `${d.agent}:${d.type}`)).toEqual(['a/r:first', 'b/r:first', 'b/r:second']);
  });

  it('an actor publishing through publishCommand is excluded from its own broadcast', async () => {
    const { setup, emit } = await import('xstate');
    const { publishCommand } = await import('../../src/runtime/index.js');
    const log: Delivery[] = [];
    const speaker = setup({ types: { emitted: {} as ReturnType<typeof publishCommand> } }).createMachine({
      on: { speak: { actions: emit(() => publishCommand({ type: 'said' }, { type: 'chat', source: 'r' })) } },
    });
    runtime = new InProcessRuntime();
    runtime.registerFactory('speaker', () => speaker);
    runtime.registerFactory('listener', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'speaker'));
    runtime.addSubscription(new TypeSubscription('chat', 'listener'));
    runtime.start();
    await runtime.sendMessage({ type: 'speak' }, new AgentId('speaker', 'r'));
    await runtime.stopWhenIdle();
    expect(log).toEqual([expect.objectContaining({ agent: 'listener/r', type: 'said', sender: 'speaker/r' })]);
  });

  it('a publish with no subscriber resolves and creates nothing', async () => {
    ({ runtime } = twoSubscribers());
    await runtime.publishMessage({ type: 'void' }, new TopicId('nobody-listens', 'r'));
    await runtime.stopWhenIdle();
    expect(runtime.stats.actors).toBe(0);
  });

  it('removeSubscription stops further deliveries', async () => {
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    runtime.registerFactory('a', () => recorder(log));
    const sub = new TypeSubscription('chat', 'a');
    runtime.addSubscription(sub);
    runtime.start();
    await runtime.publishMessage({ type: 'one' }, new TopicId('chat', 'r'));
    await runtime.stopWhenIdle();
    runtime.removeSubscription(sub.id);
    runtime.start();
    await runtime.publishMessage({ type: 'two' }, new TopicId('chat', 'r'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.type)).toEqual(['one']);
  });
});
