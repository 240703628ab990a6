import { expect, it } from 'vitest';
import { ChatCompletionAgent, InProcessRuntime, MagenticOrchestration, StandardMagenticManager } from '../../src/index.js';
import { useFakeOpenAI } from './helpers.js';
import { ledger, satisfied } from './magentic-helpers.js';

// The manager's structured progress ledger and a member's turn, through the real openai SDK over HTTP.
const openai = useFakeOpenAI();
const model = openai.model;

it('a magentic run through the real SDK: json_schema progress ledgers, a member turn, the final answer', async () => {
  const runtime = new InProcessRuntime();
  runtime.start();
  try {
    openai.server.enqueue(
      { text: 'GIVEN: three suppliers.' },
      { text: '- Researcher: look up the rates' },
      { text: JSON.stringify(ledger('Researcher', 'Look up last quarter\'s on-time rates.')) },
      { text: 'A 91%, B 95%, C 88%.' },
      // A fenced ledger (as many models send) is accepted too.
      { text: `\`\`\`json\n${JSON.stringify(satisfied())}\n\`\`\`` },
      { text: 'Supplier B, 4 points ahead of A.' },
    );
    const research = new MagenticOrchestration({
      members: [new ChatCompletionAgent({ name: 'Researcher', description: 'Looks up supplier data', client: model() })],
      manager: new StandardMagenticManager({ client: model() }),
    });
    const output = await (await research.invoke('Which supplier was most punctual last quarter?', runtime)).get();
    expect(output.reason).toBe('completed');
    expect(output.messages[0].content).toBe('Supplier B, 4 points ahead of A.');
    expect(openai.server.requests).toHaveLength(6);
    const progress = openai.server.requests[2].body as { response_format: { type: string; json_schema: { name: string; schema: { required: string[] } } } };
    expect(progress.response_format.type).toBe('json_schema');
    expect(progress.response_format.json_schema.name).toBe('progress_ledger');
    expect(progress.response_format.json_schema.schema.required).toEqual(['isRequestSatisfied', 'isInLoop', 'isProgressBeingMade', 'nextSpeaker', 'instructionOrQuestion']);
    const member = openai.server.requests[3].body as { messages: Array<{ role: string; content: string }> };
    expect(member.messages.at(-1)).toMatchObject({ role: 'user', content: 'Look up last quarter\'s on-time rates.' });
    expect(output.usage.byAgent.magentic_manager.totalTokens).toBeGreaterThan(0);
    expect(output.usage.byAgent.Researcher.totalTokens).toBeGreaterThan(0);
  } finally {
    await runtime.close();
  }
});
