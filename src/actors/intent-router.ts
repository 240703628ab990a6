/**
 * The intent router: the manager of a handoff orchestration in routing-by-intent mode (the lazy
 * classification proposed on Agent Framework PR #1469). It classifies the first user message and
 * asks the chosen specialist to answer; from then on the user's messages go straight to that
 * specialist — no classification, no model call of its own. Only when a specialist's answer is
 * out of scope (outcome `out_of_scope`: it contained the phrase) does it classify again: the
 * latest user message with the last `contextTurns` turns, a `handoff { from, to, reason:
 * 'classified' }` event, and the chosen specialist — given those turns and nothing else
 * (`reset`, then `history`) — answers the same message.
 *
 * Loop guard: each user message gets one classification after an out-of-scope answer. If the
 * classifier names the specialist that just declined, or the specialist it chose declines too,
 * the router asks the user to rephrase (`rephraseMessage`, said to everyone); the user's next
 * message goes to the specialist that holds the conversation, as any other.
 *
 * The classifier is a provided actor (`classify`, answering {@link IntentClassification}), so the
 * machine steps purely. A model classifier's tokens are added up and sent with the completion
 * under {@link INTENT_ROUTER_NAME} (`output.usage.byAgent.intent_router`, and in the total).
 */
import { and, assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { addUsage, ZERO_USAGE, type ChatMessage, type Usage } from '../agents/chat-message.js';
import { TroupeError } from '../core/index.js';
import { httpDetails } from './http-details.js';
import { BUSY_TAG, effect, errorCommand, publishCommand, sendCommand, type AgentIdLike, type MessageEvent, type TopicIdLike } from '../runtime/index.js';
import {
  conversation, turnRequest, type AgentResponse, type Completion, type ConversationMessage, type HistoryMessage, type HumanInputRequest,
  type Kickoff, type Reset, type UserReply,
} from './protocol.js';
import { completionAnswer, finalReply } from './replies.js';
import { reportAction, reportCommand, type ActorEvent } from './events.js';
import { checkingTerminationState, heardMessages, invokeError, terminated, type TerminationEvents, type TerminationInput } from './termination.js';

/**
 * The name the intent router's own token usage goes under in `output.usage.byAgent` (a model
 * classifier's calls). No member may have it.
 */
export const INTENT_ROUTER_NAME = 'intent_router';

/** What the provided `classify` actor answers: the member chosen, and the tokens it cost (a model classifier). */
export interface IntentClassification {
  name: string;
  usage?: Usage;
}

/** A specialist the classifier may choose. */
export interface IntentCandidate {
  name: string;
  description: string;
}

/** What a classifier is given: the latest user message with the turns before it, and who may answer. */
export interface IntentClassifierInput {
  /** The last `contextTurns` turns and the latest user message (last), as said: no tool calls. */
  messages: ChatMessage[];
  candidates: IntentCandidate[];
}

/** What a function classifier is called with: {@link IntentClassifierInput} and the run's abort signal. */
export interface IntentClassifierCall extends IntentClassifierInput {
  /** Aborted when the run is cancelled or its runtime closes: pass it to any model or HTTP call. */
  signal: AbortSignal;
}

/**
 * The intent router's classifier failed: it named no member (a function classifier's answer, or a
 * model's after its retries), or it threw — a model call's error (a 429…) or a function
 * classifier's own — which is then the `cause` (aborts are not wrapped). As with
 * `AgentTurnError`, an HTTP failure's `status` and `retryAfterMs` are copied here.
 *
 * @example
 * catch (error) {
 *   if (error instanceof IntentClassificationError && error.status === 429) await sleep(error.retryAfterMs ?? 1000);
 *   else if (error instanceof IntentClassificationError) console.warn(error.named, error.candidates);
 * }
 */
export class IntentClassificationError extends TroupeError {
  /** The HTTP status of the classifier's model call that failed, when the server answered. */
  declare readonly status?: number;
  /** The server's back-off hint in milliseconds (`retry-after`), when it sent one. */
  declare readonly retryAfterMs?: number;
  constructor(
    /** What the classifier answered (undefined when it threw, or a model never gave a readable answer). */
    readonly named: string | undefined,
    readonly candidates: readonly string[],
    message?: string,
    options?: { cause?: unknown },
  ) {
    super('intent_classification_failed', message ?? `Intent router: the classifier named ${JSON.stringify(named)}, which is not a member (members: ${candidates.join(', ')}).`, options);
    const http = httpDetails(options?.cause);
    if (http.status !== undefined) this.status = http.status;
    if (http.retryAfterMs !== undefined) this.retryAfterMs = http.retryAfterMs;
  }

  /** The classifier threw `cause` (an error of its own or of its model call). */
  static failed(cause: unknown, candidates: readonly string[]): IntentClassificationError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new IntentClassificationError(undefined, candidates, `Intent router: the classifier failed: ${reason} (members: ${candidates.join(', ')}).`, { cause });
  }
}

