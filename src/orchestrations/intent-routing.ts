/**
 * Routing by intent (`HandoffOrchestration`'s `router` option): the options, the boundary line
 * each specialist gets, and the classifier — a function, or a model that picks a member from
 * the members' descriptions through a structured call.
 */
import { z } from 'zod';
import { fromPromise } from 'xstate';
import type { ChatClient } from '../agents/chat-client.js';
import type { ChatMessage } from '../agents/chat-message.js';
import { callStructured, StructuredOutputError } from '../agents/structured-call.js';
import { IntentClassificationError, type IntentCandidate, type IntentClassification, type IntentClassifierCall, type IntentClassifierInput } from '../actors/intent-router.js';
import { AbortedError } from '../core/index.js';
import { OrchestrationConfigError } from './errors.js';

/**
 * Picks the member that should answer: its name. Given the messages, the candidates and the run's
 * abort `signal` (pass it on to any model or HTTP call it makes).
 */
export type IntentClassifierFunction = (input: IntentClassifierCall) => string | Promise<string>;

/** A model (it picks among the members' descriptions, structured output) or a function. */
export type IntentClassifier = ChatClient | IntentClassifierFunction;

/** `HandoffOrchestration`'s `router` option. */
export interface IntentRouterOptions {
  /**
   * Who answers a user message: a `ChatClient` (a model picks one member from the members'
   * descriptions; a name that is not a member is shown back to it and retried, then the run fails
   * with an `IntentClassificationError`) or a function `({ messages, candidates, signal }) => name`
   * (`signal`: the run's abort signal). A classifier that throws — a model call's error such as a
   * 429, or a function's own — fails the run with an `IntentClassificationError` whose `cause` is
   * that error (with its `status` and `retryAfterMs`); aborts are not wrapped.
   * A model classifier's tokens are in `output.usage` under `'intent_router'`
   * (`INTENT_ROUTER_NAME`), so no member may be named that.
   */
  classifier: IntentClassifier;
  /**
   * What a specialist replies when a request is outside its area (matched case-insensitively,
   * anywhere in the reply). Default `'This is outside my area'`.
   */
  outOfScopePhrase?: string;
  /** Earlier turns (a user message and the answers to it) the classifier and the new specialist get. Default 3. */
  contextTurns?: number;
  /** What the user is told when no specialist takes their message (the loop guard). */
  rephraseMessage?: string;
  /** A model classifier's retries after an answer that names no member. Default 2. */
  maxRetries?: number;
}

export const DEFAULT_OUT_OF_SCOPE_PHRASE = 'This is outside my area';
export const DEFAULT_CONTEXT_TURNS = 3;
export const DEFAULT_REPHRASE_MESSAGE = "Sorry, I couldn't tell which of our specialists can help with that. Could you rephrase your request?";

/** The line appended to every specialist's instructions. Names the phrase, and no other member. */
export function boundaryLine(phrase: string): string {
  return `Only handle requests within your own area. If a request is outside your area, reply exactly: ${phrase}`;
}

/** Checks the option at construction; returns it with defaults applied. */
export function resolveRouter(kind: string, router: IntentRouterOptions): Required<Omit<IntentRouterOptions, 'maxRetries'>> & { maxRetries?: number } {
  if (!router || typeof router !== 'object') throw new OrchestrationConfigError(`${kind}: "router" must be an object { classifier, outOfScopePhrase?, contextTurns? }.`);
  const { classifier } = router;
  const isClient = typeof classifier === 'object' && classifier !== null && typeof (classifier as ChatClient).complete === 'function';
  if (typeof classifier !== 'function' && !isClient) {
    throw new OrchestrationConfigError(`${kind}: "router.classifier" must be a ChatClient or a function ({ messages, candidates }) => name.`);
  }
  const phrase = router.outOfScopePhrase ?? DEFAULT_OUT_OF_SCOPE_PHRASE;
  if (typeof phrase !== 'string' || phrase.trim() === '') throw new OrchestrationConfigError(`${kind}: "router.outOfScopePhrase" must be a non-empty string.`);
  const contextTurns = router.contextTurns ?? DEFAULT_CONTEXT_TURNS;
  if (!Number.isInteger(contextTurns) || contextTurns < 0) throw new OrchestrationConfigError(`${kind}: "router.contextTurns" must be an integer >= 0, got ${router.contextTurns}.`);
  const rephraseMessage = router.rephraseMessage ?? DEFAULT_REPHRASE_MESSAGE;
  if (typeof rephraseMessage !== 'string' || rephraseMessage.trim() === '') throw new OrchestrationConfigError(`${kind}: "router.rephraseMessage" must be a non-empty string.`);
  if (router.maxRetries !== undefined && !(Number.isInteger(router.maxRetries) && router.maxRetries >= 0)) {
    throw new OrchestrationConfigError(`${kind}: "router.maxRetries" must be an integer >= 0, got ${router.maxRetries}.`);
  }
  return { classifier, outOfScopePhrase: phrase.trim(), contextTurns, rephraseMessage, ...(router.maxRetries !== undefined ? { maxRetries: router.maxRetries } : {}) };
}

