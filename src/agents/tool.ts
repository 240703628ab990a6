import { z } from 'zod';
import { abortedError, throwIfAborted } from '../core/index.js';
import { sanitizeName } from '../core/index.js';
import type { ToolDefinition } from './chat-client.js';
import type { ToolCall } from './chat-message.js';
import { ToolDefinitionError } from './errors.js';
import { nullsToUndefined, toLooseJsonSchema, toStrictJsonSchema } from './tool-schema.js';

/** What a tool's `execute` receives besides its arguments. */
export interface ToolContext {
  /** Aborted when the run is cancelled; pass it on to fetches and other slow work. */
  signal: AbortSignal;
  /** The name of the agent that called the tool. */
  agent: string;
  /** The model's id for this call (matches the tool result message's `toolCallId`). */
  toolCallId: string;
}

/** Whether a call needs a human's approval before it runs. */
export type NeedsApproval<Args> = boolean | { bivarianceHack(args: Args): boolean | Promise<boolean> }['bivarianceHack'];

/**
 * A function the model may call. Build one with {@link tool}.
 * `definition` is what is sent to the model; `parameters` validates what comes back.
 */
export interface Tool<Params extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly description: string;
  readonly parameters: Params;
  readonly definition: ToolDefinition;
  execute(args: z.output<Params>, context: ToolContext): unknown;
  readonly needsApproval: NeedsApproval<z.output<Params>>;
}

export interface ToolOptions<Params extends z.ZodObject> {
  /** `^[a-zA-Z0-9_-]{1,64}$` — what model APIs accept. */
  name: string;
  description: string;
  /** A zod object; its fields are the tool's named arguments. */
  parameters: Params;
  /** Runs the call. Non-string results are sent to the model as JSON; a throw becomes an error result. */
  execute(args: z.output<Params>, context: ToolContext): unknown;
  /** `true`, or a predicate on the parsed arguments, to ask a human before running. Default false. */
  needsApproval?: NeedsApproval<z.output<Params>>;
  /**
   * Send the schema in OpenAI strict mode (default true): every field required, optional fields
   * nullable, no extra keys. Set false for schemas strict mode cannot express (records) or for
   * servers that reject `strict`.
   */
  strict?: boolean;
}

export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool from a zod object schema.
 *
 * @example
 * const getWeather = tool({
 *   name: 'get_weather',
 *   description: 'Current weather for a city.',
 *   parameters: z.object({ city: z.string(), unit: z.enum(['C', 'F']).optional() }),
 *   execute: async ({ city, unit = 'C' }, { signal }) => fetchWeather(city, unit, signal),
 * });
 */
export function tool<Params extends z.ZodObject>(options: ToolOptions<Params>): Tool<Params> {
  const { name, description, parameters, execute, needsApproval = false, strict = true } = options ?? ({} as ToolOptions<Params>);
  if (typeof name !== 'string' || !TOOL_NAME_PATTERN.test(name)) {
    throw new ToolDefinitionError(
      `Tool name ${JSON.stringify(name)} is invalid: use 1 to 64 letters, digits, "_" or "-".`,
    );
  }
  if (typeof description !== 'string') {
    throw new ToolDefinitionError(`Tool "${name}" needs a description (a string).`);
  }
  if (!isZodObject(parameters)) {
    throw new ToolDefinitionError(`Tool "${name}": parameters must be a zod object (z.object({...})).`);
  }
  if (typeof execute !== 'function') {
    throw new ToolDefinitionError(`Tool "${name}": execute must be a function.`);
  }
  if (typeof needsApproval !== 'boolean' && typeof needsApproval !== 'function') {
    throw new ToolDefinitionError(`Tool "${name}": needsApproval must be a boolean or a function.`);
  }
  let schema: Record<string, unknown>;
  try {
    schema = strict ? toStrictJsonSchema(parameters) : toLooseJsonSchema(parameters);
  } catch (error) {
    throw new ToolDefinitionError(
      `Tool "${name}": its parameters cannot be converted to JSON schema: ${errorText(error)}`,
      { cause: error },
    );
  }
  const definition: ToolDefinition = Object.freeze({ name, description, parameters: schema, strict });
  return Object.freeze({ name, description, parameters, definition, execute, needsApproval });
}

/** The outcome of {@link parseToolArguments}. */
export type ParsedToolArguments<Args = unknown> = { ok: true; args: Args } | { ok: false; error: string };

