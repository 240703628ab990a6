import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.doUnmock('@opentelemetry/api');
  vi.resetModules();
});

describe('tracing without @opentelemetry/api', () => {
  it('troupe imports and runs when the optional peer cannot be loaded', async () => {
    vi.resetModules();
    vi.doMock('@opentelemetry/api', () => {
      throw new Error("Cannot find package '@opentelemetry/api'");
    });
    // A fresh module graph, so troupe's loader meets the missing package.
    const { ChatCompletionAgent, InProcessRuntime, SequentialOrchestration } = await import('../../src/index.js');
    const { ScriptedChatClient } = await import('../../src/testing/index.js');
    const runtime = new InProcessRuntime();
    runtime.start();
    try {
      const member = new ChatCompletionAgent({ name: 'A', client: new ScriptedChatClient([{ text: 'hi' }, { text: 'again' }]) });
      const chain = new SequentialOrchestration({ members: [member] });
      expect((await (await chain.invoke('hello', runtime)).get()).messages[0].content).toBe('hi');
      expect((await (await chain.invoke('hello', runtime)).get()).messages[0].content).toBe('again');
      // The loader did meet the missing package (and remembers it).
      const { otel, loadOtel } = await import('../../src/tracing/otel.js');
      expect(otel()).toBeNull();
      expect(loadOtel()).toBeUndefined();
    } finally {
      await runtime.close();
    }
  });
});
