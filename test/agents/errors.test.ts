import { describe, expect, it } from 'vitest';
import { AgentTurnError } from '../../src/actors/errors.js';
import { ChatClientError, scrubSecrets } from '../../src/agents/errors.js';

describe('scrubSecrets and ChatClientError', () => {
  it('removes configured secrets and any sk-… key, leaving ordinary words', () => {
    expect(scrubSecrets('key=my-own-secret other=sk-proj-AbC123_xyz-987 sk-learn', ['my-own-secret'])).toBe('key=*** other=sk-*** sk-learn');
    expect(scrubSecrets('abc', ['', undefined, 'ab'])).toBe('abc'); // too-short secrets are ignored
  });

  it('scrubs its message and keeps status and retryAfterMs', () => {
    const error = new ChatClientError('401: bad key sk-live-1234567890abcdef and tok-42-long', { status: 401, retryAfterMs: 10, secrets: ['tok-42-long'] });
    expect(error).toMatchObject({ name: 'ChatClientError', code: 'chat_client_error', status: 401, retryAfterMs: 10 });
    expect(error.message).toBe('401: bad key sk-*** and ***');
    expect(JSON.stringify(error)).not.toContain('1234567890');
  });

  it('does not mangle model names with short or placeholder keys', () => {
    expect(scrubSecrets('model "llama3.1" not found', ['llama'])).toBe('model "llama3.1" not found');
    expect(scrubSecrets('model "none-model" at http://localhost:8000/v1 failed', ['none'])).toBe('model "none-model" at http://localhost:8000/v1 failed');
    expect(scrubSecrets('model "ollama-7b" failed', ['ollama'])).toBe('model "ollama-7b" failed');
    expect(new ChatClientError('The request to model "llama3.1" failed', { secrets: ['llama'] }).message).toBe('The request to model "llama3.1" failed');
  });

  it('masks a real key only where it stands alone, and credentials in header form whatever they are', () => {
    const key = 'proxy-token-9f8e7d';
    expect(scrubSecrets(`auth ${key} for model ${key}-mini (${key})`, [key])).toBe(`auth *** for model ${key}-mini (***)`);
    expect(scrubSecrets(`url http://h/v1?key=${key}&x=1`, [key])).toBe('url http://h/v1?key=***&x=1');
    expect(scrubSecrets('Incorrect key: Bearer abc.def-123 given; api-key: "zz99zz99zz" x-api-key=qq7qq7qq7')).toBe('Incorrect key: Bearer *** given; api-key: "***" x-api-key=***');
    expect(scrubSecrets('Provide your key using Bearer auth')).toBe('Provide your key using Bearer auth');
  });
});

describe('AgentTurnError', () => {
  it('carries the status and retryAfterMs of the model error that caused it', () => {
    const cause = new ChatClientError('slow down', { status: 429, retryAfterMs: 2000 });
    const error = new AgentTurnError('Refund', { cause });
    expect(error).toMatchObject({ code: 'agent_turn_failed', agent: 'Refund', status: 429, retryAfterMs: 2000 });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('Agent "Refund" failed its turn: slow down.');
    // Found one level deeper too (a wrapper around the model error), and absent when there is none.
    const wrapped = new AgentTurnError('Refund', { cause: new Error('wrapped', { cause: new ChatClientError('down', { status: 503 }) }) });
    expect(wrapped.status).toBe(503);
    expect(wrapped.retryAfterMs).toBeUndefined();
    const plain = new AgentTurnError('Refund', { cause: new TypeError('boom') });
    expect(plain.status).toBeUndefined();
    expect('status' in plain).toBe(false);
  });
});
