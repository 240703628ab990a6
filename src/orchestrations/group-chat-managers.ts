/**
 * Who decides in a group chat: the {@link GroupChatManager} interface, a plain
 * {@link GroupChatSelector}, and the two managers troupe ships — {@link RoundRobinGroupChatManager}
 * (the default) and {@link ModelGroupChatManager} (a model picks, through structured output).
 * Managers hold no per-run state: everything they decide from is in the {@link GroupChatState}
 * they are shown, so one manager object serves any number of concurrent invocations.
 */
import { z } from 'zod';
import type { ChatClient, ModelSettings } from '../agents/chat-client.js';
import type { ChatMessage, Usage } from '../agents/chat-message.js';
import { StructuredOutputError, callStructured } from '../agents/structured-call.js';
import { UnknownSpeakerError, type GroupChatState, type SpeakerChoice } from '../actors/group-chat-manager.js';
import { OrchestrationConfigError } from './errors.js';

export type { GroupChatState, SpeakerChoice };

/** What every decision is given besides the state: `signal` aborts when the run is cancelled. */
export interface GroupChatDecisionContext {
  signal: AbortSignal;
}

/** A member's name; or the name with a reason (shown on `group_chat_turn`) and the tokens it cost. */
export type SpeakerSelection = string | (SpeakerChoice & { usage?: Usage });

/** Whether to end the chat (reason `completed`); optionally why, with a final answer, or — going on — who speaks next. */
export type TerminationVerdict = boolean | {
  terminate: boolean;
  /**
   * Why — for your own logs or a model's reasoning. troupe does not surface it: `output.reason`
   * is `'completed'` and no event carries it (put it in `message` if the user should see it).
   */
  reason?: string;
  /**
   * The final answer when terminating: `output.messages` (unless `filterResults` says otherwise);
   * broadcast under the manager's name. A string, or a ChatMessage (a missing `id` and `name` are
   * filled in: `<invocation>:<manager>:final` and the manager's name); anything else (`null`, a
   * number, an object without `role`/`content`) fails the run with a `GroupChatDecisionError`.
   */
  message?: string | ChatMessage;
  /**
   * Not terminating: the next speaker, when the same decision picked one (a model deciding both
   * at once). `selectNextSpeaker` is then skipped this round, unless a person spoke in between.
   */
  nextSpeaker?: SpeakerSelection;
  /** Tokens this decision cost; counted in `usage.byAgent` under the manager's `name`. */
  usage?: Usage;
};

/**
 * Picks the next speaker from the state: a member's name (or a promise of one).
 *
 * @example
 * const selector: GroupChatSelector = ({ round, members }) => (round === 0 ? 'Writer' : members[round % members.length].name);
 */
export type GroupChatSelector = (state: GroupChatState) => string | Promise<string>;

/**
 * A group chat's decisions. Only `selectNextSpeaker` is required; each method may be async and is
 * given an `AbortSignal` that `result.cancel()` (or the run's timeout) aborts. After each reply
 * the orchestration asks, in this order: its `terminationCondition`, `shouldTerminate`, the
 * `maxRounds` limit, `shouldRequestUserInput`, then `selectNextSpeaker`.
 *
 * @example
 * const editorLast: GroupChatManager = {
 *   selectNextSpeaker: ({ round }) => (round < 2 ? 'Writer' : 'Editor'),
 *   shouldTerminate: ({ lastSpeaker }) => lastSpeaker === 'Editor',
 *   filterResults: ({ conversation }) => conversation.filter((m) => m.name === 'Editor').slice(-1),
 * };
 */
export interface GroupChatManager {
  /** Whose messages and token usage are the manager's (default `'GroupChatManager'`). */
  readonly name?: string;
  selectNextSpeaker(state: GroupChatState, context: GroupChatDecisionContext): SpeakerSelection | Promise<SpeakerSelection>;
  /** True ends the chat with reason `completed`. Default: never. */
  shouldTerminate?(state: GroupChatState, context: GroupChatDecisionContext): TerminationVerdict | Promise<TerminationVerdict>;
  /** True asks the user (a `human_input_requested` event) before the next speaker is chosen. Default: never. */
  shouldRequestUserInput?(state: GroupChatState, context: GroupChatDecisionContext): boolean | Promise<boolean>;
  /**
   * The chat's answer (`output.messages`). Default: the manager's final message, else the last
   * reply. Every element must be a ChatMessage (a missing `id` is filled in); otherwise the run
   * fails with a `GroupChatDecisionError`.
   */
  filterResults?(state: GroupChatState, context: GroupChatDecisionContext): ChatMessage[] | Promise<ChatMessage[]>;
}

