import { expect, it } from 'vitest';
import { ChatCompletionAgent, GroupChatOrchestration, InProcessRuntime, ModelGroupChatManager } from '../../src/index.js';
import { groupChatDecision, useFakeOpenAI } from './helpers.js';

// The model manager's whole path: structured output through OpenAIChatClient → the openai SDK → HTTP.
const openai = useFakeOpenAI();
const model = openai.model;
const decision = groupChatDecision;

it('ModelGroupChatManager through the real SDK: json_schema response format, a bad name retried, a final message, usage under its name', async () => {
  const runtime = new InProcessRuntime();
  runtime.start();
  try {
    // Requests in order: manager (bad name), manager (retry), Writer, manager (finish).
    openai.server.enqueue(
      decision({ nextSpeaker: 'Writr' }),
      decision({ nextSpeaker: 'Writer', reason: 'a draft first' }),
      { text: 'A kettle that boils in 90 seconds.' },
      decision({ terminate: true, reason: 'done', finalMessage: 'A kettle that boils in 90 seconds.' }),
    );
    const chat = new GroupChatOrchestration({
      members: [
        new ChatCompletionAgent({ name: 'Writer', description: 'Writes product copy', client: model() }),
        new ChatCompletionAgent({ name: 'Editor', description: 'Tightens copy', client: model() }),
      ],
      manager: new ModelGroupChatManager({ client: model() }),
    });
    const output = await (await chat.invoke('Describe our kettle', runtime)).get();
    expect(output.reason).toBe('completed');
    expect(output.messages).toMatchObject([{ name: 'GroupChatManager', content: 'A kettle that boils in 90 seconds.' }]);
    expect(openai.server.requests).toHaveLength(4);
    const first = openai.server.requests[0].body as { response_format: { type: string; json_schema: { name: string; schema: { required: string[] } } } };
    expect(first.response_format.type).toBe('json_schema');
    expect(first.response_format.json_schema.name).toBe('group_chat_decision');
    expect(first.response_format.json_schema.schema.required.sort()).toEqual(['finalMessage', 'nextSpeaker', 'reason', 'terminate']);
    const retry = openai.server.requests[1].body as { messages: Array<{ role: string; content: string }> };
    expect(retry.messages.at(-1)!.content).toContain('"Writr" is not a member');
    expect(output.usage.byAgent.GroupChatManager.totalTokens).toBeGreaterThan(0);
    expect(Object.keys(output.usage.byAgent).sort()).toEqual(['GroupChatManager', 'Writer']);
  } finally {
    await runtime.close();
  }
});
