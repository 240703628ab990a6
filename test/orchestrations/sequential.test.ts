import { afterEach, describe, expect, it } from 'vitest';
import { SequentialOrchestration, OrchestrationConfigError, type InProcessRuntime } from '../../src/index.js';
import { agent, scripted, startedRuntime } from './helpers.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

describe('SequentialOrchestration', () => {
  it('runs members in order: the output is the last reply, and the second member saw the first reply', async () => {
    runtime = startedRuntime();
    const writerModel = scripted([{ text: 'Draft: kettles boil.' }]);
    const editorModel = scripted([{ text: 'Final: kettles boil fast.' }]);
    const pipeline = new SequentialOrchestration({
      members: [agent('Writer', writerModel, { instructions: 'Write.' }), agent('Editor', editorModel)],
    });
    const output = await (await pipeline.invoke('A kettle slogan', runtime)).get();
    expect(output.messages.map((m) => m.content)).toEqual(['Final: kettles boil fast.']);
    expect(output.lastAgent).toBe('Editor');
    expect(output.reason).toBe('completed');
    expect(output.conversation.map((m) => m.content)).toEqual(['A kettle slogan', 'Draft: kettles boil.', 'Final: kettles boil fast.']);
    const editorSaw = editorModel.requests[0].messages;
    expect(editorSaw.map((m) => [m.role, m.content])).toEqual([
      ['user', 'A kettle slogan'],
      ['assistant', 'Draft: kettles boil.'],
    ]);
    expect(writerModel.requests[0].messages[0]).toMatchObject({ role: 'system', content: 'Write.' });
    writerModel.assertComplete();
    editorModel.assertComplete();
  });

  it("history: 'previous' shows each member the task and only the reply just before it", async () => {
    runtime = startedRuntime();
    const third = scripted([{ text: 'three' }]);
    const pipeline = new SequentialOrchestration({
      members: [agent('A', scripted([{ text: 'one' }])), agent('B', scripted([{ text: 'two' }])), agent('C', third)],
      history: 'previous',
    });
    await (await pipeline.invoke('task', runtime)).get();
    expect(third.requests[0].messages.map((m) => m.content)).toEqual(['task', 'two']);
  });

  it('rejects bad configuration with errors that name the culprit', () => {
    const a = agent('A', scripted([]));
    expect(() => new SequentialOrchestration({ members: [] })).toThrow(OrchestrationConfigError);
    expect(() => new SequentialOrchestration({ members: [a, agent('A', scripted([]))] })).toThrow(/two members are named "A"/);
    expect(() => new SequentialOrchestration({ members: [a], maxToolIterations: 0 })).toThrow(/maxToolIterations/);
    expect(() => new SequentialOrchestration({ members: [a], history: 'some' as never })).toThrow(/history/);
    expect(() => new SequentialOrchestration({ members: [{} as never] })).toThrow(/members\[0\]/);
  });

  it('rejects a task that is neither text nor messages when no inputTransform is given, and uses one when given', async () => {
    runtime = startedRuntime();
    const model = scripted([{ text: 'ok' }]);
    const plain = new SequentialOrchestration({ members: [agent('A', scripted([]))] });
    await expect(plain.invoke({ orderId: 7 } as never, runtime)).rejects.toThrow(/inputTransform/);
    const typed = new SequentialOrchestration<{ order: number }, { orderId: number }>({
      members: [agent('A', model)],
      inputTransform: (task) => [{ id: 't', role: 'user', content: `Order ${task.orderId}`, metadata: { orderId: task.orderId } }],
      outputTransform: (output) => ({ order: Number(output.conversation[0].metadata?.orderId) }),
    });
    const out = await (await typed.invoke({ orderId: 7 }, runtime)).get();
    expect(out).toEqual({ order: 7 });
    expect(model.requests[0].messages[0]).toMatchObject({ content: 'Order 7', metadata: { orderId: 7 } });
  });
});
