import { describe, expect, it } from 'vitest';
import { chatMessage, type ChatMessage } from '../../src/agents/chat-message.js';
import type { ChatStreamEvent } from '../../src/agents/chat-client.js';
import { ChatClientError } from '../../src/agents/errors.js';
import { AbortedError } from '../../src/runtime/errors.js';
import { ScriptedChatClient, ScriptExhaustedError, ScriptIncompleteError } from '../../src/testing/index.js';

const user = (text: string) => [chatMessage('user', text)];

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe('ScriptedChatClient', () => {
  it('answers steps in order, with deterministic tool call ids and default usage', async () => {
    const model = new ScriptedChatClient([
      { toolCalls: [{ name: 'lookup', arguments: { id: '12' } }, { name: 'raw', arguments: '{oops', id: 'mine' }] },
      { text: 'Done.' },
    ]);
    const first = await model.complete({ messages: user('abcdefgh') });
    expect(first.toolCalls).toEqual([
      { id: 'call_0_0', name: 'lookup', arguments: '{"id":"12"}' },
      { id: 'mine', name: 'raw', arguments: '{oops' },
    ]);
    expect(first).toMatchObject({ text: '', finishReason: 'tool_calls' });
    // input: 8 chars → 2 tokens; output: 'lookup' + '{"id":"12"}' + 'raw' + '{oops' = 6+11+3+5 = 25 chars → 7 tokens
    expect(first.usage).toEqual({ inputTokens: 2, outputTokens: 7, totalTokens: 9 });
    const second = await model.complete({ messages: user('x') });
    expect(second).toMatchObject({ text: 'Done.', toolCalls: [], finishReason: 'stop' });
    expect(model.callCount).toBe(2);
    model.assertComplete();
  });

  it('merges a partial usage override with the defaults', async () => {
    const model = new ScriptedChatClient([{ text: 'abcd', usage: { inputTokens: 100 } }]);
    expect((await model.complete({ messages: user('abcd') })).usage).toEqual({ inputTokens: 100, outputTokens: 1, totalTokens: 101 });
  });

  it('uses a responder function with the request and call index', async () => {
    const model = new ScriptedChatClient(async (request, callIndex) => ({ text: `#${callIndex}: ${request.messages.at(-1)?.content}` }));
    expect((await model.complete({ messages: user('hi') })).text).toBe('#0: hi');
    expect((await model.complete({ messages: user('again') })).text).toBe('#1: again');
    model.assertComplete();
  });

  it('records deep copies of every request', async () => {
    const model = new ScriptedChatClient([{ text: 'a' }, { text: 'b' }]);
    const messages: ChatMessage[] = [chatMessage('system', 'sys'), chatMessage('user', 'q', { metadata: { k: [1] } })];
    const tools = [{ name: 't', description: 'd', parameters: { type: 'object' }, strict: true }];
    await model.complete({ messages, tools, toolChoice: 'required', responseFormat: { name: 'r', schema: {} }, modelSettings: { temperature: 0 } });
    (messages[1].metadata!.k as number[]).push(2);
    messages.push(chatMessage('assistant', 'later'));
    await collect(model.stream({ messages }));

    const [first, second] = model.requests;
    expect(first).toMatchObject({ callIndex: 0, streamed: false, aborted: false, toolChoice: 'required', responseFormat: { name: 'r', schema: {} }, modelSettings: { temperature: 0 } });
    expect(first.messages).toHaveLength(2);
    expect(first.messages[1].metadata).toEqual({ k: [1] });
    expect(first.tools).toEqual(tools);
    expect(second).toMatchObject({ callIndex: 1, streamed: true, tools: [] });
    expect(second.messages).toHaveLength(3);
    expect(first.endedAt).toBeGreaterThanOrEqual(first.startedAt);
    expect(second.endedAt).toBeGreaterThanOrEqual(second.startedAt);
  });

  it('streams text and tool call deltas that add up to the final response', async () => {
    const model = new ScriptedChatClient([{ text: 'Hello there, world', toolCalls: [{ name: 'a', arguments: { x: 1 } }] }]);
    const events = await collect(model.stream({ messages: user('hi') }));
    const last = events.at(-1)!;
    expect(last.type).toBe('response');
    expect(events.filter((e) => e.type === 'response')).toHaveLength(1);
    const text = events.map((e) => (e.type === 'text_delta' ? e.delta : '')).join('');
    expect(text).toBe('Hello there, world');
    expect(events.filter((e) => e.type === 'text_delta').length).toBeGreaterThan(1);
    const toolDeltas = events.filter((e) => e.type === 'tool_call_delta');
    expect(toolDeltas[0]).toEqual({ type: 'tool_call_delta', index: 0, id: 'call_0_0', name: 'a' });
    expect(toolDeltas.map((e) => (e.type === 'tool_call_delta' ? (e.argumentsDelta ?? '') : '')).join('')).toBe('{"x":1}');
    if (last.type === 'response') expect(last.response.toolCalls).toEqual([{ id: 'call_0_0', name: 'a', arguments: '{"x":1}' }]);
  });

  it('throws ChatClientError for HTTP-like errors and rethrows Error instances as they are', async () => {
    const custom = new Error('boom');
    const model = new ScriptedChatClient([{ error: { status: 429, retryAfterMs: 5 } }, { error: custom }, { error: { status: 500, message: 'down' } }]);
    await expect(model.complete({ messages: user('a') })).rejects.toMatchObject({ name: 'ChatClientError', code: 'chat_client_error', status: 429, retryAfterMs: 5 });
    await expect(model.complete({ messages: user('b') })).rejects.toBe(custom);
    const error = await collect(model.stream({ messages: user('c') })).catch((e) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error).toMatchObject({ status: 500, message: 'down' });
    model.assertComplete();
  });

  it('rejects with AbortedError when aborted during a delay and records it', async () => {
    const model = new ScriptedChatClient([{ text: 'late', delayMs: 60_000 }]);
    const controller = new AbortController();
    const pending = model.complete({ messages: user('a'), signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(model.requests[0]).toMatchObject({ aborted: true, endedAt: expect.any(Number) });
  });

  it('rejects promptly when aborted while the delay timer runs', async () => {
    const model = new ScriptedChatClient([{ text: 'late', delayMs: 60_000 }]);
    const controller = new AbortController();
    const pending = model.stream({ messages: user('a'), signal: controller.signal });
    const consumed = collect(pending);
    await new Promise((resolve) => setTimeout(resolve, 0)); // let the call reach its delay
    controller.abort();
    await expect(consumed).rejects.toMatchObject({ name: 'AbortedError', code: 'aborted' });
    expect(model.requests[0]).toMatchObject({ aborted: true, streamed: true });
  });

  it('rejects an already-aborted call and a stream aborted between deltas', async () => {
    const model = new ScriptedChatClient([{ text: 'a' }, { text: 'one two three four' }]);
    const controller = new AbortController();
    controller.abort();
    await expect(model.complete({ messages: user('a'), signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' });

    const live = new AbortController();
    const seen: ChatStreamEvent[] = [];
    const consume = async () => {
      for await (const event of model.stream({ messages: user('b'), signal: live.signal })) {
        seen.push(event);
        live.abort();
      }
    };
    await expect(consume()).rejects.toBeInstanceOf(AbortedError);
    expect(seen).toHaveLength(1);
    expect(model.requests[1].aborted).toBe(true);
  });

  it('names the call index and last user message when run past the end of the script', async () => {
    const model = new ScriptedChatClient([{ text: 'only' }]);
    await model.complete({ messages: user('first') });
    const error = await model.complete({ messages: [...user('where is my refund?'), chatMessage('assistant', 'hm')] }).catch((e) => e);
    expect(error).toBeInstanceOf(ScriptExhaustedError);
    expect(error.message).toContain('call #1');
    expect(error.message).toContain('only 1 step(s)');
    expect(error.message).toContain('"where is my refund?"');
    expect(() => model.assertComplete()).toThrow(/1 call\(s\) more than its script has steps/);
  });

  it('assertComplete names how many steps remain', async () => {
    const model = new ScriptedChatClient([{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
    await model.complete({ messages: user('x') });
    expect(() => model.assertComplete()).toThrow(ScriptIncompleteError);
    expect(() => model.assertComplete()).toThrow('2 unused step(s): 1 of 3 were consumed');
  });
});
