import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { ChatStreamEvent } from '../../src/agents/chat-client.js';
import { chatMessage, type ChatMessage } from '../../src/agents/chat-message.js';
import { ChatClientConfigError, ChatClientError } from '../../src/agents/errors.js';
import { OpenAIChatClient } from '../../src/agents/openai-chat-client.js';
import { executeToolCall, tool } from '../../src/agents/tool.js';
import { AbortedError } from '../../src/runtime/errors.js';
import { FakeOpenAIServer } from '../support/fake-openai-server.js';

const API_KEY = 'sk-test-SECRET123';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await FakeOpenAIServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

const client = (options: Partial<ConstructorParameters<typeof OpenAIChatClient>[0]> = {}) =>
  new OpenAIChatClient({ model: 'fake-model', apiKey: API_KEY, baseURL: server.baseURL, maxRetries: 0, ...options });

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: z.object({ city: z.string(), unit: z.enum(['C', 'F']).optional() }),
  execute: ({ city, unit = 'C' }) => ({ city, unit, temperature: 21 }),
});

describe('OpenAIChatClient against an OpenAI-compatible server', () => {
  it('gets a text answer with usage and sends the mapped request', async () => {
    server.enqueue({ text: 'Hello!', usage: { prompt_tokens: 12, completion_tokens: 3 } });
    const response = await client({ modelSettings: { temperature: 0.2, maxTokens: 50 } }).complete({
      messages: [chatMessage('system', 'Be nice.'), chatMessage('user', 'Hi', { name: 'Ada Lovelace' })],
      modelSettings: { temperature: 0, seed: 7, extra: { top_k: 3 } },
    });
    expect(response).toEqual({ text: 'Hello!', toolCalls: [], usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 }, finishReason: 'stop', model: 'fake-model' });

    const [received] = server.requests;
    expect(received.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(received.body).toEqual({
      model: 'fake-model',
      messages: [
        { role: 'system', content: 'Be nice.' },
        { role: 'user', content: 'Hi', name: 'Ada_Lovelace' },
      ],
      temperature: 0,
      max_completion_tokens: 50,
      seed: 7,
      top_k: 3,
      stream: false,
    });
  });

  it('sends tools, tool choice and structured output in OpenAI form', async () => {
    server.enqueue({ text: '{"ok":true}' }, { text: 'x' });
    await client().complete({
      messages: [chatMessage('user', 'go')],
      tools: [weather.definition],
      toolChoice: { name: 'get_weather' },
      responseFormat: { name: 'Result', schema: { type: 'object' }, strict: true },
      modelSettings: { parallelToolCalls: false },
    });
    const body = server.requests[0].body;
    expect(body.tools).toEqual([{ type: 'function', function: { ...weather.definition } }]);
    expect(body.tools[0].function.strict).toBe(true);
    expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(body.parallel_tool_calls).toBe(false);
    expect(body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'Result', schema: { type: 'object' }, strict: true } });

    // Without tools, tool_choice and parallel_tool_calls are left out (OpenAI rejects them).
    await client({ maxTokensParameter: 'max_tokens' }).complete({ messages: [chatMessage('user', 'go')], toolChoice: 'auto', modelSettings: { parallelToolCalls: true, maxTokens: 9 } });
    expect(server.requests[1].body).not.toHaveProperty('tool_choice');
    expect(server.requests[1].body).not.toHaveProperty('parallel_tool_calls');
    expect(server.requests[1].body.max_tokens).toBe(9);
  });

  it('round-trips a tool call: tool_calls → executeToolCall → tool result → final answer', async () => {
    server.enqueue(
      { toolCalls: [{ id: 'call_abc', name: 'get_weather', arguments: { city: 'Oslo', unit: null } }] },
      { text: 'It is 21 °C in Oslo.' },
    );
    const model = client();
    const messages: ChatMessage[] = [chatMessage('user', 'Weather in Oslo?')];
    const first = await model.complete({ messages, tools: [weather.definition] });
    expect(first.text).toBe('');
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toEqual([{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Oslo","unit":null}' }]);

    messages.push(chatMessage('assistant', first.text, { toolCalls: first.toolCalls, name: 'Weather agent' }));
    for (const call of first.toolCalls) {
      const result = await executeToolCall([weather], call, { signal: new AbortController().signal, agent: 'Weather agent' });
      expect(result).toEqual({ content: '{"city":"Oslo","unit":"C","temperature":21}', isError: false });
      messages.push(chatMessage('tool', result.content, { toolCallId: call.id }));
    }
    const second = await model.complete({ messages, tools: [weather.definition] });
    expect(second.text).toBe('It is 21 °C in Oslo.');

    const sent = server.requests[1].body.messages;
    expect(sent[1]).toEqual({
      role: 'assistant',
      content: null,
      name: 'Weather_agent',
      tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo","unit":null}' } }],
    });
    expect(sent[2]).toEqual({ role: 'tool', content: '{"city":"Oslo","unit":"C","temperature":21}', tool_call_id: 'call_abc' });
  });

  it('streams text deltas and reassembles them with usage', async () => {
    server.enqueue({ text: 'Streaming is working nicely.', usage: { prompt_tokens: 7, completion_tokens: 6 } });
    const events = await collect(client().stream({ messages: [chatMessage('user', 'hi')] }));
    const deltas = events.filter((e) => e.type === 'text_delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((e) => (e.type === 'text_delta' ? e.delta : '')).join('')).toBe('Streaming is working nicely.');
    expect(events.filter((e) => e.type === 'response')).toHaveLength(1);
    expect(events.at(-1)).toEqual({
      type: 'response',
      response: { text: 'Streaming is working nicely.', toolCalls: [], usage: { inputTokens: 7, outputTokens: 6, totalTokens: 13 }, finishReason: 'stop', model: 'fake-model' },
    });
    expect(server.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('streams tool call deltas and reassembles two tool calls by index', async () => {
    server.enqueue({
      toolCalls: [
        { id: 'call_1', name: 'get_weather', arguments: { city: 'Oslo', unit: 'C' } },
        { id: 'call_2', name: 'get_weather', arguments: { city: 'Lima', unit: null } },
      ],
    });
    const events = await collect(client().stream({ messages: [chatMessage('user', 'two cities')], tools: [weather.definition] }));
    const toolDeltas = events.filter((e) => e.type === 'tool_call_delta');
    expect(toolDeltas.filter((e) => e.type === 'tool_call_delta' && e.argumentsDelta).length).toBeGreaterThan(2);
    expect(toolDeltas[0]).toMatchObject({ index: 0, id: 'call_1', name: 'get_weather' });
    const last = events.at(-1);
    expect(last?.type).toBe('response');
    if (last?.type === 'response') {
      expect(last.response.toolCalls).toEqual([
        { id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo","unit":"C"}' },
        { id: 'call_2', name: 'get_weather', arguments: '{"city":"Lima","unit":null}' },
      ]);
      expect(last.response.finishReason).toBe('tool_calls');
    }
  });

  it('retries after a 429 with retry-after (SDK maxRetries) and succeeds', async () => {
    server.enqueue({ error: { status: 429, message: 'slow down', headers: { 'retry-after': '0', 'retry-after-ms': '1' } } }, { text: 'after retry' });
    const response = await client({ maxRetries: 1 }).complete({ messages: [chatMessage('user', 'hi')] });
    expect(response.text).toBe('after retry');
    expect(server.requests).toHaveLength(2);
  });

  it('reports a 429 it may not retry as ChatClientError with status and retryAfterMs', async () => {
    server.enqueue({ error: { status: 429, message: 'slow down', headers: { 'retry-after': '2' } } });
    const error = await client().complete({ messages: [chatMessage('user', 'hi')] }).catch((e) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error).toMatchObject({ code: 'chat_client_error', status: 429, retryAfterMs: 2000 });
    expect(error.message).toContain('slow down');
  });

  it('turns a 500 with maxRetries 0 into ChatClientError status 500', async () => {
    server.enqueue({ error: { status: 500, message: 'the model fell over' } });
    const error = await client().complete({ messages: [chatMessage('user', 'hi')] }).catch((e) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error.status).toBe(500);
    expect(error.message).toMatch(/model "fake-model".*the model fell over/);
    expect(server.requests).toHaveLength(1);
  });

  it('turns an HTTP error on a streaming request into ChatClientError', async () => {
    server.enqueue({ error: { status: 503, message: 'overloaded' } });
    const error = await collect(client().stream({ messages: [chatMessage('user', 'hi')] })).catch((e) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error.status).toBe(503);
  });

  it('rejects with AbortedError when aborted mid-stream', async () => {
    server.enqueue({ text: 'This answer never finishes streaming.', hangAfterChunks: 2 });
    const controller = new AbortController();
    const seen: ChatStreamEvent[] = [];
    const consume = async () => {
      for await (const event of client().stream({ messages: [chatMessage('user', 'hi')], signal: controller.signal })) {
        seen.push(event);
        controller.abort();
      }
    };
    const error = await consume().catch((e) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error).toMatchObject({ name: 'AbortedError', code: 'aborted' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'text_delta', delta: expect.stringMatching(/^This/) });
  });

  it('rejects with AbortedError when aborted while waiting for the server', async () => {
    server.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = client().complete({ messages: [chatMessage('user', 'hi')], signal: controller.signal });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortedError', code: 'aborted' });
  });

  it('never reveals the API key in errors', async () => {
    // A server that echoes the key back (some proxies do) and a connection failure.
    server.respondWith((request) => ({ error: { status: 401, message: `Incorrect API key provided: ${String(request.headers.authorization)}` } }));
    const unauthorised = await client().complete({ messages: [chatMessage('user', 'hi')] }).catch((e) => e);
    expect(unauthorised).toMatchObject({ status: 401 });
    expect(server.requests[0].headers.authorization).toContain(API_KEY); // the echo really happened

    const unreachable = await new OpenAIChatClient({ model: 'm', apiKey: API_KEY, baseURL: `http://127.0.0.1:1/v1?key=${API_KEY}`, maxRetries: 0 })
      .complete({ messages: [chatMessage('user', 'hi')] })
      .catch((e) => e);
    expect(unreachable).toBeInstanceOf(ChatClientError);
    expect(unreachable.status).toBeUndefined();

    for (const error of [unauthorised, unreachable]) {
      expect(error).toBeInstanceOf(ChatClientError);
      for (const text of [error.message, String(error), JSON.stringify(error), error.stack, inspect(error, { depth: 10 })]) {
        expect(text).not.toContain('SECRET123');
      }
    }
    expect(unauthorised.message).toContain('Incorrect API key provided: Bearer ***');
  });

  it('does not mask placeholder keys inside model names (apiKey "llama", "none")', async () => {
    server.enqueue({ error: { status: 404, message: 'model "llama3.1" not found' } }, { error: { status: 404, message: 'model "none-model" not found' } });
    const llama = await client({ apiKey: 'llama', model: 'llama3.1' }).complete({ messages: [chatMessage('user', 'hi')] }).catch((e) => e);
    expect(llama.message).toBe('The request to model "llama3.1" at ' + server.baseURL + ' failed: 404 model "llama3.1" not found');
    const none = await client({ apiKey: 'none', model: 'none-model' }).complete({ messages: [chatMessage('user', 'hi')] }).catch((e) => e);
    expect(none.message).toContain('model "none-model" at');
    expect(none.message).toContain('404 model "none-model" not found');
    expect(none.message).not.toContain('***');
  });

  it('defaults to a 60 s timeout and 2 retries, both overridable', () => {
    const defaults = new OpenAIChatClient({ model: 'm', apiKey: API_KEY });
    expect({ timeout: defaults.timeout, maxRetries: defaults.maxRetries }).toEqual({ timeout: 60_000, maxRetries: 2 });
    const own = new OpenAIChatClient({ model: 'm', apiKey: API_KEY, timeout: 5_000, maxRetries: 0 });
    expect({ timeout: own.timeout, maxRetries: own.maxRetries }).toEqual({ timeout: 5_000, maxRetries: 0 });
    expect(() => new OpenAIChatClient({ model: 'm', apiKey: API_KEY, timeout: 0 })).toThrow(/timeout must be/);
    expect(() => new OpenAIChatClient({ model: 'm', apiKey: API_KEY, maxRetries: 1.5 })).toThrow(/maxRetries must be/);
  });

  it('fails a request to a server that never answers within the user-set timeout, retrying as told', async () => {
    server.respondWith(() => ({ hang: true }));
    const started = performance.now();
    const error = await client({ timeout: 150, maxRetries: 1 }).complete({ messages: [chatMessage('user', 'hi')] }).catch((e) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(ChatClientError);
    expect(error.message).toMatch(/model "fake-model" at .* timed out/);
    expect(server.requests).toHaveLength(2); // the first attempt and one retry
    expect(elapsed).toBeLessThan(10_000); // not the SDK's 10 minutes
  });

  it('needs a model and an API key, naming the option and the environment variable', () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    try {
      expect(() => new OpenAIChatClient({ model: 'm' })).toThrow(ChatClientConfigError);
      expect(() => new OpenAIChatClient({ model: 'm' })).toThrow(/`apiKey` option.*OPENAI_API_KEY/);
      vi.stubEnv('OPENAI_API_KEY', 'sk-from-env-123456');
      expect(new OpenAIChatClient({ model: 'm' }).model).toBe('m');
    } finally {
      vi.unstubAllEnvs();
    }
    expect(() => new OpenAIChatClient({ model: '', apiKey: 'k' })).toThrow(/`model`/);
  });

  it('takes the base URL from OPENAI_BASE_URL', async () => {
    vi.stubEnv('OPENAI_BASE_URL', server.baseURL);
    try {
      server.enqueue({ text: 'via env' });
      const model = new OpenAIChatClient({ model: 'fake-model', apiKey: API_KEY, maxRetries: 0 });
      expect(model.baseURL).toBe(server.baseURL);
      expect((await model.complete({ messages: [chatMessage('user', 'hi')] })).text).toBe('via env');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
