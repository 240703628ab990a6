import type {
  ChatClient,
  ChatRequest,
  ChatResponse,
  ChatStreamEvent,
  ModelSettings,
  ResponseFormat,
  ToolChoice,
  ToolDefinition,
} from '../agents/chat-client.js';
import type { ChatMessage, ToolCall, Usage } from '../agents/chat-message.js';
import { ChatClientError } from '../agents/errors.js';
import { AbortedError, TroupeError, abortedError, throwIfAborted } from '../core/index.js';
import { InvalidArgumentError } from '../runtime/errors.js';

/** A tool call the scripted model makes. `arguments` objects are sent as JSON; strings as given (e.g. broken JSON). */
export interface ScriptedToolCall {
  name: string;
  arguments?: object | string;
  /** Default `call_<callIndex>_<i>`. */
  id?: string;
}

/** An HTTP-like failure; thrown as a {@link ChatClientError} with this status. */
export interface ScriptedHttpError {
  status: number;
  message?: string;
  retryAfterMs?: number;
}

/**
 * One scripted model answer. Applied in this order: wait `delayMs` (abortable), then throw
 * `error` if given, else answer with `text` and `toolCalls`.
 */
export interface ScriptedStep {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  error?: Error | ScriptedHttpError;
  delayMs?: number;
  /** Overrides the default token count (see {@link ScriptedChatClient}); missing fields keep their default. */
  usage?: Partial<Usage>;
  finishReason?: string;
}

export type ScriptedResponder = (request: ChatRequest, callIndex: number) => ScriptedStep | Promise<ScriptedStep>;

/** What the scripted model saw on one call. */
export interface RecordedRequest {
  callIndex: number;
  /** A deep copy: later changes to the caller's messages do not show here. */
  messages: ChatMessage[];
  tools: ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  modelSettings?: ModelSettings;
  streamed: boolean;
  /** `performance.now()` when the call began, and when it settled (answered, failed or aborted). */
  startedAt: number;
  endedAt?: number;
  aborted: boolean;
}

export interface ScriptedChatClientOptions {
  /**
   * What to keep in {@link ScriptedChatClient.requests}: `true` (default) every request, `false`
   * none, or a number N for the last N only. Each kept request is a deep copy of the whole
   * conversation, so a benchmark or soak test driving thousands of calls should pass `false`
   * (or a small N) to keep memory flat. `callCount` and `assertComplete()` work either way.
   */
  record?: boolean | number;
}

/** A call arrived after every scripted step was used. */
export class ScriptExhaustedError extends TroupeError {
  constructor(
    readonly callIndex: number,
    readonly stepCount: number,
    lastUserMessage: string | undefined,
  ) {
    super(
      'script_exhausted',
      `ScriptedChatClient received call #${callIndex} but the script has only ${stepCount} step(s). ` +
        `Last user message: ${lastUserMessage === undefined ? '(none)' : JSON.stringify(truncate(lastUserMessage, 200))}.`,
    );
  }
}

/** `assertComplete()` found unused steps, or calls that ran past the end of the script. */
export class ScriptIncompleteError extends TroupeError {
  constructor(message: string) {
    super('script_incomplete', message);
  }
}

/**
 * A {@link ChatClient} that replays scripted answers, for deterministic tests with no network.
 * Agents built on it run the same code path as with a real model (tool loop, handoffs, usage).
 *
 * Default usage, when a step does not give it, is a simple deterministic estimate of what a
 * provider would bill (about 4 characters per token; see {@link estimateInputTokens}):
 * - `inputTokens` = ceil(input characters / 4) + 4 per message, where the input characters are
 *   every message's content and name, the name and arguments of every tool call in the
 *   messages, every tool definition sent (name, description and JSON schema as JSON text), and
 *   the response format's name and JSON schema;
 * - `outputTokens` = ceil((characters of the text + of every tool call's name and arguments) / 4);
 * - `totalTokens` = their sum.
 * Deterministic, so usage totals can be asserted exactly.
 *
 * By default every request is recorded (deep-copied) in `requests`; pass `{ record: false }` or
 * `{ record: N }` to keep none or only the last N, for long runs.
 *
 * @example
 * const model = new ScriptedChatClient([
 *   { toolCalls: [{ name: 'lookup_order', arguments: { id: '123' } }] },
 *   { text: 'Your order ships tomorrow.' },
 * ]);
 * // … run an orchestration with an agent using `model` …
 * model.assertComplete();
 * expect(model.requests[1].messages.at(-1)?.role).toBe('tool');
 *
 * const soak = new ScriptedChatClient(() => ({ text: 'ok' }), { record: 10 }); // keeps the last 10 requests
 */
