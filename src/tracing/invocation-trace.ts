/**
 * The spans of one traced invocation: the invocation span, one span per agent turn, one per
 * model call and one per tool call, and span events for handoffs and people's requests. Parents
 * are explicit: the runtime delivers messages from a microtask queue, so the context active when
 * an actor runs says nothing about which run it serves. A turn's children find their parent by
 * agent name here, and this object is found by invocation id (see `orchestrations/tracing.ts`).
 * Message contents, tool arguments and results are attributes only with `captureContent`.
 */
import type { Attributes, Context, Span, SpanOptions, Tracer } from '@opentelemetry/api';
import type { ChatResponse } from '../agents/chat-client.js';
import type { ChatMessage, ToolCall } from '../agents/chat-message.js';
import { ERROR_TYPE, EVENT, GEN_AI, SPAN, TROUPE } from './attributes.js';
import type { Otel } from './otel.js';
import type { ModelInfo, RunTracing, ToolRunResult, TurnEnding } from './types.js';

interface OpenSpan {
  span: Span;
  /** The context whose active span is `span`: what its children are started in. */
  context: Context;
}

export class InvocationTrace implements RunTracing {
  private readonly turns = new Map<string, OpenSpan>();
  private readonly root: OpenSpan;
  private ended = false;

  constructor(
    private readonly api: Otel,
    private readonly tracer: Tracer,
    span: Span,
    /** The context active when the run started (an HTTP request's span, baggage…). */
    outer: Context,
    readonly invocationId: string,
    readonly captureContent: boolean,
  ) {
    this.root = { span, context: api.trace.setSpan(outer, span) };
  }

  get span(): Span {
    return this.root.span;
  }

  turnStarted(agent: string, turnId: string): void {
    // A turn left open (its actor was reset) ends before the agent's next one starts.
    this.turns.get(agent)?.span.end();
    const span = this.tracer.startSpan(SPAN.turn(agent), {
      attributes: {
        [GEN_AI.operationName]: 'invoke_agent',
        [GEN_AI.agentName]: agent,
        [TROUPE.invocationId]: this.invocationId,
        [TROUPE.turnId]: turnId,
      },
    }, this.root.context);
    this.turns.set(agent, { span, context: this.api.trace.setSpan(this.root.context, span) });
  }

  turnEnded(agent: string, ending: TurnEnding): void {
    const turn = this.turns.get(agent);
    if (!turn) return;
    this.turns.delete(agent);
    const { span } = turn;
    if (ending.modelCalls !== undefined) span.setAttribute(TROUPE.turnModelCalls, ending.modelCalls);
    if (ending.outcome) {
      span.setAttribute(TROUPE.turnOutcome, ending.outcome.kind);
      if (ending.outcome.kind === 'handoff' && ending.outcome.target) {
        span.addEvent(EVENT.handoff, {
          [TROUPE.handoffFrom]: agent,
          [TROUPE.handoffTo]: ending.outcome.target,
          ...(this.captureContent && ending.outcome.reason ? { [TROUPE.handoffReason]: ending.outcome.reason } : {}),
        });
      }
    }
    if (ending.error !== undefined) this.fail(span, ending.error);
    span.end();
  }

  /** Runs one model call in its span (the span is active, so HTTP instrumentation nests under it). */
  async modelCall(agent: string, info: ModelInfo, messages: ChatMessage[], call: () => Promise<ChatResponse>): Promise<ChatResponse> {
    const attributes: Attributes = {
      [GEN_AI.operationName]: 'chat',
      [GEN_AI.system]: info.system,
      [GEN_AI.providerName]: info.system,
      [GEN_AI.agentName]: agent,
    };
    if (info.model) attributes[GEN_AI.requestModel] = info.model;
    const settings = info.settings;
    if (settings?.temperature !== undefined) attributes[GEN_AI.requestTemperature] = settings.temperature;
    if (settings?.topP !== undefined) attributes[GEN_AI.requestTopP] = settings.topP;
    if (settings?.maxTokens !== undefined) attributes[GEN_AI.requestMaxTokens] = settings.maxTokens;
    if (this.captureContent) attributes[GEN_AI.inputMessages] = JSON.stringify(messages.map(contentOf));
    return this.inSpan(agent, SPAN.modelCall(info.model), { kind: this.api.SpanKind.CLIENT, attributes }, call, (span, response) => {
      span.setAttributes({
        [GEN_AI.inputTokens]: response.usage.inputTokens,
        [GEN_AI.outputTokens]: response.usage.outputTokens,
        ...(response.model ? { [GEN_AI.responseModel]: response.model } : {}),
        ...(response.finishReason ? { [GEN_AI.responseFinishReasons]: [response.finishReason] } : {}),
      });
      if (this.captureContent) {
        span.setAttribute(GEN_AI.outputMessages, JSON.stringify([{ role: 'assistant', content: response.text, ...(response.toolCalls.length > 0 ? { toolCalls: response.toolCalls } : {}) }]));
      }
    });
  }

