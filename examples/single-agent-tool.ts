/**
 * One agent, one tool, no network: `npx tsx examples/single-agent-tool.ts`.
 *
 * The scripted model first asks for the tool, then answers from its result — the same tool loop
 * a real model goes through. A one-member SequentialOrchestration runs the agent.
 */
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ChatCompletionAgent, InProcessRuntime, SequentialOrchestration, tool, type OrchestrationOutput } from '../src/index.js';
import { ScriptedChatClient } from '../src/testing/index.js';

const getWeather = tool({
  name: 'get_weather',
  description: 'The current weather in a city.',
  parameters: z.object({ city: z.string(), unit: z.enum(['C', 'F']).optional() }),
  execute: ({ city, unit = 'C' }) => ({ city, temperature: unit === 'C' ? 21 : 70, unit, sky: 'sunny' }),
});

export interface SingleAgentResult {
  output: OrchestrationOutput;
  /** What the tool returned, as the model saw it. */
  toolResult: string;
  modelCalls: number;
}

export async function main(print: (line: string) => void = console.log): Promise<SingleAgentResult> {
  const model = new ScriptedChatClient([
    { toolCalls: [{ name: 'get_weather', arguments: { city: 'Lisbon', unit: 'C' } }] },
    // Answers after seeing the tool result (the second request ends with it).
    { text: 'It is sunny and 21 °C in Lisbon right now.' },
  ]);
  const forecaster = new ChatCompletionAgent({
    name: 'Forecaster',
    instructions: 'Answer weather questions with get_weather.',
    client: model,
    tools: [getWeather],
  });
  const orchestration = new SequentialOrchestration({ members: [forecaster] });

  const runtime = new InProcessRuntime();
  runtime.start();
  const result = await orchestration.invoke('What is the weather in Lisbon?', runtime);
  let toolResult = '';
  for await (const event of result.events) {
    if (event.type === 'tool_call') print(`[tool call] ${event.toolCall.name}(${event.toolCall.arguments})`);
    if (event.type === 'tool_result') print(`[tool result] ${(toolResult = event.content)}`);
    if (event.type === 'agent_response') print(`${event.agent}: ${event.message.content}`);
  }
  const output = await result.get();
  await runtime.stopWhenIdle();
  await runtime.close();
  model.assertComplete(); // every scripted step was used
  print(`done: ${output.reason}, ${model.callCount} model calls, ${output.usage.total.totalTokens} tokens`);
  return { output, toolResult, modelCalls: model.callCount };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
