import { TroupeError } from '../core/index.js';

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
// Credentials in header form, as proxies and servers echo them back: "Bearer <token>",
// "api-key: <token>", "x-api-key=<token>". The value is masked whatever the configured key is,
// when it is long enough to be one (so prose like "use Bearer auth" stays readable).
const HEADER_PATTERN = /\b(Bearer\s+|(?:x-)?api[-_]?key["']?\s*[:=]\s*["']?)[^\s"',;&]{8,}/gi;
// Characters that continue a token: a configured secret is masked only where it stands alone,
// so `apiKey: 'ollama-local'` does not mangle a model called `ollama-local-7b`.
const TOKEN_CHAR = 'A-Za-z0-9_\\-';

/**
 * Placeholder keys that local servers accept and that protect nothing; masking them would only
 * garble model names and URLs (`none-model`, `llama3.1`).
 */
const PLACEHOLDERS = new Set(['none', 'null', 'empty', 'dummy', 'placeholder', 'not-needed', 'not-used', 'no-key', 'nokey', 'sk-no-key-required', 'ollama', 'lm-studio', 'lmstudio', 'vllm', 'llama', 'local', 'test', 'key', 'api-key', 'apikey', 'secret', 'changeme', 'xxx']);

/** Secrets shorter than this are not secrets (placeholders like `none`, `llama`) and are not masked. */
const MIN_SECRET_LENGTH = 8;

/** Whether `value` looks like a credential worth masking (long enough, not a known placeholder). */
function isSecretLike(value: string | undefined): value is string {
  return typeof value === 'string' && value.length >= MIN_SECRET_LENGTH && !PLACEHOLDERS.has(value.toLowerCase());
}

/**
 * Removes API keys from text that may reach logs or users: every `sk-…`-like token, every
 * credential in header form (`Bearer …`, `api-key: …`), and every whole-token occurrence of a
 * given secret. Secrets that are not secret-like (shorter than {@link MIN_SECRET_LENGTH}, or a
 * known placeholder such as `none` or `ollama`) are ignored: masking them would only mangle
 * model names and URLs.
 *
 * @example
 * scrubSecrets('401 for Bearer my-proxy-token-1 on llama3.1', ['my-proxy-token-1']) // '401 for Bearer *** on llama3.1'
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (!isSecretLike(secret)) continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(?<![${TOKEN_CHAR}])${escaped}(?![${TOKEN_CHAR}])`, 'g'), '***');
  }
  return out.replace(HEADER_PATTERN, '$1***').replace(KEY_PATTERN, 'sk-***');
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