/** The name a manager's usage and messages go under when it has none. */
export const DEFAULT_GROUP_CHAT_MANAGER_NAME = 'GroupChatManager';

/**
 * Members in order, round after round: the member after the last speaker (the first member when
 * nobody has spoken). It keeps no counter — the position comes from the state — so concurrent and
 * later invocations never share it; a conversation continued with `continueFrom` goes on after its
 * `lastAgent`.
 *
 * @example
 * new GroupChatOrchestration({ members: [writer, reviewer, editor], manager: new RoundRobinGroupChatManager(), maxRounds: 6 });
 */
export class RoundRobinGroupChatManager implements GroupChatManager {
  readonly name = 'RoundRobinGroupChatManager';

  selectNextSpeaker(state: GroupChatState): string {
    const { members, lastSpeaker } = state;
    const last = lastSpeaker === undefined ? -1 : members.findIndex((m) => m.name === lastSpeaker);
    return members[(last + 1) % members.length].name;
  }
}

export interface ModelGroupChatManagerOptions {
  /** The model that decides. */
  client: ChatClient;
  /** What the manager is told about its job (the member list and the answer format are always added). */
  instructions?: string;
  /** How many times a wrong answer (a non-member, malformed JSON) is shown back to the model before the run fails. Default 2. */
  maxRetries?: number;
  /** Whose messages and token usage are the manager's: `usage.byAgent[name]`. Default `'GroupChatManager'`. */
  name?: string;
  modelSettings?: ModelSettings;
}

const DEFAULT_MODEL_INSTRUCTIONS = [
  'You moderate a group chat between the members listed below, who work together on the user\'s task.',
  'After each message, decide whether the task is done. If it is, end the chat and write the final answer for the user',
  '(usually the best version the members produced). If not, choose the member who should speak next, by their',
  'description and what the conversation needs now; do not pick the same member twice in a row without a reason.',
].join(' ');

/** What the model answers (every field required, so it is strict-mode compatible). */
interface ModelDecision {
  terminate: boolean;
  reason: string;
  nextSpeaker: string;
  finalMessage: string;
}

/**
 * A model runs the chat: it reads the members' descriptions and the conversation and answers with
 * structured output — whether to finish (with the final message) or who speaks next, and why. One
 * model call per round (at `shouldTerminate`; a call at `selectNextSpeaker` only for the first
 * speaker and after a person spoke). A name that is not a member is shown back to the model and
 * retried up to `maxRetries` times, then the run fails with an {@link UnknownSpeakerError} naming
 * it. Its token usage is counted in `usage.byAgent` under `name` (default `'GroupChatManager'`).
 *
 * @example
 * const chat = new GroupChatOrchestration({
 *   members: [writer, reviewer, editor],
 *   manager: new ModelGroupChatManager({ client: new OpenAIChatClient({ model: 'gpt-4o-mini' }) }),
 * });
 * const { messages, usage } = await (await chat.invoke('Describe our new kettle', runtime)).get();
 * usage.byAgent.GroupChatManager; // what the manager's decisions cost
 */
export class ModelGroupChatManager implements GroupChatManager {
  readonly name: string;
  private readonly client: ChatClient;
  private readonly instructions: string;
  private readonly maxRetries: number;
  private readonly modelSettings?: ModelSettings;

