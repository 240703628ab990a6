import { InvalidArgumentError } from '../runtime/errors.js';
import type { ChatRequest, ChatResponse, ChatStreamEvent, ModelSettings, ToolChoice, ToolDefinition } from './chat-client.js';
import type { ChatMessage, ToolCall, Usage } from './chat-message.js';
import { sanitizeToolName } from './tool.js';

/**
 * Pure translation between troupe's chat types and the OpenAI Chat Completions wire format.
 * Kept apart from the client so it can be read (and tested) without the SDK's HTTP machinery.
 *
 * The wire types below are our own, written from the API's documented shapes, rather than
 * imported from `openai`: emitted declarations must not name the SDK, because `openai` is an
 * optional peer and an app without it would fail to type-check (TS2307) on troupe's `.d.ts`.
 * They cover only the fields we send and read.
 */

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type WireMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string; name?: string }
  | { role: 'assistant'; content: string | null; name?: string; tool_calls?: WireToolCall[] }
  | { role: 'tool'; content: string; tool_call_id: string };

export interface WireTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type WireToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

/** A non-streaming completion, as much of it as we read. */
export interface WireCompletion {
  model?: string;
  choices?: Array<{
    message: {
      content?: string | null;
      refusal?: string | null;
      // `type` is wider than 'function': newer APIs add custom tool calls, which we skip.
      tool_calls?: Array<{ type: string; id: string; function?: { name: string; arguments?: string } }> | null;
    };
    finish_reason?: string | null;
  }>;
  usage?: WireUsage | null;
}

/** One streamed chunk, as much of it as we read. */
export interface WireChunk {
  model?: string;
  usage?: WireUsage | null;
  choices?: Array<{
    delta?: {
      content?: string | null;
      tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> | null;
    };
    finish_reason?: string | null;
  }>;
}

/** Which body field carries `ModelSettings.maxTokens`. */
export type MaxTokensParameter = 'max_completion_tokens' | 'max_tokens';

export interface MappingOptions {
  model: string;
  maxTokensParameter: MaxTokensParameter;
  /** Send `ChatMessage.name` on user and assistant messages (sanitised). */
  includeNames: boolean;
}

/** The `chat.completions.create` body, without `stream`; `ModelSettings.extra` may add any field. */
export interface RequestBody {
  model: string;
  messages: WireMessage[];
  tools?: WireTool[];
  tool_choice?: WireToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } };
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
  stop?: string[];
  [extra: string]: unknown;
}

/** The request body for `chat.completions.create`, without `stream`. `settings` are already merged. */
export function toRequestBody(request: ChatRequest, settings: ModelSettings, options: MappingOptions): RequestBody {
  const body: RequestBody = { model: options.model, messages: request.messages.map((m) => toOpenAIMessage(m, options)) };
  const tools = request.tools ?? [];
  if (tools.length) body.tools = tools.map(toOpenAITool);
  // tool_choice and parallel_tool_calls are rejected by OpenAI when no tools are sent.
  if (request.toolChoice !== undefined && tools.length) body.tool_choice = toOpenAIToolChoice(request.toolChoice);
  if (settings.parallelToolCalls !== undefined && tools.length) body.parallel_tool_calls = settings.parallelToolCalls;
  if (request.responseFormat) {
    const { name, schema, strict } = request.responseFormat;
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: sanitizeToolName(name), schema, ...(strict === undefined ? {} : { strict }) },
    };
  }
  if (settings.temperature !== undefined) body.temperature = settings.temperature;
  if (settings.topP !== undefined) body.top_p = settings.topP;
  if (settings.maxTokens !== undefined) body[options.maxTokensParameter] = settings.maxTokens;
  if (settings.presencePenalty !== undefined) body.presence_penalty = settings.presencePenalty;
  if (settings.frequencyPenalty !== undefined) body.frequency_penalty = settings.frequencyPenalty;
  if (settings.seed !== undefined) body.seed = settings.seed;
  if (settings.stop !== undefined) body.stop = settings.stop;
  // Provider-specific extras go last so they can set anything the typed fields do not cover.
  return settings.extra ? ({ ...body, ...settings.extra } as RequestBody) : body;
}

