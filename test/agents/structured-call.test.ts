import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { chatMessage } from '../../src/agents/chat-message.js';
import { callStructured, StructuredOutputError } from '../../src/agents/structured-call.js';
import { AbortedError, InvalidArgumentError } from '../../src/runtime/errors.js';
import { ScriptedChatClient } from '../../src/testing/index.js';

const schema = z.object({ agent: z.enum(['Billing', 'Security']), confidence: z.number().min(0).max(1) });
const messages = [chatMessage('system', 'Pick the specialist.'), chatMessage('user', 'My card was charged twice.')];
const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };

describe('callStructured', () => {
  it('returns the parsed value on a valid first answer, asking for the schema as response format', async () => {
    const client = new ScriptedChatClient([{ text: '{"agent":"Billing","confidence":0.9}', usage }]);
    const result = await callStructured({ client, messages, schema, schemaName: 'route', caller: 'Router', modelSettings: { temperature: 0 } });
    expect(result).toEqual({ value: { agent: 'Billing', confidence: 0.9 }, usage, attempts: 1 });
    const [request] = client.requests;
    expect(request.responseFormat).toMatchObject({ name: 'route', strict: false, schema: { type: 'object', properties: { agent: { enum: ['Billing', 'Security'] } } } });
    expect(request.responseFormat?.schema).not.toHaveProperty('$schema');
    expect(request.modelSettings).toEqual({ temperature: 0 });
    expect(request.messages.map((m) => m.content)).toEqual(messages.map((m) => m.content));
    client.assertComplete();
  });

  it('retries invalid JSON, showing the model its answer and the parse error; usage is summed', async () => {
    const client = new ScriptedChatClient([
      { text: 'Billing, I think', usage },
      { text: '```json\n{"agent":"Security","confidence":1}\n```', usage },
    ]);
    const result = await callStructured({ client, messages, schema, caller: 'Router' });
    expect(result).toEqual({ value: { agent: 'Security', confidence: 1 }, usage: { inputTokens: 20, outputTokens: 10, totalTokens: 30 }, attempts: 2 });
    const retry = client.requests[1].messages;
    expect(retry).toHaveLength(4);
    expect(retry[2]).toMatchObject({ role: 'assistant', content: 'Billing, I think' });
    expect(retry[3].role).toBe('user');
    expect(retry[3].content).toMatch(/not valid JSON/);
    expect(messages).toHaveLength(2); // the caller's array is untouched
  });

  it('retries a schema violation, naming the field path in the feedback', async () => {
    const client = new ScriptedChatClient([
      { text: '{"agent":"Billing","confidence":"high"}' },
      { text: '{"agent":"Billing","confidence":0.7}' },
    ]);
    const nested = z.object({ picks: z.array(schema) });
    const nestedClient = new ScriptedChatClient([{ text: '{"picks":[{"agent":"Sales","confidence":0}]}' }, { text: '{"picks":[]}' }]);
    expect((await callStructured({ client, messages, schema, caller: 'Router' })).value.confidence).toBe(0.7);
    expect(client.requests[1].messages.at(-1)!.content).toMatch(/- confidence: .*number/);
    expect((await callStructured({ client: nestedClient, messages, schema: nested, caller: 'Router' })).attempts).toBe(2);
    expect(nestedClient.requests[1].messages.at(-1)!.content).toContain('- picks[0].agent: ');
  });

  it('throws StructuredOutputError naming the caller, attempts and field once retries are used up', async () => {
    const client = new ScriptedChatClient([{ text: '{"agent":"Sales","confidence":0.5}' }, { text: '{}' }, { text: '{"agent":"Billing","confidence":3}' }]);
    const error = await callStructured({ client, messages, schema, caller: 'Router' }).catch((e) => e);
    expect(error).toBeInstanceOf(StructuredOutputError);
    expect(error).toMatchObject({ code: 'structured_output_invalid', caller: 'Router', attempts: 3, lastOutput: '{"agent":"Billing","confidence":3}' });
    expect(error.issues).toEqual([{ path: 'confidence', message: expect.stringMatching(/<=1|1/) }]);
    expect(error.message).toMatch(/^Router: .*3 attempt\(s\).*confidence: /);
    client.assertComplete();

    const once = new ScriptedChatClient([{ text: 'nope' }]);
    const notJson = await callStructured({ client: once, messages, schema, caller: 'outputSchema', maxRetries: 0 }).catch((e) => e);
    expect(notJson.message).toMatch(/^outputSchema: .*1 attempt\(s\).*was not valid JSON/);
    await expect(callStructured({ client: once, messages, schema, caller: 'Router', maxRetries: -1 })).rejects.toThrow(InvalidArgumentError);
  });

  it('stops on abort: before the call, during it, and does not retry after it', async () => {
    const before = new AbortController();
    before.abort();
    const idle = new ScriptedChatClient([]);
    await expect(callStructured({ client: idle, messages, schema, caller: 'Router', signal: before.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(idle.callCount).toBe(0);

    const during = new AbortController();
    const slow = new ScriptedChatClient([{ text: 'not json', delayMs: 1_000 }, { text: '{"agent":"Billing","confidence":1}' }]);
    const pending = callStructured({ client: slow, messages, schema, caller: 'Router', signal: during.signal });
    setTimeout(() => during.abort(), 5);
    await expect(pending).rejects.toMatchObject({ name: 'AbortedError', code: 'aborted' });
    expect(slow.callCount).toBe(1);
  });

  it('lets model errors through unchanged and rejects a malformed client answer at the boundary', async () => {
    const failing = new ScriptedChatClient([{ error: { status: 503, message: 'overloaded' } }]);
    await expect(callStructured({ client: failing, messages, schema, caller: 'Router' })).rejects.toMatchObject({ code: 'chat_client_error', status: 503 });
    const broken = { complete: async () => ({ text: 42 }), stream: () => { throw new Error('unused'); } };
    await expect(callStructured({ client: broken as never, messages, schema, caller: 'Router' })).rejects.toMatchObject({ code: 'invalid_chat_response', field: 'text' });
  });
});
