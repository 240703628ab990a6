import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import { AgentId, InProcessRuntime, TopicId, TypeSubscription } from '../../src/runtime/index.js';
import { echo, forwarder, until, type Delivery } from './fixtures.js';

/** Three actors in a chain a → b → c (c sits on topic 'tc'), on source 's'. */
function chain(runtime: InProcessRuntime, log: Delivery[]) {
  runtime.registerFactory('a', () => forwarder(log, 'tb'));
  runtime.registerFactory('b', () => forwarder(log, 'tc'));
  runtime.registerFactory('c', () => forwarder(log, 'none'));
  runtime.addSubscription(new TypeSubscription('ta', 'a'));
  runtime.addSubscription(new TypeSubscription('tb', 'b'));
  runtime.addSubscription(new TypeSubscription('tc', 'c'));
}

describe('inspection', () => {
  let runtime: InProcessRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('an in-memory inspector sees every hosted actor and every routed message with its source and target', async () => {
    const events: InspectionEvent[] = [];
    const log: Delivery[] = [];
    runtime = new InProcessRuntime({ inspect: (event) => events.push(event) });
    chain(runtime, log);
    runtime.registerFactory('echo', () => echo());
    runtime.start();
    await runtime.publishMessage({ type: 'hop', n: 2 }, new TopicId('ta', 's'));
    await runtime.sendMessage({ type: 'ping', n: 1 }, new AgentId('echo', 's'), { sender: new AgentId('a', 's') });
    await runtime.stopWhenIdle();
    expect(log).toHaveLength(3);

    const a = runtime.getActor(new AgentId('a', 's'))!;
    const b = runtime.getActor(new AgentId('b', 's'))!;
    const c = runtime.getActor(new AgentId('c', 's'))!;
    const e = runtime.getActor(new AgentId('echo', 's'))!;

    const registered = events.filter((ev) => ev.type === '@xstate.actor').map((ev) => ev.actorRef);
    for (const ref of [a, b, c, e]) expect(registered).toContain(ref);
    // Hosted actors are named by their AgentId in the system.
    expect([a, b, c, e].map((ref) => ref.id)).toEqual(['a/s', 'b/s', 'c/s', 'echo/s']);
    expect(a.system.get('b/s')).toBe(b);

    const routed = events.filter((ev): ev is Extract<InspectionEvent, { type: '@xstate.event' }> =>
      ev.type === '@xstate.event' && (ev.event.type === 'hop' || ev.event.type === 'ping'));
    expect(routed.map((ev) => [ev.sourceRef, ev.actorRef, ev.event.type, ev.event.message])).toEqual([
      // Published from outside any actor: the runtime's root actor is the source.
      [a.system.get('troupe.runtime'), a, 'hop', { type: 'hop', n: 2 }],
      [a, b, 'hop', { type: 'hop', n: 1 }],
      [b, c, 'hop', { type: 'hop', n: 0 }],
      [a, e, 'ping', { type: 'ping', n: 1 }],
    ]);
  });

  it('a Stately WebSocket inspector receives the hosted actors and routed messages', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve());
      server.once('error', reject);
    });
    const received: Array<{ type: string; sessionId?: string; name?: string; sourceId?: string; event?: { type: string } }> = [];
    server.on('connection', (socket) => {
      socket.on('message', (data) => received.push(JSON.parse(String(data))));
    });
    const { port } = server.address() as AddressInfo;
    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}` });
    try {
      const log: Delivery[] = [];
      runtime = new InProcessRuntime({ inspect: inspector.inspect });
      chain(runtime, log);
      runtime.start();
      await runtime.publishMessage({ type: 'hop', n: 2 }, new TopicId('ta', 's'));
      await runtime.stopWhenIdle();
      const ids = ['a', 'b', 'c'].map((type) => runtime!.getActor(new AgentId(type, 's'))!.sessionId);
      const rootId = runtime.getActor(new AgentId('a', 's'))!.system.get('troupe.runtime').sessionId;

      const hops = () => received.filter((m) => m.type === '@xstate.event' && m.event?.type === 'hop');
      await until(() => hops().length === 3 && ids.every((id) => received.some((m) => m.type === '@xstate.actor' && m.sessionId === id)), 'inspection messages');
      expect(hops().map((m) => [m.sourceId, m.sessionId])).toEqual([
        [rootId, ids[0]], // published from outside any actor: the root is the source
        [ids[0], ids[1]],
        [ids[1], ids[2]],
      ]);
      // The inspector names each hosted actor by its AgentId.
      expect(received.filter((m) => m.type === '@xstate.actor' && ids.includes(m.sessionId!)).map((m) => m.name)).toEqual(['a/s', 'b/s', 'c/s']);
    } finally {
      inspector.stop(); // closes its socket; it only retries after an error, never after stop()
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of server.clients) client.terminate();
    }
  });
});
