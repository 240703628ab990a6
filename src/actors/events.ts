/**
 * Events actors report to the invocation that hosts them. Reporting is a message like any other:
 * the actor sends `invocation_event` to the orchestration's boundary actor (one per orchestration
 * and runtime, shared by every run: `{ type: '<orchestration>.boundary', key: '_shared' }`), naming
 * its run (`invocationId`); the boundary hands it to that invocation — so any `AgentRuntime` can
 * host a run and nothing parses actor ids. The invocation tags each event with its id and streams it.
 */
import type { ChatMessage, ToolCall, Usage } from '../agents/chat-message.js';
import { sendCommand, type AgentIdLike, type RuntimeCommand } from '../runtime/index.js';
import type { RequestKind } from './protocol.js';
import type { ProgressLedger } from './magentic-ledgers.js';

export type ActorEvent =
  | { type: 'agent_response'; agent: string; message: ChatMessage; messages: ChatMessage[]; usage: Usage }
  | { type: 'agent_response_delta'; agent: string; delta: string }
  /**
   * The text streamed by `agent`'s current model call (its `agent_response_delta`s since its last
   * `agent_response` or `agent_response_abandoned`) will not become a response: the call failed
   * mid-stream (the stream threw, ended without a response, or the response was invalid). A UI
   * should drop or mark that partial text. Only sent when at least one delta was; the failure
   * itself follows as usual (the run fails with `error`). In routing by intent it also retracts a
   * streamed answer that was out of scope (`error.name` `'OutOfScope'`): the run goes on, and the
   * `handoff` (or the request to rephrase) follows.
   */
  | { type: 'agent_response_abandoned'; agent: string; error: { name: string; message: string; code?: string } }
  | { type: 'tool_call'; agent: string; toolCall: ToolCall }
  | { type: 'tool_result'; agent: string; toolCallId: string; name: string; content: string; isError: boolean }
  | { type: 'handoff'; from: string; to: string; reason?: string }
  | { type: 'human_input_requested'; requestId: string; agent: string; kind: 'input' | 'review'; message?: ChatMessage }
  | { type: 'approval_requested'; requestId: string; agent: string; toolCall: ToolCall }
  | { type: 'plan_review_requested'; requestId: string; agent: string; facts: string; plan: string }
  | { type: 'group_chat_turn'; round: number; speaker: string; reason?: string }
  /** A magentic manager made a plan: the first, or a replan (after a stall reset or a rejected review). */
  | { type: 'magentic_plan'; agent: string; facts: string; plan: string; resetCount: number }
  /** A magentic manager's progress ledger; `stall` says why the round counted as a stall. */
  | { type: 'magentic_progress'; agent: string; round: number; ledger: ProgressLedger; stallCount: number; stall?: string };

export type ActorEventType = ActorEvent['type'];

/** What streaming reports: text deltas, and the abandonment of a partly streamed answer. */
export type StreamedTextEvent = Extract<ActorEvent, { type: 'agent_response_delta' | 'agent_response_abandoned' }>;

/**
 * What reaches the boundary actor (and through it, the invocation). The boundary is shared by
 * every run of an orchestration on a runtime, so each message names its run (`invocationId`).
 */
export type BoundaryMessage = { invocationId: string } & (
  | { type: 'invocation_event'; event: ActorEvent }
  /** A request joined the run's open-request table (`recipient`: who gets the answer). */
  | { type: 'request_opened'; requestId: string; kind: RequestKind; agent: string; recipient: AgentIdLike }
  /** A request left the open-request table (answered, or by a callback). */
  | { type: 'request_closed'; requestId: string; kind: RequestKind }
  | { type: 'invocation_settled'; output: unknown }
  | { type: 'invocation_failed'; error: unknown }
);

/** The command that reports `event` of run `invocationId` to the boundary. */
export function reportCommand(boundary: AgentIdLike, invocationId: string, event: ActorEvent): RuntimeCommand {
  const message: BoundaryMessage = { type: 'invocation_event', invocationId, event };
  return sendCommand(message, boundary);
}

/** The `report` action with its event, for use inside `enqueueActions` (typed loosely there). */
export function reportAction(event: ActorEvent): never {
  return { type: 'report', params: event } as never;
}
