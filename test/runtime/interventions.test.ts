import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentId, DROP, InProcessRuntime, MessageDroppedError, TopicId, TypeSubscription, type Drop, type InterventionHandler,
} from '../../src/runtime/index.js';
import { echo, recorder, runtimeWithErrors, type Delivery } from './fixtures.js';

describe('intervention handlers', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('dropping a send rejects the caller with MessageDroppedError and delivers nothing', async () => {
    const log: Delivery[] = [];
    const dropSecrets: InterventionHandler = { onSend: (m) => (m.secret ? DROP : m) };
    runtime = new InProcessRuntime({ interventions: [dropSecrets] });
    runtime.registerFactory('echo', () => echo(log));
    runtime.start();
    const error = await runtime.sendMessage({ type: 'ping', secret: true }, new AgentId('echo', 'k')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageDroppedError);
    expect(error).toMatchObject({ code: 'message_dropped' });
    expect((error as Error).message).toContain('"ping"');
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
    expect(log).toEqual([]);
    // Messages the handler lets through still arrive.
    runtime.start();
    await expect(runtime.sendMessage({ type: 'ping', n: 1 }, new AgentId('echo', 'k'))).resolves.toEqual({ pong: 1, by: 'echo/k' });
  });

  it('dropping a publish settles everything and reports MessageDroppedError on the error channel', async () => {
    const log: Delivery[] = [];
    const { runtime: rt, errors } = runtimeWithErrors({ interventions: [{ onPublish: async (): Promise<Drop> => DROP }] });
    runtime = rt;
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    runtime.start();
    await expect(runtime.publishMessage({ type: 'leak' }, new TopicId('chat', 'r'))).resolves.toBeUndefined();
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
    expect(log).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toBeInstanceOf(MessageDroppedError);
    expect(errors[0].message).toEqual({ type: 'leak' });
    expect(errors[0].topic).toEqual(new TopicId('chat', 'r'));
  });

  it('rewrites messages (send and publish), chaining handlers in order', async () => {
    const log: Delivery[] = [];
    const tag = (label: string): InterventionHandler => ({
      onSend: (m) => ({ ...m, tags: [...((m.tags as string[]) ?? []), `${label}-send`] }),
      onPublish: async (m) => ({ ...m, tags: [...((m.tags as string[]) ?? []), `${label}-publish`] }),
    });
    runtime = new InProcessRuntime({ interventions: [tag('first'), tag('second')] });
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    runtime.start();
    await runtime.publishMessage({ type: 'broadcast' }, new TopicId('chat', 'r'));
    await runtime.sendMessage({ type: 'direct' }, new AgentId('rec', 'r'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.message)).toEqual([
      { type: 'broadcast', tags: ['first-publish', 'second-publish'] },
      { type: 'direct', tags: ['first-send', 'second-send'] },
    ]);
  });

  it('stopWhenIdle waits for a rewritten publish to be delivered (no early resolve)', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime({ interventions: [{ onPublish: (m) => ({ ...m, checked: true }) }] });
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    runtime.start();
    void runtime.publishMessage({ type: 'one' }, new TopicId('chat', 'r'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.message)).toEqual([{ type: 'one', checked: true }]);
  });

  it('stopWhenIdle waits for a rewritten send to be delivered (no early resolve)', async () => {
    const log: Delivery[] = [];
    runtime = new InProcessRuntime({ interventions: [{ onSend: (m) => ({ ...m, checked: true }) }] });
    runtime.registerFactory('rec', () => recorder(log));
    runtime.start();
    void runtime.sendMessage({ type: 'one' }, new AgentId('rec', 'r'));
    await runtime.stopWhenIdle();
    expect(log.map((d) => d.message)).toEqual([{ type: 'one', checked: true }]);
  });

  it('onResponse rewrites or drops replies', async () => {
    runtime = new InProcessRuntime({
      interventions: [{ onResponse: (value) => ((value as { pong: number }).pong === 13 ? DROP : { ...(value as object), audited: true }) }],
    });
    runtime.registerFactory('echo', () => echo());
    runtime.start();
    await expect(runtime.sendMessage({ type: 'ping', n: 1 }, new AgentId('echo', 'k'))).resolves.toEqual({ pong: 1, by: 'echo/k', audited: true });
    await expect(runtime.sendMessage({ type: 'ping', n: 13 }, new AgentId('echo', 'k'))).rejects.toBeInstanceOf(MessageDroppedError);
    await runtime.stopWhenIdle();
  });

  it('a handler that throws rejects the send with its error', async () => {
    class Nope extends Error {}
    runtime = new InProcessRuntime({ interventions: [{ onSend: () => { throw new Nope('no'); } }] });
    runtime.registerFactory('echo', () => echo());
    runtime.start();
    await expect(runtime.sendMessage({ type: 'ping' }, new AgentId('echo', 'k'))).rejects.toBeInstanceOf(Nope);
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
  });

  it('a publish handler that throws rejects publishMessage and stopWhenIdle still resolves', async () => {
    class Nope extends Error {}
    runtime = new InProcessRuntime({ interventions: [{ onPublish: async () => { throw new Nope('no'); } }] });
    runtime.start();
    await expect(runtime.publishMessage({ type: 'x' }, new TopicId('chat', 'r'))).rejects.toBeInstanceOf(Nope);
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
  });
});
