export * from './errors.js';
export * from './result.js';
export { Orchestration, SHARED_ACTOR_KEY, type OrchestrationOptions, type InvokeOptions, type ResumeOptions, type MemberBinding, type HumanRequest } from './orchestration.js';
export type { TracingOptions } from './tracing.js';
export { type OrchestrationOutput, type UsageReport } from '../actors/output.js';
export type { Task } from './task.js';
export * from './sequential.js';
export * from './concurrent.js';
export * from './handoff-graph.js';
export * from './handoff.js';
export {
  DEFAULT_CONTEXT_TURNS, DEFAULT_OUT_OF_SCOPE_PHRASE, DEFAULT_REPHRASE_MESSAGE, boundaryLine,
  type IntentClassifier, type IntentClassifierFunction, type IntentRouterOptions,
} from './intent-routing.js';
export { Invocation, type InvocationOptions, type RunIds } from './invocation.js';
export * from './group-chat.js';
export * from './group-chat-managers.js';
export * from './magentic.js';
export * from './standard-magentic-manager.js';
