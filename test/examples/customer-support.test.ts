import { describe, expect, it } from 'vitest';
import { InProcessRuntime, OpenAIChatClient, type OrchestrationOutput } from '../../src/index.js';
import { estimateInputTokens, ScriptedChatClient } from '../../src/testing/index.js';
import { CUSTOMER_LINES, OPENING_LINE, scriptedCustomer } from '../../examples/customer-support/customer.js';
import { chooseSetup, createClients, DEFAULT_MODEL, main } from '../../examples/customer-support/main.js';
import { runCustomerSupport, type RunOptions } from '../../examples/customer-support/run.js';
import { createScriptedModel, modelCalls } from '../../examples/customer-support/scripted-model.js';
import { createSupportOrchestration, createSupportTeam } from '../../examples/customer-support/support-team.js';
import { main as runtimeBasics } from '../../examples/runtime-basics.js';
import { main as singleAgentTool } from '../../examples/single-agent-tool.js';

async function run(options: Partial<RunOptions> = {}) {
  const lines: string[] = [];
  const model = createScriptedModel();
  const output = await runCustomerSupport({ clients: model, customer: scriptedCustomer(), print: (line) => lines.push(line), ...options });
  return { lines, model, output: output! };
}

const handoffLines = (lines: string[]) => lines.filter((l) => l.includes('[handoff]')).map((l) => l.trim());
const toolLines = (lines: string[]) => lines.filter((l) => l.includes('[tool]')).map((l) => l.trim());

/** ScriptedChatClient's deterministic input tokens for every request it received. */
function inputTokensOf(model: ReturnType<typeof createScriptedModel>): number {
  return Object.values(model)
    .flatMap((c) => c.requests)
    .reduce((sum, r) => sum + estimateInputTokens(r), 0);
}

