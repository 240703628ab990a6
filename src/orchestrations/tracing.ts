/**
 * OpenTelemetry tracing of an orchestration's runs (the `tracing` option). Per orchestration
 * object: the traced runs by invocation id — how an agent actor, which only knows its run's id,
 * finds the span to parent its work on — and the agent logic of traced runs. A run is traced when
 * `@opentelemetry/api` is installed, a tracer provider is registered and the sampler keeps the
 * run; otherwise it costs one check when it starts and nothing after.
 */
import type { AnyActorLogic } from 'xstate';
import type { ChatCompletionAgent } from '../agents/chat-completion-agent.js';
import type { ActorEvent } from '../actors/events.js';
import { EVENT, GEN_AI, TROUPE, loadOtel, otel, startInvocationTrace, type InvocationTrace } from '../tracing/index.js';
import type { TracingLookup } from '../tracing/types.js';
import { OrchestrationConfigError } from './errors.js';
import type { Invocation } from './invocation.js';

/**
 * The `tracing` option of every orchestration. Default `{}`: runs are traced whenever an
 * OpenTelemetry SDK is registered, without message contents.
 *
 * Spans: `troupe.invocation <kind>` per run → `invoke_agent <agent>` per agent turn →
 * `chat <model>` per model call and `execute_tool <tool>` per tool call (GenAI semantic
 * conventions: `gen_ai.system`, `gen_ai.request.model`, `gen_ai.usage.input_tokens`, …). Handoffs,
 * human input requests and approvals are span events. Errors are recorded on the span of the
 * model call, turn and run they failed.
 *
 * @example
 * // with an OpenTelemetry SDK registered (e.g. NodeSDK), in a test or a trusted environment:
 * new HandoffOrchestration({ members, handoffs, tracing: { captureContent: true } });
 * // never trace this orchestration:
 * new SequentialOrchestration({ members, tracing: false });
 */
export interface TracingOptions {
  /**
   * Record message contents, tool arguments and results, handoff reasons and people's prompts
   * as span attributes (`gen_ai.input.messages`, `gen_ai.output.messages`,
   * `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`, …). Default false: they may hold
   * personal data or secrets, and they go wherever your traces go.
   */
  captureContent?: boolean;
}

export class OrchestrationTracing {
  private readonly enabled: boolean;
  private readonly captureContent: boolean;
  private readonly runs = new Map<string, InvocationTrace>();
  private readonly logic = new Map<ChatCompletionAgent, AnyActorLogic>();
  /** How traced agent actors find their run. */
  readonly lookup: TracingLookup = (invocationId) => this.runs.get(invocationId);

  constructor(kind: string, option: TracingOptions | false | undefined) {
    if (option !== undefined && option !== false && (option === null || typeof option !== 'object' || Array.isArray(option))) {
      throw new OrchestrationConfigError(`${kind}: "tracing" must be an object ({ captureContent?: boolean }) or false.`);
    }
    if (option && option.captureContent !== undefined && typeof option.captureContent !== 'boolean') {
      throw new OrchestrationConfigError(`${kind}: "tracing.captureContent" must be a boolean.`);
    }
    this.enabled = option !== false;
    this.captureContent = option ? option.captureContent === true : false;
  }

  /** A promise while `@opentelemetry/api` loads (await it before the first run), else undefined. */
  ready(): Promise<void> | undefined {
    return this.enabled ? loadOtel() : undefined;
  }

  /** Starts tracing `invocation` if there is anything to trace to; true if it is traced. */
  start(invocation: Invocation<unknown>, kind: string, orchestrationId: string): boolean {
    const api = this.enabled ? otel() : null;
    if (!api) return false;
    const trace = startInvocationTrace(api, { kind, orchestrationId, invocationId: invocation.id, captureContent: this.captureContent });
    if (!trace) return false;
    const { id, result } = invocation;
    this.runs.set(id, trace);
    // Ends with the run: `status` is completed, failed or cancelled by then.
    result.get().then((output) => {
      this.runs.delete(id);
      const reason = (output as { reason?: unknown } | null)?.reason;
      trace.end(result.status, typeof reason === 'string' ? { reason } : {});
    }, (error: unknown) => {
      this.runs.delete(id);
      trace.end(result.status, { error });
    });
    return true;
  }

  isTraced(invocationId: string): boolean {
    return this.runs.has(invocationId);
  }

  /**
   * A span event for an event of a traced run. Transfer-tool handoffs are recorded by the turn that
   * made them; a handoff the intent router made (`reason: 'classified'`, a fixed word, so recorded
   * without `captureContent`) goes on the invocation span.
   */
  event(invocationId: string, event: ActorEvent): void {
    const trace = this.runs.get(invocationId);
    if (!trace) return;
    const content = trace.captureContent;
    switch (event.type) {
      case 'handoff':
        if (event.reason !== 'classified') return;
        return trace.addEvent(undefined, EVENT.handoff, {
          [TROUPE.handoffFrom]: event.from, [TROUPE.handoffTo]: event.to, [TROUPE.handoffReason]: event.reason,
        });
      case 'human_input_requested':
        return trace.addEvent(event.agent, EVENT.humanInputRequested, {
          [TROUPE.requestId]: event.requestId, [TROUPE.requestKind]: event.kind, [GEN_AI.agentName]: event.agent,
          ...(content && event.message ? { [TROUPE.requestMessage]: event.message.content } : {}),
        });
      case 'approval_requested':
        return trace.addEvent(event.agent, EVENT.approvalRequested, {
          [TROUPE.requestId]: event.requestId, [TROUPE.requestKind]: 'approval', [GEN_AI.agentName]: event.agent,
          [GEN_AI.toolName]: event.toolCall.name, [GEN_AI.toolCallId]: event.toolCall.id,
          ...(content ? { [GEN_AI.toolCallArguments]: event.toolCall.arguments } : {}),
        });
      case 'plan_review_requested':
        return trace.addEvent(undefined, EVENT.planReviewRequested, {
          [TROUPE.requestId]: event.requestId, [TROUPE.requestKind]: 'plan_review', [GEN_AI.agentName]: event.agent,
        });
    }
  }

  /** The agent logic of traced runs: built once per member, shared by every traced run. */
  agentLogic(agent: ChatCompletionAgent, build: () => AnyActorLogic): AnyActorLogic {
    let logic = this.logic.get(agent);
    if (!logic) this.logic.set(agent, (logic = build()));
    return logic;
  }
}