  constructor(options: ModelGroupChatManagerOptions) {
    if (!options || typeof options.client?.complete !== 'function') {
      throw new OrchestrationConfigError('ModelGroupChatManager: "client" must be a ChatClient (e.g. new OpenAIChatClient({ model })).');
    }
    const { maxRetries = 2, name = DEFAULT_GROUP_CHAT_MANAGER_NAME } = options;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new OrchestrationConfigError(`ModelGroupChatManager: "maxRetries" must be an integer >= 0, got ${String(maxRetries)}.`);
    }
    if (typeof name !== 'string' || name.trim() === '') throw new OrchestrationConfigError('ModelGroupChatManager: "name" must be a non-empty string.');
    this.client = options.client;
    this.instructions = options.instructions ?? DEFAULT_MODEL_INSTRUCTIONS;
    this.maxRetries = maxRetries;
    this.name = name;
    if (options.modelSettings) this.modelSettings = options.modelSettings;
  }

  /** Asks the model whether to finish; going on, its answer also names the next speaker. */
  async shouldTerminate(state: GroupChatState, { signal }: GroupChatDecisionContext): Promise<TerminationVerdict> {
    const { value, usage } = await this.decide(state, signal, false);
    if (value.terminate) {
      return { terminate: true, reason: value.reason, ...(value.finalMessage.trim() ? { message: value.finalMessage } : {}), usage };
    }
    return { terminate: false, reason: value.reason, nextSpeaker: { speaker: value.nextSpeaker, reason: value.reason }, usage };
  }

  /** Asks the model who speaks next (the first speaker, or after a person spoke). */
  async selectNextSpeaker(state: GroupChatState, { signal }: GroupChatDecisionContext): Promise<SpeakerSelection> {
    const { value, usage } = await this.decide(state, signal, true);
    return { speaker: value.nextSpeaker, reason: value.reason, usage };
  }

  private async decide(state: GroupChatState, signal: AbortSignal, mustPick: boolean): Promise<{ value: ModelDecision; usage: Usage }> {
    const names = state.members.map((m) => m.name);
    const schema = z.object({
      terminate: z.boolean().describe(mustPick ? 'Always false here: someone must speak.' : 'True when the task is done and the chat should end.'),
      reason: z.string().describe('Why, in one sentence.'),
      nextSpeaker: z.string().describe(`Who speaks next: exactly one of ${names.map((n) => JSON.stringify(n)).join(', ')} ('' only when terminating).`),
      finalMessage: z.string().describe('When terminating: the final answer for the user; otherwise empty.'),
    }).superRefine((value, ctx) => {
      if ((mustPick || !value.terminate) && !names.includes(value.nextSpeaker)) {
        ctx.addIssue({ code: 'custom', path: ['nextSpeaker'], message: `${JSON.stringify(value.nextSpeaker)} is not a member; name exactly one of: ${names.join(', ')}` });
      }
    });
    try {
      const { value, usage } = await callStructured({
        client: this.client,
        caller: `ModelGroupChatManager "${this.name}"`,
        schema,
        schemaName: 'group_chat_decision',
        messages: this.prompt(state, mustPick),
        maxRetries: this.maxRetries,
        signal,
        ...(this.modelSettings ? { modelSettings: this.modelSettings } : {}),
      });
      return { value, usage };
    } catch (error) {
      if (error instanceof StructuredOutputError && error.issues.some((i) => i.path === 'nextSpeaker')) {
        throw new UnknownSpeakerError(badName(error.lastOutput), names, { by: `ModelGroupChatManager "${this.name}"`, attempts: error.attempts, cause: error });
      }
      throw error;
    }
  }

  private prompt(state: GroupChatState, mustPick: boolean): ChatMessage[] {
    const roster = state.members.map((m) => `- ${m.name}: ${m.description ?? '(no description)'}`).join('\n');
    const transcript = state.conversation
      .filter((m) => m.role !== 'tool' && m.content.trim() !== '')
      .map((m) => `[${m.role === 'assistant' ? m.name ?? 'assistant' : m.name ?? m.role}]: ${m.content}`)
      .join('\n\n');
    const ask = mustPick
      ? 'Choose the member who should speak next (terminate: false).'
      : 'Is the task done? If so: terminate true, with the final answer in finalMessage. If not: terminate false, and the member who should speak next in nextSpeaker.';
    return [
      {
        id: `${this.name}:instructions`,
        role: 'system',
        content: `${this.instructions}\n\nMembers (use these exact names):\n${roster}\n\nAnswer with only a JSON object: {"terminate": boolean, "reason": string, "nextSpeaker": string, "finalMessage": string}.`,
      },
      { id: `${this.name}:round-${state.round}`, role: 'user', content: `The conversation so far (${state.round} member turn(s)):\n\n${transcript || '(nothing yet)'}\n\n${ask}` },
    ];
  }
}

/** The `nextSpeaker` of the model's last answer, as it wrote it. */
function badName(lastOutput: string): string {
  try {
    const parsed = JSON.parse(lastOutput.replace(/^\s*```(?:json)?\s*\n?|\n?\s*```\s*$/gi, '')) as { nextSpeaker?: unknown };
    return typeof parsed.nextSpeaker === 'string' ? parsed.nextSpeaker : String(parsed.nextSpeaker);
  } catch {
    return lastOutput;
  }
}