  /** Runs one tool call in its span. A tool's error result sets the span's status to ERROR. */
  async toolCall<R extends ToolRunResult>(agent: string, call: ToolCall, run: () => Promise<R>): Promise<R> {
    const attributes: Attributes = {
      [GEN_AI.operationName]: 'execute_tool',
      [GEN_AI.toolName]: call.name,
      [GEN_AI.toolCallId]: call.id,
      [GEN_AI.toolType]: 'function',
      [GEN_AI.agentName]: agent,
    };
    if (this.captureContent) attributes[GEN_AI.toolCallArguments] = call.arguments;
    return this.inSpan(agent, SPAN.toolCall(call.name), { attributes }, run, (span, result) => {
      if (this.captureContent) span.setAttribute(GEN_AI.toolCallResult, result.content);
      if (result.isError) {
        span.setAttribute(ERROR_TYPE, 'tool_error');
        // The message may quote the arguments: only with captureContent.
        span.setStatus({ code: this.api.SpanStatusCode.ERROR, ...(this.captureContent ? { message: result.content } : {}) });
      }
    });
  }

  /** A span event on `agent`'s open turn, else on the invocation span. */
  addEvent(agent: string | undefined, name: string, attributes: Attributes): void {
    const target = (agent !== undefined && this.turns.get(agent)) || this.root;
    target.span.addEvent(name, attributes);
  }

  /** Ends the invocation span (and any turn still open): `error` when it failed or was cancelled. */
  end(status: string, outcome: { error?: unknown; reason?: string }): void {
    if (this.ended) return;
    this.ended = true;
    for (const [agent] of this.turns) this.turnEnded(agent, outcome.error !== undefined ? { error: outcome.error } : {});
    const { span } = this.root;
    span.setAttribute(TROUPE.invocationStatus, status);
    if (outcome.reason !== undefined) span.setAttribute(TROUPE.invocationReason, outcome.reason);
    if (outcome.error !== undefined) this.fail(span, outcome.error);
    span.end();
  }

  /**
   * Runs `run` in a span under `agent`'s open turn (else the invocation span), active while it runs;
   * `done` records what it returned. A throw fails the span; the span ends either way.
   */
  private async inSpan<R>(agent: string, name: string, options: SpanOptions, run: () => Promise<R>, done: (span: Span, result: R) => void): Promise<R> {
    const parent = this.parentOf(agent);
    const span = this.tracer.startSpan(name, options, parent.context);
    try {
      const result = await this.api.context.with(this.api.trace.setSpan(parent.context, span), run);
      done(span, result);
      return result;
    } catch (error) {
      this.fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  private parentOf(agent: string): OpenSpan {
    return this.turns.get(agent) ?? this.root;
  }

  private fail(span: Span, error: unknown): void {
    const exception = error instanceof Error ? error : new Error(String(error));
    span.recordException(exception);
    const code = (error as { code?: unknown } | null)?.code;
    span.setAttribute(ERROR_TYPE, typeof code === 'string' ? code : exception.name);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: exception.message });
  }
}

/** A message as `captureContent` records it (no ids or metadata). */
function contentOf(message: ChatMessage) {
  return {
    role: message.role,
    content: message.content,
    ...(message.name ? { name: message.name } : {}),
    ...(message.toolCalls ? { toolCalls: message.toolCalls } : {}),
    ...(message.toolCallId ? { toolCallId: message.toolCallId } : {}),
  };
}

/** What names an invocation span. */
export interface InvocationTraceInput {
  kind: string;
  orchestrationId: string;
  invocationId: string;
  captureContent: boolean;
}

/**
 * Starts the invocation span, or returns undefined — the cheap path — when the API is not
 * installed, no tracer provider is registered, or the sampler drops the run: then nothing else
 * of the run is traced. The span's parent is whatever span is active where `invoke` was called.
 */
export function startInvocationTrace(api: Otel, input: InvocationTraceInput): InvocationTrace | undefined {
  // Asked per run, not cached: a provider registered (or replaced) later is honoured.
  const tracer = api.trace.getTracer('troupe');
  const outer = api.context.active();
  const span = tracer.startSpan(SPAN.invocation(input.kind), {
    attributes: {
      [TROUPE.orchestrationKind]: input.kind,
      [TROUPE.orchestrationId]: input.orchestrationId,
      [TROUPE.invocationId]: input.invocationId,
    },
  }, outer);
  if (!span.isRecording()) return undefined;
  return new InvocationTrace(api, tracer, span, outer, input.invocationId, input.captureContent);
}
