import type { ChatMessage, ToolCall, Usage } from './chat-message.js';

/** A function the model may call: JSON schema parameters (strict-mode compatible). */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** Structured output: the model must answer with JSON matching `schema`. */
export interface ResponseFormat {
  name: string;
  schema: Record<string, unknown>;
  strict?: boolean;
}

/** Sampling and length settings, passed to the model as given. */
export interface ModelSettings {
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  stop?: string[];
  parallelToolCalls?: boolean;
  /** Provider-specific extras, merged into the request body. */
  extra?: Record<string, unknown>;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  modelSettings?: ModelSettings;
  signal?: AbortSignal;
}

export interface ChatResponse {
  /** The assistant's text ('' when it only called tools). */
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  finishReason?: string;
  model?: string;
}

/** What a streaming call yields: deltas as they arrive, then exactly one final `response`. */
export type ChatStreamEvent =
  | { type: 'text_delta'; delta: string }
  | { type: 'tool_call_delta'; index: number; id?: string; name?: string; argumentsDelta?: string }
  | { type: 'response'; response: ChatResponse };

/**
 * A model. `OpenAIChatClient` talks to OpenAI-compatible servers; `ScriptedChatClient`
 * (from `troupe/testing`) replays scripted answers. Agents use nothing else.
 *
 * @example
 * const { text, toolCalls, usage } = await client.complete({ messages, tools, signal });
 */
export interface ChatClient {
  complete(request: ChatRequest): Promise<ChatResponse>;
  stream(request: ChatRequest): AsyncIterable<ChatStreamEvent>;
}
