/**
 * Magentic-One's manager on a chat model: a fact survey and a plan (two calls), the progress
 * ledger as zod-validated structured output (retried, showing the model its mistake), a replan
 * that updates the facts and says what went wrong, and a final answer addressed to the user.
 * The prompts are Magentic-One's method in our own words; every one can be replaced.
 */
import type { ChatClient, ModelSettings } from '../agents/chat-client.js';
import type { ChatMessage } from '../agents/chat-message.js';
import { validateChatResponse } from '../agents/chat-response.js';
import { callStructured } from '../agents/structured-call.js';
import { ProgressLedgerSchema, renderTeam, type MagenticContext, type ProgressLedger, type TaskLedger } from '../actors/magentic-ledgers.js';
import { OrchestrationConfigError } from './errors.js';
import { DEFAULT_MAGENTIC_MANAGER_NAME, type MagenticCallOptions, type MagenticManager } from './magentic.js';

/** A prompt: a template with `{placeholders}` (see {@link MAGENTIC_PROMPT_VARIABLES}), or a function of them. */
export type MagenticPrompt = string | ((variables: Record<string, string>) => string);

/** The prompts of {@link StandardMagenticManager}, each sent as a user message after the conversation. */
export interface MagenticPrompts {
  /** Call 1 of `plan`: the fact survey under four headings. `{task}` */
  facts: MagenticPrompt;
  /** Call 2 of `plan`: a short plan naming team members. `{task}`, `{team}` */
  plan: MagenticPrompt;
  /** The full task ledger the members are told. `{task}`, `{team}`, `{facts}`, `{plan}` */
  taskLedger: MagenticPrompt;
  /** Before a replan after a rejected review: the rejected plan and the reviewer's words. `{plan}`, `{feedback}` */
  reviewFeedback: MagenticPrompt;
  /** Call 1 of `replan`: update the fact sheet. `{task}`, `{oldFacts}`, `{situation}` */
  factsUpdate: MagenticPrompt;
  /** Call 2 of `replan`: what went wrong, then a new plan. `{task}`, `{team}` */
  planUpdate: MagenticPrompt;
  /** The progress ledger's five questions (the JSON schema goes in the response format). `{task}`, `{team}`, `{names}` */
  progress: MagenticPrompt;
  /** The final answer, to the user. `{task}` */
  finalAnswer: MagenticPrompt;
  /** The answer when a limit stopped the work. `{task}`, `{reason}` */
  partialAnswer: MagenticPrompt;
}

/** The placeholders each prompt may use. */
export const MAGENTIC_PROMPT_VARIABLES: Readonly<Record<keyof MagenticPrompts, readonly string[]>> = {
  facts: ['task'],
  plan: ['task', 'team'],
  taskLedger: ['task', 'team', 'facts', 'plan'],
  reviewFeedback: ['plan', 'feedback'],
  factsUpdate: ['task', 'oldFacts', 'situation'],
  planUpdate: ['task', 'team'],
  progress: ['task', 'team', 'names'],
  finalAnswer: ['task'],
  partialAnswer: ['task', 'reason'],
};

/** The default prompts. */
export const DEFAULT_MAGENTIC_PROMPTS: Readonly<MagenticPrompts> = {
  facts: `Here is a request we have been given:

{task}

Before we start, fill in a short pre-survey of what we know and what we still need. Use exactly these four headings:

1. GIVEN OR VERIFIED FACTS: what the request itself states, or what is certain.
2. FACTS TO LOOK UP: what we must find out, and where it could be found (a source, a tool, a document).
3. FACTS TO DERIVE: what can be worked out from the others by reasoning or calculation.
4. EDUCATED GUESSES: hunches and half-remembered things that are plausible but not certain.

Write only the pre-survey; the plan comes later.`,
  plan: `Now write a plan for the request with this team:

{team}

Keep it short: a bullet list of steps, each naming the team member who does it. Use only the members who help; not everyone has to take part.`,
  taskLedger: `We are working on this request:

{task}

The team:

{team}

What we know and still need to find out:

{facts}

The plan:

{plan}`,
  reviewFeedback: `The person reviewing our plan turned it down. The plan was:

{plan}

Their feedback:

{feedback}`,
  factsUpdate: `{situation}

The request:

{task}

Our fact sheet so far:

{oldFacts}

Rewrite the fact sheet under the same four headings, adding what we have learned since. Add or revise at least one educated guess, and say what it rests on. Write only the new fact sheet.`,
  planUpdate: `First explain in a sentence or two what went wrong: the root cause of the problem, or what the reviewer objected to. Then write a new plan for the team:

{team}

as a short bullet list, each step naming the member who does it, avoiding the mistakes made so far.`,
  progress: `Recall the request:

{task}

And the team:

{team}

To decide the next step, answer these five questions, with a short reason for each:

- isRequestSatisfied: is the request fully and correctly done? (false while anything is missing or unverified)
- isInLoop: are we going round in circles, repeating the same requests or getting the same answers turn after turn?
- isProgressBeingMade: are we moving forward? (true at the start, or when recent turns added something; false when they brought only errors, refusals or repetition)
- nextSpeaker: who should speak next? One of: {names}
- instructionOrQuestion: what should they do? Speak to them directly and give them everything they need.

Answer with a JSON object only, every key holding {"reason": string, "answer": value}: booleans for the first three, a member's name for nextSpeaker, text for instructionOrQuestion.`,
  finalAnswer: `The work on this request is done:

{task}

From everything above, write the answer for the person who asked, speaking to them directly. Give the answer itself and the figures or facts it rests on, not an account of who did what.`,
  partialAnswer: `We have to stop working on this request before it is finished ({reason}):

{task}

From everything above, tell the person who asked what we found and what is still missing or uncertain, speaking to them directly.`,
};

