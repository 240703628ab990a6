/**
 * The messages actors exchange, shared by every orchestration. Plain JSON, discriminated on
 * `type`, defined once here with zod (validated where they enter from outside).
 */
import { z } from 'zod';
import { ChatMessageSchema, ToolCallSchema, type ChatMessage, type Usage } from '../agents/chat-message.js';

const UsageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() });

/** Broadcast: "this was said" (the task, a user's words, a manager's note). */
export const ConversationMessageSchema = z.object({
  type: z.literal('conversation'),
  messages: z.array(ChatMessageSchema),
});
export type ConversationMessage = z.infer<typeof ConversationMessageSchema>;

/** Directed: "speak now", optionally with an instruction the agent sees as a user message. */
export const TurnRequestSchema = z.object({
  type: z.literal('turn_request'),
  instruction: z.string().optional(),
});
export type TurnRequest = z.infer<typeof TurnRequestSchema>;

export const HandoffSchema = z.object({
  target: z.string(),
  reason: z.string().optional(),
  toolCallId: z.string(),
});
export type Handoff = z.infer<typeof HandoffSchema>;

/** Broadcast by an agent at the end of its turn. */
export const AgentResponseSchema = z.object({
  type: z.literal('agent_response'),
  agent: z.string(),
  /** Everything the turn produced, in order: tool calls, tool results, the final reply. */
  messages: z.array(ChatMessageSchema),
  /** The final text ('' when the turn ended in a handoff without words). */
  text: z.string(),
  usage: UsageSchema,
  handoff: HandoffSchema.optional(),
  /** Set when the agent called `complete_task`. */
  completion: z.object({ summary: z.string() }).optional(),
  /** Tool calls that were orchestration controls (handoffs, complete_task), for tool-call filters. */
  controlToolCallIds: z.array(z.string()).optional(),
});
export type AgentResponse = z.infer<typeof AgentResponseSchema>;

/** Published by an agent whose tool call waits for a human decision. */
export const ToolApprovalRequestSchema = z.object({
  type: z.literal('tool_approval_request'),
  requestId: z.string(),
  agent: z.string(),
  toolCall: ToolCallSchema,
});
export type ToolApprovalRequest = z.infer<typeof ToolApprovalRequestSchema>;

/** Sent to the agent: the human's decision on one tool call. */
export const ToolApprovalDecisionSchema = z.object({
  type: z.literal('tool_approval_decision'),
  requestId: z.string(),
  approved: z.boolean(),
  reason: z.string().optional(),
});
export type ToolApprovalDecision = z.infer<typeof ToolApprovalDecisionSchema>;

/** Directed to the human gateway: "ask the user". */
export const HumanInputRequestSchema = z.object({
  type: z.literal('human_input_request'),
  requestId: z.string(),
  agent: z.string(),
  message: ChatMessageSchema.optional(),
});
export type HumanInputRequest = z.infer<typeof HumanInputRequestSchema>;

/** Directed to the human gateway: the user's reply (null or '' ends the conversation). */
export const HumanInputResponseSchema = z.object({
  type: z.literal('human_input_response'),
  requestId: z.string(),
  reply: z.union([ChatMessageSchema, z.string(), z.null()]),
});
export type HumanInputResponse = z.infer<typeof HumanInputResponseSchema>;

/** From the human gateway to the coordinator: what the user said (`null`: the user ended it). */
export const UserReplySchema = z.object({
  type: z.literal('user_reply'),
  requestId: z.string(),
  message: ChatMessageSchema.nullable(),
});
export type UserReply = z.infer<typeof UserReplySchema>;

/** Directed to the end executor: the orchestration is finished. */
export const CompletionSchema = z.object({
  type: z.literal('completion'),
  reason: z.string(),
  messages: z.array(ChatMessageSchema),
  lastAgent: z.string().optional(),
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
  | ConversationMessage | TurnRequest | AgentResponse | ToolApprovalRequest | ToolApprovalDecision
  | HumanInputRequest | HumanInputResponse | UserReply | Completion | Failure;

/** A `conversation` broadcast of `messages`. */
export function conversation(messages: ChatMessage[]): ConversationMessage {
  return { type: 'conversation', messages };
}

/** A `turn_request`, optionally with an instruction the agent sees as a user message. */
export function turnRequest(instruction?: string): TurnRequest {
  return instruction === undefined ? { type: 'turn_request' } : { type: 'turn_request', instruction };
}

export type { Usage };
