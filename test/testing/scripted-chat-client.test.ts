import { describe, expect, it } from 'vitest';
import { chatMessage, type ChatMessage } from '../../src/agents/chat-message.js';
import type { ChatStreamEvent } from '../../src/agents/chat-client.js';
import { ChatClientError } from '../../src/agents/errors.js';
import { AbortedError } from '../../src/runtime/errors.js';
import { InvalidArgumentError } from '../../src/runtime/errors.js';
import { estimateInputTokens, ScriptedChatClient, ScriptExhaustedError, ScriptIncompleteError } from '../../src/testing/index.js';

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
    // input: 8 chars → 2 tokens + 4 for the one message; output: 'lookup' + '{"id":"12"}' + 'raw' + '{oops' = 6+11+3+5 = 25 chars → 7 tokens
    expect(first.usage).toEqual({ inputTokens: 6, outputTokens: 7, totalTokens: 13 });
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

  it('estimates input tokens from everything a provider bills: text, names, tool calls, tool definitions, response format', async () => {
    const messages: ChatMessage[] = [
      chatMessage('user', 'abcd', { name: 'Ada' }), // 4 + 3 = 7 chars
      chatMessage('assistant', '', { toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"id":"12"}' }] }), // 6 + 11 = 17
      chatMessage('tool', 'found', { toolCallId: 'c1' }), // 5
    ];
    const tool = { name: 'lookup', description: 'Find an order.', parameters: { type: 'object' } }; // 6 + 14 + 17 = 37
    const responseFormat = { name: 'out', schema: { type: 'object' } }; // 3 + 17 = 20
    // 7 + 17 + 5 + 37 + 20 = 86 chars → 22 tokens, + 4 per message × 3 = 34
    expect(estimateInputTokens({ messages, tools: [tool], responseFormat })).toBe(34);
    expect(estimateInputTokens({ messages: [] })).toBe(0);

    const model = new ScriptedChatClient([{ text: 'ok' }, { text: 'ok' }]);
    const plain = await model.complete({ messages });
    const withTools = await model.complete({ messages, tools: [tool], responseFormat });
    expect(plain.usage.inputTokens).toBe(Math.ceil(29 / 4) + 12);
    expect(withTools.usage).toEqual({ inputTokens: 34, outputTokens: 1, totalTokens: 35 });
    expect(withTools.usage.inputTokens).toBe(estimateInputTokens(model.requests[1]));
  });

  it('record: false keeps no requests but still counts calls and checks the script', async () => {
    const model = new ScriptedChatClient([{ text: 'a' }, { text: 'b' }, { text: 'c' }], { record: false });
    expect((await model.complete({ messages: user('1') })).text).toBe('a');
    expect((await model.complete({ messages: user('2') })).text).toBe('b');
    expect(model.requests).toEqual([]);
    expect(model.callCount).toBe(2);
    expect(() => model.assertComplete()).toThrow(/1 unused step\(s\): 2 of 3/);
    await collect(model.stream({ messages: user('3') }));
    model.assertComplete();
    await expect(model.complete({ messages: user('4') })).rejects.toBeInstanceOf(ScriptExhaustedError);
    expect(() => model.assertComplete()).toThrow(ScriptIncompleteError);
  });

  it('record: N keeps only the last N requests, with their call indexes, over a long run', async () => {
    const model = new ScriptedChatClient((request, callIndex) => ({ text: `#${callIndex}` }), { record: 3 });
    for (let i = 0; i < 500; i++) await model.complete({ messages: user(`m${i}`) });
    expect(model.callCount).toBe(500);
    expect(model.requests.map((r) => r.callIndex)).toEqual([497, 498, 499]);
    expect(model.requests.map((r) => r.messages[0].content)).toEqual(['m497', 'm498', 'm499']);
    expect((await model.complete({ messages: user('last') })).text).toBe('#500');
    expect(model.requests.map((r) => r.callIndex)).toEqual([498, 499, 500]);
    model.assertComplete();
    expect(() => new ScriptedChatClient([], { record: -1 })).toThrow(InvalidArgumentError);
    expect(() => new ScriptedChatClient([], { record: 1.5 })).toThrow(/record option/);
  });
});