describe('customer-support example (scripted model and customer)', () => {
  it("plays the whole conversation: status → refund (back through Triage, resumeWith 'asker') → thanks → ends", async () => {
    const { lines, model, output } = await run();
    expect(handoffLines(lines)).toEqual([
      '[handoff] Triage → OrderStatus (The customer wants to know where their order is.)',
      '[handoff] OrderStatus → Triage (The customer asks for a refund.)',
      '[handoff] Triage → Refund (The customer asks for a refund.)',
    ]);
    expect(toolLines(lines)).toEqual([
      '[tool] check_order_status({"order_id":"123"}) → Order 123 (Ceramic mug (set of 2)): delivered yesterday at 14:02, signed for by the front desk.',
      '[tool] process_refund({"order_id":"123","reason":"Arrived broken"}) → Refund of $24.99 for order 123 issued; it reaches the card in 3-5 business days.',
    ]);
    // Who said what, in order (handoff-only turns print no text).
    const spoken = lines.filter((l) => /^(Customer|Triage|OrderStatus|Refund|Returns): /.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    expect(spoken).toEqual(['Customer', 'OrderStatus', 'Customer', 'Refund', 'Customer', 'Refund', 'Customer']);
    expect(lines[0]).toBe(`Customer: ${OPENING_LINE}`);
    expect(lines).toContain(`Customer: ${CUSTOMER_LINES[0]}`);
    expect(lines).toContain("Refund: You're welcome — have a great day!");

    expect(output.reason).toBe('user_ended');
    expect(output.lastAgent).toBe('Refund');
    expect(output.messages.map((m) => m.content)).toEqual(["You're welcome — have a great day!"]);
    expect(lines).toContain('Conversation ended: user_ended (last agent: Refund)');

    // 8 model calls: Triage 2 (two handoffs), OrderStatus 3 (tool, answer, hand back), Refund 3 (tool, answer, thanks).
    expect(Object.fromEntries(Object.entries(model).map(([name, c]) => [name, c.callCount]))).toEqual({ Triage: 2, OrderStatus: 3, Refund: 3, Returns: 0 });
    // The usage the orchestration reports is exactly what the scripted model counted.
    expect(output.usage.total.inputTokens).toBe(inputTokensOf(model));
    expect(Object.keys(output.usage.byAgent).sort()).toEqual(['OrderStatus', 'Refund', 'Triage']);
    expect(lines.some((l) => l.startsWith(`Tokens: ${output.usage.total.inputTokens} in`))).toBe(true);
  });

  it('the transcript keeps the tool calls with their results, and the refund agent saw the order-status lookup', async () => {
    const { output, model } = await run();
    const calls = output.conversation.flatMap((m) => m.toolCalls ?? []).map((c) => c.name);
    expect(calls).toEqual(['transfer_to_OrderStatus', 'check_order_status', 'transfer_to_Triage', 'transfer_to_Refund', 'process_refund']);
    for (const call of output.conversation.flatMap((m) => m.toolCalls ?? [])) {
      expect(output.conversation.filter((m) => m.role === 'tool' && m.toolCallId === call.id)).toHaveLength(1);
    }
    // handoffOnly (default): Refund sees the other agents' ordinary tool calls but no transfer calls.
    const refundSaw = model.Refund.requests[0].messages;
    expect(refundSaw.flatMap((m) => m.toolCalls ?? []).map((c) => c.name)).toEqual(['check_order_status']);
  });

  it("resumeWith 'start': the refund request goes to Triage, who sends it straight to Refund", async () => {
    const { lines, output } = await run({ resumeWith: 'start' });
    expect(handoffLines(lines)).toEqual([
      '[handoff] Triage → OrderStatus (The customer wants to know where their order is.)',
      '[handoff] Triage → Refund (The customer asks for a refund.)',
    ]);
    expect(toolLines(lines).map((l) => l.slice(0, l.indexOf('(')))).toEqual(['[tool] check_order_status', '[tool] process_refund']);
    expect(output.reason).toBe('user_ended');
    expect(output.lastAgent).toBe('Triage');
    expect(output.messages[0].content).toBe("You're welcome! Have a great day.");
  });

  it.each([
    { toolCallFilter: 'all' as const },
    { toolCallFilter: 'none' as const },
    { contextWindow: 6 },
  ])('completes the same conversation with %o', async (options) => {
    const { lines, output } = await run(options);
    expect(handoffLines(lines)).toHaveLength(3);
    expect(toolLines(lines)).toHaveLength(2);
    expect(output.reason).toBe('user_ended');
  });

  it('the scripted customer also works as the humanResponse callback', async () => {
    const customer = scriptedCustomer();
    const orchestration = createSupportOrchestration(createSupportTeam(createScriptedModel()), { humanResponse: customer.reply });
    const runtime = new InProcessRuntime();
    runtime.start();
    const result = await orchestration.invoke(OPENING_LINE, runtime);
    const handoffs: string[] = [];
    for await (const event of result.events) if (event.type === 'handoff') handoffs.push(`${event.from}→${event.to}`);
    const output: OrchestrationOutput = await result.get(10_000);
    await runtime.close();
    expect(handoffs).toEqual(['Triage→OrderStatus', 'OrderStatus→Triage', 'Triage→Refund']);
    expect(output.reason).toBe('user_ended');
    expect(output.conversation.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([OPENING_LINE, ...CUSTOMER_LINES]);
  });

  it('a customer who says nothing: no conversation', async () => {
    const lines: string[] = [];
    const output = await runCustomerSupport({ clients: createScriptedModel(), customer: scriptedCustomer([], ''), print: (l) => lines.push(l) });
    expect(output).toBeNull();
    expect(lines).toEqual([]);
  });

  it('each run gets fresh state: two runs print the same conversation (the refund is not "already refunded")', async () => {
    const first = await run();
    const second = await run();
    expect(second.lines).toEqual(first.lines);
    expect(modelCalls(second.model)).toBe(8);
  });
});

describe('customer-support main', () => {
  it('without OPENAI_API_KEY it picks the scripted model and runs offline (exit code 0)', async () => {
    expect(chooseSetup({})).toEqual({ mode: 'scripted' });
    expect(chooseSetup({ OPENAI_API_KEY: '  ' })).toEqual({ mode: 'scripted' });
    const lines: string[] = [];
    const code = await main({ env: {}, argv: [], print: (l) => lines.push(l) });
    expect(code).toBe(0);
    expect(lines.find((l) => l.startsWith('Model:'))).toContain('scripted model');
    expect(lines).toContain('Conversation ended: user_ended (last agent: Refund)');
  });

  it('with OPENAI_API_KEY it picks OpenAIChatClient (OPENAI_MODEL, OPENAI_BASE_URL), unless --scripted', () => {
    const key = 'sk-test-not-a-real-key';
    expect(chooseSetup({ OPENAI_API_KEY: key })).toEqual({ mode: 'openai', model: DEFAULT_MODEL });
    const env = { OPENAI_API_KEY: key, OPENAI_MODEL: 'llama3.1', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' };
    const setup = chooseSetup(env);
    expect(setup).toEqual({ mode: 'openai', model: 'llama3.1', baseURL: 'http://127.0.0.1:11434/v1' });
    expect(JSON.stringify(setup)).not.toContain(key);
    // Constructing the client touches no network (the SDK loads on the first request).
    const client = createClients(setup, env);
    expect(client).toBeInstanceOf(OpenAIChatClient);
    expect((client as OpenAIChatClient).model).toBe('llama3.1');
    expect((client as OpenAIChatClient).baseURL).toBe('http://127.0.0.1:11434/v1');
    expect(chooseSetup({ OPENAI_API_KEY: key }, ['--scripted'])).toEqual({ mode: 'scripted' });
  });

  it('a failing model: main prints the failure and returns exit code 1', async () => {
    const lines: string[] = [];
    const model = createScriptedModel();
    const broken = { ...model, OrderStatus: new ScriptedChatClient([{ error: { status: 500, message: 'upstream down' } }]) };
    const code = await main({ env: {}, argv: [], print: (l) => lines.push(l), participants: { clients: broken, customer: scriptedCustomer(), description: 'broken' } });
    expect(code).toBe(1);
    expect(lines.at(-1)).toMatch(/The conversation failed: .*upstream down/);
  });
});

describe('small examples', () => {
  it('runtime-basics: lazy actors per room, broadcast hellos, RPC counts, idle', async () => {
    const { log, counts, actors } = await runtimeBasics(() => {});
    expect(counts).toEqual({ 'room-1': 2, 'room-2': 1 });
    expect(actors).toBe(2);
    expect(log.filter((l) => l.startsWith('factory:'))).toEqual(['factory: creating greeter/room-1', 'factory: creating greeter/room-2']);
    expect(log).toContain('greeter/room-1 heard hello from Grace');
    expect(log.at(-1)).toBe('idle: 2 actors, 0 messages queued');
  });

  it('single-agent-tool: tool call, tool result, answer', async () => {
    const lines: string[] = [];
    const { output, toolResult, modelCalls: calls } = await singleAgentTool((l) => lines.push(l));
    expect(output.reason).toBe('completed');
    expect(output.messages.map((m) => m.content)).toEqual(['It is sunny and 21 °C in Lisbon right now.']);
    expect(JSON.parse(toolResult)).toEqual({ city: 'Lisbon', temperature: 21, unit: 'C', sky: 'sunny' });
    expect(calls).toBe(2);
    expect(lines[0]).toBe('[tool call] get_weather({"city":"Lisbon","unit":"C"})');
  });
});
