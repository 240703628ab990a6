import { expect, it } from 'vitest';
import { z } from 'zod';
import { ChatCompletionAgent, HandoffOrchestration, InProcessRuntime, SequentialOrchestration, tool } from '../../src/index.js';
import { useFakeOpenAI } from './helpers.js';

// The whole path a real model takes: agent actor → OpenAIChatClient → the openai SDK → HTTP.
let runtime: InProcessRuntime;
const openai = useFakeOpenAI();
const model = openai.model;

it('an agent runs a tool-call loop through the real SDK, streaming when a callback is set', async () => {
  runtime = new InProcessRuntime();
  runtime.start();
  const status = tool({ name: 'check_order_status', description: 'Order status', parameters: z.object({ order_id: z.string() }), execute: ({ order_id }) => `Order ${order_id} shipped.` });
  openai.server.enqueue(
    { toolCalls: [{ name: 'check_order_status', arguments: { order_id: '7' } }] },
    { text: 'Your order 7 has shipped.' },
  );
  const deltas: string[] = [];
  const orchestration = new SequentialOrchestration({
    members: [new ChatCompletionAgent({ name: 'Orders', client: model(), tools: [status] })],
    streamingAgentResponseCallback: (d) => void (d.type === 'agent_response_delta' && deltas.push(d.delta)),
  });
  const output = await (await orchestration.invoke('Where is order 7?', runtime)).get();
  expect(output.messages[0].content).toBe('Your order 7 has shipped.');
  expect(deltas.join('')).toBe('Your order 7 has shipped.');
  expect(openai.server.requests).toHaveLength(2);
  const second = openai.server.requests[1].body as { messages: Array<{ role: string; tool_call_id?: string; content: string }>; stream: boolean };
  expect(second.stream).toBe(true);
  const toolMessage = second.messages.find((m) => m.role === 'tool')!;
  expect(toolMessage.content).toBe('Order 7 shipped.');
  expect(output.usage.total.totalTokens).toBeGreaterThan(0);
  await runtime.close();
});

it('a handoff through the real SDK: the transfer call is intercepted and answered', async () => {
  runtime = new InProcessRuntime();
  runtime.start();
  openai.server.enqueue({ toolCalls: [{ name: 'transfer_to_Refund', arguments: { reason: 'refund' } }] }, { text: 'Refund done.' });
  const support = new HandoffOrchestration({
    members: [new ChatCompletionAgent({ name: 'Triage', client: model() }), new ChatCompletionAgent({ name: 'Refund', client: model() })],
    humanResponse: () => null,
  });
  const output = await (await support.invoke('refund order 1', runtime)).get();
  expect(output.lastAgent).toBe('Refund');
  const first = openai.server.requests[0].body as { tools: Array<{ function: { name: string } }> };
  expect(first.tools.map((t) => t.function.name)).toEqual(['transfer_to_Refund']);
  const second = openai.server.requests[1].body as { messages: Array<{ role: string }> };
  expect(second.messages.map((m) => m.role)).toEqual(['system', 'user']);
  await runtime.close();
});
