import { describe, expect, it } from 'vitest';
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
});