/** Client-level settings, overridden field by field by the request's; `extra` is merged too. */
export function mergeSettings(base: ModelSettings | undefined, override: ModelSettings | undefined): ModelSettings {
  const merged: ModelSettings = { ...base, ...override };
  if (base?.extra || override?.extra) merged.extra = { ...base?.extra, ...override?.extra };
  return merged;
}

export function toOpenAIMessage(message: ChatMessage, options: Pick<MappingOptions, 'includeNames'>): WireMessage {
  // OpenAI wants names matching `^[^\s<|\\/>]+$`; the stricter tool-name alphabet suits every server.
  const name = options.includeNames && message.name ? { name: sanitizeToolName(message.name) } : {};
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content, ...name };
    case 'assistant': {
      const toolCalls = message.toolCalls ?? [];
      if (!toolCalls.length) return { role: 'assistant', content: message.content, ...name };
      return {
        role: 'assistant',
        // null, not '', when the assistant only called tools: some compatible servers reject empty text.
        content: message.content === '' ? null : message.content,
        tool_calls: toolCalls.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        })),
        ...name,
      };
    }
    case 'tool':
      if (!message.toolCallId) {
        throw new InvalidArgumentError(`Tool message ${message.id} has no toolCallId; the API requires one.`);
      }
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId };
  }
}

export function toOpenAITool(definition: ToolDefinition): WireTool {
  return {
    type: 'function',
    function: {
      name: definition.name,
      description: definition.description,
      parameters: definition.parameters,
      ...(definition.strict === undefined ? {} : { strict: definition.strict }),
    },
  };
}

export function toOpenAIToolChoice(choice: ToolChoice): WireToolChoice {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

export function fromOpenAIUsage(usage: WireUsage | null | undefined): Usage {
  const inputTokens = usage?.prompt_tokens ?? 0;
  const outputTokens = usage?.completion_tokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: usage?.total_tokens ?? inputTokens + outputTokens };
}

/** The first choice of a completion, or undefined when the server sent none. */
export function fromCompletion(completion: WireCompletion): ChatResponse | undefined {
  const choice = completion.choices?.[0];
  if (!choice) return undefined;
  const { message } = choice;
  const toolCalls: ToolCall[] = [];
  for (const call of message.tool_calls ?? []) {
    if (call.type === 'function' && call.function) toolCalls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments ?? '' });
  }
  return {
    // A refusal is the model's answer too; surface it rather than an empty string.
    text: message.content ?? message.refusal ?? '',
    toolCalls,
    usage: fromOpenAIUsage(completion.usage),
    finishReason: choice.finish_reason ?? undefined,
    model: completion.model,
  };
}

/**
 * Folds streamed chunks into deltas and the final response. Tool calls are reassembled by
 * their `index`: the id and name arrive on a call's first chunk, its arguments in pieces.
 */
export class StreamAccumulator {
  #text = '';
  readonly #calls = new Map<number, ToolCall>();
  #usage: Usage | undefined;
  #finishReason: string | undefined;
  #model: string | undefined;

  /** The events this chunk contributes, in order. */
  add(chunk: WireChunk): ChatStreamEvent[] {
    const events: ChatStreamEvent[] = [];
    if (chunk.model) this.#model = chunk.model;
    if (chunk.usage) this.#usage = fromOpenAIUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) return events;
    if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    const { delta } = choice;
    if (delta?.content) {
      this.#text += delta.content;
      events.push({ type: 'text_delta', delta: delta.content });
    }
    for (const part of delta?.tool_calls ?? []) {
      const call = this.#calls.get(part.index) ?? { id: '', name: '', arguments: '' };
      if (part.id) call.id = part.id;
      // The name arrives whole (OpenAI and the servers that copy it never split it).
      if (part.function?.name) call.name = part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
      this.#calls.set(part.index, call);
      const event: ChatStreamEvent = { type: 'tool_call_delta', index: part.index };
      if (part.id) event.id = part.id;
      if (part.function?.name) event.name = part.function.name;
      if (part.function?.arguments) event.argumentsDelta = part.function.arguments;
      events.push(event);
    }
    return events;
  }

  response(): ChatResponse {
    const toolCalls = [...this.#calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    return {
      text: this.#text,
      toolCalls,
      usage: this.#usage ?? fromOpenAIUsage(undefined),
      finishReason: this.#finishReason,
      model: this.#model,
    };
  }
}
