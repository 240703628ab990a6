/**
 * Span and attribute names: the OpenTelemetry GenAI semantic conventions where they name the
 * thing (`gen_ai.*`, `error.type`), `troupe.*` for what they do not (invocations, turns,
 * requests). Kept in one place so tests and docs can name them.
 */
export const GEN_AI = {
  system: 'gen_ai.system',
  /** The newer name of `gen_ai.system` (semconv ≥ 1.37); set to the same value. */
  providerName: 'gen_ai.provider.name',
  operationName: 'gen_ai.operation.name',
  agentName: 'gen_ai.agent.name',
  requestModel: 'gen_ai.request.model',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  responseModel: 'gen_ai.response.model',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolType: 'gen_ai.tool.type',
  /** Content, only with `captureContent`. */
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
} as const;

export const TROUPE = {
  orchestrationKind: 'troupe.orchestration.kind',
  orchestrationId: 'troupe.orchestration.id',
  invocationId: 'troupe.invocation.id',
  invocationStatus: 'troupe.invocation.status',
  invocationReason: 'troupe.invocation.reason',
  turnId: 'troupe.turn.id',
  turnOutcome: 'troupe.turn.outcome',
  turnModelCalls: 'troupe.turn.model_calls',
  handoffFrom: 'troupe.handoff.from',
  handoffTo: 'troupe.handoff.to',
  /** Content (a model's words), only with `captureContent`; the intent router's fixed `classified` always. */
  handoffReason: 'troupe.handoff.reason',
  requestId: 'troupe.request.id',
  requestKind: 'troupe.request.kind',
  /** Content, only with `captureContent`. */
  requestMessage: 'troupe.request.message',
} as const;

export const ERROR_TYPE = 'error.type';

/** Span names. */
export const SPAN = {
  invocation: (kind: string) => `troupe.invocation ${kind}`,
  turn: (agent: string) => `invoke_agent ${agent}`,
  modelCall: (model: string | undefined) => (model ? `chat ${model}` : 'chat'),
  toolCall: (tool: string) => `execute_tool ${tool}`,
} as const;

/** Span event names. */
export const EVENT = {
  handoff: 'troupe.handoff',
  humanInputRequested: 'troupe.human_input_requested',
  approvalRequested: 'troupe.approval_requested',
  planReviewRequested: 'troupe.plan_review_requested',
} as const;
