/**
 * Binds a {@link ChatCompletionAgent} to the pure agent machine: the `callModel` effect (its
 * response validated) and the `runTools` effect are provided here, so the machine itself stays
 * steppable. Both are performed by the host, not by invoked child actors (see `runtime/effects.ts`).
 */
import { assign } from 'xstate';
import type { ChatCompletionAgent } from '../agents/chat-completion-agent.js';
import type { ChatResponse } from '../agents/chat-client.js';
import { validateChatResponse } from '../agents/chat-response.js';
import { executeToolCall, parseToolArguments, type Tool } from '../agents/tool.js';
import type { ToolCall } from '../agents/chat-message.js';
import { agentMachine, hearHistory, hearResponse, type ModelCallInput, type RunToolsInput, type RunToolsOutput } from './agent-machine.js';
import type { ResponseFilter } from './tool-call-filter.js';
import type { StreamedTextEvent } from './events.js';
import { streamedModelCall } from './streamed-model-call.js';
import type { TracingLookup } from '../tracing/types.js';
import { modelInfo, turnTracingActions } from './agent-tracing.js';
import { effect } from '../runtime/index.js';

export interface AgentActorHooks {
  /**
   * Receives the streamed text deltas (`agent_response_delta`) and, when a model call fails after
   * some, its `agent_response_abandoned` — with the run they belong to. They come from inside the
   * model call, not from a transition, so they skip the runtime; every other event is a message
   * to the run's boundary actor.
   */
  onDelta?: (event: StreamedTextEvent, invocationId: string) => void;
  /** Stream the model's answer, reporting `agent_response_delta` (and `agent_response_abandoned`) events. */
  stream?: boolean;
  /** A custom tool-call filter: what this agent keeps of other agents' turns. */
  filter?: ResponseFilter;
}

/**
 * The agent's actor logic: {@link agentMachine} with its model, tools and reporting attached.
 *
 * @example
 * runtime.registerFactory('refund', ({ id }) => ({
 *   logic: createAgentActor(refundAgent),
 *   input: { agent: refundAgent.name, invocationId: id.key, self: id, boundary, gateway, topic: new TopicId('replies', id.key) },
 * }));
 * runtime.addSubscription(new TypeSubscription('chat', 'refund'));
 */
export function createAgentActor(agent: ChatCompletionAgent, hooks: AgentActorHooks = {}) {
  return agentActor(agent, hooks);
}

/**
 * The agent actor of traced runs (internal, used by orchestrations): {@link createAgentActor}
 * plus a span per turn, model call and tool call, in the run `tracing` finds by invocation id.
 * A separate logic, so untraced runs pay nothing for it.
 */
export function createTracedAgentActor(agent: ChatCompletionAgent, hooks: AgentActorHooks, tracing: TracingLookup) {
  return agentActor(agent, hooks, tracing);
}

function agentActor(agent: ChatCompletionAgent, hooks: AgentActorHooks, tracing?: TracingLookup) {
  const onDelta = hooks.onDelta ?? (() => {});
  const tools: readonly Tool[] = agent.tools;
  const callModel = async (input: ModelCallInput, signal: AbortSignal): Promise<ChatResponse> => {
    const request = { messages: input.messages, tools: input.tools.length > 0 ? input.tools : undefined, modelSettings: agent.modelSettings, signal };
    if (hooks.stream) return streamedModelCall(agent, request, (event) => onDelta(event, input.invocationId));
    // A custom ChatClient's answer is checked here, so a bad one fails the turn naming the agent.
    return validateChatResponse(await agent.client.complete(request), agent.name);
  };
  const info = tracing ? modelInfo(agent) : undefined;
  return agentMachine.provide({
    actions: {
      callModel: effect('callModel', (input: ModelCallInput, { signal }): Promise<ChatResponse> => {
        const run = tracing?.(input.invocationId);
        return run ? run.modelCall(input.agent, info!, input.messages, () => callModel(input, signal)) : callModel(input, signal);
      }),
      runTools: effect('runTools', (input: RunToolsInput, { signal }): Promise<RunToolsOutput> => {
        const run = tracing?.(input.invocationId);
        return runTools(tools, input, signal, run ? (call, execute) => run.toolCall(input.agent, call, execute) : undefined);
      }),
      ...(hooks.filter ? {
        cacheResponse: assign(({ context, event }) => hearResponse(context, event, hooks.filter!)),
        loadHistory: assign(({ context, event }) => hearHistory(context, event, hooks.filter!)),
      } : {}),
      ...(tracing ? turnTracingActions(tracing) : {}),
    },
  });
}

type ToolResult = Awaited<ReturnType<typeof executeToolCall>>;

/** Runs the calls in parallel (each through `wrap`, when tracing); calls that need approval (and were not approved) are held back. */
async function runTools(tools: readonly Tool[], input: RunToolsInput, signal: AbortSignal, wrap?: (call: ToolCall, run: () => Promise<ToolResult>) => Promise<ToolResult>): Promise<RunToolsOutput> {
  const needApproval: ToolCall[] = [];
  const toRun: ToolCall[] = [];
  for (const call of input.calls) {
    if (!input.approvedIds.includes(call.id) && (await requiresApproval(tools, call))) needApproval.push(call);
    else toRun.push(call);
  }
  const results = await Promise.all(toRun.map(async (call) => ({
    toolCallId: call.id,
    name: call.name,
    ...(await (wrap ? wrap(call, () => executeToolCall(tools, call, { signal, agent: input.agent })) : executeToolCall(tools, call, { signal, agent: input.agent }))),
  })));
  return { results, needApproval };
}

async function requiresApproval(tools: readonly Tool[], call: ToolCall): Promise<boolean> {
  const found = tools.find((t) => t.name === call.name);
  if (!found || found.needsApproval === false) return false;
  if (found.needsApproval === true) return true;
  // Conditional approval: arguments that do not parse are not run anyway (the model gets the error).
  const parsed = parseToolArguments(found, call.arguments);
  return parsed.ok ? Boolean(await found.needsApproval(parsed.args)) : false;
}
