/**
 * The human gateway: turns "I need the user" into a `human_input_requested` event and waits —
 * durably, as a state, not a blocked promise — for `result.respond(...)` (or asks a provided
 * `askHuman` callback). Then it broadcasts the user's words to everyone and tells the
 * coordinator, who routes the next turn.
 */
import { enqueueActions, fromPromise, setup } from 'xstate';
import type { ChatMessage } from '../agents/chat-message.js';
import { errorCommand, publishCommand, sendCommand, type AgentIdLike, type MessageEvent, type TopicIdLike } from '../runtime/index.js';
import { conversation, type HumanInputRequest, type HumanInputResponse, type UserReply } from './protocol.js';
import { reportAction, type ActorEvent } from './events.js';

export interface HumanGatewayInput {
  topic: TopicIdLike;
  coordinator: AgentIdLike;
  /** Ask the provided `askHuman` actor instead of waiting for `human_input_response`. */
  useCallback: boolean;
}

interface GatewayContext extends HumanGatewayInput {
  pending: HumanInputRequest | null;
}

type GatewayEvent = MessageEvent<HumanInputRequest> | MessageEvent<HumanInputResponse>;
export type HumanReply = string | ChatMessage | null | undefined;

/** A reply as a user message; null, undefined or blank text means the user ended the conversation. */
export function userMessage(reply: HumanReply, requestId: string): ChatMessage | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'string') return reply.trim() === '' ? null : { id: `${requestId}:reply`, role: 'user', content: reply };
  return reply.content.trim() === '' ? null : reply;
}

/**
 * The human gateway's machine. Provide `askHuman` (a callback) and `report` with `.provide(...)`.
 *
 * @example
 * const [waiting] = transition(humanGatewayMachine, idle, messageEvent(humanInputRequest));
 * waiting.value; // 'awaitingUser': at rest until a human_input_response arrives
 */
export const humanGatewayMachine = setup({
  types: {
    context: {} as GatewayContext,
    input: {} as HumanGatewayInput,
    events: {} as GatewayEvent,
  },
  actors: {
    /** Provided when the orchestration has a `humanResponse` callback. */
    askHuman: fromPromise<HumanReply, HumanInputRequest>(async () => null),
  },
  actions: {
    /** Provided by the orchestration: hands an event to the invocation's event stream. */
    report: (_, _event: ActorEvent) => {},
    announceRequest: enqueueActions(({ event, enqueue }) => {
      const request = (event as MessageEvent<HumanInputRequest>).message;
      enqueue.assign({ pending: request });
      enqueue(reportAction({ type: 'human_input_requested', requestId: request.requestId, agent: request.agent, ...(request.message ? { message: request.message } : {}) }));
    }),
    relayUserReply: enqueueActions(({ context, event, enqueue }) => {
      const request = context.pending!;
      const reply = 'output' in event ? (event as unknown as { output: HumanReply }).output : (event as MessageEvent<HumanInputResponse>).message.reply;
      const message = userMessage(reply, request.requestId);
      if (message) enqueue.emit(publishCommand(conversation([message]), context.topic));
      const userReply: UserReply = { type: 'user_reply', requestId: request.requestId, message };
      enqueue.emit(sendCommand(userReply, context.coordinator));
      enqueue.assign({ pending: null });
    }),
    reportCallbackFailure: enqueueActions(({ event, enqueue }) => {
      enqueue.emit(errorCommand((event as unknown as { error: unknown }).error));
      enqueue.assign({ pending: null });
    }),
  },
  guards: {
    usesCallback: ({ context }) => context.useCallback,
    answersPendingRequest: ({ context, event }) => context.pending?.requestId === (event as MessageEvent<HumanInputResponse>).message.requestId,
  },
}).createMachine({
  id: 'humanGateway',
  context: ({ input }) => ({ ...input, pending: null }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        human_input_request: [
          { guard: 'usesCallback', target: 'askingCallback', actions: 'announceRequest' },
          { target: 'awaitingUser', actions: 'announceRequest' },
        ],
      },
    },
    /** At rest: nothing runs until `result.respond(requestId, reply)`. */
    awaitingUser: {
      on: {
        human_input_response: { guard: 'answersPendingRequest', target: 'idle', actions: 'relayUserReply' },
      },
    },
    askingCallback: {
      tags: ['busy'],
      invoke: {
        id: 'askHuman',
        src: 'askHuman',
        input: ({ context }) => context.pending!,
        onDone: { target: 'idle', actions: 'relayUserReply' },
        onError: { target: 'idle', actions: 'reportCallbackFailure' },
      },
    },
  },
});
