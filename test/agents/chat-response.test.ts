import { describe, expect, it } from 'vitest';
import { validateChatResponse } from '../../src/agents/chat-response.js';
import { InvalidChatResponseError } from '../../src/agents/errors.js';

const call = { id: 'call_1', name: 'refund', arguments: '{"order":"123"}' };
const usage = { inputTokens: 3, outputTokens: 2, totalTokens: 5 };

function errorOf(value: unknown): InvalidChatResponseError {
  try {
    validateChatResponse(value, 'Refund');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidChatResponseError);
    return error as InvalidChatResponseError;
  }
  throw new Error('expected validateChatResponse to throw');
}

describe('validateChatResponse', () => {
  it('passes a well-formed response through as a clean copy', () => {
    const given = { text: 'Done.', toolCalls: [{ ...call, extra: 1 }], usage, finishReason: 'stop', model: 'm', raw: { x: 1 } };
    const response = validateChatResponse(given, 'Refund');
    expect(response).toEqual({ text: 'Done.', toolCalls: [call], usage, finishReason: 'stop', model: 'm' });
    expect(response.toolCalls[0]).not.toBe(given.toolCalls[0]);
  });

  it('fills harmless gaps: missing toolCalls, missing usage or totalTokens, text undefined or null', () => {
    expect(validateChatResponse({ text: 'hi' }, 'Refund')).toEqual({ text: 'hi', toolCalls: [], usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } });
    expect(validateChatResponse({ toolCalls: [call], usage: null }, 'Refund')).toEqual({ text: '', toolCalls: [call], usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } });
    expect(validateChatResponse({ text: null, toolCalls: undefined, usage: { inputTokens: 4, outputTokens: 1 }, finishReason: null }, 'Refund')).toEqual({
      text: '',
      toolCalls: [],
      usage: { inputTokens: 4, outputTokens: 1, totalTokens: 5 },
    });
  });

  it('rejects toolCalls = null naming the agent and the field', () => {
    const error = errorOf({ text: 'hi', toolCalls: null, usage });
    expect(error).toMatchObject({ code: 'invalid_chat_response', agent: 'Refund', field: 'toolCalls' });
    expect(error.message).toBe('The ChatClient for agent "Refund" returned toolCalls = null; expected an array (use [] for no tool calls).');
  });

  it('names the bad field of a malformed response', () => {
    expect(errorOf(undefined).message).toMatch(/agent "Refund" returned undefined; expected a ChatResponse object/);
    expect(errorOf('hello')).toMatchObject({ field: '(response)' });
    expect(errorOf({ text: 42 })).toMatchObject({ field: 'text', message: expect.stringContaining('text = 42 (number); expected a string') });
    expect(errorOf({ text: '', toolCalls: 'call' })).toMatchObject({ field: 'toolCalls' });
    expect(errorOf({ toolCalls: [call, null] })).toMatchObject({ field: 'toolCalls[1]' });
    expect(errorOf({ toolCalls: [{ name: 'refund', arguments: '{}' }] })).toMatchObject({ field: 'toolCalls[0].id', message: expect.stringContaining('toolCalls[0].id = undefined') });
    expect(errorOf({ toolCalls: [{ id: 'c', name: '', arguments: '{}' }] })).toMatchObject({ field: 'toolCalls[0].name' });
    expect(errorOf({ toolCalls: [{ id: 'c', name: 'refund', arguments: { order: '123' } }] })).toMatchObject({
      field: 'toolCalls[0].arguments',
      message: expect.stringContaining('expected the arguments as a JSON string'),
    });
    expect(errorOf({ text: '', usage: 12 })).toMatchObject({ field: 'usage' });
    expect(errorOf({ text: '', usage: { inputTokens: '3' } })).toMatchObject({ field: 'usage.inputTokens' });
    expect(errorOf({ text: '', usage: { inputTokens: 1, outputTokens: Number.NaN } })).toMatchObject({ field: 'usage.outputTokens' });
    expect(errorOf({ text: '', finishReason: 3 })).toMatchObject({ field: 'finishReason' });
  });
});
