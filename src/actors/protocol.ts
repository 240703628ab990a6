/**
 * The messages actors exchange, shared by every orchestration. Plain JSON, discriminated on
 * `type`, defined once here with zod (validated where they enter from outside).
 *
 * The shape of a run: the start executor broadcasts the prior transcript (`history`) and the task
 * (`conversation`), then sends `kickoff` to the manager; the manager sends `turn_request`s; agents
 * publish `agent_response`s; people are reached through the human gateway (`*_request` in,
 * `human_input_response` / `human_decision` from the invocation, the routed answer out); the
 * manager ends the run with a `completion` to the end executor, which settles it at the boundary.
 */
import { z } from 'zod';
import { ChatMessageSchema, ToolCallSchema, type ChatMessage, type Usage } from '../agents/chat-message.js';

const UsageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() });
const AgentIdSchema = z.object({ type: z.string(), key: z.string() });

/** Broadcast: "this was said" (the task, a user's words, a manager's note). */
export const ConversationMessageSchema = z.object({
  type: z.literal('conversation'),
  messages: z.array(ChatMessageSchema),
});
export type ConversationMessage = z.infer<typeof ConversationMessageSchema>;

/** Broadcast by the start executor when a conversation continues: the earlier transcript. */
export const HistoryMessageSchema = z.object({
  type: z.literal('history'),
  messages: z.array(ChatMessageSchema),
});
export type HistoryMessage = z.infer<typeof HistoryMessageSchema>;

/** Directed to the manager once the task is broadcast: "choose the first speaker". */
export const KickoffSchema = z.object({
  type: z.literal('kickoff'),
  /** Continuing a conversation: who spoke last in it. */
  lastAgent: z.string().optional(),
});
export type Kickoff = z.infer<typeof KickoffSchema>;

/** Directed: "speak now", optionally with an instruction the agent sees as a user message. */
export const TurnRequestSchema = z.object({
  type: z.literal('turn_request'),
  instruction: z.string().optional(),
});
export type TurnRequest = z.infer<typeof TurnRequestSchema>;

/** Directed to an agent: forget everything heard and said so far (magentic resets). */
export const ResetSchema = z.object({ type: z.literal('reset') });
export type Reset = z.infer<typeof ResetSchema>;

/** How an agent's turn ended. */
export const TurnOutcomeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('reply') }),
  z.object({ kind: z.literal('handoff'), target: z.string(), reason: z.string().optional(), toolCallId: z.string() }),
  z.object({ kind: z.literal('complete'), summary: z.string(), toolCallId: z.string() }),
  /**
   * Routing by intent: the final answer contained the out-of-scope phrase. It is not an answer:
   * not reported as `agent_response`, not in the transcript, kept by no other agent.
   */
  z.object({ kind: z.literal('out_of_scope') }),
]);
export type TurnOutcome = z.infer<typeof TurnOutcomeSchema>;

/** Broadcast by an agent at the end of its turn. */
export const AgentResponseSchema = z.object({
  type: z.literal('agent_response'),
  agent: z.string(),
  /** Everything the turn produced, in order: tool calls, tool results, the final reply. */
  messages: z.array(ChatMessageSchema),
  /** The final text ('' when the turn ended in a handoff without words). */
  text: z.string(),
  usage: UsageSchema,
  outcome: TurnOutcomeSchema,
  /** Tool calls that were orchestration controls (handoffs, complete_task), for tool-call filters. */
  controlToolCallIds: z.array(z.string()).optional(),
});
export type AgentResponse = z.infer<typeof AgentResponseSchema>;

/** The kinds of request a person answers. */
export type RequestKind = 'input' | 'review' | 'approval' | 'plan_review';

/**
 * To the human gateway: "ask the user" — for their next message (`input`) or to review an
 * agent's reply (`review`). The answer goes to `replyTo` as a `user_reply`.
 */
export const HumanInputRequestSchema = z.object({
  type: z.literal('human_input_request'),
  requestId: z.string(),
  kind: z.enum(['input', 'review']),
  agent: z.string(),
  message: ChatMessageSchema.optional(),
  replyTo: AgentIdSchema,
});
export type HumanInputRequest = z.infer<typeof HumanInputRequestSchema>;

