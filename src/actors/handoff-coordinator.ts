/**
 * The handoff coordinator: owns the conversation's routing state (current agent, handoff count,
 * autonomous turns) — per invocation, never on the orchestration object. After each turn:
 * a handoff goes to its target; `complete_task` ends; otherwise the termination condition is
 * checked, then the agent continues on its own (autonomous mode) or the user is asked. The
 * user's reply goes to the agent `resumeWith` names.
 */
import { and, assign, emit, enqueueActions, setup } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import { BUSY_TAG, effect, errorCommand, sendCommand, type AgentIdLike, type MessageEvent } from '../runtime/index.js';
import {
  turnRequest, type AgentResponse, type Completion, type ConversationMessage, type HistoryMessage, type HumanInputRequest, type Kickoff, type UserReply,
} from './protocol.js';
import { completionAnswer, finalReply } from './replies.js';
import { reportAction, reportCommand, type ActorEvent } from './events.js';
import { checkingTerminationState, heardMessages, invokeError, terminated, type TerminationEvents, type TerminationInput } from './termination.js';

/** Who answers the user's next message. `previous` is an alias of `asker`. */
export type ResumeWith = 'asker' | 'previous' | 'start';

export interface HandoffCoordinatorInput {
  invocationId: string;
  /** This actor's own id: where the gateway sends the user's replies. */
  self: AgentIdLike;
  boundary: AgentIdLike;
  members: Record<string, AgentIdLike>;
  startAgent: string;
  resumeWith: ResumeWith;
  gateway: AgentIdLike;
  end: AgentIdLike;
  maxHandoffs: number;
  /** Agents in autonomous mode, with how many times each may continue without the user. */
  autonomous: Record<string, number>;
  continuationPrompt: string;
  /** Whether a termination condition is configured (the provided `checkTermination` effect runs). */
  checkTermination: boolean;
}

export interface HandoffCoordinatorContext extends HandoffCoordinatorInput {
  /**
   * The transcript the termination condition is judged on; kept only when one is configured
   * (`checkTermination`), since every idle conversation would otherwise hold one more copy.
   */
  conversation: ChatMessage[];
  lastAgent: string | null;
  lastReply: ChatMessage[];
  handoffs: number;
  autonomousTurns: Record<string, number>;
  userRequests: number;
  /** The user request waiting for its reply (a reply to any other is ignored). */
  openRequest: string | null;
}

type CoordinatorEvent = MessageEvent<Kickoff> | MessageEvent<HistoryMessage> | MessageEvent<ConversationMessage> | MessageEvent<AgentResponse> | MessageEvent<UserReply> | TerminationEvents;

function response(event: CoordinatorEvent): AgentResponse {
  return (event as MessageEvent<AgentResponse>).message;
}

/**
 * The counters of a fresh user turn. Shared and frozen: every idle conversation would otherwise
 * hold an empty object of its own (updates build a new object; none mutates it).
 */
const NO_AUTONOMOUS_TURNS: Record<string, number> = Object.freeze({});

/**
 * The transcript with `messages` appended, when the termination condition needs it. `concat`
 * allocates the exact length; `[...a, ...b]` leaves room for 16 more references in every copy.
 */
function heard(context: HandoffCoordinatorContext, messages: ChatMessage[]): ChatMessage[] {
  return context.checkTermination ? context.conversation.concat(messages) : context.conversation;
}

function completion(context: HandoffCoordinatorContext, reason: string, messages: ChatMessage[] = context.lastReply): Completion {
  return { type: 'completion', reason, messages, ...(context.lastAgent ? { lastAgent: context.lastAgent } : {}) };
}

/**
 * The handoff coordinator's machine. Provide `checkTermination` and `report` with `.provide(...)`;
 * step it with `transition()` and read the commands it emits.
 *
 * @example
 * const [routing] = initialTransition(handoffCoordinatorMachine, input);
 * const [, actions] = transition(handoffCoordinatorMachine, routing, messageEvent(agentResponse));
 * commandsOf(actions); // e.g. a turn_request to the handoff target
 */
