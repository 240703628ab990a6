import type { ClientOptions, OpenAI } from 'openai';
import type { Stream } from 'openai/core/streaming';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { AbortedError, throwIfAborted } from '../runtime/errors.js';
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

export interface OpenAIChatClientOptions extends Omit<ClientOptions, 'apiKey' | 'baseURL'> {
  /** The model name, e.g. `gpt-4o-mini`, or whatever the OpenAI-compatible server calls it. */
  model: string;
  /** Default: `OPENAI_API_KEY`. Local servers that need no key still need a placeholder (e.g. `'none'`). */
  apiKey?: string | ClientOptions['apiKey'];
  /** Default: `OPENAI_BASE_URL`, else OpenAI. For Ollama: `http://localhost:11434/v1`. */
  baseURL?: string;
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
 * timeouts are the SDK's (`maxRetries`, `timeout`); failures become {@link ChatClientError}
 * (with `status` and `retryAfterMs`), aborts become {@link AbortedError}.
 *
 * The SDK is loaded on the first request, so `openai` stays an optional dependency and nothing
 * here touches the network before a request is made.
 *
 * @example
 * const client = new OpenAIChatClient({ model: 'gpt-4o-mini', maxRetries: 3, modelSettings: { temperature: 0 } });
 * const local = new OpenAIChatClient({ model: 'llama3.1', baseURL: 'http://localhost:11434/v1', apiKey: 'ollama' });
 */
export class OpenAIChatClient implements ChatClient {
  readonly model: string;
  readonly baseURL: string | undefined;
  readonly #sdkOptions: ClientOptions;
  readonly #settings: ModelSettings | undefined;
  readonly #mapping: MappingOptions;
  readonly #secrets: string[];
  #sdk: Promise<{ module: OpenAIModule; client: OpenAI }> | undefined;

  constructor(options: OpenAIChatClientOptions) {
    const { model, apiKey, baseURL, modelSettings, maxTokensParameter = 'max_completion_tokens', includeNames = true, ...rest } =
      options ?? ({} as OpenAIChatClientOptions);
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
    this.model = model;
    this.baseURL = baseURL ?? env('OPENAI_BASE_URL') ?? undefined;
    this.#sdkOptions = { ...rest, apiKey: key, baseURL: this.baseURL };
    this.#settings = modelSettings;
    this.#mapping = { model, maxTokensParameter, includeNames };
    this.#secrets = typeof key === 'string' ? [key] : [];
  }

  async complete(request: ChatRequest): Promise<ChatResponse> {
    const { module, client } = await this.#loadSdk();
    const body = this.#body(request);
    try {
      const completion = await client.chat.completions.create({ ...body, stream: false }, { signal: request.signal });
      const response = fromCompletion(completion);
      if (!response) throw new ChatClientError(`The server returned no choices for model "${this.model}".`);
      return response;
    } catch (error) {
      throw this.#toError(error, module, request.signal);
    }
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const { module, client } = await this.#loadSdk();
    const body = this.#body(request);
    let stream: Stream<ChatCompletionChunk>;
    try {
      stream = await client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        { signal: request.signal },
      );
    } catch (error) {
      throw this.#toError(error, module, request.signal);
    }
    const accumulator = new StreamAccumulator();
    let finished = false;
    try {
      for await (const chunk of stream) {
        throwIfAborted(request.signal, 'The request');
        yield* accumulator.add(chunk);
      }
      // The SDK ends a stream quietly when its request is aborted; that is not a complete answer.
      throwIfAborted(request.signal, 'The request');
      finished = true;
    } catch (error) {
      throw this.#toError(error, module, request.signal);
    } finally {
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

  #toError(error: unknown, module: OpenAIModule, signal: AbortSignal | undefined): Error {
    if (error instanceof AbortedError || error instanceof ChatClientError) return error;
    if (signal?.aborted || error instanceof module.APIUserAbortError) {
      return new AbortedError(`The request to model "${this.model}" was aborted.`, { cause: signal?.reason });
    }
    const secrets = { secrets: this.#secrets };
    const where = `model "${this.model}"${this.baseURL ? ` at ${this.baseURL}` : ''}`;
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

/** An environment variable, or undefined where there is no `process` (browsers, some edge runtimes). */
function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name] || undefined;
}
