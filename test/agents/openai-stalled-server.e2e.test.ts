import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { chatMessage } from '../../src/agents/chat-message.js';
import { ChatClientError } from '../../src/agents/errors.js';
import { OpenAIChatClient } from '../../src/agents/openai-chat-client.js';

/** A server that sends headers (and maybe a first chunk), then nothing: the SDK's own timeout no longer applies. */
async function stallingServer(first: (res: ServerResponse) => void): Promise<{ server: Server; baseURL: string; open: Set<ServerResponse> }> {
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    req.resume();
    open.add(res);
    first(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, open };
}

const chunk = { id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] };

describe('OpenAIChatClient against a server that stalls after its headers', () => {
  let started: Awaited<ReturnType<typeof stallingServer>> | undefined;
  afterEach(async () => {
    if (!started) return;
    for (const res of started.open) res.destroy();
    await new Promise((resolve) => started!.server.close(resolve));
    started = undefined;
  });

  it('a stream that stops sending fails with a ChatClientError after `timeout` ms of silence', async () => {
    started = await stallingServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    });
    const client = new OpenAIChatClient({ model: 'm', apiKey: 'none', baseURL: started.baseURL, timeout: 200, maxRetries: 0 });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of client.stream({ messages: [chatMessage('user', 'hi')] })) if (event.type === 'text_delta') seen.push(event.delta);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['Hel']);
    expect(error).toBeInstanceOf(ChatClientError);
    expect(String((error as Error).message)).toMatch(/stalled: no data for 200 ms/);
  });

  it('a reply body that stops half-way fails with a ChatClientError within timeout × attempts (plus a second)', async () => {
    started = await stallingServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
    });
    const client = new OpenAIChatClient({ model: 'm', apiKey: 'none', baseURL: started.baseURL, timeout: 100, maxRetries: 0 });
    const error = await client.complete({ messages: [chatMessage('user', 'hi')] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatClientError);
    // openai 6 stops timing once headers arrive (troupe's deadline ends it); openai 7 times out the body itself.
    expect(String((error as Error).message)).toMatch(/did not complete within 1100 ms|timed out/);
  });
});
