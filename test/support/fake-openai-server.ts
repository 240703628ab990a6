import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible HTTP server for end-to-end tests of the real `openai` SDK: it answers
 * `POST /v1/chat/completions` from a script (a queue of replies or a responder function),
 * non-streaming or as SSE depending on the request's `stream` flag, and records every request.
 *
 * @example
 * const server = await FakeOpenAIServer.start();
 * server.enqueue({ text: 'Hello!' }, { error: { status: 429, headers: { 'retry-after': '0' } } });
 * const client = new OpenAIChatClient({ model: 'fake', apiKey: 'sk-test', baseURL: server.baseURL });
 * await server.close();
 */

export interface FakeToolCall {
  id?: string;
  name: string;
  arguments: string | object;
}

/** A successful answer; streamed when the request asks for it. */
export interface FakeCompletion {
  text?: string;
  toolCalls?: FakeToolCall[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens?: number };
  finishReason?: string;
  /** Streaming only: send this many chunks, then keep the connection open without finishing. */
  hangAfterChunks?: number;
}

/** An HTTP error with an OpenAI-style JSON body. */
export interface FakeError {
  error: { status: number; message?: string; type?: string; code?: string; headers?: Record<string, string> };
}

/** Never answer (until the client aborts or the server closes). */
export interface FakeHang {
  hang: true;
}

export type FakeReply = FakeCompletion | FakeError | FakeHang;

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: any;
}

export type FakeResponder = (request: ReceivedRequest, index: number) => FakeReply | Promise<FakeReply>;

export class FakeOpenAIServer {
  readonly requests: ReceivedRequest[] = [];
  readonly #server: Server;
  #queue: FakeReply[] = [];
  #responder: FakeResponder | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  static async start(): Promise<FakeOpenAIServer> {
    let instance!: FakeOpenAIServer;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        const request: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
        instance.#handle(request, res).catch((error: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { error: { message: `fake server crashed: ${String(error)}` } });
          else res.destroy();
        });
      });
    });
    instance = new FakeOpenAIServer(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return instance;
  }

  /** The `baseURL` to give the SDK, e.g. `http://127.0.0.1:54321/v1`. */
  get baseURL(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1`;
  }

  /** Adds replies, used in order by the next requests. */
  enqueue(...replies: FakeReply[]): this {
    this.#queue.push(...replies);
    return this;
  }

  /** Answers every request with `responder` (after the queue is empty). */
  respondWith(responder: FakeResponder | undefined): this {
    this.#responder = responder;
    return this;
  }

  /** Forgets recorded requests, queued replies and the responder (between tests). */
  reset(): void {
    this.requests.length = 0;
    this.#queue = [];
    this.#responder = undefined;
  }

  /** Stops listening and destroys open connections, including hanging ones. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: ReceivedRequest, res: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || !request.path.startsWith('/v1/chat/completions')) {
      sendJson(res, 404, { error: { message: `fake server: no route for ${request.method} ${request.path}`, type: 'not_found' } });
      return;
    }
    const index = this.requests.length;
    this.requests.push(request);
    const reply = this.#queue.shift() ?? (await this.#responder?.(request, index));
    if (!reply) {
      sendJson(res, 500, { error: { message: `fake server: nothing scripted for request #${index}`, type: 'server_error' } });
      return;
    }
    if ('hang' in reply) return; // keep the socket open; close() or the client's abort ends it
    if ('error' in reply) {
      const { status, message = `fake error ${status}`, type = 'fake_error', code = null, headers = {} } = reply.error;
      sendJson(res, status, { error: { message, type, code, param: null } }, headers);
      return;
    }
    const model = String(request.body?.model ?? 'fake-model');
    if (request.body?.stream) streamCompletion(res, reply, model, index);
    else sendJson(res, 200, completion(reply, model, index));
  }
}

function completion(reply: FakeCompletion, model: string, index: number) {
  const toolCalls = normaliseToolCalls(reply, index);
  return {
    id: `chatcmpl-${index}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.text ?? (toolCalls.length ? null : ''),
          refusal: null,
          ...(toolCalls.length ? { tool_calls: toolCalls.map(({ id, name, args }) => ({ id, type: 'function', function: { name, arguments: args } })) } : {}),
        },
        finish_reason: finishReason(reply, toolCalls.length),
        logprobs: null,
      },
    ],
    usage: usage(reply),
  };
}

/** SSE: the text in small deltas, each tool call's head then its arguments in pieces, finish, usage, [DONE]. */
function streamCompletion(res: ServerResponse, reply: FakeCompletion, model: string, index: number): void {
  const base = { id: `chatcmpl-${index}`, object: 'chat.completion.chunk', created: 1_700_000_000, model };
  const chunk = (delta: object, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
  const chunks: object[] = [chunk({ role: 'assistant', content: '' })];
  for (const piece of pieces(reply.text ?? '', 4)) chunks.push(chunk({ content: piece }));
  normaliseToolCalls(reply, index).forEach(({ id, name, args }, i) => {
    chunks.push(chunk({ tool_calls: [{ index: i, id, type: 'function', function: { name, arguments: '' } }] }));
    for (const piece of pieces(args, 3)) chunks.push(chunk({ tool_calls: [{ index: i, function: { arguments: piece } }] }));
  });
  chunks.push(chunk({}, finishReason(reply, reply.toolCalls?.length ?? 0)));
  chunks.push({ ...base, choices: [], usage: usage(reply) });

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const limit = reply.hangAfterChunks ?? Infinity;
  for (const [i, data] of chunks.entries()) {
    if (i >= limit) return; // hang: leave the response open
    res.write(`data: ${JSON.stringify(data)}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

function normaliseToolCalls(reply: FakeCompletion, index: number) {
  return (reply.toolCalls ?? []).map((call, i) => ({
    id: call.id ?? `call_fake_${index}_${i}`,
    name: call.name,
    args: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
}

function finishReason(reply: FakeCompletion, toolCallCount: number): string {
  return reply.finishReason ?? (toolCallCount ? 'tool_calls' : 'stop');
}

function usage(reply: FakeCompletion) {
  const { prompt_tokens = 10, completion_tokens = 5, total_tokens } = reply.usage ?? {};
  return { prompt_tokens, completion_tokens, total_tokens: total_tokens ?? prompt_tokens + completion_tokens };
}

function pieces(text: string, count: number): string[] {
  if (!text) return [];
  const size = Math.max(1, Math.ceil(text.length / count));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