/** To the human gateway: an agent's tool call waits for a person's decision. */
export const ToolApprovalRequestSchema = z.object({
  type: z.literal('tool_approval_request'),
  requestId: z.string(),
  agent: z.string(),
  toolCall: ToolCallSchema,
  replyTo: AgentIdSchema,
});
export type ToolApprovalRequest = z.infer<typeof ToolApprovalRequestSchema>;

/** To the human gateway: a manager's plan waits for a person's review. */
export const PlanReviewRequestSchema = z.object({
  type: z.literal('plan_review_request'),
  requestId: z.string(),
  agent: z.string(),
  facts: z.string(),
  plan: z.string(),
  replyTo: AgentIdSchema,
});
export type PlanReviewRequest = z.infer<typeof PlanReviewRequestSchema>;

/** From the invocation to the gateway: a person's answer to an `input` or `review` request. */
export const HumanInputResponseSchema = z.object({
  type: z.literal('human_input_response'),
  requestId: z.string(),
  reply: z.union([ChatMessageSchema, z.string(), z.null()]),
});
export type HumanInputResponse = z.infer<typeof HumanInputResponseSchema>;

/** From the invocation to the gateway: a person approved or rejected (a tool call, a plan). */
export const HumanDecisionSchema = z.object({
  type: z.literal('human_decision'),
  requestId: z.string(),
  approved: z.boolean(),
  reason: z.string().optional(),
});
export type HumanDecision = z.infer<typeof HumanDecisionSchema>;

/** From the gateway to the asker: what the user said (`null`: nothing — ended, or approved). */
export const UserReplySchema = z.object({
  type: z.literal('user_reply'),
  requestId: z.string(),
  message: ChatMessageSchema.nullable(),
});
export type UserReply = z.infer<typeof UserReplySchema>;

/** From the gateway to the agent: the human's decision on one tool call. */
export const ToolApprovalDecisionSchema = z.object({
  type: z.literal('tool_approval_decision'),
  requestId: z.string(),
  approved: z.boolean(),
  reason: z.string().optional(),
});
export type ToolApprovalDecision = z.infer<typeof ToolApprovalDecisionSchema>;

/** From the gateway to the manager: the human's review of a plan (`feedback` when rejected). */
export const PlanReviewDecisionSchema = z.object({
  type: z.literal('plan_review_decision'),
  requestId: z.string(),
  approved: z.boolean(),
  feedback: z.string().optional(),
});
export type PlanReviewDecision = z.infer<typeof PlanReviewDecisionSchema>;

/** RPC to the gateway: which requests are open (how a re-attached invocation learns them). */
export const ListRequestsSchema = z.object({ type: z.literal('list_requests') });
export type ListRequests = z.infer<typeof ListRequestsSchema>;

/** Directed to the end executor: the orchestration is finished. */
export const CompletionSchema = z.object({
  type: z.literal('completion'),
  reason: z.string(),
  messages: z.array(ChatMessageSchema),
  lastAgent: z.string().optional(),
  /** Tokens spent by participants that are not members (a manager's model), by name; added to the output's usage. */
  usage: z.record(z.string(), UsageSchema).optional(),
});
export type Completion = z.infer<typeof CompletionSchema>;

/** Directed to the end executor: the orchestration failed. */
export const FailureSchema = z.object({
  type: z.literal('failure'),
  error: z.object({ name: z.string(), message: z.string(), code: z.string().optional() }),
  agent: z.string().optional(),
});
export type Failure = z.infer<typeof FailureSchema>;

export type ProtocolMessage =
  | ConversationMessage | HistoryMessage | Kickoff | TurnRequest | Reset | AgentResponse
  | HumanInputRequest | ToolApprovalRequest | PlanReviewRequest | HumanInputResponse | HumanDecision
  | UserReply | ToolApprovalDecision | PlanReviewDecision | ListRequests | Completion | Failure;

/** A `conversation` broadcast of `messages`. */
export function conversation(messages: ChatMessage[]): ConversationMessage {
  return { type: 'conversation', messages };
}

/** A `turn_request`, optionally with an instruction the agent sees as a user message. */
export function turnRequest(instruction?: string): TurnRequest {
  return instruction === undefined ? { type: 'turn_request' } : { type: 'turn_request', instruction };
}

export type { Usage };