/**
 * The router's provided `classify` actor: answers a member's name (and a model's token usage) or
 * fails with a typed error.
 */
export function classifyActor(router: IntentRouterOptions) {
  const { classifier } = router;
  return fromPromise<IntentClassification, IntentClassifierInput>(async ({ input, signal }) => {
    const names = input.candidates.map((c) => c.name);
    let classified: IntentClassification;
    try {
      classified = typeof classifier === 'function'
        ? { name: await classifier({ ...input, signal }) }
        : await classifyWithModel(classifier, input, router.maxRetries, signal);
    } catch (error) {
      // Typed already, or an abort (the run is going away: not the classifier's failure).
      if (error instanceof IntentClassificationError || error instanceof AbortedError || signal.aborted) throw error;
      throw IntentClassificationError.failed(error, names);
    }
    const { name } = classified;
    if (typeof name !== 'string' || !names.includes(name)) throw new IntentClassificationError(typeof name === 'string' ? name : undefined, names);
    return classified;
  });
}

function transcript(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `[${m.role === 'assistant' ? m.name ?? 'assistant' : m.role}] ${m.content}`).join('\n');
}

/**
 * A model picks the specialist: the members and their descriptions in the system message, the
 * conversation as text, `{ "agent": <name> }` as the answer (an enum of the members' names).
 */
async function classifyWithModel(client: ChatClient, input: IntentClassifierInput, maxRetries: number | undefined, signal: AbortSignal): Promise<IntentClassification> {
  const names = input.candidates.map((c) => c.name);
  const list = names.join(', ');
  const schema = z.object({
    agent: z.enum(names as [string, ...string[]], { error: (issue) => `${JSON.stringify(issue.input)} is not one of the specialists; choose one of: ${list}.` }),
  });
  const messages: ChatMessage[] = [
    { id: 'intent-router:system', role: 'system', content: classifierPrompt(input.candidates) },
    { id: 'intent-router:conversation', role: 'user', content: `Conversation (oldest first):\n${transcript(input.messages)}\n\nWhich specialist should answer the last user message?` },
  ];
  try {
    const { value, usage } = await callStructured({ client, messages, schema, schemaName: 'specialist', caller: 'Intent router', signal, ...(maxRetries !== undefined ? { maxRetries } : {}) });
    return { name: value.agent, usage };
  } catch (error) {
    if (!(error instanceof StructuredOutputError)) throw error;
    const named = lastName(error.lastOutput);
    throw new IntentClassificationError(named, names,
      `Intent router: the classifier model named no member in ${error.attempts} attempt(s)${named !== undefined ? `; its last answer was ${JSON.stringify(named)}` : ''} (members: ${list}).`, { cause: error });
  }
}

function classifierPrompt(candidates: readonly IntentCandidate[]): string {
  const lines = candidates.map((c) => `- ${c.name}: ${c.description || '(no description)'}`);
  return `You route a user's message to the one specialist who should answer it.\nSpecialists:\n${lines.join('\n')}\nAnswer with JSON {"agent": "<specialist name>"}, using a name from the list exactly.`;
}

function lastName(output: string): string | undefined {
  try {
    const value = JSON.parse(output.replace(/^\s*```(?:json)?\s*|\s*```\s*$/g, '')) as { agent?: unknown };
    return typeof value?.agent === 'string' ? value.agent : undefined;
  } catch {
    return undefined;
  }
}
