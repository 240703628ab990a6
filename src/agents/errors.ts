import { TroupeError } from '../runtime/errors.js';

/**
 * A model call failed: an HTTP error from the provider, a connection failure or a timeout.
 * `status` is the HTTP status when the server answered; `retryAfterMs` is the server's
 * `retry-after` hint when it sent one.
 *
 * The message never contains an API key: {@link scrubSecrets} removes `sk-…`-like strings and
 * any secret the client was configured with. The provider's original error is deliberately not
 * kept as `cause`, because SDK errors carry request details we cannot vouch for.
 *
 * @example
 * try { await client.complete({ messages }); }
 * catch (error) { if (error instanceof ChatClientError && error.status === 429) backOff(error.retryAfterMs); }
 */
export class ChatClientError extends TroupeError {
  readonly status?: number;
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    options: { status?: number; retryAfterMs?: number; secrets?: readonly (string | undefined)[] } = {},
  ) {
    super('chat_client_error', scrubSecrets(message, options.secrets));
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** A chat client was configured wrongly (for example, no API key); names the option at fault. */
export class ChatClientConfigError extends TroupeError {
  constructor(message: string) {
    super('chat_client_config', message);
  }
}

/** A tool definition is invalid: bad name, non-object parameters, duplicate names, … */
export class ToolDefinitionError extends TroupeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('tool_definition_error', message, options);
  }
}

/** A `ChatCompletionAgent` was configured wrongly; the message names the agent. */
export class AgentDefinitionError extends TroupeError {
  constructor(message: string) {
    super('agent_definition_error', message);
  }
}

// OpenAI-style keys (sk-…, sk-proj-…); long enough not to hit ordinary words like "sk-learn".
const KEY_PATTERN = /\bsk-[A-Za-z0-9_-]{8,}/g;

/**
 * Removes API keys from text that may reach logs or users: every `sk-…`-like token and every
 * given secret (ignored when shorter than 4 characters, which would only mangle the text).
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out.replace(KEY_PATTERN, 'sk-***');
}

/**
 * A `ChatClient` answered with something that is not a {@link ChatResponse}: `toolCalls: null`,
 * a tool call without an id, a number as `text`, … The message names the agent whose client it
 * is and the field at fault, so a bug in a custom client is found at the boundary instead of as
 * a `TypeError` deep inside the agent's turn.
 *
 * @example
 * // The ChatClient for agent "Refund" returned toolCalls = null; expected an array (use [] for no tool calls).
 */
export class InvalidChatResponseError extends TroupeError {
  constructor(
    readonly agent: string,
    /** The field at fault, e.g. `toolCalls`, `toolCalls[1].id`, `usage.inputTokens`, or `(response)`. */
    readonly field: string,
    message: string,
  ) {
    super('invalid_chat_response', message);
  }
}
