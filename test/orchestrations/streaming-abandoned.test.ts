import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AgentTurnError, ChatClientError, SequentialOrchestration, tool,
  type ChatClient, type ChatStreamEvent, type OrchestrationEvent, type StreamedTextEvent,
} from '../../src/index.js';
import type { ScriptedChatClient } from '../../src/testing/index.js';
import { agent, collect, scripted, startedRuntime } from './helpers.js';

/**
 * A ScriptedChatClient whose stream breaks like a dropped connection: its text deltas arrive,
 * then `error` is thrown instead of the final response.
 */
function breakingMidStream(inner: ScriptedChatClient, error: Error): ChatClient {
  return {
    complete: (request) => inner.complete(request),
    async *stream(request): AsyncIterable<ChatStreamEvent> {
      for await (const event of inner.stream(request)) {
        if (event.type === 'response') throw error;
        yield event;
      }
    },
  };
}

/** Runs A alone with streaming on; returns the streamed events, what the callback saw, and the failure. */
async function run(client: ChatClient) {
  await using runtime = startedRuntime();
  const seen: StreamedTextEvent[] = [];
  const orchestration = new SequentialOrchestration({
    members: [agent('A', client, { tools: [tool({ name: 'lookup', description: 'Look up.', parameters: z.object({}), execute: () => 'found' })] })],
    streamingAgentResponseCallback: (event) => void seen.push(event),
  });
  const result = await orchestration.invoke('Hello', runtime);
  const [events, failure] = await Promise.all([collect(result.events), result.get().then(() => undefined, (error: unknown) => error)]);
  const types = events.map((e) => e.type);
  return { events, types, seen, failure, invocationId: result.invocationId };
}

const abandoned = (events: OrchestrationEvent[]) => events.filter((e) => e.type === 'agent_response_abandoned');

describe('agent_response_abandoned', () => {
  it('a stream that throws after deltas: the deltas, then agent_response_abandoned, then the failure on result.events; the callback gets the deltas', async () => {
    const dropped = new ChatClientError('Connection reset by peer.', { status: 502 });
    const { events, types, seen, failure, invocationId } = await run(breakingMidStream(scripted([{ text: 'Refunds take three days' }]), dropped));

    expect(types).toEqual(['agent_response_delta', 'agent_response_delta', 'agent_response_delta', 'agent_response_abandoned', 'failed']);
    expect(abandoned(events)).toEqual([{
      type: 'agent_response_abandoned', agent: 'A', invocationId,
      error: { name: 'ChatClientError', message: 'Connection reset by peer.', code: 'chat_client_error' },
    }]);
    expect(seen.map((e) => e.type)).toEqual(['agent_response_delta', 'agent_response_delta', 'agent_response_delta']);
    expect(seen.flatMap((e) => (e.type === 'agent_response_delta' ? [e.delta] : [])).join('')).toBe('Refunds take three days');
    expect(failure).toBeInstanceOf(AgentTurnError);
    expect((failure as AgentTurnError).cause).toBe(dropped);
  });

  it('a streamed response that turns out invalid is abandoned too (plain ScriptedChatClient)', async () => {
    const { events, types, failure } = await run(scripted([{ text: 'Let me look', toolCalls: [{ name: '' }] }]));

    expect(types).toEqual(['agent_response_delta', 'agent_response_delta', 'agent_response_delta', 'agent_response_abandoned', 'failed']);
    const [event] = abandoned(events) as Array<Extract<OrchestrationEvent, { type: 'agent_response_abandoned' }>>;
    expect(event.error.name).toBe('InvalidChatResponseError');
    expect(event.error.message).toContain('toolCalls[0].name');
    expect(failure).toBeInstanceOf(AgentTurnError);
  });

  it('no abandonment when the call fails before any delta', async () => {
    const { types, seen, failure } = await run(scripted([{ error: { status: 500, message: 'Server error.' } }]));

    expect(types).toEqual(['failed']);
    expect(seen).toEqual([]);
    expect(failure).toBeInstanceOf(AgentTurnError);
  });

  it('abandonment is per model call: text of an earlier, finished call in the turn is not abandoned when a later call fails before its deltas', async () => {
    const { types, seen } = await run(scripted([
      { text: 'Checking', toolCalls: [{ name: 'lookup' }] },
      { error: { status: 503 } },
    ]));

    expect(types.filter((t) => t.startsWith('agent_response'))).toEqual(['agent_response_delta', 'agent_response_delta', 'agent_response_delta']);
    expect(types.at(-1)).toBe('failed');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.type === 'agent_response_delta')).toBe(true);
  });

  it('a successful stream reports no abandonment', async () => {
    await using runtime = startedRuntime();
    const seen: StreamedTextEvent[] = [];
    const orchestration = new SequentialOrchestration({ members: [agent('A', scripted([{ text: 'All good' }]))], streamingAgentResponseCallback: (e) => void seen.push(e) });
    const result = await orchestration.invoke('Hello', runtime);
    const events = await collect(result.events);
    expect(events.map((e) => e.type)).not.toContain('agent_response_abandoned');
    expect(seen.map((e) => e.type)).toEqual(['agent_response_delta', 'agent_response_delta', 'agent_response_delta']);
  });
});
