export * from './protocol.js';
export * from './events.js';
export * from './errors.js';
export * from './tool-call-filter.js';
export * from './control-tools.js';
export * from './output.js';
export type { TerminationInput } from './termination.js';
export {
  agentMachine, approvalRequestId, hearHistory, hearResponse,
  type AgentActorInput, type AgentContext, type ModelCallInput, type RunToolsInput, type RunToolsOutput, type TurnState,
} from './agent-machine.js';
export { createAgentActor, type AgentActorHooks } from './agent-actor.js';
export { startExecutorMachine, type StartMessage, type StartExecutorInput } from './start-executor.js';
export { endExecutorMachine, type EndExecutorContext, type EndExecutorInput } from './end-executor.js';
export { sequencerMachine, type SequencerInput, type SequencerContext } from './sequencer.js';
export { collectorMachine, type CollectorInput, type CollectorContext } from './collector.js';
export { handoffCoordinatorMachine, type HandoffCoordinatorInput, type HandoffCoordinatorContext, type ResumeWith } from './handoff-coordinator.js';
export {
  intentRouterMachine, intentContext, IntentClassificationError, INTENT_ROUTER_NAME,
  type IntentClassification, type IntentClassifierCall, type IntentRouterInput, type IntentRouterContext, type IntentCandidate, type IntentClassifierInput,
} from './intent-router.js';
export { humanGatewayMachine, userMessage, type HumanGatewayInput, type HumanReply, type OpenRequest, type AskHumanInput, type GatewayContext } from './human-gateway.js';
export {
  groupChatManagerMachine, groupChatState, UnknownSpeakerError, GroupChatDecisionError, type GroupChatDecisionName,
  type GroupChatManagerInput, type GroupChatManagerContext, type GroupChatDecisionInput, type GroupChatEndReason,
  type SpeakerDecision, type TerminationDecision,
} from './group-chat-manager.js';
export { magenticManagerMachine, magenticContextOf, type MagenticManagerInput, type MagenticManagerContext, type MagenticStepOutput, type PlanReviewInput, type PlanReviewOutcome } from './magentic-manager.js';
export * from './magentic-ledgers.js';