export interface IntentRouterInput {
  invocationId: string;
  /** This actor's own id: where the gateway sends the user's replies. */
  self: AgentIdLike;
  boundary: AgentIdLike;
  gateway: AgentIdLike;
  end: AgentIdLike;
  /** The conversation topic: where the request to rephrase is said. */
  topic: TopicIdLike;
  members: Record<string, AgentIdLike>;
  candidates: IntentCandidate[];
  /** Earlier turns (a user message and the answers to it) given with the latest user message. */
  contextTurns: number;
  /** What the user is told when no specialist takes the message. */
  rephraseMessage: string;
  /**
   * Classified handoffs allowed in one invocation. An out-of-scope answer when they are used up
   * ends the run with reason `max_handoffs` at once (no classifier call); its `messages` are empty,
   * since nobody answered the latest user message (`conversation` ends with it).
   */
  maxHandoffs: number;
  /** Whether a termination condition is configured (the provided `checkTermination` effect runs). */
  checkTermination: boolean;
}

export interface IntentRouterContext extends IntentRouterInput {
  /** What was said: the transcript without out-of-scope answers. */
  conversation: ChatMessage[];
  /** The specialist that holds the conversation (answers the user's next message). */
  activeAgent: string | null;
  /** The answer to the latest user message (emptied when a new one is routed): the completion's `messages`. */
  lastReply: ChatMessage[];
  handoffs: number;
  userRequests: number;
  rephrases: number;
  openRequest: string | null;
  /** Specialists that answered the latest user message out of scope, in order. */
  declined: string[];
  /** Tokens the classifier spent so far (null: none reported, e.g. a function classifier). */
  usage: Usage | null;
}

type RouterEvent = MessageEvent<Kickoff> | MessageEvent<HistoryMessage> | MessageEvent<ConversationMessage> | MessageEvent<AgentResponse> | MessageEvent<UserReply> | TerminationEvents;

function response(event: RouterEvent): AgentResponse {
  return (event as MessageEvent<AgentResponse>).message;
}

function chosen(event: unknown): string {
  return (event as { output: IntentClassification }).output?.name;
}

function completion(context: IntentRouterContext, reason: string, messages: ChatMessage[] = context.lastReply): Completion {
  return {
    type: 'completion', reason, messages,
    ...(context.activeAgent ? { lastAgent: context.activeAgent } : {}),
    ...(context.usage ? { usage: { [INTENT_ROUTER_NAME]: context.usage } } : {}),
  };
}

/**
 * What is said in `messages` (user and system messages, assistants' words without tool calls; tool
 * results dropped), from the `turns`-th user message before the latest one. A turn starts at a
 * user message; what comes before the first is kept with it.
 *
 * @example
 * intentContext(conversation, 3); // the latest user message and the 3 turns before it
 */
export function intentContext(messages: readonly ChatMessage[], turns: number): ChatMessage[] {
  const said: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === 'tool') continue;
    if (m.role !== 'assistant') said.push(m);
    else if (m.content.trim() !== '') {
      const { toolCalls: _calls, ...words } = m;
      said.push(words);
    }
  }
  const starts = said.flatMap((m, i) => (m.role === 'user' ? [i] : []));
  const first = starts.length - 1 - turns;
  return first <= 0 ? said : said.slice(starts[first]);
}

/** The next request for the user's message, showing them `lastReply`. */
function userRequest(context: IntentRouterContext, lastReply: ChatMessage[]): HumanInputRequest {
  return {
    type: 'human_input_request',
    requestId: `${context.invocationId}:human:${context.userRequests + 1}`,
    kind: 'input',
    agent: context.activeAgent ?? context.candidates[0].name,
    ...(lastReply[0] ? { message: lastReply[0] } : {}),
    replyTo: context.self,
  };
}

/**
 * The intent router's machine. Provide `classify` (the classifier) and `checkTermination` with
 * `.provide(...)`; step it with `transition()` and read the commands it emits.
 *
 * @example
 * const [s0] = initialTransition(intentRouterMachine, input);
 * const [classifying, actions] = transition(intentRouterMachine, s0, messageEvent({ type: 'kickoff' }));
 * invokedOf(actions)[0].input; // { messages, candidates }: what the classifier is asked
 * const [routing, next] = transition(intentRouterMachine, classifying, doneEvent('classify', { name: 'Billing' }));
 * commandsOf(next); // [a turn_request to Billing]
 */
