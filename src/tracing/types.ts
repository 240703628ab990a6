/**
 * The plain data the tracing layer is told (no OpenTelemetry types, so the declarations of the
 * actors that use them never name the optional `@opentelemetry/api` package).
 */
import type { ChatResponse, ModelSettings } from '../agents/chat-client.js';
import type { ChatMessage, ToolCall } from '../agents/chat-message.js';

/** What a model-call span says about the model, computed once per agent. */
export interface ModelInfo {
  /** `gen_ai.system`: `openai` for OpenAIChatClient, see `modelInfo` in `actors/agent-tracing.ts`. */
  system: string;
  model?: string;
  settings?: ModelSettings;
}

/** How a turn ended: its outcome (`reply`, `handoff`, `complete`) or the error that failed it. */
export interface TurnEnding {
  outcome?: { kind: string; target?: string; reason?: string };
  modelCalls?: number;
  error?: unknown;
}

/** What running one tool call produced (a throwing tool is an error result, not a throw). */
export interface ToolRunResult {
  content: string;
  isError: boolean;
}

/** The tracing of one run, as an agent actor uses it (`InvocationTrace` implements it). */
export interface RunTracing {
  turnStarted(agent: string, turnId: string): void;
  turnEnded(agent: string, ending: TurnEnding): void;
  modelCall(agent: string, info: ModelInfo, messages: ChatMessage[], call: () => Promise<ChatResponse>): Promise<ChatResponse>;
  toolCall<R extends ToolRunResult>(agent: string, call: ToolCall, run: () => Promise<R>): Promise<R>;
}

/** Finds the tracing of a run by its invocation id; undefined when the run is not traced. */
export type TracingLookup = (invocationId: string) => RunTracing | undefined;
