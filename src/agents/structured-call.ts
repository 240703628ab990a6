import { z } from 'zod';
import { TroupeError, throwIfAborted } from '../core/index.js';
import { InvalidArgumentError } from '../runtime/errors.js';
import type { ChatClient, ModelSettings } from './chat-client.js';
import { addUsage, ZERO_USAGE, type ChatMessage, type Usage } from './chat-message.js';
import { validateChatResponse } from './chat-response.js';

/** One reason a structured answer was rejected: where (`path`, e.g. `items[0].price`) and why. */
export interface StructuredIssue {
  /** The field path, `(root)` for the whole value; `(json)` when the answer was not JSON at all. */
  path: string;
  message: string;
}

/**
 * A structured model call still had no valid answer after its retries. The message names the
 * `caller`, the number of attempts and the last answer's issues (field path and message), so a
 * log line says which component asked, and which field the model kept getting wrong.
 *
 * @example
 * try { await callStructured({ client, messages, schema, caller: 'Router' }); }
 * catch (error) { if (error instanceof StructuredOutputError) console.warn(error.issues, error.lastOutput); }
 */
export class StructuredOutputError extends TroupeError {
  constructor(
    /** Who made the call (an agent, a manager, `outputSchema`). */
    readonly caller: string,
    /** How many answers the model gave (1 + retries). */
    readonly attempts: number,
    /** What was wrong with the last answer. */
    readonly issues: readonly StructuredIssue[],
    /** The last answer's text, as the model sent it. */
    readonly lastOutput: string,
  ) {
    super(
      'structured_output_invalid',
      `${caller}: the model gave no valid structured answer in ${attempts} attempt(s); the last one ${describeIssues(issues)}.`,
    );
  }
}

export interface StructuredCallOptions<T> {
  client: ChatClient;
  /** The conversation to send; it is not modified (retries append to a copy). */
  messages: readonly ChatMessage[];
  /** What the answer must be. Converted to JSON schema for the request's response format. */
  schema: z.ZodType<T>;
  /** The response format's name (sanitised for the provider). Default `'output'`. */
  schemaName?: string;
  /** Who is asking, for error messages: an agent's or manager's name, or an option like `outputSchema`. */
  caller: string;
  /** How many times to ask again after an invalid answer. Default 2 (so at most 3 model calls). */
  maxRetries?: number;
  signal?: AbortSignal;
  modelSettings?: ModelSettings;
  /**
   * Ask the provider for strict schema adherence. Default false: strict mode needs every field
   * required and no open objects, which arbitrary zod schemas do not guarantee; zod validates anyway.
   */
  strict?: boolean;
}

export interface StructuredCallResult<T> {
  /** The parsed answer (zod's output, so transforms and defaults are applied). */
  value: T;
  /** Token usage summed over every attempt. */
  usage: Usage;
  /** How many model calls it took (1 when the first answer was valid). */
  attempts: number;
}

/** Default for {@link StructuredCallOptions.maxRetries}. */
const DEFAULT_STRUCTURED_RETRIES = 2;

/**
 * Asks `client` for JSON matching `schema` (through the request's response format), parses it
 * and validates it with zod. An answer that is not JSON or does not match is sent back to the
 * model, with a user message naming each wrong field, up to `maxRetries` times; then it throws a
 * {@link StructuredOutputError}. Model errors ({@link ChatClientError}) and aborts
 * ({@link AbortedError}) propagate as they are, without retrying: the SDK already retried what
 * was retryable.
 *
 * @example
 * const { value, usage, attempts } = await callStructured({
 *   client,
 *   caller: 'Router',
 *   schema: z.object({ agent: z.enum(['Billing', 'Security']), reason: z.string() }),
 *   messages: [chatMessage('system', 'Pick the specialist.'), chatMessage('user', question)],
 *   signal,
 * });
 */
export async function callStructured<T>(options: StructuredCallOptions<T>): Promise<StructuredCallResult<T>> {
  const { client, schema, caller, signal, modelSettings, schemaName = 'output', strict = false } = options;
  const maxRetries = options.maxRetries ?? DEFAULT_STRUCTURED_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new InvalidArgumentError(`${caller}: maxRetries must be a whole number ≥ 0 (got ${String(maxRetries)}).`);
  }
  const responseFormat = { name: schemaName, schema: jsonSchemaOf(schema, caller), strict };
  const messages = [...options.messages];
  const what = `${caller}'s structured model call`;
  let usage = ZERO_USAGE;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal, what);
    const raw = await client.complete({
      messages: [...messages],
      responseFormat,
      ...(modelSettings ? { modelSettings } : {}),
      ...(signal ? { signal } : {}),
    });
    // A client that ignores the signal may still answer after an abort; the caller has moved on.
    throwIfAborted(signal, what);
    const response = validateChatResponse(raw, caller);
    usage = addUsage(usage, response.usage);
    const checked = check(response.text, schema);
    if (checked.ok) return { value: checked.value, usage, attempts: attempt };
    if (attempt > maxRetries) throw new StructuredOutputError(caller, attempt, checked.issues, response.text);
    // Show the model its own answer and what is wrong with it: models fix a named field far more
    // reliably than they comply with a bare "try again".
    messages.push(
      { id: `${schemaName}:attempt-${attempt}`, role: 'assistant', content: response.text },
      { id: `${schemaName}:feedback-${attempt}`, role: 'user', content: feedback(checked.issues) },
    );
  }
}

/** The JSON schema for a response format (draft-7, what OpenAI-style structured output reads). */
function jsonSchemaOf(schema: z.ZodType, caller: string): Record<string, unknown> {
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidArgumentError(
      `${caller}: the schema cannot be expressed as JSON schema for structured output (${error instanceof Error ? error.message : String(error)}).`,
      { cause: error },
    );
  }
  delete json.$schema;
  return json;
}

type Checked<T> = { ok: true; value: T } | { ok: false; issues: StructuredIssue[] };

function check<T>(text: string, schema: z.ZodType<T>): Checked<T> {
  let value: unknown;
  try {
    value = JSON.parse(stripFence(text));
  } catch (error) {
    const reason = text.trim() === '' ? 'the answer was empty' : (error as Error).message;
    return { ok: false, issues: [{ path: '(json)', message: `not valid JSON: ${reason}` }] };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })) };
}

/**
 * Models that ignore the response format (many local ones) still often wrap good JSON in a
 * Markdown fence; unwrapping it is cheaper than a retry.
 */
function stripFence(text: string): string {
  const match = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?\s*```\s*$/i.exec(text);
  return match ? match[1] : text;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out || '(root)';
}

function feedback(issues: readonly StructuredIssue[]): string {
  const lines = issues.map((issue) => (issue.path === '(json)' ? `- ${issue.message}` : `- ${issue.path}: ${issue.message}`));
  return `Your answer was rejected:\n${lines.join('\n')}\nAnswer again with only the JSON object, matching the schema exactly.`;
}

/** "was not valid JSON: …" or "did not match the schema: price: Expected number, …". */
function describeIssues(issues: readonly StructuredIssue[]): string {
  if (issues.length === 1 && issues[0].path === '(json)') return `was ${issues[0].message}`;
  return `did not match the schema: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`;
}
