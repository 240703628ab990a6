import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChatCompletionAgent } from '../../src/agents/chat-completion-agent.js';
import { AgentDefinitionError, ToolDefinitionError } from '../../src/agents/errors.js';
import { tool } from '../../src/agents/tool.js';
import { ScriptedChatClient } from '../../src/testing/index.js';

const client = new ScriptedChatClient([]);
const lookup = tool({ name: 'lookup', description: 'Look up an order.', parameters: z.object({ id: z.string() }), execute: ({ id }) => id });

describe('ChatCompletionAgent', () => {
  it('holds its configuration with defaults, frozen', () => {
    const settings = { temperature: 0 };
    const agent = new ChatCompletionAgent({ name: 'Refund agent', instructions: 'Be brief.', client, tools: [lookup], modelSettings: settings });
    expect(agent).toMatchObject({ name: 'Refund agent', description: '', instructions: 'Be brief.', client, modelSettings: { temperature: 0 } });
    expect(agent.tools).toEqual([lookup]);
    expect(Object.isFrozen(agent.tools)).toBe(true);
    settings.temperature = 1; // a later change by the caller does not leak in
    expect(agent.modelSettings).toEqual({ temperature: 0 });
    expect(new ChatCompletionAgent({ name: 'x', client }).tools).toEqual([]);
  });

  it('accepts free-text names', () => {
    expect(new ChatCompletionAgent({ name: 'Agent #1 (EU) — billing', client }).name).toBe('Agent #1 (EU) — billing');
  });

  it.each(['', '   ', undefined])('rejects the name %j', (name) => {
    expect(() => new ChatCompletionAgent({ name: name as any, client })).toThrow(AgentDefinitionError);
  });

  it('rejects a missing or incomplete client, naming the agent', () => {
    expect(() => new ChatCompletionAgent({ name: 'Triage', client: undefined as any })).toThrow(/Agent "Triage": client must be a ChatClient/);
    expect(() => new ChatCompletionAgent({ name: 'Triage', client: { complete: async () => ({}) } as any })).toThrow(AgentDefinitionError);
  });

  it('rejects duplicate tool names and non-tools, naming the agent', () => {
    const again = tool({ name: 'lookup', description: '', parameters: z.object({}), execute: () => '' });
    const attempt = () => new ChatCompletionAgent({ name: 'Triage', client, tools: [lookup, again] });
    expect(attempt).toThrow(ToolDefinitionError);
    expect(attempt).toThrow('Agent "Triage" has two tools named "lookup"');
    expect(() => new ChatCompletionAgent({ name: 'Triage', client, tools: [{ name: 'x' } as any] })).toThrow(/Agent "Triage": tools\[0\] is not a tool/);
  });

  it('rejects non-string description and instructions', () => {
    expect(() => new ChatCompletionAgent({ name: 'A', client, description: 3 as any })).toThrow(/Agent "A": description/);
    expect(() => new ChatCompletionAgent({ name: 'A', client, instructions: {} as any })).toThrow(/Agent "A": instructions/);
  });
});
