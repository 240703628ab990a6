import { afterEach, describe, expect, it } from 'vitest';
import { emit, setup } from 'xstate';
import {
  AgentId, DROP, InProcessRuntime, MessageDroppedError, TopicId, TypeSubscription, publishCommand, sendCommand,
  type InterventionHandler, type MessageEvent, type RuntimeCommand,
} from '../../src/runtime/index.js';
import { deferred, recorder, runtimeWithErrors, type Delivery } from './fixtures.js';

/** On `go`, publishes `{ type: 'said' }` on `chat/<key>` and then sends `{ type: 'your_turn' }` to `rec/<key>`, in one transition. */
const speaker = setup({
  types: { context: {} as { key: string }, events: {} as MessageEvent, input: {} as { agentId: { type: string; key: string } }, emitted: {} as RuntimeCommand },
}).createMachine({
  id: 'speaker',
  context: ({ input }) => ({ key: input.agentId.key }),
  on: {
    go: {
      actions: [
        emit(({ context }) => publishCommand({ type: 'said' }, { type: 'chat', source: context.key })),
        emit(({ context }) => sendCommand({ type: 'your_turn' }, { type: 'rec', key: context.key })),
      ],
    },
  },
});

/** Wires a speaker and a recorder listening on 'chat', starts the runtime and makes the speaker speak. */
async function speakOnce(runtime: InProcessRuntime, log: Delivery[]): Promise<void> {
  runtime.registerFactory('speaker', () => speaker);
  runtime.registerFactory('rec', () => recorder(log));
  runtime.addSubscription(new TypeSubscription('chat', 'rec'));
  runtime.start();
  await runtime.sendMessage({ type: 'go' }, new AgentId('speaker', 'r'));
}

describe('intervention handlers keep call order', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('a publish with a slow onPublish is routed before a later send with a fast onSend', async () => {
    const log: Delivery[] = [];
    const gate = deferred();
    const seen: string[] = [];
    const slowPublish: InterventionHandler = {
      onPublish: async (m) => {
        seen.push(`publish:${m.type}`);
        await gate.promise;
        return m;
      },
      onSend: (m) => {
        seen.push(`send:${m.type}`);
        return m;
      },
    };
    runtime = new InProcessRuntime({ interventions: [slowPublish] });
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    runtime.start();
    const published = runtime.publishMessage({ type: 'task' }, new TopicId('chat', 'r'));
    const sent = runtime.sendMessage({ type: 'turn_request' }, new AgentId('rec', 'r'));
    // Let the send's (fast) handler run if it were not queued behind the publish.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    gate.resolve();
    await Promise.all([published, sent]);
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.type)).toEqual(['task', 'turn_request']);
    // Handlers see the messages in call order too.
    expect(seen).toEqual(['publish:task', 'send:turn_request']);
  });

  it('an actor that publishes then sends in one transition is heard in that order', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime({
      interventions: [{ onPublish: async (m) => { await new Promise((resolve) => setImmediate(resolve)); return m; } }],
    });
    await speakOnce(runtime, log);
    await runtime.stopWhenIdle();
    expect(log.map((d) => `${d.type} from ${d.sender}`)).toEqual(['said from speaker/r', 'your_turn from speaker/r']);
  });

  it('a dropped or failing message does not break the chain; stopWhenIdle waits for the whole queue', async () => {
    const log: Delivery[] = [];
    const gate = deferred();
    class Nope extends Error {}
    const { runtime: rt, errors } = runtimeWithErrors({
      interventions: [{
        onPublish: async (m) => {
          if (m.type === 'slow') await gate.promise;
          if (m.type === 'secret') return DROP;
          if (m.type === 'bad') throw new Nope('bad');
          return m;
        },
        onSend: (m) => (m.type === 'secret' ? DROP : m),
      }],
    });
    runtime = rt;
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    runtime.start();
    const topic = new TopicId('chat', 'r');
    const to = new AgentId('rec', 'r');
    const calls = [
      runtime.publishMessage({ type: 'slow' }, topic),
      runtime.publishMessage({ type: 'secret' }, topic),
      runtime.publishMessage({ type: 'bad' }, topic).catch((e: unknown) => e),
      runtime.sendMessage({ type: 'secret' }, to).catch((e: unknown) => e),
      runtime.sendMessage({ type: 'last' }, to),
    ];
    let idle = false;
    const idlePromise = runtime.stopWhenIdle().then(() => (idle = true));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    gate.resolve();
    const results = await Promise.all(calls);
    await idlePromise;
    expect(results[2]).toBeInstanceOf(Nope);
    expect(results[3]).toBeInstanceOf(MessageDroppedError);
    expect(log.map((d) => d.type)).toEqual(['slow', 'last']);
    expect(errors.map((e) => e.message?.type)).toEqual(['secret']);
    expect(runtime.stats).toMatchObject({ queued: 0, busy: 0 });
  });

  it('a send aborted while it waits in the queue is rejected and never shown to the handlers', async () => {
    const log: Delivery[] = [];
    const gate = deferred();
    const seen: string[] = [];
    runtime = new InProcessRuntime({
      interventions: [{
        onPublish: async (m) => { seen.push(m.type); await gate.promise; return m; },
        onSend: (m) => { seen.push(m.type); return m; },
      }],
    });
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    runtime.start();
    const controller = new AbortController();
    const published = runtime.publishMessage({ type: 'first' }, new TopicId('chat', 'r'));
    const sent = runtime.sendMessage({ type: 'second' }, new AgentId('rec', 'r'), { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    gate.resolve();
    await published;
    expect(await sent).toMatchObject({ code: 'aborted' });
    await runtime.stopWhenIdle();
    expect(seen).toEqual(['first']);
    expect(log.map((d) => d.type)).toEqual(['first']);
  });

  it("an actor's publish and send whose handlers throw are reported before stopWhenIdle resolves", async () => {
    class Nope extends Error {}
    const log: Delivery[] = [];
    const fromSpeaker = (sender?: { type: string }) => sender?.type === 'speaker';
    const { runtime: rt, errors } = runtimeWithErrors({
      interventions: [{
        onPublish: async (m, { sender }) => { if (fromSpeaker(sender)) throw new Nope('publish'); return m; },
        onSend: async (m, { sender }) => { if (fromSpeaker(sender)) throw new Nope('send'); return m; },
      }],
    });
    runtime = rt;
    await speakOnce(runtime, log);
    await runtime.stopWhenIdle();
    expect(errors.map((e) => [(e.error as Error).message, e.message?.type])).toEqual([['publish', 'said'], ['send', 'your_turn']]);
    expect(log).toEqual([]);
  });

  it('without interventions, publish and send are routed synchronously', () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('rec', () => recorder([]));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    void runtime.publishMessage({ type: 'a' }, new TopicId('chat', 'r'));
    // Never delivered: close() in afterEach rejects this RPC, as it should.
    const pending = runtime.sendMessage({ type: 'b' }, new AgentId('rec', 'r')).catch((e: unknown) => e);
    expect(runtime.stats.queued).toBe(2);
    void pending;
  });
});
