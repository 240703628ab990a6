/**
 * The group chat manager: each round it asks one member to speak; the member's reply is
 * broadcast to every other member and to this manager, so everyone has the whole conversation
 * in order. After each reply, in this order:
 *
 * 1. the user's termination condition (`checkTermination`) — true ends with reason `terminated`;
 * 2. the manager's `shouldTerminate` — true ends with reason `completed`;
 * 3. `maxRounds` agent turns — reached ends with reason `max_rounds`;
 * 4. the manager's `shouldRequestUserInput` — true asks the user through the human gateway (their
 *    words are broadcast as a user message; null or '' means nothing to add);
 * 5. the manager's `selectNextSpeaker` — the member who speaks next.
 *
 * A `group_chat_turn { round, speaker, reason? }` event precedes every turn. The decisions are
 * provided actors (the orchestration wires the selector, the manager object or the model), so
 * the machine steps purely; its state (round, last speaker, the manager's pick) lives in its
 * context — per invocation, never on a manager object.
 */
import { and, assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { addUsage, type ChatMessage, type Usage } from '../agents/chat-message.js';
import { TroupeError } from '../core/index.js';
import {
  BUSY_TAG, effect, errorCommand, publishCommand, sendCommand, type AgentIdLike, type MessageEvent, type TopicIdLike,
} from '../runtime/index.js';
import {
  conversation, turnRequest, type AgentResponse, type Completion, type ConversationMessage, type HistoryMessage,
  type HumanInputRequest, type Kickoff, type UserReply,
} from './protocol.js';
import { finalReply } from './replies.js';
import { reportAction, reportCommand, type ActorEvent } from './events.js';
import { checkingTerminationState, heardMessages, invokeError, terminated, type TerminationEvents, type TerminationInput } from './termination.js';

/** What a group chat's decisions are shown: a deep copy of the run's state, as plain data (changing it changes nothing). */
export interface GroupChatState {
  /** Agent turns taken so far in this invocation (0 when the first speaker is chosen). */
  round: number;
  /** The whole conversation so far: earlier history, the task, replies, the user's words. */
  conversation: ChatMessage[];
  /** The members, in order, with their descriptions. */
  members: Array<{ name: string; description?: string }>;
  /** Who spoke last (when continuing a conversation, at first: its `lastAgent`). */
  lastSpeaker?: string;
}

/** The next speaker, as a decision reports it (a `reason` shows on the `group_chat_turn` event). */
export interface SpeakerChoice {
  speaker: string;
  reason?: string;
}

/** What the provided `selectNextSpeaker` actor resolves to. */
export interface SpeakerDecision extends SpeakerChoice {
  /** Tokens the decision cost (a model manager), counted under the manager's name. */
  usage?: Usage;
}

/** What the provided `shouldTerminate` actor resolves to. */
export interface TerminationDecision {
  terminate: boolean;
  reason?: string;
  /** The final answer when terminating (becomes `output.messages`, unless `filterResults` says otherwise). */
  message?: string | ChatMessage;
  /** A manager that decides both at once may name the next speaker here (used unless a person spoke since). */
  next?: SpeakerChoice;
  usage?: Usage;
}

/** The input every provided decision actor receives. */
export interface GroupChatDecisionInput {
  invocationId: string;
  state: GroupChatState;
}

export interface GroupChatManagerInput {
  invocationId: string;
  /** This actor's own id: where the gateway sends the user's replies. */
  self: AgentIdLike;
  boundary: AgentIdLike;
  gateway: AgentIdLike;
  end: AgentIdLike;
  /** Where the manager's own words (a model manager's final message) are broadcast. */
  topic: TopicIdLike;
  members: Array<{ name: string; description?: string; id: AgentIdLike }>;
  /** Agent turns before the chat ends with reason `max_rounds`. */
  maxRounds: number;
  /** The name the manager's own messages and token usage go under. */
  managerName: string;
  /** Which of the optional decisions are configured (the others are skipped, never invoked). */
  decisions: {
    checkTermination: boolean;
    shouldTerminate: boolean;
    shouldRequestUserInput: boolean;
    filterResults: boolean;
  };
}

export type GroupChatEndReason = 'completed' | 'terminated' | 'max_rounds';

export interface GroupChatManagerContext extends GroupChatManagerInput {
  conversation: ChatMessage[];
  /** Agent turns started in this invocation. */
  round: number;
  /** Who is speaking now (its reply is the only one that counts as the turn's). */
  speaker: string | null;
  lastSpeaker: string | null;
  lastReply: ChatMessage[];
  /** The next speaker a combined decision (`shouldTerminate` with `next`) already named. */
  proposal: SpeakerChoice | null;
  /** The manager's final message (a model manager that decided to finish). */
  finalMessage: ChatMessage | null;
  /** Why the chat is ending (while `filterResults` runs). */
  endReason: GroupChatEndReason | null;
  /** Tokens the manager's decisions cost. */
  usage: Usage | null;
  userRequests: number;
  /** The user request waiting for its reply (a reply to any other is ignored). */
  openRequest: string | null;
}

type GroupChatManagerEvent =
  | MessageEvent<Kickoff> | MessageEvent<HistoryMessage> | MessageEvent<ConversationMessage>
  | MessageEvent<AgentResponse> | MessageEvent<UserReply> | TerminationEvents;

/**
 * A selector or manager named someone who is not a member. `speaker` is the bad name,
 * `members` the valid ones; `attempts` is how many answers a model manager gave.
 *
 * @example
 * catch (error) { if (error instanceof UnknownSpeakerError) console.warn(error.speaker, error.members); }
 */
export class UnknownSpeakerError extends TroupeError {
  constructor(
    readonly speaker: string,
    readonly members: readonly string[],
    options: { by?: string; attempts?: number; cause?: unknown } = {},
  ) {
    const by = options.by ?? 'The group chat manager';
    const tries = options.attempts !== undefined ? ` after ${options.attempts} attempt(s)` : '';
    const what = speaker.trim() === ''
      ? `${by} returned no name for the next speaker${tries}`
      : `${by} named ${JSON.stringify(speaker)} as the next speaker${tries}, which is not a member`;
    super('unknown_speaker', `${what} (members: ${members.join(', ')}).`, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** The group chat decisions whose answers are checked (see {@link GroupChatDecisionError}). */
export type GroupChatDecisionName = 'shouldTerminate' | 'filterResults';

/**
 * A group chat manager's decision returned something unusable: `shouldTerminate` a final
 * `message` that is neither a string nor a ChatMessage, or `filterResults` something other than
 * an array of ChatMessages. `manager` is the manager's name, `decision` the method.
 *
 * @example
 * catch (error) { if (error instanceof GroupChatDecisionError) console.warn(error.manager, error.decision, error.message); }
 */
export class GroupChatDecisionError extends TroupeError {
  constructor(readonly manager: string, readonly decision: GroupChatDecisionName, what: string) {
    super('invalid_decision', `Group chat manager "${manager}": ${decision}() returned ${what}.`);
  }
}

/**
 * The state a decision is shown: a deep copy (`structuredClone`), so a decision that changes a
 * message changes neither the machine's conversation, nor the members' histories (they hold the
 * same message objects), nor the output.
 */
export function groupChatState(context: GroupChatManagerContext): GroupChatState {
  return {
    round: context.round,
    conversation: structuredClone(context.conversation),
    members: context.members.map((m) => (m.description === undefined ? { name: m.name } : { name: m.name, description: m.description })),
    ...(context.lastSpeaker !== null ? { lastSpeaker: context.lastSpeaker } : {}),
  };
}

function decisionInput({ context }: { context: GroupChatManagerContext }): GroupChatDecisionInput {
  return { invocationId: context.invocationId, state: groupChatState(context) };
}

function output<T>(event: unknown): T {
  return (event as { output: T }).output;
}

function isMember(context: GroupChatManagerContext, name: unknown): boolean {
  return typeof name === 'string' && context.members.some((m) => m.name === name);
}

function completion(context: GroupChatManagerContext, reason: string, messages: ChatMessage[]): Completion {
  return {
    type: 'completion',
    reason,
    messages,
    ...(context.lastSpeaker !== null ? { lastAgent: context.lastSpeaker } : {}),
    ...(context.usage ? { usage: { [context.managerName]: context.usage } } : {}),
  };
}

/** What the chat answers when nothing filters it: the manager's final message, else the last reply. */
function defaultAnswer(context: GroupChatManagerContext): ChatMessage[] {
  return context.finalMessage ? [context.finalMessage] : context.lastReply;
}

/**
 * The group chat manager's machine. Provide `selectNextSpeaker` (and, when configured,
 * `checkTermination`, `shouldTerminate`, `shouldRequestUserInput`, `filterResults`) with
 * `.provide(...)`; step it with `transition()` and feed the decisions' results as done events.
 *
 * @example
 * const [waiting] = initialTransition(groupChatManagerMachine, input);
 * const [deciding, actions] = transition(groupChatManagerMachine, waiting, messageEvent({ type: 'kickoff' }));
 * invokedOf(actions)[0].input;                 // { invocationId, state: { round: 0, … } }
 * const [speaking, next] = transition(groupChatManagerMachine, deciding, doneEvent('selectNextSpeaker', { speaker: 'Writer' }));
 * reportsOf(next);                             // [{ type: 'group_chat_turn', round: 1, speaker: 'Writer' }]
 */
export const groupChatManagerMachine = setup({
  types: {
    context: {} as GroupChatManagerContext,
    input: {} as GroupChatManagerInput,
    events: {} as GroupChatManagerEvent,
  },
  actors: {
    /** Provided: the manager's `shouldTerminate`. */
    shouldTerminate: fromPromise<TerminationDecision, GroupChatDecisionInput>(async () => ({ terminate: false })),
    /** Provided: the manager's `shouldRequestUserInput`. */
    shouldRequestUserInput: fromPromise<boolean, GroupChatDecisionInput>(async () => false),
    /** Provided: the selector, the manager's `selectNextSpeaker` or the model. */
    selectNextSpeaker: fromPromise<SpeakerDecision, GroupChatDecisionInput>(async () => {
      throw new Error('No selector is attached to this group chat manager: provide selectNextSpeaker.');
    }),
    /** Provided: the manager's `filterResults` (what `output.messages` is). */
    filterResults: fromPromise<ChatMessage[], GroupChatDecisionInput>(async ({ input }) => input.state.conversation.slice(-1)),
  },
  actions: {
    /** Provided: the user's `terminationCondition` (an effect, not an invoked actor). */
    // Never ends the run; the orchestration provides the user's condition. (Declared here, with an
    // untyped `_options`, so XState still infers this machine's action types: see `effect`.)
    checkTermination: effect('checkTermination', (_input: TerminationInput, _options): boolean => false),
    report: emit(({ context }, event: ActorEvent) => reportCommand(context.boundary, context.invocationId, event)),
    recordHeard: assign({ conversation: ({ context, event }) => [...context.conversation, ...heardMessages(event)] }),
    /** Continuing a conversation: its last agent is the last speaker (round-robin goes on from it). */
    recordKickoff: assign({
      lastSpeaker: ({ context, event }) => {
        const { lastAgent } = (event as MessageEvent<Kickoff>).message;
        return isMember(context, lastAgent) ? lastAgent! : null;
      },
    }),
    recordReply: assign(({ context, event }) => {
      const response = (event as MessageEvent<AgentResponse>).message;
      return {
        conversation: [...context.conversation, ...response.messages],
        lastSpeaker: response.agent,
        lastReply: finalReply(response),
        speaker: null,
        proposal: null,
      };
    }),
    recordUsage: assign({
      usage: ({ context, event }) => {
        const usage = output<{ usage?: Usage } | undefined>(event)?.usage;
        return usage ? addUsage(context.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 }, usage) : context.usage;
      },
    }),
    /** A combined decision named the next speaker: keep it for when one is chosen. */
    keepProposal: assign({
      proposal: ({ event }) => {
        const next = output<TerminationDecision>(event).next;
        return next ? { speaker: next.speaker, ...(next.reason ? { reason: next.reason } : {}) } : null;
      },
    }),
    /** The manager's final message, broadcast so the transcript has it. */
    keepFinalMessage: enqueueActions(({ context, event, enqueue }) => {
      const { message } = output<TerminationDecision>(event);
      if (message === undefined || (typeof message === 'string' ? message : message.content).trim() === '') return;
      const final: ChatMessage = typeof message === 'string'
        ? { id: `${context.invocationId}:${context.managerName}:final`, role: 'assistant', name: context.managerName, content: message }
        : message;
      enqueue.assign({ finalMessage: final, conversation: [...context.conversation, final] });
      enqueue.emit(publishCommand(conversation([final]), context.topic));
    }),
    endWith: assign({ endReason: (_, reason: GroupChatEndReason) => reason }),
    startTurn: enqueueActions(({ context, event, enqueue }) => {
      // The pick a combined decision made, else what selectNextSpeaker just answered.
      const choice = context.proposal ?? (event as unknown as { output: SpeakerChoice }).output;
      const member = context.members.find((m) => m.name === choice.speaker)!;
      const round = context.round + 1;
      enqueue.assign({ round, speaker: member.name, proposal: null });
      enqueue(reportAction({ type: 'group_chat_turn', round, speaker: member.name, ...(choice.reason ? { reason: choice.reason } : {}) }));
      enqueue.emit(sendCommand(turnRequest(), member.id));
    }),
    askUser: enqueueActions(({ context, enqueue }) => {
      const n = context.userRequests + 1;
      const request: HumanInputRequest = {
        type: 'human_input_request',
        // Unique across runs, so one orchestration object can tell its conversations' requests apart.
        requestId: `${context.invocationId}:user:${n}`,
        kind: 'input',
        agent: context.lastSpeaker ?? context.managerName,
        ...(context.lastReply[0] ? { message: context.lastReply[0] } : {}),
        replyTo: context.self,
      };
      enqueue.assign({ userRequests: n, openRequest: request.requestId });
      enqueue.emit(sendCommand(request, context.gateway));
    }),
    /** The user answered; what they said (if anything) was broadcast and heard as `conversation`. */
    closeRequest: assign({ openRequest: null, proposal: ({ context, event }) => ((event as MessageEvent<UserReply>).message.message ? null : context.proposal) }),
    complete: emit(({ context }) => sendCommand(completion(context, context.endReason ?? 'completed', defaultAnswer(context)), context.end)),
    completeFiltered: emit(({ context, event }) => sendCommand(completion(context, context.endReason ?? 'completed', output<ChatMessage[]>(event)), context.end)),
    failUnknownSpeaker: emit(({ context, event }) => {
      const speaker: unknown = context.proposal ? context.proposal.speaker : (event as { output?: SpeakerChoice }).output?.speaker;
      const name = speaker === undefined || speaker === null ? '' : String(speaker);
      return errorCommand(new UnknownSpeakerError(name, context.members.map((m) => m.name)));
    }),
    /** A decision that throws fails the invocation with its error. */
    failWithError: emit(({ event }) => errorCommand(invokeError(event))),
  },
  guards: {
    isCurrentSpeaker: ({ context, event }) => (event as MessageEvent<AgentResponse>).message.agent === context.speaker,
    hasTerminationCondition: ({ context }) => context.decisions.checkTermination,
    hasShouldTerminate: ({ context }) => context.decisions.shouldTerminate,
    hasUserInputDecision: ({ context }) => context.decisions.shouldRequestUserInput,
    hasFilter: ({ context }) => context.decisions.filterResults,
    isTerminated: terminated,
    managerFinishes: ({ event }) => output<TerminationDecision>(event).terminate === true,
    reachedMaxRounds: ({ context }) => context.round >= context.maxRounds,
    userShouldSpeak: ({ event }) => output<boolean>(event) === true,
    answersOpenRequest: ({ context, event }) => (event as MessageEvent<UserReply>).message.requestId === context.openRequest,
    hasProposal: ({ context }) => context.proposal !== null,
    proposalIsMember: ({ context }) => isMember(context, context.proposal?.speaker),
    namesMember: ({ context, event }) => isMember(context, output<SpeakerChoice | undefined>(event)?.speaker),
  },
}).createMachine({
  id: 'groupChatManager',
  context: ({ input }) => ({
    ...input,
    conversation: [],
    round: 0,
    speaker: null,
    lastSpeaker: null,
    lastReply: [],
    proposal: null,
    finalMessage: null,
    endReason: null,
    usage: null,
    userRequests: 0,
    openRequest: null,
  }),
  initial: 'waitingForKickoff',
  on: {
    history: { actions: 'recordHeard' },
    conversation: { actions: 'recordHeard' },
  },
  states: {
    waitingForKickoff: {
      on: { kickoff: { target: 'choosingSpeaker', actions: 'recordKickoff' } },
    },
    /** At rest: the chosen member is speaking; every other reply is not its turn. */
    waitingForSpeaker: {
      on: {
        agent_response: [
          { guard: and(['isCurrentSpeaker', 'hasTerminationCondition']), target: 'checkingTermination', actions: 'recordReply' },
          { guard: 'isCurrentSpeaker', target: 'afterTerminationCondition', actions: 'recordReply' },
        ],
      },
    },
    /** 1. The user's termination condition. */
    // A deep copy, like every decision's: the condition may change what it is given.
    checkingTermination: checkingTerminationState([{ target: 'afterTerminationCondition' }], {
      copy: true,
      terminated: { target: 'finishing', actions: { type: 'endWith', params: 'terminated' } },
      failed: 'failed',
    }),
    afterTerminationCondition: {
      always: [
        { guard: 'hasShouldTerminate', target: 'askingManagerToFinish' },
        { target: 'checkingRoundLimit' },
      ],
    },
    /** 2. The manager's `shouldTerminate` (a model manager also names the next speaker here). */
    askingManagerToFinish: {
      tags: [BUSY_TAG],
      invoke: {
        id: 'shouldTerminate',
        src: 'shouldTerminate',
        input: decisionInput,
        onDone: [
          { guard: 'managerFinishes', target: 'finishing', actions: ['recordUsage', 'keepFinalMessage', { type: 'endWith', params: 'completed' }] },
          { target: 'checkingRoundLimit', actions: ['recordUsage', 'keepProposal'] },
        ],
        onError: { target: 'failed', actions: 'failWithError' },
      },
    },
    /** 3. `maxRounds`, then 4. whether the user has a say. */
    checkingRoundLimit: {
      always: [
        { guard: 'reachedMaxRounds', target: 'finishing', actions: { type: 'endWith', params: 'max_rounds' } },
        { guard: 'hasUserInputDecision', target: 'askingWhetherUserSpeaks' },
        { target: 'choosingSpeaker' },
      ],
    },
    askingWhetherUserSpeaks: {
      tags: [BUSY_TAG],
      invoke: {
        id: 'shouldRequestUserInput',
        src: 'shouldRequestUserInput',
        input: decisionInput,
        onDone: [
          { guard: 'userShouldSpeak', target: 'waitingForUser', actions: 'askUser' },
          { target: 'choosingSpeaker' },
        ],
        onError: { target: 'failed', actions: 'failWithError' },
      },
    },
    /** At rest: the human gateway asks the user; their words arrive as a broadcast, then `user_reply`. */
    waitingForUser: {
      on: {
        user_reply: { guard: 'answersOpenRequest', target: 'choosingSpeaker', actions: 'closeRequest' },
      },
    },
    /** 5. Who speaks next: the pick a combined decision already made, or `selectNextSpeaker`. */
    choosingSpeaker: {
      always: [
        { guard: and(['hasProposal', 'proposalIsMember']), target: 'waitingForSpeaker', actions: 'startTurn' },
        { guard: 'hasProposal', target: 'failed', actions: 'failUnknownSpeaker' },
        { target: 'deciding' },
      ],
    },
    deciding: {
      tags: [BUSY_TAG],
      invoke: {
        id: 'selectNextSpeaker',
        src: 'selectNextSpeaker',
        input: decisionInput,
        onDone: [
          { guard: 'namesMember', target: 'waitingForSpeaker', actions: ['recordUsage', 'startTurn'] },
          { target: 'failed', actions: 'failUnknownSpeaker' },
        ],
        onError: { target: 'failed', actions: 'failWithError' },
      },
    },
    finishing: {
      always: [
        { guard: 'hasFilter', target: 'filteringResults' },
        { target: 'done', actions: 'complete' },
      ],
    },
    /** The manager's `filterResults` decides the answer (`output.messages`). */
    filteringResults: {
      tags: [BUSY_TAG],
      invoke: {
        id: 'filterResults',
        src: 'filterResults',
        input: decisionInput,
        onDone: { target: 'done', actions: 'completeFiltered' },
        onError: { target: 'failed', actions: 'failWithError' },
      },
    },
    /** The completion went to the end executor. */
    done: {},
    /** A decision failed (or named no member); the run fails with its error. */
    failed: {},
  },
});
