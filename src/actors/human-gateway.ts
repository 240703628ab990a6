/**
 * The human gateway: every request a person answers goes through it — a user's next message
 * (`input`), a review of an agent's answer (`review`), a tool approval (`approval`), a plan review
 * (`plan_review`) — from any actor, a manager included. It keeps the run's one table of open
 * requests `{ requestId, kind, agent, replyTo }`, reports each request as an event, waits for the
 * answer durably (a state, not a blocked promise) or asks a provided `askHuman` callback, and
 * routes the answer to the actor that asked.
 */
import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import type { ChatMessage, ToolCall } from '../agents/chat-message.js';
import {
  BUSY_TAG, errorCommand, publishCommand, replyCommand, sendCommand, type AgentIdLike, type MessageEvent, type TopicIdLike,
} from '../runtime/index.js';
import {
  conversation, type HumanDecision, type HumanInputRequest, type HumanInputResponse, type ListRequests, type PlanReviewDecision,
  type PlanReviewRequest, type RequestKind, type ToolApprovalDecision, type ToolApprovalRequest, type UserReply,
} from './protocol.js';
import { reportAction, reportCommand, type ActorEvent, type BoundaryMessage } from './events.js';

export interface HumanGatewayInput {
  invocationId: string;
  /** Where the user's words are broadcast. */
  topic: TopicIdLike;
  /** Where requests are announced (the orchestration's boundary, shared by its runs). */
  boundary: AgentIdLike;
  /** Ask the provided `askHuman` actor for `input` and `review` requests instead of waiting. */
  useCallback: boolean;
}

/** One open request: what the invocation's `pending` shows and where the answer goes. */
export interface OpenRequest {
  requestId: string;
  kind: RequestKind;
  agent: string;
  replyTo: AgentIdLike;
  message?: ChatMessage;
  toolCall?: ToolCall;
  facts?: string;
  plan?: string;
}

export interface GatewayContext extends HumanGatewayInput {
  /** The run's open requests, in the order they were made. */
  open: OpenRequest[];
  /** The request the `askHuman` callback is answering. */
  asking: string | null;
}

type RequestMessage = HumanInputRequest | ToolApprovalRequest | PlanReviewRequest;
type GatewayEvent =
  | MessageEvent<HumanInputRequest> | MessageEvent<ToolApprovalRequest> | MessageEvent<PlanReviewRequest>
  | MessageEvent<HumanInputResponse> | MessageEvent<HumanDecision> | MessageEvent<ListRequests>;
export type HumanReply = string | ChatMessage | null | undefined;

/** What the `askHuman` callback is asked. */
export interface AskHumanInput {
  requestId: string;
  invocationId: string;
  kind: 'input' | 'review';
  agent: string;
  message?: ChatMessage;
}

/** A reply as a user message; null, undefined or blank text means "nothing to say". */
export function userMessage(reply: HumanReply, requestId: string): ChatMessage | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'string') return reply.trim() === '' ? null : { id: `${requestId}:reply`, role: 'user', content: reply };
  return reply.content.trim() === '' ? null : reply;
}

/**
 * The table entry for a request. Built field by field, not with `{ ...base }`: on V8 an object
 * spread at a site that has seen several shapes gives every result a hidden class of its own
 * (~200 bytes), and an open request lives as long as its conversation waits.
 */
function openRequest(message: RequestMessage): OpenRequest {
  const kind: RequestKind = message.type === 'human_input_request' ? message.kind : message.type === 'tool_approval_request' ? 'approval' : 'plan_review';
  const request: OpenRequest = { requestId: message.requestId, kind, agent: message.agent, replyTo: message.replyTo };
  switch (message.type) {
    case 'human_input_request':
      if (message.message) request.message = message.message;
      break;
    case 'tool_approval_request':
      request.toolCall = message.toolCall;
      break;
    case 'plan_review_request':
      request.facts = message.facts;
      request.plan = message.plan;
      break;
  }
  return request;
}

function requestOf(event: GatewayEvent): RequestMessage {
  return (event as MessageEvent<RequestMessage>).message;
}

function answered(context: GatewayContext, event: GatewayEvent): OpenRequest | undefined {
  const { requestId } = (event as MessageEvent<HumanInputResponse | HumanDecision>).message;
  return context.open.find((r) => r.requestId === requestId);
}

function closed(context: GatewayContext, request: OpenRequest) {
  const message: BoundaryMessage = { type: 'request_closed', invocationId: context.invocationId, requestId: request.requestId, kind: request.kind };
  return sendCommand(message, context.boundary);
}

/**
 * The human gateway's machine. Provide `askHuman` (the `humanResponse` callback) with
 * `.provide(...)`; step it with `transition()` and read the commands it emits.
 *
 * @example
 * const [waiting, actions] = transition(humanGatewayMachine, idle, messageEvent(humanInputRequest));
 * reportsOf(actions); // [{ type: 'human_input_requested', requestId, kind: 'input', … }]
 */