/**
 * Parses and validates a model's raw JSON arguments for `tool`. An empty string means "no
 * arguments" (some models send that for parameterless tools); `null` for an optional field
 * means "not given". Never throws.
 *
 * @example
 * const parsed = parseToolArguments(getWeather, '{"city":"Oslo","unit":null}');
 * if (parsed.ok) parsed.args; // { city: 'Oslo' }
 */
export function parseToolArguments<Params extends z.ZodObject>(
  tool: Tool<Params>,
  raw: string,
): ParsedToolArguments<z.output<Params>> {
  let json: unknown;
  try {
    json = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (error) {
    return { ok: false, error: `the arguments are not valid JSON (${errorText(error)})` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, error: 'the arguments must be a JSON object' };
  }
  const result = tool.parameters.safeParse(nullsToUndefined(tool.parameters, json));
  if (result.success) return { ok: true, args: result.data };
  return { ok: false, error: describeIssues(result.error) };
}

/** The result of one tool call, as text the model reads. */
export interface ToolCallResult {
  content: string;
  isError: boolean;
}

/**
 * Runs one tool call and never throws for the model's or the tool's mistakes: an unknown tool,
 * invalid JSON, arguments that fail validation and a throwing `execute` all become
 * `{ isError: true, content: 'Error: …' }`, so the model can read what went wrong and try again.
 * The only rejection is an {@link AbortedError} when `signal` aborts, which also settles a tool
 * that ignores its signal. Approval is not checked here; that is the caller's decision.
 *
 * @example
 * const { content, isError } = await executeToolCall(agent.tools, call, { signal, agent: agent.name });
 * messages.push(chatMessage('tool', content, { toolCallId: call.id }));
 */
export async function executeToolCall(
  tools: readonly Tool[],
  call: ToolCall,
  context: { signal: AbortSignal; agent: string },
): Promise<ToolCallResult> {
  const { signal, agent } = context;
  throwIfAborted(signal, `Tool call "${call.name}"`);
  const found = tools.find((t) => t.name === call.name);
  if (!found) {
    const available = tools.length ? tools.map((t) => t.name).join(', ') : 'none';
    return errorResult(`unknown tool "${call.name}". Available tools: ${available}.`);
  }
  const parsed = parseToolArguments(found, call.arguments);
  if (!parsed.ok) return errorResult(`invalid arguments for tool "${call.name}": ${parsed.error}`);

  let value: unknown;
  try {
    value = await raceAbort(
      Promise.resolve().then(() => found.execute(parsed.args, { signal, agent, toolCallId: call.id })),
      signal,
      call.name,
    );
  } catch (error) {
    if (signal.aborted) throw abortedError(error, `Tool call "${call.name}"`);
    return errorResult(`tool "${call.name}" failed: ${errorText(error)}`);
  }
  try {
    // undefined (a tool with nothing to say) becomes an empty result rather than the text "undefined".
    return { content: typeof value === 'string' ? value : (JSON.stringify(value) ?? ''), isError: false };
  } catch (error) {
    return errorResult(`tool "${call.name}" returned a value that cannot be sent as JSON: ${errorText(error)}`);
  }
}

/**
 * Throws a {@link ToolDefinitionError} naming `owner` (e.g. `agent "Triage"`) and the name when
 * two tools share a name: the model could not tell them apart.
 */
export function assertUniqueToolNames(tools: readonly { name: string }[], owner: string): void {
  const seen = new Set<string>();
  for (const t of tools) {
    if (seen.has(t.name)) throw new ToolDefinitionError(`${owner} has two tools named "${t.name}"; tool names must be unique.`);
    seen.add(t.name);
  }
}

/**
 * Turns free text (an agent's name, say) into a valid tool-name fragment: runs of other
 * characters become "_", the result is cut to `maxLength`. Different inputs may collide, so
 * callers still check uniqueness with {@link assertUniqueToolNames}.
 *
 * @example
 * sanitizeToolName('Refund Agent (EU)') // 'Refund_Agent_EU'
 */
export function sanitizeToolName(text: string, maxLength = 64): string {
  return sanitizeName(text, '_').slice(0, maxLength);
}

function errorResult(text: string): ToolCallResult {
  return { content: `Error: ${text}`, isError: true };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function isZodObject(value: unknown): value is z.ZodObject {
  return (value as { _zod?: { def?: { type?: string } } } | undefined)?._zod?.def?.type === 'object';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, toolName: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal.reason, `Tool call "${toolName}"`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
