/**
 * A browser tab opened late — while the run goes on, or after it ended — must still see the
 * whole run: every actor the runtime hosted and every message routed between them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createWebSocketReceiver } from '@statelyai/inspect';
import { scriptedCustomer, type Customer } from '../../examples/customer-support/customer.js';
import { runCustomerSupport } from '../../examples/customer-support/run.js';
import { createScriptedModel } from '../../examples/customer-support/scripted-model.js';
import { inspect, type Inspector } from '../../src/inspect/index.js';
import { collect, type Collector } from './helpers.js';

describe('inspect(): a client that connects late', () => {
  let inspector: Inspector | undefined;
  const clients: Collector[] = [];
  afterEach(async () => {
    await inspector?.close();
    inspector = undefined;
    for (const client of clients.splice(0)) client.socket.terminate();
  });

  it('receives every actor registration and every routed message with its source and target, mid-run or after the run', async () => {
    inspector = await inspect({ print: false });
    const seen: InspectionEvent[] = [];
    let midRun: Collector | undefined;
    // The customer answers the first question only once a client connected: that client joins
    // while the conversation is under way, and must not miss what happened before or during.
    const scripted = scriptedCustomer();
    const customer: Customer = {
      ...scripted,
      reply: async (request) => {
        if (!midRun) {
          midRun = collect(inspector!.webSocketUrl);
          clients.push(midRun);
          await midRun.opened;
        }
        return scripted.reply(request);
      },
    };
    const output = await runCustomerSupport({
      clients: createScriptedModel(),
      customer,
      print: () => {},
      runtimeOptions: { inspect: (event) => (seen.push(event), inspector!.inspect(event)) },
    });
    expect(output?.reason).toBe('user_ended');
    await Promise.resolve(); // the last events are converted a microtask later

    const after = collect(inspector.webSocketUrl);
    clients.push(after);
    const total = inspector.history.length;
    expect(inspector.history.dropped).toBe(0);
    await Promise.all([after.until(total), midRun!.until(total)]);

    // What the runtime's actors did, straight from XState…
    const actors = seen.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef.sessionId);
    const routed = seen
      .filter((e): e is Extract<InspectionEvent, { type: '@xstate.event' }> => e.type === '@xstate.event')
      .map((e) => [e.sourceRef?.sessionId, e.actorRef.sessionId, e.event.type]);
    expect(actors.length).toBeGreaterThan(5);
    // Messages between hosted actors carry both ends (the runtime routes them with sendTo).
    expect(routed.filter(([source]) => source).length).toBeGreaterThan(20);

    // …is what both late clients received, in order, nothing missing, nothing twice.
    for (const client of [midRun!, after]) {
      expect(client.messages).toHaveLength(total);
      expect(client.messages.filter((m) => m.type === '@xstate.actor').map((m) => m.sessionId)).toEqual(actors);
      expect(client.messages.filter((m) => m.type === '@xstate.event').map((m) => [m.sourceId, m.sessionId, m.event.type])).toEqual(routed);
      expect(client.messages.every((m) => typeof m._version === 'string')).toBe(true);
    }
    // The hosted actors are named by their AgentId, with their machine's definition.
    const triage = after.messages.find((m) => m.type === '@xstate.actor' && /\.Triage\/run_/.test(m.name));
    expect(triage).toMatchObject({ definition: expect.stringContaining('callingModel'), snapshot: { status: 'active' } });
  });

  it("speaks the format @statelyai/inspect's WebSocket receiver reads", async () => {
    inspector = await inspect({ print: false });
    await runCustomerSupport({ clients: createScriptedModel(), customer: scriptedCustomer(), print: () => {}, runtimeOptions: { inspect: inspector.inspect } });
    await Promise.resolve();
    const received: Array<{ type: string; sessionId: string }> = [];
    createWebSocketReceiver({ server: inspector.webSocketUrl }).subscribe((event) => void received.push(event));
    await expect.poll(() => received.length).toBe(inspector.history.length);
    expect(new Set(received.map((m) => m.type))).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    // close() ends the receiver's connection (it has no close of its own, and never reconnects).
    await inspector.close();
    await expect.poll(() => inspector!.clients).toBe(0);
  });

  it('keeps recording nothing after close(), and close() is idempotent', async () => {
    inspector = await inspect({ print: false });
    const url = inspector.webSocketUrl;
    await Promise.all([inspector.close(), inspector.close()]);
    inspector.inspect({ type: '@xstate.event' } as InspectionEvent);
    await Promise.resolve();
    expect(inspector.history.length).toBe(0);
    const client = collect(url);
    await expect(client.opened).rejects.toThrow();
  });
});
