/**
 * What tracing adds to an agent actor, kept out of the machine: the machine's own turn actions
 * (`startTurn`, `respond`, `failTurn`, `failTurnLimit`) wrapped to open and close the turn span,
 * and the model's identity for model-call spans. Only the logic of traced runs is built with
 * these (see `createTracedAgentActor`), so an untraced run executes exactly the plain machine.
 */
import { enqueueActions } from 'xstate';
import type { ChatCompletionAgent } from '../agents/chat-completion-agent.js';
import { OpenAIChatClient } from '../agents/openai-chat-client.js';
import type { MessageEvent } from '../runtime/index.js';
import type { ModelInfo, TracingLookup, TurnEnding } from '../tracing/types.js';
import { agentMachine, runOf, type AgentContext } from './agent-machine.js';
import { TurnLimitError } from './errors.js';
import type { TurnRequest } from './protocol.js';

/**
 * The machine's turn actions, each followed by its trace (what the trace needs of the turn is
 * read first: `respond` and the failures clear it). To pass to `agentMachine.provide({ actions })`;
 * typed loosely, as the machine's own implementations are.
 */
export function turnTracingActions(lookup: TracingLookup): object {
  // The machine's own implementations, so the wrapped actions do exactly what they did.
  const plain = agentMachine.implementations.actions as Record<string, never>;
  const trace = (context: AgentContext, ending: TurnEnding) => lookup(runOf(context))?.turnEnded(context.agent, ending);
  return {
    startTurn: enqueueActions(({ context: ctx, event, enqueue }) => {
      const context = ctx as AgentContext;
      enqueue(plain.startTurn);
      const turnId = (event as unknown as MessageEvent<TurnRequest>).envelope.id;
      enqueue(() => lookup(runOf(context))?.turnStarted(context.agent, turnId));
    }),
    respond: enqueueActions(({ context: ctx, enqueue }) => {
      const context = ctx as AgentContext;
      // Read before `respond` clears the turn.
      const ending: TurnEnding = { outcome: context.turn?.outcome ?? { kind: 'reply' }, modelCalls: context.turn?.modelCalls };
      enqueue(plain.respond);
      enqueue(() => trace(context, ending));
    }),
    failTurn: enqueueActions(({ context: ctx, event, enqueue }) => {
      const context = ctx as AgentContext;
      const ending: TurnEnding = { error: (event as unknown as { error: unknown }).error, modelCalls: context.turn?.modelCalls };
      enqueue(plain.failTurn);
      enqueue(() => trace(context, ending));
    }),
    failTurnLimit: enqueueActions(({ context: ctx, enqueue }) => {
      const context = ctx as AgentContext;
      const ending: TurnEnding = { error: new TurnLimitError(context.agent, context.maxToolIterations), modelCalls: context.turn?.modelCalls };
      enqueue(plain.failTurnLimit);
      enqueue(() => trace(context, ending));
    }),
  };
}

/**
 * The model as `gen_ai.*` attributes name it: `gen_ai.system` is `openai` for an
 * {@link OpenAIChatClient}, otherwise the client's class name without `ChatClient`, lower-cased
 * (`ScriptedChatClient` → `scripted`, an `AnthropicChatClient` → `anthropic`), else `_OTHER`;
 * `gen_ai.request.model` is the client's `model` property when it has a string one.
 */
export function modelInfo(agent: ChatCompletionAgent): ModelInfo {
  const client = agent.client as { model?: unknown; constructor?: { name?: string } };
  return {
    system: genAiSystem(agent.client),
    ...(typeof client.model === 'string' ? { model: client.model } : {}),
    ...(agent.modelSettings ? { settings: agent.modelSettings } : {}),
  };
}

function genAiSystem(client: ChatCompletionAgent['client']): string {
  if (client instanceof OpenAIChatClient) return 'openai';
  const name = (client as { constructor?: { name?: unknown } }).constructor?.name;
  const short = typeof name === 'string' ? name.replace(/(Chat)?Client$/, '').toLowerCase() : '';
  return short !== '' && short !== 'object' ? short : '_OTHER';
}
