import { fromPromise, type AnyActorLogic } from 'xstate';
import { ChatMessageSchema, type ChatMessage } from '../agents/chat-message.js';
import {
  GroupChatDecisionError, groupChatManagerMachine, type GroupChatDecisionInput, type GroupChatManagerInput, type SpeakerChoice, type SpeakerDecision,
  type TerminationDecision,
} from '../actors/group-chat-manager.js';
import { OrchestrationConfigError } from './errors.js';
import {
  DEFAULT_GROUP_CHAT_MANAGER_NAME, RoundRobinGroupChatManager,
  type GroupChatManager, type GroupChatSelector, type SpeakerSelection, type TerminationVerdict,
} from './group-chat-managers.js';
import type { RunIds } from './invocation.js';
import { Orchestration, type OrchestrationOptions, type OrchestrationOutput } from './orchestration.js';
import { TOPOLOGY_NODES, orchestrationTopology, type TopologyDiagram } from './topology.js';

export interface GroupChatOptions<TOut, TIn> extends OrchestrationOptions<TOut, TIn> {
  /**
   * Who decides: a {@link GroupChatManager} (e.g. `new ModelGroupChatManager({ client })`) or a
   * plain selector function returning a member's name. Default `new RoundRobinGroupChatManager()`.
   */
  manager?: GroupChatManager | GroupChatSelector;
  /** Agent turns before the chat ends with reason `max_rounds`. Default 10. */
  maxRounds?: number;
}

/** Default for {@link GroupChatOptions.maxRounds}. */
export const DEFAULT_GROUP_CHAT_MAX_ROUNDS = 10;

/**
 * Members talk in turns; a manager picks who speaks each round. Every reply is heard by every
 * other member and the manager, so everyone has the whole conversation. After each reply, in
 * this order: `terminationCondition` (reason `terminated`), the manager's `shouldTerminate`
 * (reason `completed`), `maxRounds` (reason `max_rounds`), the manager's `shouldRequestUserInput`
 * (a `human_input_requested` event; the user's words are broadcast, '' or null adds nothing), then
 * `selectNextSpeaker`. A `group_chat_turn { round, speaker, reason? }` event precedes every turn.
 * Every member needs a `description` (selectors and models read it). Output: `messages` =
 * `filterResults` (default: the manager's final message, else the last reply).
 *
 * @example
 * const chat = new GroupChatOrchestration({ members: [writer, reviewer, editor], maxRounds: 6 });
 * const result = await chat.invoke('A product description for our kettle', runtime);
 * for await (const event of result.events) if (event.type === 'group_chat_turn') console.log(event.round, event.speaker);
 * const { messages, reason } = await result.get(); // reason: 'max_rounds'
 */
export class GroupChatOrchestration<TOut = OrchestrationOutput, TIn = unknown> extends Orchestration<TOut, TIn> {
  /** The manager (a selector function becomes `{ selectNextSpeaker }`). */
  readonly manager: GroupChatManager;
  readonly maxRounds: number;
  private readonly managerName: string;

  constructor(options: GroupChatOptions<TOut, TIn>) {
    super('GroupChatOrchestration', options);
    const names = this.members.map((m) => m.name);
    for (const member of this.members) {
      if (typeof member.description !== 'string' || member.description.trim() === '') {
        throw new OrchestrationConfigError(`GroupChatOrchestration: member "${member.name}" has no description; every member needs one (the manager reads it to choose who speaks).`);
      }
    }
    this.manager = managerOf(options.manager);
    const { maxRounds = DEFAULT_GROUP_CHAT_MAX_ROUNDS } = options;
    if (!Number.isInteger(maxRounds) || maxRounds < 1) {
      throw new OrchestrationConfigError(`GroupChatOrchestration: "maxRounds" must be an integer >= 1, got ${String(maxRounds)}.`);
    }
    this.maxRounds = maxRounds;
    this.managerName = this.manager.name ?? DEFAULT_GROUP_CHAT_MANAGER_NAME;
    if (typeof this.managerName !== 'string' || this.managerName.trim() === '') {
      throw new OrchestrationConfigError('GroupChatOrchestration: the manager\'s "name" must be a non-empty string.');
    }
    if (names.includes(this.managerName)) {
      throw new OrchestrationConfigError(`GroupChatOrchestration: a member is named "${this.managerName}", like the manager (its usage and messages go under that name); rename the member or give the manager another "name".`);
    }
  }

  /** The manager asks the chosen member to speak; every reply is heard by all; it may ask the user. */
  protected override topology(): TopologyDiagram {
    return orchestrationTopology({
      manager: 'group chat manager',
      members: this.topologyMembers(),
      asksUser: typeof this.manager.shouldRequestUserInput === 'function',
      managerEvents: 'group_chat_turn events',
      drive: (d) => {
        d.edge(TOPOLOGY_NODES.manager, TOPOLOGY_NODES.members, 'turn request (next speaker)');
        d.edge(TOPOLOGY_NODES.members, TOPOLOGY_NODES.manager, 'reply (heard by every member)');
      },
    });
  }

  protected managerLogic(): AnyActorLogic {
    return this.cachedLogic(groupChatManagerMachine, () => {
      const manager = this.manager;
      const name = this.managerName;
      const decision = <T>(call: (input: GroupChatDecisionInput, signal: AbortSignal) => Promise<T>) =>
        fromPromise<T, GroupChatDecisionInput>(({ input, signal }) => call(input, signal));
      return groupChatManagerMachine.provide({
        actions: { checkTermination: this.terminationEffect() },
        actors: {
          selectNextSpeaker: decision(async ({ state }, signal): Promise<SpeakerDecision> => speakerDecision(await manager.selectNextSpeaker(state, { signal }))),
          shouldTerminate: decision(async ({ invocationId, state }, signal): Promise<TerminationDecision> =>
            terminationDecision(await manager.shouldTerminate!(state, { signal }), { invocationId, manager: name })),
          shouldRequestUserInput: decision(async ({ state }, signal) => (await manager.shouldRequestUserInput!(state, { signal })) === true),
          filterResults: decision(async ({ invocationId, state }, signal): Promise<ChatMessage[]> =>
            filteredMessages(await manager.filterResults!(state, { signal }), { invocationId, manager: name })),
        },
      });
    });
  }