export class ScriptedChatClient implements ChatClient {
  readonly #script: readonly ScriptedStep[] | ScriptedResponder;
  readonly #requests: RecordedRequest[] = [];
  /** How many requests to keep (Infinity: all). */
  readonly #keep: number;
  #calls = 0;
  #overruns = 0;

  constructor(script: readonly ScriptedStep[] | ScriptedResponder, options: ScriptedChatClientOptions = {}) {
    if (typeof script !== 'function' && !Array.isArray(script)) {
      throw new TypeError('ScriptedChatClient needs an array of steps or a responder function.');
    }
    const record = options.record ?? true;
    if (typeof record !== 'boolean' && !(Number.isInteger(record) && record >= 0)) {
      throw new InvalidArgumentError(`ScriptedChatClient: the record option must be true, false or a whole number ≥ 0 (got ${String(record)}).`);
    }
    this.#script = typeof script === 'function' ? script : [...script];
    this.#keep = record === true ? Number.POSITIVE_INFINITY : record === false ? 0 : record;
  }

  /**
   * The requests received so far, in call order: every one by default, the last N with
   * `record: N`, none with `record: false`.
   */
  get requests(): readonly RecordedRequest[] {
    this.#trim(this.#keep);
    return this.#requests;
  }

  /** How many calls were made (including failed and aborted ones), recorded or not. */
  get callCount(): number {
    return this.#calls;
  }

  /** Throws a {@link ScriptIncompleteError} if scripted steps remain unused or a call ran past the end. */
  assertComplete(): void {
    if (this.#overruns > 0) {
      throw new ScriptIncompleteError(`ScriptedChatClient received ${this.#overruns} call(s) more than its script has steps.`);
    }
    if (typeof this.#script === 'function') return;
    const remaining = this.#script.length - this.#calls;
    if (remaining > 0) {
      throw new ScriptIncompleteError(
        `ScriptedChatClient has ${remaining} unused step(s): ${this.#calls} of ${this.#script.length} were consumed.`,
      );
    }
  }

  async complete(request: ChatRequest): Promise<ChatResponse> {
    const record = this.#record(request, false);
    try {
      const response = await this.#respond(request, record);
      record.endedAt = performance.now();
      return response;
    } catch (error) {
      this.#settleFailure(record, request, error);
      throw error;
    }
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const record = this.#record(request, true);
    try {
      const response = await this.#respond(request, record);
      for (const event of streamEvents(response)) {
        // Yield to the event loop between deltas, as a network stream would, so aborts land mid-stream.
        await Promise.resolve();
        throwIfAborted(request.signal, SCRIPTED_CALL);
        yield event;
      }
      record.endedAt = performance.now();
    } catch (error) {
      this.#settleFailure(record, request, error);
      throw error;
    } finally {
      // A consumer that stops iterating early still ends the call.
      record.endedAt ??= performance.now();
    }
  }

  #record(request: ChatRequest, streamed: boolean): RecordedRequest {
    const callIndex = this.#calls++;
    if (this.#keep === 0) {
      // Not kept: only what the call itself needs (its index and settle times), no copies.
      return { callIndex, messages: [], tools: [], streamed, startedAt: performance.now(), aborted: false };
    }
    const record: RecordedRequest = {
      callIndex,
      messages: deepCopy(request.messages ?? []),
      tools: deepCopy(request.tools ?? []),
      streamed,
      startedAt: performance.now(),
      aborted: false,
    };
    if (request.toolChoice !== undefined) record.toolChoice = deepCopy(request.toolChoice);
    if (request.responseFormat !== undefined) record.responseFormat = deepCopy(request.responseFormat);
    if (request.modelSettings !== undefined) record.modelSettings = deepCopy(request.modelSettings);
    this.#requests.push(record);
    // Trim in batches, so keeping the last N costs O(1) per call rather than a shift each time.
    if (this.#requests.length >= 2 * this.#keep + 64) this.#trim(this.#keep);
    return record;
  }

  #trim(keep: number): void {
    if (this.#requests.length > keep) this.#requests.splice(0, this.#requests.length - keep);
  }

  #settleFailure(record: RecordedRequest, request: ChatRequest, error: unknown): void {
    record.endedAt = performance.now();
    if (error instanceof AbortedError || request.signal?.aborted) record.aborted = true;
  }

