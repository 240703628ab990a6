export * from './errors.js';
export * from './result.js';
export { Orchestration, type OrchestrationOptions, type InvokeOptions, type MemberBinding, type Wiring } from './orchestration.js';
export { type OrchestrationOutput, type UsageReport } from '../actors/end-executor.js';
export type { Task } from './task.js';
export * from './sequential.js';
export * from './concurrent.js';
export * from './handoff-graph.js';
export * from './handoff.js';