  protected managerInput(ids: RunIds): GroupChatManagerInput {
    return {
      ...this.managerIds(ids),
      members: this.memberIds(ids).map(({ name, id }, i) => ({ name, description: this.members[i].description!, id })),
      maxRounds: this.maxRounds,
      managerName: this.managerName,
      decisions: {
        checkTermination: Boolean(this.options.terminationCondition),
        shouldTerminate: typeof this.manager.shouldTerminate === 'function',
        shouldRequestUserInput: typeof this.manager.shouldRequestUserInput === 'function',
        filterResults: typeof this.manager.filterResults === 'function',
      },
    };
  }
}

function managerOf(option: GroupChatOptions<unknown, unknown>['manager']): GroupChatManager {
  if (option === undefined) return new RoundRobinGroupChatManager();
  if (typeof option === 'function') return { selectNextSpeaker: (state) => option(state) };
  if (typeof option !== 'object' || option === null || typeof option.selectNextSpeaker !== 'function') {
    throw new OrchestrationConfigError('GroupChatOrchestration: "manager" must be a selector function (state) => name, or an object with a selectNextSpeaker method (e.g. new ModelGroupChatManager({ client })).');
  }
  for (const method of ['shouldTerminate', 'shouldRequestUserInput', 'filterResults'] as const) {
    if (option[method] !== undefined && typeof option[method] !== 'function') {
      throw new OrchestrationConfigError(`GroupChatOrchestration: the manager's "${method}" must be a method.`);
    }
  }
  return option;
}

/** A name as the machine takes it: no name (undefined, null) is '' — "returned no name"; anything else its string. */
function nameOf(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

/** A selector's answer as the machine takes it (a non-string speaker fails the run, named). */
function speakerDecision(selection: SpeakerSelection): SpeakerDecision {
  if (typeof selection === 'string') return { speaker: selection };
  if (typeof selection !== 'object' || selection === null) return { speaker: nameOf(selection) };
  const speaker = typeof selection.speaker === 'string' ? selection.speaker : nameOf(selection.speaker);
  return { speaker, ...(selection.reason ? { reason: selection.reason } : {}), ...(selection.usage ? { usage: selection.usage } : {}) };
}

interface DecisionIds {
  invocationId: string;
  manager: string;
}

function terminationDecision(verdict: TerminationVerdict, ids: DecisionIds): TerminationDecision {
  if (typeof verdict !== 'object' || verdict === null) return { terminate: verdict === true };
  const next: SpeakerChoice | undefined = verdict.nextSpeaker === undefined ? undefined : speakerDecision(verdict.nextSpeaker);
  return {
    terminate: verdict.terminate === true,
    ...(verdict.reason ? { reason: verdict.reason } : {}),
    ...(verdict.message !== undefined ? { message: finalMessage(verdict.message, ids) } : {}),
    ...(next ? { next: { speaker: next.speaker, ...(next.reason ? { reason: next.reason } : {}) } } : {}),
    ...(verdict.usage ? { usage: verdict.usage } : {}),
  };
}

/** A value as an error message shows it. */
function shown(value: unknown): string {
  if (typeof value === 'object' && value !== null) return JSON.stringify(value) ?? String(value);
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function firstIssue(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  return `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}

/** A message object with the missing fields filled in, validated; the zod issue when it is not a ChatMessage. */
function asMessage(value: unknown, defaults: { id: string; name?: string }): { message: ChatMessage } | { issue: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { issue: `got ${shown(value)}` };
  const fields = value as Partial<ChatMessage>;
  const parsed = ChatMessageSchema.safeParse({
    ...fields,
    id: fields.id ?? defaults.id,
    ...(fields.name === undefined && defaults.name !== undefined ? { name: defaults.name } : {}),
  });
  return parsed.success ? { message: parsed.data } : { issue: firstIssue(parsed.error) };
}

/**
 * `shouldTerminate`'s final message: a string, or a ChatMessage — a missing `id` is
 * `<invocation>:<manager>:final` (like a string's), a missing `name` the manager's.
 */
function finalMessage(value: unknown, ids: DecisionIds): string | ChatMessage {
  if (typeof value === 'string') return value;
  const checked = asMessage(value, { id: `${ids.invocationId}:${ids.manager}:final`, name: ids.manager });
  if ('message' in checked) return checked.message;
  throw new GroupChatDecisionError(ids.manager, 'shouldTerminate', `a final message that is neither a string nor a ChatMessage (${checked.issue})`);
}

/** `filterResults`' answer: an array of ChatMessages; a missing `id` is `<invocation>:<manager>:result:<index>`. */
function filteredMessages(value: unknown, ids: DecisionIds): ChatMessage[] {
  if (!Array.isArray(value)) throw new GroupChatDecisionError(ids.manager, 'filterResults', `${shown(value)}, not an array of ChatMessages`);
  return value.map((element, i) => {
    const checked = asMessage(element, { id: `${ids.invocationId}:${ids.manager}:result:${i}` });
    if ('message' in checked) return checked.message;
    throw new GroupChatDecisionError(ids.manager, 'filterResults', `an invalid message at index ${i} (${checked.issue})`);
  });
}