export const intentRouterMachine = setup({
  types: {
    context: {} as IntentRouterContext,
    input: {} as IntentRouterInput,
    events: {} as RouterEvent,
  },
  actors: {
    /** Provided by the orchestration: the classifier (answers a member's name). */
    classify: fromPromise<IntentClassification, IntentClassifierInput>(async () => {
      throw new Error('No classifier is attached to this intent router: provide `classify`.');
    }),
  },
  actions: {
    /** Provided by the orchestration: the user's termination condition. */
    // Never ends the run; the orchestration provides the user's condition. (Declared here, with an
    // untyped `_options`, so XState still infers this machine's action types: see `effect`.)
    checkTermination: effect('checkTermination', (_input: TerminationInput, _options): boolean => false),
    report: emit(({ context }, event: ActorEvent) => reportCommand(context.boundary, context.invocationId, event)),
    /** The classifier's tokens (it answered, whichever member it named). */
    recordClassifierUsage: assign({
      usage: ({ context, event }) => {
        const usage = (event as { output?: IntentClassification }).output?.usage;
        return usage ? addUsage(context.usage ?? ZERO_USAGE, usage) : context.usage;
      },
    }),
    recordConversation: assign({ conversation: ({ context, event }) => [...context.conversation, ...heardMessages(event)] }),
    /** Continuing a conversation: the specialist that answered last holds it. */
    askLastAgent: enqueueActions(({ context, event, enqueue }) => {
      const agent = (event as MessageEvent<Kickoff>).message.lastAgent!;
      enqueue.assign({ activeAgent: agent });
      enqueue.emit(sendCommand(turnRequest(), context.members[agent]));
    }),
    /** The first user message's specialist: it heard everything broadcast so far. */
    routeToClassified: enqueueActions(({ context, event, enqueue }) => {
      const agent = chosen(event);
      enqueue.assign({ activeAgent: agent });
      enqueue.emit(sendCommand(turnRequest(), context.members[agent]));
    }),
    recordDecline: assign({ declined: ({ context, event }) => [...context.declined, response(event).agent] }),
    /** Another specialist takes the message, with the last turns and nothing else. */
    handOffClassified: enqueueActions(({ context, event, enqueue }) => {
      const to = chosen(event);
      const from = context.declined[context.declined.length - 1];
      const target = context.members[to];
      enqueue.assign({ activeAgent: to, handoffs: context.handoffs + 1 });
      enqueue(reportAction({ type: 'handoff', from, to, reason: 'classified' }));
      const reset: Reset = { type: 'reset' };
      const history: HistoryMessage = { type: 'history', messages: intentContext(context.conversation, context.contextTurns) };
      enqueue.emit(sendCommand(reset, target));
      enqueue.emit(sendCommand(history, target));
      enqueue.emit(sendCommand(turnRequest(), target));
    }),
    recordResponse: assign(({ context, event }) => {
      const r = response(event);
      return { conversation: [...context.conversation, ...r.messages], activeAgent: r.agent, lastReply: finalReply(r) };
    }),
    askUser: enqueueActions(({ context, enqueue }) => {
      const request = userRequest(context, context.lastReply);
      enqueue.assign({ userRequests: context.userRequests + 1, openRequest: request.requestId });
      enqueue.emit(sendCommand(request, context.gateway));
    }),
    /** Nobody takes the message: say so to everyone (it is part of the conversation) and ask again. */
    askToRephrase: enqueueActions(({ context, enqueue }) => {
      const n = context.rephrases + 1;
      const message: ChatMessage = { id: `${context.invocationId}:router:rephrase:${n}`, role: 'assistant', content: context.rephraseMessage };
      const request = userRequest(context, [message]);
      enqueue.assign({ rephrases: n, conversation: [...context.conversation, message], lastReply: [message], userRequests: context.userRequests + 1, openRequest: request.requestId });
      enqueue.emit(publishCommand(conversation([message]), context.topic, { deliverToSelf: false }));
      enqueue.emit(sendCommand(request, context.gateway));
    }),
    closeRequest: assign({ openRequest: null }),
    /** A new user message: the previous answer is not the answer to it. */
    routeUserTurn: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ declined: [], lastReply: [] });
      enqueue.emit(sendCommand(turnRequest(), context.members[context.activeAgent!]));
    }),
    completeTask: enqueueActions(({ context, event, enqueue }) => {
      const messages = completionAnswer(context.lastReply, response(event), context.invocationId);
      enqueue.emit(sendCommand(completion(context, 'completed', messages), context.end));
    }),
    failWithError: emit(({ event }) => errorCommand(invokeError(event))),
    failUnknownSpecialist: emit(({ context, event }) => errorCommand(new IntentClassificationError(chosen(event), context.candidates.map((c) => c.name)))),
    completeTerminated: enqueueActions(({ context, enqueue }) => enqueue.emit(sendCommand(completion(context, 'terminated'), context.end))),
    completeUserEnded: enqueueActions(({ context, enqueue }) => enqueue.emit(sendCommand(completion(context, 'user_ended'), context.end))),
    completeMaxHandoffs: enqueueActions(({ context, enqueue }) => enqueue.emit(sendCommand(completion(context, 'max_handoffs'), context.end))),
  },
  guards: {
    continuesWithLastAgent: ({ context, event }) => {
      const { lastAgent } = (event as MessageEvent<Kickoff>).message;
      return lastAgent !== undefined && Object.hasOwn(context.members, lastAgent);
    },
    namesNoMember: ({ context, event }) => typeof chosen(event) !== 'string' || !Object.hasOwn(context.members, chosen(event)),
    isFirstClassification: ({ context }) => context.declined.length === 0,
    namesTheDecliner: ({ context, event }) => context.declined.includes(chosen(event)),
    reachedMaxHandoffs: ({ context }) => context.handoffs >= context.maxHandoffs,
    isOutOfScope: ({ event }) => response(event).outcome.kind === 'out_of_scope',
    /** This user message was already classified again after an out-of-scope answer. */
    wasReclassified: ({ context }) => context.declined.length > 0,
    completesTask: ({ event }) => response(event).outcome.kind === 'complete',
    hasTerminationCondition: ({ context }) => context.checkTermination,
    isTerminated: terminated,
    answersOpenRequest: ({ context, event }) => (event as MessageEvent<UserReply>).message.requestId === context.openRequest,
    userEnded: ({ event }) => (event as MessageEvent<UserReply>).message.message === null,
  },
}).createMachine({
  id: 'intentRouter',
  context: ({ input }) => ({
    ...input,
    conversation: [],
    activeAgent: null,
    lastReply: [],
    handoffs: 0,
    userRequests: 0,
    rephrases: 0,
    openRequest: null,
    declined: [],
    usage: null,
  }),
  initial: 'waitingForKickoff',
  on: {
    history: { actions: 'recordConversation' },
    conversation: { actions: 'recordConversation' },
  },
  states: {
    waitingForKickoff: {
      on: {
        kickoff: [
          { guard: 'continuesWithLastAgent', target: 'routing', actions: 'askLastAgent' },
          { target: 'classifying' },
        ],
      },
    },
    /** Busy: the classifier picks the specialist for the latest user message. */
    classifying: {
      tags: [BUSY_TAG],
      invoke: {
        id: 'classify',
        src: 'classify',
        input: ({ context }): IntentClassifierInput => ({ messages: intentContext(context.conversation, context.contextTurns), candidates: context.candidates }),
        onDone: [
          { guard: 'namesNoMember', target: 'done', actions: ['recordClassifierUsage', 'failUnknownSpecialist'] },
          { guard: 'isFirstClassification', target: 'routing', actions: ['recordClassifierUsage', 'routeToClassified'] },
          { guard: 'namesTheDecliner', target: 'routing', actions: ['recordClassifierUsage', 'askToRephrase'] },
          { target: 'routing', actions: ['recordClassifierUsage', 'handOffClassified'] },
        ],
        onError: { target: 'done', actions: 'failWithError' },
      },
    },
    /** At rest between turns: a specialist is answering, or the user is asked. */
    routing: {
      on: {
        agent_response: [
          { guard: and(['isOutOfScope', 'wasReclassified']), actions: ['recordDecline', 'askToRephrase'] },
          // No handoff is left to make: end before asking the classifier.
          { guard: and(['isOutOfScope', 'reachedMaxHandoffs']), target: 'done', actions: ['recordDecline', 'completeMaxHandoffs'] },
          { guard: 'isOutOfScope', target: 'classifying', actions: 'recordDecline' },
          { guard: 'completesTask', target: 'done', actions: ['recordResponse', 'completeTask'] },
          { guard: 'hasTerminationCondition', target: 'checkingTerminationAfterReply', actions: 'recordResponse' },
          { actions: ['recordResponse', 'askUser'] },
        ],
        user_reply: [
          { guard: and(['answersOpenRequest', 'userEnded']), target: 'done', actions: 'completeUserEnded' },
          { guard: and(['answersOpenRequest', 'hasTerminationCondition']), target: 'checkingTerminationAfterUser', actions: 'closeRequest' },
          { guard: 'answersOpenRequest', actions: ['closeRequest', 'routeUserTurn'] },
        ],
      },
    },
    checkingTerminationAfterReply: checkingTerminationState([{ target: 'routing', actions: 'askUser' }]),
    checkingTerminationAfterUser: checkingTerminationState([{ target: 'routing', actions: 'routeUserTurn' }]),
    done: {},
  },
});