export const handoffCoordinatorMachine = setup({
  types: {
    context: {} as HandoffCoordinatorContext,
    input: {} as HandoffCoordinatorInput,
    events: {} as CoordinatorEvent,
  },
  actions: {
    /** Provided by the orchestration: the user's termination condition. */
    // Never ends the run; the orchestration provides the user's condition. (Declared here, with an
    // untyped `_options`, so XState still infers this machine's action types: see `effect`.)
    checkTermination: effect('checkTermination', (_input: TerminationInput, _options): boolean => false),
    report: emit(({ context }, event: ActorEvent) => reportCommand(context.boundary, context.invocationId, event)),
    recordConversation: assign({ conversation: ({ context, event }) => heard(context, heardMessages(event)) }),
    /** The first speaker: the start agent, or — continuing a conversation — whom `resumeWith` names. */
    askFirstSpeaker: enqueueActions(({ context, event, enqueue }) => {
      const { lastAgent } = (event as MessageEvent<Kickoff>).message;
      const first = context.resumeWith !== 'start' && lastAgent !== undefined && Object.hasOwn(context.members, lastAgent) ? lastAgent : context.startAgent;
      enqueue.assign({ lastAgent: first });
      enqueue.emit(sendCommand(turnRequest(), context.members[first]));
    }),
    recordResponse: assign(({ context, event }) => {
      const r = response(event);
      return { conversation: heard(context, r.messages), lastAgent: r.agent, lastReply: finalReply(r) };
    }),
    handOff: enqueueActions(({ context, event, enqueue }) => {
      const { agent, outcome } = response(event);
      if (outcome.kind !== 'handoff') return;
      enqueue.assign({ handoffs: context.handoffs + 1, autonomousTurns: { ...context.autonomousTurns, [agent]: 0 }, lastAgent: outcome.target });
      enqueue(reportAction({ type: 'handoff', from: agent, to: outcome.target, ...(outcome.reason ? { reason: outcome.reason } : {}) }));
      enqueue.emit(sendCommand(turnRequest(), context.members[outcome.target]));
    }),
    continueAutonomously: enqueueActions(({ context, enqueue }) => {
      const agent = context.lastAgent!;
      enqueue.assign({ autonomousTurns: { ...context.autonomousTurns, [agent]: (context.autonomousTurns[agent] ?? 0) + 1 } });
      enqueue.emit(sendCommand(turnRequest(context.continuationPrompt), context.members[agent]));
    }),
    askUser: enqueueActions(({ context, enqueue }) => {
      const n = context.userRequests + 1;
      const request: HumanInputRequest = {
        type: 'human_input_request',
        // Unique across runs, so one orchestration object can tell its conversations' requests apart.
        requestId: `${context.invocationId}:human:${n}`,
        kind: 'input',
        agent: context.lastAgent ?? context.startAgent,
        ...(context.lastReply[0] ? { message: context.lastReply[0] } : {}),
        replyTo: context.self,
      };
      enqueue.assign({ userRequests: n, openRequest: request.requestId });
      enqueue.emit(sendCommand(request, context.gateway));
    }),
    closeRequest: assign({ openRequest: null }),
    routeUserTurn: enqueueActions(({ context, enqueue }) => {
      const target = context.resumeWith === 'start' || !context.lastAgent ? context.startAgent : context.lastAgent;
      // Each user turn starts the autonomous counters afresh.
      enqueue.assign({ autonomousTurns: NO_AUTONOMOUS_TURNS, lastAgent: target });
      enqueue.emit(sendCommand(turnRequest(), context.members[target]));
    }),
    completeTask: enqueueActions(({ context, event, enqueue }) => {
      const messages = completionAnswer(context.lastReply, response(event), context.invocationId);
      enqueue.emit(sendCommand(completion(context, 'completed', messages), context.end));
    }),
    /** A termination condition that throws fails the invocation with its error. */
    failWithError: emit(({ event }) => errorCommand(invokeError(event))),
    completeTerminated: enqueueActions(({ context, enqueue }) => enqueue.emit(sendCommand(completion(context, 'terminated'), context.end))),
    completeUserEnded: enqueueActions(({ context, enqueue }) => enqueue.emit(sendCommand(completion(context, 'user_ended'), context.end))),
    completeMaxHandoffs: enqueueActions(({ context, enqueue }) => enqueue.emit(sendCommand(completion(context, 'max_handoffs'), context.end))),
  },
  guards: {
    requestsHandoff: ({ event }) => response(event).outcome.kind === 'handoff',
    reachedMaxHandoffs: ({ context }) => context.handoffs >= context.maxHandoffs,
    completesTask: ({ event }) => response(event).outcome.kind === 'complete',
    hasTerminationCondition: ({ context }) => context.checkTermination,
    isTerminated: terminated,
    answersOpenRequest: ({ context, event }) => (event as MessageEvent<UserReply>).message.requestId === context.openRequest,
    userEnded: ({ event }) => (event as MessageEvent<UserReply>).message.message === null,
    mayContinueAutonomously: ({ context }) => {
      const agent = context.lastAgent;
      if (!agent || !Object.hasOwn(context.autonomous, agent)) return false;
      return (context.autonomousTurns[agent] ?? 0) < context.autonomous[agent];
    },
  },
}).createMachine({
  id: 'handoffCoordinator',
  // Not `{ ...input, … }`: on Node 20's V8, adding fields to a spread copy makes new hidden
  // classes on every call (≈ 4.8 KB and several µs per run); Object.assign reuses them.
  context: ({ input }) => Object.assign({}, input, {
    conversation: [],
    lastAgent: null,
    lastReply: [],
    handoffs: 0,
    autonomousTurns: NO_AUTONOMOUS_TURNS,
    userRequests: 0,
    openRequest: null,
  }),
  initial: 'waitingForKickoff',
  on: {
    history: { actions: 'recordConversation' },
    conversation: { actions: 'recordConversation' },
  },
  states: {
    waitingForKickoff: {
      on: { kickoff: { target: 'routing', actions: 'askFirstSpeaker' } },
    },
    /** At rest between turns. */
    routing: {
      on: {
        agent_response: [
          { guard: and(['requestsHandoff', 'reachedMaxHandoffs']), target: 'done', actions: ['recordResponse', 'completeMaxHandoffs'] },
          { guard: 'requestsHandoff', actions: ['recordResponse', 'handOff'] },
          { guard: 'completesTask', target: 'done', actions: ['recordResponse', 'completeTask'] },
          { guard: 'hasTerminationCondition', target: 'checkingTerminationAfterReply', actions: 'recordResponse' },
          { target: 'afterReply', actions: 'recordResponse' },
        ],
        user_reply: [
          { guard: and(['answersOpenRequest', 'userEnded']), target: 'done', actions: 'completeUserEnded' },
          { guard: and(['answersOpenRequest', 'hasTerminationCondition']), target: 'checkingTerminationAfterUser', actions: 'closeRequest' },
          { guard: 'answersOpenRequest', target: 'routing', actions: ['closeRequest', 'routeUserTurn'] },
        ],
      },
    },
    checkingTerminationAfterReply: checkingTerminationState([{ target: 'afterReply' }]),
    afterReply: {
      always: [
        { guard: 'mayContinueAutonomously', target: 'routing', actions: 'continueAutonomously' },
        { target: 'routing', actions: 'askUser' },
      ],
    },
    checkingTerminationAfterUser: checkingTerminationState([{ target: 'routing', actions: 'routeUserTurn' }]),
    done: {},
  },
});
