// Type-only imports: erased at runtime, and used only on private members, so the emitted
// declarations never name `openai` (an optional peer). The SDK itself is loaded on first use.
import type { ClientOptions, OpenAI } from 'openai';
import type { Stream } from 'openai/core/streaming';
import type { ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { AbortedError, throwIfAborted } from '../core/index.js';
import type { ChatClient, ChatRequest, ChatResponse, ChatStreamEvent, ModelSettings } from './chat-client.js';
import { ChatClientConfigError, ChatClientError } from './errors.js';
import {
  fromCompletion,
  mergeSettings,
  StreamAccumulator,
  toRequestBody,
  type MappingOptions,
  type MaxTokensParameter,
} from './openai-mapping.js';

type OpenAIModule = typeof import('openai');

/** Default {@link OpenAIChatClientOptions.timeout}: one minute per attempt. */
export const OPENAI_DEFAULT_TIMEOUT_MS = 60_000;
/** Default {@link OpenAIChatClientOptions.maxRetries}. */
export const OPENAI_DEFAULT_MAX_RETRIES = 2;

/**
 * Options of {@link OpenAIChatClient}: troupe's own, plus the `openai` SDK client options it
 * passes through. Defined here rather than borrowed from the SDK so that troupe's types do not
 * require `openai` to be installed; SDK options not listed go in `clientOptions`.
 */
export interface OpenAIChatClientOptions {
  /** The model name, e.g. `gpt-4o-mini`, or whatever the OpenAI-compatible server calls it. */
  model: string;
  /**
   * Default: `OPENAI_API_KEY`. Local servers that need no key still need a placeholder (e.g. `'none'`).
   * A function is called by the SDK before each request (for short-lived tokens).
   */
  apiKey?: string | (() => Promise<string>);
  /** Default: `OPENAI_BASE_URL`, else OpenAI. For Ollama: `http://localhost:11434/v1`. */
  baseURL?: string;
  /**
   * Milliseconds one HTTP attempt may take before it fails (and is retried, see `maxRetries`).
   * Default 60 000 — not the SDK's 10 minutes, under which a hung local server stalls a turn
   * for half an hour. Raise it for slow local models or very long answers. It also bounds a
   * server that sends headers and then stalls: a whole call gets `timeout × (maxRetries + 1)`
   * plus a second, and a stream that sends nothing for `timeout` ms fails.
   */
  timeout?: number;
  /**
   * How often the SDK retries a failed attempt (connection errors, timeouts, 408/409/429/5xx),
   * with back-off and honouring `retry-after`. Default 2, so a call takes at most about
   * 3 × `timeout`.
   */
  maxRetries?: number;
  /** OpenAI organization id (default `OPENAI_ORG_ID`, read by the SDK). */
  organization?: string;
  /** OpenAI project id (default `OPENAI_PROJECT_ID`, read by the SDK). */
  project?: string;
  /** Headers sent with every request (e.g. for a gateway); `null` removes a default header. */
  defaultHeaders?: Record<string, string | null | undefined>;
  /** Query parameters sent with every request (e.g. Azure's `api-version`). */
  defaultQuery?: Record<string, string | undefined>;
  /** A `fetch` to use instead of the global one (proxies, tests). */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Extra `RequestInit` options for every request (e.g. a proxy dispatcher). */
  fetchOptions?: RequestInit & Record<string, unknown>;
  /** Allow use in a browser, where the key would be visible to the user. Default false. */
  dangerouslyAllowBrowser?: boolean;
  /** The SDK's log level (default from `OPENAI_LOG`; `'debug'` logs every HTTP request and response). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'off';
  /** Where the SDK logs (default `console`). */
  logger?: {
    debug: (message: string, ...rest: unknown[]) => void;
    info: (message: string, ...rest: unknown[]) => void;
    warn: (message: string, ...rest: unknown[]) => void;
    error: (message: string, ...rest: unknown[]) => void;
  };
  /** Any other `openai` ClientOptions, passed to the SDK as given (the typed options above win). */
  clientOptions?: Record<string, unknown>;
  /** Settings for every request; a request's own `modelSettings` override them field by field. */
  modelSettings?: ModelSettings;
  /**
   * Which body field carries `modelSettings.maxTokens`. Default `'max_completion_tokens'`, the
   * current OpenAI and Azure OpenAI field (reasoning models reject `max_tokens`). Use `'max_tokens'`
   * for OpenAI-compatible servers that only know the older field.
   */
  maxTokensParameter?: MaxTokensParameter;
  /**
   * Send `ChatMessage.name` on user and assistant messages, sanitised to letters, digits, `_` and
   * `-` (the API rejects spaces and some punctuation there). Default true; set false for servers
   * that reject `name`.
   */
  includeNames?: boolean;
}

/**
 * A {@link ChatClient} on the `openai` SDK's Chat Completions API. Works with OpenAI, Azure
 * OpenAI's v1 endpoint and OpenAI-compatible servers (Ollama, vLLM, LM Studio). Retries and
 * timeouts are the SDK's, with troupe's defaults: `timeout` 60 s per attempt and `maxRetries` 2
 * (both options). Failures become {@link ChatClientError} (with `status` and `retryAfterMs`),
 * aborts become {@link AbortedError}. Set `OPENAI_LOG=debug` (or `logLevel: 'debug'`) to see
 * the SDK's HTTP requests and responses.
 *
 * The SDK is loaded on the first request, so `openai` stays an optional dependency and nothing
 * here touches the network before a request is made.
 *
 * @example
 * const client = new OpenAIChatClient({ model: 'gpt-4o-mini', maxRetries: 3, modelSettings: { temperature: 0 } });
 * const local = new OpenAIChatClient({ model: 'llama3.1', baseURL: 'http://localhost:11434/v1', apiKey: 'ollama', timeout: 300_000 });
 */
export class OpenAIChatClient implements ChatClient {
  readonly model: string;
  readonly baseURL: string | undefined;
  /** Milliseconds per HTTP attempt (the `timeout` option, default 60 000). */
  readonly timeout: number;
  /** Retries after a failed attempt (the `maxRetries` option, default 2). */
  readonly maxRetries: number;
  readonly #sdkOptions: ClientOptions;
  readonly #settings: ModelSettings | undefined;
  readonly #mapping: MappingOptions;
  readonly #secrets: string[];
  #sdk: Promise<{ module: OpenAIModule; client: OpenAI }> | undefined;

  constructor(options: OpenAIChatClientOptions) {
    const {
      model,
      apiKey,
      baseURL,
      timeout = OPENAI_DEFAULT_TIMEOUT_MS,
      maxRetries = OPENAI_DEFAULT_MAX_RETRIES,
      clientOptions,
      modelSettings,
      maxTokensParameter = 'max_completion_tokens',
      includeNames = true,
      ...rest
    } = options ?? ({} as OpenAIChatClientOptions);
    if (typeof model !== 'string' || model.trim() === '') {
      throw new ChatClientConfigError('OpenAIChatClient needs a `model` option (a non-empty string such as "gpt-4o-mini").');
    }
    const key = apiKey ?? env('OPENAI_API_KEY');
    if (!key) {
      throw new ChatClientConfigError(
        'OpenAIChatClient needs an API key: pass the `apiKey` option or set the OPENAI_API_KEY environment variable ' +
          '(servers that need no key accept any placeholder, e.g. apiKey: "none").',
      );
    }
    if (maxTokensParameter !== 'max_completion_tokens' && maxTokensParameter !== 'max_tokens') {
      throw new ChatClientConfigError(`OpenAIChatClient: maxTokensParameter must be "max_completion_tokens" or "max_tokens".`);
    }
    if (typeof timeout !== 'number' || !(timeout > 0) || timeout > MAX_TIMER_MS) {
      throw new ChatClientConfigError(`OpenAIChatClient: timeout must be a number of milliseconds > 0 and ≤ ${MAX_TIMER_MS} (got ${String(timeout)}).`);
    }
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new ChatClientConfigError(`OpenAIChatClient: maxRetries must be a whole number ≥ 0 (got ${String(maxRetries)}).`);
    }
    this.model = model;
    this.baseURL = baseURL ?? env('OPENAI_BASE_URL') ?? undefined;
    this.timeout = timeout;
    this.maxRetries = maxRetries;
    this.#sdkOptions = { ...clientOptions, ...(rest as ClientOptions), apiKey: key, baseURL: this.baseURL, timeout, maxRetries };
    this.#settings = modelSettings;
    this.#mapping = { model, maxTokensParameter, includeNames };
    this.#secrets = typeof key === 'string' ? [key] : [];
  }

  async complete(request: ChatRequest): Promise<ChatResponse> {
    const { module, client } = await this.#loadSdk();
    const body = this.#body(request);
    // The SDK's timeout ends once headers arrive: a body that stalls after them needs a deadline
    // of its own, or a turn could wait forever. Every attempt's budget, plus a second of slack.
    const deadline = new AbortController();
    const budget = this.#budget();
    const timer = setTimeout(() => deadline.abort(), budget);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline.signal]) : deadline.signal;
    try {
      const completion = await client.chat.completions.create({ ...body, stream: false } as ChatCompletionCreateParams & { stream: false }, { signal });
      const response = fromCompletion(completion);
      if (!response) throw new ChatClientError(`The server returned no choices for model "${this.model}".`);
      return response;
    } catch (error) {
      if (deadline.signal.aborted && !request.signal?.aborted) throw new ChatClientError(`The request to ${this.#where()} did not complete within ${budget} ms (timeout ${this.timeout} ms × ${this.maxRetries + 1} attempts).`, { secrets: this.#secrets });
      throw this.#toError(error, module, request.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const { module, client } = await this.#loadSdk();
    const body = this.#body(request);
    // Until the first chunk, the whole budget (the SDK retries within it); then a stream that
    // stops sending for `timeout` ms is abandoned (the SDK's timeout ends once headers arrive).
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(), this.#budget());
    const stalled = () => new ChatClientError(`The stream from ${this.#where()} stalled: no data for ${this.timeout} ms.`, { secrets: this.#secrets });
    const signal = request.signal ? AbortSignal.any([request.signal, idle.signal]) : idle.signal;
    let stream: Stream<ChatCompletionChunk>;
    try {
      stream = await client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } } as ChatCompletionCreateParams & { stream: true },
        { signal },
      );
    } catch (error) {
      clearTimeout(timer);
      if (idle.signal.aborted && !request.signal?.aborted) throw stalled();
      throw this.#toError(error, module, request.signal);
    }
    const accumulator = new StreamAccumulator();
    let finished = false;
    try {
      for await (const chunk of stream) {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), this.timeout);
        throwIfAborted(request.signal, 'The request');
        yield* accumulator.add(chunk);
      }
      if (idle.signal.aborted && !request.signal?.aborted) throw stalled();
      // The SDK ends a stream quietly when its request is aborted; that is not a complete answer.
      throwIfAborted(request.signal, 'The request');
      finished = true;
    } catch (error) {
      if (idle.signal.aborted && !request.signal?.aborted && !(error instanceof ChatClientError)) throw stalled();
      throw this.#toError(error, module, request.signal);
    } finally {
      clearTimeout(timer);
      // A consumer that stops early (break, or an error on its side) must not leave the HTTP stream open.
      if (!finished) stream.controller.abort();
    }
    yield { type: 'response', response: accumulator.response() };
  }

  #body(request: ChatRequest) {
    return toRequestBody(request, mergeSettings(this.#settings, request.modelSettings), this.#mapping);
  }

  #loadSdk(): Promise<{ module: OpenAIModule; client: OpenAI }> {
    this.#sdk ??= import('openai').then(
      (module) => ({ module, client: new module.OpenAI(this.#sdkOptions) }),
      (error: unknown) => {
        this.#sdk = undefined; // let a later call retry after the package is installed
        throw new ChatClientConfigError(
          `OpenAIChatClient needs the "openai" package (npm install openai): ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    );
    return this.#sdk;
  }

  /** Every attempt's timeout plus a second of slack (kept within what a timer can wait). */
  #budget(): number {
    return Math.min(this.timeout * (this.maxRetries + 1) + 1_000, MAX_TIMER_MS);
  }

  #where(): string {
    return `model "${this.model}"${this.baseURL ? ` at ${this.baseURL}` : ''}`;
  }

  #toError(error: unknown, module: OpenAIModule, signal: AbortSignal | undefined): Error {
    if (error instanceof AbortedError || error instanceof ChatClientError) return error;
    if (signal?.aborted || error instanceof module.APIUserAbortError) {
      return new AbortedError(`The request to model "${this.model}" was aborted.`, { cause: signal?.reason });
    }
    const secrets = { secrets: this.#secrets };
    const where = this.#where();
    if (error instanceof module.APIConnectionTimeoutError) {
      return new ChatClientError(`The request to ${where} timed out.`, secrets);
    }
    if (error instanceof module.APIConnectionError) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      return new ChatClientError(`Could not connect to ${where} (${error.message}${cause}).`, secrets);
    }
    if (error instanceof module.APIError) {
      const retryAfterMs = retryAfter(error.headers);
      return new ChatClientError(`The request to ${where} failed: ${error.message}`, {
        ...secrets,
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    return new ChatClientError(
      `The request to ${where} failed: ${error instanceof Error ? error.message : String(error)}`,
      secrets,
    );
  }
}

/** The server's back-off hint: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

// setTimeout's limit; the SDK's timer would fire at once for anything larger.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** An environment variable, or undefined where there is no `process` (browsers, some edge runtimes). */
function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name] || undefined;
}
