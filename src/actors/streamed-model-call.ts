/**
 * A streamed model call, as the agent actor makes it when streaming is on: text deltas are
 * reported as they arrive, and if the call then fails — the stream throws, ends without a
 * response, or the response is invalid — an `agent_response_abandoned` is reported before the
 * error goes on, so whoever showed the partial text knows it will not become a response.
 */
import type { ChatCompletionAgent } from '../agents/chat-completion-agent.js';
import type { ChatRequest, ChatResponse, ChatStreamEvent } from '../agents/chat-client.js';
import { validateChatResponse } from '../agents/chat-response.js';
import type { StreamedTextEvent } from './events.js';

type Abandoned = Extract<StreamedTextEvent, { type: 'agent_response_abandoned' }>;

/** The plain-data summary of a failure that an event can carry. */
export function failureSummary(error: unknown): Abandoned['error'] {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/**
 * Streams `request` on the agent's client and returns the validated response.
 *
 * @example
 * const response = await streamedModelCall(agent, { messages, signal }, (event) => events.push(event));
 */
export async function streamedModelCall(agent: ChatCompletionAgent, request: ChatRequest, report: (event: StreamedTextEvent) => void): Promise<ChatResponse> {
  // Abandonment is only news to someone who saw text: a call that fails before any delta is
  // reported by the failure alone.
  let streamedText = false;
  try {
    let response: ChatResponse | undefined;
    for await (const event of agent.client.stream(request) as AsyncIterable<ChatStreamEvent>) {
      if (event.type === 'text_delta') {
        streamedText = true;
        report({ type: 'agent_response_delta', agent: agent.name, delta: event.delta });
      } else if (event.type === 'response') response = event.response;
    }
    if (!response) throw new Error(`The model stream for agent "${agent.name}" ended without a response.`);
    // A custom ChatClient's answer is checked here, so a bad one fails the turn naming the agent.
    return validateChatResponse(response, agent.name);
  } catch (error) {
    if (streamedText) report({ type: 'agent_response_abandoned', agent: agent.name, error: failureSummary(error) });
    throw error;
  }
}