  async #respond(request: ChatRequest, record: RecordedRequest): Promise<ChatResponse> {
    const { callIndex } = record;
    throwIfAborted(request.signal, SCRIPTED_CALL);
    const step = await this.#stepFor(request, callIndex);
    if (step.delayMs) await sleep(step.delayMs, request.signal);
    throwIfAborted(request.signal, SCRIPTED_CALL);
    if (step.error) {
      if (step.error instanceof Error) throw step.error;
      const { status, message, retryAfterMs } = step.error;
      throw new ChatClientError(message ?? `Scripted error: HTTP ${status}.`, { status, retryAfterMs });
    }
    const text = step.text ?? '';
    const toolCalls: ToolCall[] = (step.toolCalls ?? []).map((call, i) => ({
      id: call.id ?? `call_${callIndex}_${i}`,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
    }));
    return {
      text,
      toolCalls,
      usage: usageFor(request, text, toolCalls, step.usage),
      finishReason: step.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop'),
      model: 'scripted',
    };
  }

  async #stepFor(request: ChatRequest, callIndex: number): Promise<ScriptedStep> {
    const script = this.#script;
    const step = typeof script === 'function' ? await script(request, callIndex) : script[callIndex];
    if (step === undefined) {
      if (typeof script !== 'function') {
        this.#overruns++;
        const lastUser = [...(request.messages ?? [])].reverse().find((m) => m.role === 'user');
        throw new ScriptExhaustedError(callIndex, script.length, lastUser?.content);
      }
      throw new TypeError(`ScriptedChatClient: the responder returned no step for call #${callIndex}.`);
    }
    return step;
  }
}

function usageFor(request: ChatRequest, text: string, toolCalls: ToolCall[], given: Partial<Usage> = {}): Usage {
  const outputChars = toolCalls.reduce((sum, c) => sum + c.name.length + c.arguments.length, text.length);
  const inputTokens = given.inputTokens ?? estimateInputTokens(request);
  const outputTokens = given.outputTokens ?? Math.ceil(outputChars / 4);
  return { inputTokens, outputTokens, totalTokens: given.totalTokens ?? inputTokens + outputTokens };
}

/** Tokens of framing per message (role, separators), roughly what OpenAI's chat format adds. */
const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * The input tokens {@link ScriptedChatClient} reports for a request when its step gives none: a
 * simple, deterministic estimate of what a provider bills, at about 4 characters per token.
 * ceil(characters / 4) + 4 per message, counting every message's content and name, the name and
 * arguments of each tool call in the messages, each tool definition (name, description, JSON
 * schema as JSON text) and the response format (name, JSON schema). Not a tokenizer: use it to
 * compare runs and to check usage totals exactly, not to predict a bill.
 *
 * @example
 * const sent = model.requests.reduce((sum, r) => sum + estimateInputTokens(r), 0);
 * expect(output.usage.total.inputTokens).toBe(sent);
 */
export function estimateInputTokens(request: Pick<ChatRequest, 'messages' | 'tools' | 'responseFormat'>): number {
  const messages = request.messages ?? [];
  let chars = 0;
  for (const m of messages) {
    chars += m.content.length + (m.name?.length ?? 0);
    for (const call of m.toolCalls ?? []) chars += call.name.length + call.arguments.length;
  }
  for (const tool of request.tools ?? []) chars += tool.name.length + tool.description.length + JSON.stringify(tool.parameters ?? {}).length;
  if (request.responseFormat) chars += request.responseFormat.name.length + JSON.stringify(request.responseFormat.schema ?? {}).length;
  return Math.ceil(chars / 4) + MESSAGE_OVERHEAD_TOKENS * messages.length;
}

/** The response as a stream: the text in up to three deltas, each tool call as a head delta plus two argument deltas. */
function* streamEvents(response: ChatResponse): Generator<ChatStreamEvent> {
  for (const delta of split(response.text, 3)) yield { type: 'text_delta', delta };
  for (const [index, call] of response.toolCalls.entries()) {
    yield { type: 'tool_call_delta', index, id: call.id, name: call.name };
    for (const argumentsDelta of split(call.arguments, 2)) yield { type: 'tool_call_delta', index, argumentsDelta };
  }
  yield { type: 'response', response };
}

function split(text: string, parts: number): string[] {
  if (!text) return [];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const SCRIPTED_CALL = 'The scripted model call';

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // An 'abort' listener added after the abort never fires, so check first.
    if (signal?.aborted) return reject(abortedError(signal.reason, SCRIPTED_CALL));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal?.reason, SCRIPTED_CALL));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function deepCopy<T>(value: T): T {
  return structuredClone(value);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
