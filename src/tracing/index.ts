/** Internal: OpenTelemetry tracing, loaded only when `@opentelemetry/api` is installed. Not public API. */
export * from './attributes.js';
export { loadOtel, otel, type Otel } from './otel.js';
export { InvocationTrace, startInvocationTrace, type InvocationTraceInput } from './invocation-trace.js';
export type { ModelInfo, RunTracing, ToolRunResult, TracingLookup, TurnEnding } from './types.js';