export const humanGatewayMachine = setup({
  types: {
    context: {} as GatewayContext,
    input: {} as HumanGatewayInput,
    events: {} as GatewayEvent,
  },
  actors: {
    /** Provided when the orchestration has a `humanResponse` callback. */
    askHuman: fromPromise<HumanReply, AskHumanInput>(async () => null),
  },
  actions: {
    report: emit(({ context }, event: ActorEvent) => reportCommand(context.boundary, context.invocationId, event)),
    openAndAnnounce: enqueueActions(({ context, event, enqueue }) => {
      const message = requestOf(event);
      const request = openRequest(message);
      // `concat`: the exact length (`[...open, request]` leaves room for 16 more in every idle run).
      enqueue.assign({ open: context.open.concat([request]) });
      const { requestId, agent } = request;
      const opened: BoundaryMessage = { type: 'request_opened', invocationId: context.invocationId, requestId, kind: request.kind, agent, recipient: request.replyTo };
      enqueue.emit(sendCommand(opened, context.boundary));
      if (message.type === 'human_input_request') {
        enqueue(reportAction({ type: 'human_input_requested', requestId, agent, kind: message.kind, ...(message.message ? { message: message.message } : {}) }));
      } else if (message.type === 'tool_approval_request') {
        enqueue(reportAction({ type: 'approval_requested', requestId, agent, toolCall: message.toolCall }));
      } else {
        enqueue(reportAction({ type: 'plan_review_requested', requestId, agent, facts: message.facts, plan: message.plan }));
      }
    }),
    startAsking: assign({ asking: ({ event }) => requestOf(event).requestId }),
    /** Routes a person's words (from `respond` or the callback) to the actor that asked. */
    relayReply: enqueueActions(({ context, event, enqueue }) => {
      const fromCallback = 'output' in event;
      const request = fromCallback ? context.open.find((r) => r.requestId === context.asking)! : answered(context, event)!;
      const reply = fromCallback ? (event as unknown as { output: HumanReply }).output : (event as MessageEvent<HumanInputResponse>).message.reply;
      const message = userMessage(reply, request.requestId);
      // A user's turn is said to everyone; review feedback belongs to the reviewed agent's turn.
      if (message && request.kind === 'input') enqueue.emit(publishCommand(conversation([message]), context.topic));
      const userReply: UserReply = { type: 'user_reply', requestId: request.requestId, message };
      enqueue.emit(sendCommand(userReply, request.replyTo));
      enqueue.emit(closed(context, request));
      enqueue.assign({ open: context.open.filter((r) => r !== request), asking: null });
    }),
    relayDecision: enqueueActions(({ context, event, enqueue }) => {
      const request = answered(context, event)!;
      const { approved, reason } = (event as MessageEvent<HumanDecision>).message;
      if (request.kind === 'approval') {
        const decision: ToolApprovalDecision = { type: 'tool_approval_decision', requestId: request.requestId, approved, ...(reason ? { reason } : {}) };
        enqueue.emit(sendCommand(decision, request.replyTo));
      } else {
        const decision: PlanReviewDecision = { type: 'plan_review_decision', requestId: request.requestId, approved, ...(reason ? { feedback: reason } : {}) };
        enqueue.emit(sendCommand(decision, request.replyTo));
      }
      enqueue.emit(closed(context, request));
      enqueue.assign({ open: context.open.filter((r) => r !== request) });
    }),
    listOpenRequests: enqueueActions(({ context, enqueue }) => enqueue.emit(replyCommand(context.open))),
    reportCallbackFailure: enqueueActions(({ event, enqueue }) => {
      enqueue.emit(errorCommand((event as unknown as { error: unknown }).error));
      enqueue.assign({ asking: null });
    }),
  },
  guards: {
    /** `input` and `review` requests go to the callback when there is one; decisions never do. */
    asksCallback: ({ context, event }) => context.useCallback && requestOf(event).type === 'human_input_request',
    answersOpenInput: ({ context, event }) => {
      const request = answered(context, event);
      return request !== undefined && (request.kind === 'input' || request.kind === 'review');
    },
    decidesOpenRequest: ({ context, event }) => {
      const request = answered(context, event);
      return request !== undefined && (request.kind === 'approval' || request.kind === 'plan_review');
    },
  },
}).createMachine({
  id: 'humanGateway',
  context: ({ input }) => Object.assign({}, input, { open: [], asking: null }),
  initial: 'waiting',
  on: {
    list_requests: { actions: 'listOpenRequests' },
  },
  states: {
    /** At rest: open requests wait for `result.respond` / `approve` / `reject`. */
    waiting: {
      on: {
        human_input_request: [
          { guard: 'asksCallback', target: 'askingCallback', actions: ['openAndAnnounce', 'startAsking'] },
          { actions: 'openAndAnnounce' },
        ],
        tool_approval_request: { actions: 'openAndAnnounce' },
        plan_review_request: { actions: 'openAndAnnounce' },
        human_input_response: { guard: 'answersOpenInput', actions: 'relayReply' },
        human_decision: { guard: 'decidesOpenRequest', actions: 'relayDecision' },
      },
    },
    /** Busy: the `humanResponse` callback answers one request (others wait in the mailbox). */
    askingCallback: {
      tags: [BUSY_TAG],
      invoke: {
        id: 'askHuman',
        src: 'askHuman',
        input: ({ context }): AskHumanInput => {
          const r = context.open.find((x) => x.requestId === context.asking)!;
          return { requestId: r.requestId, invocationId: context.invocationId, kind: r.kind as 'input' | 'review', agent: r.agent, ...(r.message ? { message: r.message } : {}) };
        },
        onDone: { target: 'waiting', actions: 'relayReply' },
        onError: { target: 'waiting', actions: 'reportCallbackFailure' },
      },
    },
  },
});
