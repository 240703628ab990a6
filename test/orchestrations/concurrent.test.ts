import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrentOrchestration, OrchestrationConfigError, type InProcessRuntime } from '../../src/index.js';
import { agent, scripted, startedRuntime } from './helpers.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

describe('ConcurrentOrchestration', () => {
  it('runs members truly in parallel: every model call starts before any ends', async () => {
    runtime = startedRuntime();
    const models = [1, 2, 3].map((i) => scripted([{ text: `answer ${i}`, delayMs: 200 }]));
    const panel = new ConcurrentOrchestration({ members: models.map((m, i) => agent(`M${i + 1}`, m)) });
    const output = await (await panel.invoke('question', runtime)).get();
    const calls = models.map((m) => m.requests[0]);
    const lastStart = Math.max(...calls.map((c) => c.startedAt));
    const firstEnd = Math.min(...calls.map((c) => c.endedAt!));
    expect(lastStart).toBeLessThan(firstEnd);
    // One reply per member, in member order.
    expect(output.messages.map((m) => [m.name, m.content])).toEqual([['M1', 'answer 1'], ['M2', 'answer 2'], ['M3', 'answer 3']]);
  });

  it('keeps member order even when later members answer first', async () => {
    runtime = startedRuntime();
    const panel = new ConcurrentOrchestration({
      members: [agent('Slow', scripted([{ text: 'slow', delayMs: 60 }])), agent('Fast', scripted([{ text: 'fast' }]))],
    });
    const output = await (await panel.invoke('q', runtime)).get();
    expect(output.messages.map((m) => m.content)).toEqual(['slow', 'fast']);
  });

  it('a member named like an Object.prototype property (toString) is awaited like any other', async () => {
    runtime = startedRuntime();
    const panel = new ConcurrentOrchestration({ members: [agent('toString', scripted([{ text: 'a' }])), agent('constructor', scripted([{ text: 'b' }]))] });
    const output = await (await panel.invoke('q', runtime)).get(2000);
    expect(output.messages.map((m) => [m.name, m.content])).toEqual([['toString', 'a'], ['constructor', 'b']]);
  });

  it('applies an aggregator to the replies', async () => {
    runtime = startedRuntime();
    const panel = new ConcurrentOrchestration<string>({
      members: [agent('A', scripted([{ text: 'x' }])), agent('B', scripted([{ text: 'y' }]))],
      aggregator: (replies) => replies.map((r) => r.content).join('+'),
    });
    expect(await (await panel.invoke('q', runtime)).get()).toBe('x+y');
  });

  it('rejects an aggregator together with an output transform', () => {
    expect(() => new ConcurrentOrchestration({
      members: [agent('A', scripted([]))],
      aggregator: () => 1,
      outputTransform: () => 2,
    })).toThrow(OrchestrationConfigError);
  });
});

describe('ConcurrentOrchestration routing', () => {
  it("members do not receive each other's replies: only the collector and the end executor do", async () => {
    const delivered: string[] = [];
    const { InProcessRuntime } = await import('../../src/index.js');
    const inspected = new InProcessRuntime({
      inspect: (e) => {
        if (e.type === '@xstate.event' && e.event.type === 'agent_response') delivered.push((e.actorRef as unknown as { id: string }).id.split('.')[1].split('/')[0]);
      },
    });
    inspected.start();
    const panel = new ConcurrentOrchestration({ members: ['A', 'B', 'C'].map((n) => agent(n, scripted([{ text: n }]))) });
    await (await panel.invoke('q', inspected)).get();
    expect(delivered.sort()).toEqual(['end', 'end', 'end', 'manager', 'manager', 'manager']);
    await inspected.close();
  });
});
