export * from './errors.js';
export * from './ids.js';
export * from './subscriptions.js';
export * from './actor-contract.js';
export * from './interventions.js';
export * from './agent-runtime.js';
export { InProcessRuntime, type InProcessRuntimeOptions } from './in-process-runtime.js';
export { RuntimeStateSchema, RUNTIME_STATE_VERSION } from './saved-state.js';
export {
  effect, cancelEffect, EffectCancelledError, UnknownEffectError,
  type EffectAction, type EffectRun, type EffectOptions, type EffectDoneEvent, type EffectErrorEvent, type EffectEvents,
} from './effects.js';