export interface StandardMagenticManagerOptions {
  /** The model the manager thinks with (it must support JSON structured output for the progress ledger). */
  client: ChatClient;
  /** Replace any of the prompts (see {@link DEFAULT_MAGENTIC_PROMPTS}). */
  prompts?: Partial<MagenticPrompts>;
  /** How often a malformed progress ledger is sent back, with its errors, before the run fails (default 2). */
  maxRetries?: number;
  /** The manager's name (its messages' author, its key in `usage.byAgent`). Default `magentic_manager`. */
  name?: string;
  /** Settings for every call (temperature, max tokens…). */
  modelSettings?: ModelSettings;
}

const PLACEHOLDER = /\{([A-Za-z_]\w*)\}/g;
const KIND = 'StandardMagenticManager';

const LIMIT_WORDS: Record<NonNullable<MagenticContext['limit']>, string> = {
  max_rounds: 'we used every round we were allowed',
  max_resets: 'we got stuck too many times',
};

const SITUATIONS: Record<NonNullable<MagenticContext['replanReason']>, string> = {
  stalled: 'We are stuck: the team stopped making progress, or kept repeating itself.',
  rejected: 'The plan was turned down, so we need a better one.',
};

/**
 * A {@link MagenticManager} driven by a chat model, after Magentic-One: `plan` and `replan` are
 * two calls each (the fact sheet, then the plan), `progress` one structured call (validated with
 * zod; a malformed ledger is sent back with its errors `maxRetries` times, then the run fails with
 * a `MagenticManagerError` whose cause is a `StructuredOutputError` naming the manager),
 * `finalAnswer` one call. Its tokens count in `usage.byAgent.magentic_manager` (or its `name`).
 *
 * @example
 * const manager = new StandardMagenticManager({
 *   client: new OpenAIChatClient({ model: 'gpt-4.1' }),
 *   prompts: { finalAnswer: 'Answer the request "{task}" in two sentences, for the user.' },
 * });
 * const research = new MagenticOrchestration({ members: [researcher, analyst], manager });
 */
export class StandardMagenticManager implements MagenticManager {
  readonly name: string;
  readonly prompts: Readonly<MagenticPrompts>;
  private readonly client: ChatClient;
  private readonly maxRetries: number;
  private readonly modelSettings?: ModelSettings;

  constructor(options: StandardMagenticManagerOptions) {
    if (!options || !options.client || typeof options.client.complete !== 'function') {
      throw new OrchestrationConfigError(`${KIND}: "client" must be a ChatClient.`);
    }
    const maxRetries = options.maxRetries ?? 2;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new OrchestrationConfigError(`${KIND}: "maxRetries" must be an integer >= 0, got ${String(options.maxRetries)}.`);
    }
    const name = options.name ?? DEFAULT_MAGENTIC_MANAGER_NAME;
    if (typeof name !== 'string' || name.trim() === '') throw new OrchestrationConfigError(`${KIND}: "name" must be a non-empty string.`);
    this.client = options.client;
    this.maxRetries = maxRetries;
    this.name = name;
    this.modelSettings = options.modelSettings;
    this.prompts = { ...DEFAULT_MAGENTIC_PROMPTS, ...checkPrompts(options.prompts) };
  }

  async plan(ctx: MagenticContext, options: MagenticCallOptions): Promise<TaskLedger> {
    const history = transcript(ctx.conversation);
    const askFacts = this.ask('facts', 'facts', { task: ctx.task });
    const facts = await this.text([...history, askFacts], options);
    const askPlan = this.ask('plan', 'plan', { task: ctx.task, team: renderTeam(ctx.members) });
    const plan = await this.text([...history, askFacts, said('facts', facts), askPlan], options);
    return this.ledger(ctx, facts, plan);
  }

  async replan(ctx: MagenticContext, options: MagenticCallOptions): Promise<TaskLedger> {
    const old = ctx.ledger;
    if (!old) return this.plan(ctx, options);
    const history = transcript(ctx.conversation);
    const feedback = ctx.replanReason === 'rejected'
      ? [this.ask('review-feedback', 'reviewFeedback', { plan: old.plan, feedback: ctx.feedback?.trim() || '(none given)' })]
      : [];
    const situation = SITUATIONS[ctx.replanReason ?? 'stalled'];
    const askFacts = this.ask('facts-update', 'factsUpdate', { task: ctx.task, oldFacts: old.facts, situation });
    const facts = await this.text([...history, ...feedback, askFacts], options);
    const askPlan = this.ask('plan-update', 'planUpdate', { task: ctx.task, team: renderTeam(ctx.members) });
    const plan = await this.text([...history, ...feedback, askFacts, said('facts', facts), askPlan], options);
    return this.ledger(ctx, facts, plan);
  }

  async progress(ctx: MagenticContext, options: MagenticCallOptions): Promise<ProgressLedger> {
    const names = ctx.members.map((m) => m.name).join(', ');
    const ask = this.ask('progress', 'progress', { task: ctx.task, team: renderTeam(ctx.members), names });
    const { value, usage } = await callStructured({
      client: this.client,
      messages: [...transcript(ctx.conversation), ask],
      schema: ProgressLedgerSchema,
      schemaName: 'progress_ledger',
      caller: this.name,
      maxRetries: this.maxRetries,
      signal: options.signal,
      ...(this.modelSettings ? { modelSettings: this.modelSettings } : {}),
    });
    options.recordUsage(usage);
    return value;
  }

  async finalAnswer(ctx: MagenticContext, options: MagenticCallOptions): Promise<string> {
    const ask = ctx.limit
      ? this.ask('partial-answer', 'partialAnswer', { task: ctx.task, reason: LIMIT_WORDS[ctx.limit] })
      : this.ask('final-answer', 'finalAnswer', { task: ctx.task });
    return this.text([...transcript(ctx.conversation), ask], options);
  }

  private ledger(ctx: MagenticContext, facts: string, plan: string): TaskLedger {
    const rendered = render(this.prompts.taskLedger, { task: ctx.task, team: renderTeam(ctx.members), facts, plan });
    return { facts, plan, rendered };
  }

  private ask(id: string, prompt: keyof MagenticPrompts, variables: Record<string, string>): ChatMessage {
    return { id: `${this.name}:${id}`, role: 'user', content: render(this.prompts[prompt], variables) };
  }

  private async text(messages: ChatMessage[], options: MagenticCallOptions): Promise<string> {
    const raw = await this.client.complete({
      messages,
      signal: options.signal,
      ...(this.modelSettings ? { modelSettings: this.modelSettings } : {}),
    });
    const response = validateChatResponse(raw, this.name);
    options.recordUsage(response.usage);
    return (response.text ?? '').trim();
  }
}

/** The manager's own earlier answer within one method (the fact sheet before the plan). */
function said(id: string, content: string): ChatMessage {
  return { id: `magentic:${id}`, role: 'assistant', content };
}

function render(prompt: MagenticPrompt, variables: Record<string, string>): string {
  if (typeof prompt === 'function') return prompt(variables);
  return prompt.replace(PLACEHOLDER, (whole, key: string) => (Object.hasOwn(variables, key) ? variables[key] : whole));
}

function checkPrompts(prompts: Partial<MagenticPrompts> | undefined): Partial<MagenticPrompts> {
  if (prompts === undefined) return {};
  if (typeof prompts !== 'object' || prompts === null) throw new OrchestrationConfigError(`${KIND}: "prompts" must be an object.`);
  const out: Partial<MagenticPrompts> = {};
  for (const [key, prompt] of Object.entries(prompts)) {
    if (prompt === undefined) continue;
    if (!Object.hasOwn(MAGENTIC_PROMPT_VARIABLES, key)) {
      throw new OrchestrationConfigError(`${KIND}: unknown prompt "${key}" (prompts: ${Object.keys(MAGENTIC_PROMPT_VARIABLES).join(', ')}).`);
    }
    const allowed = MAGENTIC_PROMPT_VARIABLES[key as keyof MagenticPrompts];
    if (typeof prompt === 'string') {
      for (const [, name] of prompt.matchAll(PLACEHOLDER)) {
        if (!allowed.includes(name)) {
          throw new OrchestrationConfigError(`${KIND}: prompt "${key}" uses {${name}}, which it is not given (it may use ${allowed.map((a) => `{${a}}`).join(', ')}).`);
        }
      }
    } else if (typeof prompt !== 'function') {
      throw new OrchestrationConfigError(`${KIND}: prompt "${key}" must be a string or a function.`);
    }
    out[key as keyof MagenticPrompts] = prompt;
  }
  return out;
}

/**
 * The conversation as plain messages any model accepts without tool definitions: a member's tool
 * calls and their results are folded into its message as text.
 */
export function transcript(conversation: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of conversation) {
    if (m.role === 'tool') {
      const line = `[${m.name ?? 'tool'} returned: ${m.content}]`;
      const last = out[out.length - 1];
      if (last && last.role === 'assistant') out[out.length - 1] = { ...last, content: last.content ? `${last.content}\n${line}` : line };
      else out.push({ id: m.id, role: 'assistant', content: line });
      continue;
    }
    const { id, role, content, name } = m;
    const calls = (m.toolCalls ?? []).map((c) => `[called ${c.name}(${c.arguments})]`);
    const text = [content, ...calls].filter((part) => part !== '').join('\n');
    out.push({ id, role, content: text, ...(name ? { name } : {}) });
  }
  return out;
}
