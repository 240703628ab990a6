import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  assertUniqueToolNames,
  executeToolCall,
  parseToolArguments,
  sanitizeToolName,
  tool,
  type Tool,
} from '../../src/agents/tool.js';
import { ToolDefinitionError } from '../../src/agents/errors.js';
import { AbortedError } from '../../src/runtime/errors.js';

const ctx = () => ({ signal: new AbortController().signal, agent: 'Support agent' });
const call = (name: string, args: string, id = 'call_1') => ({ id, name, arguments: args });

const weather = tool({
  name: 'get_weather',
  description: 'Weather for a city.',
  parameters: z.object({
    city: z.string().describe('City name'),
    unit: z.enum(['C', 'F']).optional(),
    days: z.number().int().default(1),
    note: z.string().nullable(),
    where: z.object({ lat: z.number(), lon: z.number().optional() }).optional(),
    tags: z.array(z.object({ label: z.string().optional() })),
  }),
  execute: (args) => args,
});

describe('tool() JSON schema for strict function calling', () => {
  const schema = weather.definition.parameters as any;

  it('lists every property as required and forbids extra keys on every object', () => {
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['city', 'unit', 'days', 'note', 'where', 'tags']);
    expect(schema.additionalProperties).toBe(false);
    const where = schema.properties.where.anyOf[0];
    expect(where.required).toEqual(['lat', 'lon']);
    expect(where.additionalProperties).toBe(false);
    expect(schema.properties.tags.items.required).toEqual(['label']);
    expect(schema.properties.tags.items.additionalProperties).toBe(false);
  });

  it('makes optional properties nullable and leaves required ones alone', () => {
    expect(schema.properties.city).toEqual({ type: 'string', description: 'City name' });
    expect(schema.properties.unit).toEqual({ type: ['string', 'null'], enum: ['C', 'F', null] });
    expect(schema.properties.days).toEqual({ type: ['integer', 'null'], minimum: expect.any(Number), maximum: expect.any(Number) });
    expect(schema.properties.note).toEqual({ type: ['string', 'null'] });
    expect(schema.properties.where.anyOf[1]).toEqual({ type: 'null' });
    expect(schema.properties.tags.items.properties.label).toEqual({ type: ['string', 'null'] });
  });

  it('drops keywords strict mode rejects', () => {
    const text = JSON.stringify(schema);
    expect(text).not.toContain('$schema');
    expect(text).not.toContain('"default"');
    expect(weather.definition).toMatchObject({ name: 'get_weather', description: 'Weather for a city.', strict: true });
  });

  it('turns discriminated unions (oneOf) into anyOf', () => {
    const t = tool({
      name: 'shape',
      description: '',
      parameters: z.object({
        shape: z.discriminatedUnion('kind', [z.object({ kind: z.literal('circle'), r: z.number() }), z.object({ kind: z.literal('square') })]),
      }),
      execute: () => 'ok',
    });
    const shape = (t.definition.parameters as any).properties.shape;
    expect(shape.oneOf).toBeUndefined();
    expect(shape.anyOf).toHaveLength(2);
    expect(shape.anyOf[0].additionalProperties).toBe(false);
  });

  it('rejects records in strict mode, naming the tool, and accepts them with strict: false', () => {
    const parameters = z.object({ scores: z.record(z.string(), z.number()) });
    expect(() => tool({ name: 'scores', description: '', parameters, execute: () => 0 })).toThrow(/Tool "scores".*strict: false/);
    const loose = tool({ name: 'scores', description: '', parameters, execute: () => 0, strict: false });
    expect(loose.definition.strict).toBe(false);
    expect(JSON.stringify(loose.definition.parameters)).not.toContain('$schema');
  });
});

describe('tool() validation', () => {
  const base = { description: 'd', parameters: z.object({}), execute: () => 'x' };

  it.each(['', 'has space', 'dots.not.allowed', 'x'.repeat(65), 'ünïcode'])('rejects the name %j', (name) => {
    const attempt = () => tool({ ...base, name });
    expect(attempt).toThrow(ToolDefinitionError);
    expect(attempt).toThrow(JSON.stringify(name));
  });

  it('accepts names of letters, digits, _ and - up to 64 characters', () => {
    expect(tool({ ...base, name: 'transfer_to_Refund-2' }).name).toBe('transfer_to_Refund-2');
    expect(tool({ ...base, name: 'x'.repeat(64) }).name).toHaveLength(64);
  });

  it('rejects non-object parameters and a missing execute, naming the tool', () => {
    expect(() => tool({ ...base, name: 'bad', parameters: z.string() as any })).toThrow(/Tool "bad": parameters must be a zod object/);
    expect(() => tool({ ...base, name: 'bad', execute: undefined as any })).toThrow(/Tool "bad": execute/);
  });

  it('wraps unrepresentable schemas in a ToolDefinitionError', () => {
    const attempt = () => tool({ ...base, name: 'when', parameters: z.object({ at: z.date() }) });
    expect(attempt).toThrow(ToolDefinitionError);
    expect(attempt).toThrow(/Tool "when"/);
  });

  it('defaults needsApproval to false and keeps a predicate', async () => {
    expect(tool({ ...base, name: 'a' }).needsApproval).toBe(false);
    const t = tool({ name: 'refund', description: '', parameters: z.object({ amount: z.number() }), execute: () => 'ok', needsApproval: ({ amount }) => amount > 100 });
    const parsed = parseToolArguments(t, '{"amount":500}');
    expect(parsed.ok).toBe(true);
    if (parsed.ok && typeof t.needsApproval === 'function') expect(await t.needsApproval(parsed.args)).toBe(true);
  });
});

describe('parseToolArguments', () => {
  it('turns null for optional fields into undefined, so zod defaults and optionals apply', () => {
    const parsed = parseToolArguments(
      weather,
      JSON.stringify({ city: 'Oslo', unit: null, days: null, note: null, where: { lat: 1, lon: null }, tags: [{ label: null }] }),
    );
    expect(parsed).toEqual({ ok: true, args: { city: 'Oslo', days: 1, note: null, where: { lat: 1 }, tags: [{}] } });
    if (parsed.ok) {
      expect('unit' in parsed.args).toBe(false);
      expect(parsed.args.note).toBeNull(); // .nullable() fields keep their null
    }
  });

  it('keeps null for a field that is both nullable and optional', () => {
    const t = tool({ name: 't', description: '', parameters: z.object({ v: z.string().nullable().optional() }), execute: () => '' });
    expect(parseToolArguments(t, '{"v":null}')).toEqual({ ok: true, args: { v: null } });
  });

  it('treats an empty string as no arguments', () => {
    const t = tool({ name: 't', description: '', parameters: z.object({ v: z.string().optional() }), execute: () => '' });
    expect(parseToolArguments(t, '')).toEqual({ ok: true, args: {} });
  });

  it('reports invalid JSON, non-objects and validation failures with field paths', () => {
    expect(parseToolArguments(weather, '{"city":')).toMatchObject({ ok: false, error: expect.stringMatching(/not valid JSON/) });
    expect(parseToolArguments(weather, '[1]')).toEqual({ ok: false, error: 'the arguments must be a JSON object' });
    const bad = parseToolArguments(weather, JSON.stringify({ city: 3, note: null, tags: [{ label: 4 }] }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error).toMatch(/city: /);
      expect(bad.error).toMatch(/tags\.0\.label: /);
    }
  });
});

describe('executeToolCall', () => {
  const echo = tool({ name: 'echo', description: '', parameters: z.object({ text: z.string() }), execute: ({ text }, c) => `${c.agent}/${c.toolCallId}: ${text}` });
  const json = tool({ name: 'json', description: '', parameters: z.object({}), execute: () => ({ a: [1, 2] }) });
  const nothing = tool({ name: 'nothing', description: '', parameters: z.object({}), execute: () => undefined });
  const throws = tool({ name: 'throws', description: '', parameters: z.object({}), execute: async () => { throw new Error('database down'); } });
  const circular = tool({ name: 'circular', description: '', parameters: z.object({}), execute: () => { const o: any = {}; o.self = o; return o; } });
  const tools: Tool[] = [echo, json, nothing, throws, circular];

  it('runs the tool with the context and returns its string result', async () => {
    expect(await executeToolCall(tools, call('echo', '{"text":"hi"}', 'call_9'), ctx())).toEqual({ content: 'Support agent/call_9: hi', isError: false });
  });

  it('sends non-string results as JSON and undefined as an empty string', async () => {
    expect(await executeToolCall(tools, call('json', '{}'), ctx())).toEqual({ content: '{"a":[1,2]}', isError: false });
    expect(await executeToolCall(tools, call('nothing', '{}'), ctx())).toEqual({ content: '', isError: false });
  });

  it('reports an unknown tool with the available names', async () => {
    const result = await executeToolCall(tools, call('nope', '{}'), ctx());
    expect(result.isError).toBe(true);
    expect(result.content).toBe('Error: unknown tool "nope". Available tools: echo, json, nothing, throws, circular.');
  });

  it('reports invalid JSON', async () => {
    const result = await executeToolCall(tools, call('echo', '{text:'), ctx());
    expect(result).toMatchObject({ isError: true, content: expect.stringMatching(/^Error: invalid arguments for tool "echo": the arguments are not valid JSON/) });
  });

  it('reports validation failures naming the field', async () => {
    const result = await executeToolCall(tools, call('echo', '{"text":42}'), ctx());
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/^Error: invalid arguments for tool "echo": text: /);
  });

  it('reports a throwing tool', async () => {
    expect(await executeToolCall(tools, call('throws', '{}'), ctx())).toEqual({ content: 'Error: tool "throws" failed: database down', isError: true });
  });

  it('reports a result that cannot be serialised', async () => {
    const result = await executeToolCall(tools, call('circular', '{}'), ctx());
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/^Error: tool "circular" returned a value that cannot be sent as JSON/);
  });

  it('rejects with AbortedError when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(executeToolCall(tools, call('echo', '{"text":"x"}'), { signal: controller.signal, agent: 'a' })).rejects.toBeInstanceOf(AbortedError);
  });

  it('rejects with AbortedError when aborted while a tool that ignores its signal runs', async () => {
    const controller = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const hang = tool({ name: 'hang', description: '', parameters: z.object({}), execute: () => { started(); return new Promise(() => {}); } });
    const pending = executeToolCall([hang], call('hang', '{}'), { signal: controller.signal, agent: 'a' });
    await running;
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortedError', code: 'aborted' });
  });
});

describe('assertUniqueToolNames and sanitizeToolName', () => {
  it('names the owner and the duplicate', () => {
    expect(() => assertUniqueToolNames([{ name: 'a' }, { name: 'b' }, { name: 'a' }], 'Agent "Triage"')).toThrow('Agent "Triage" has two tools named "a"');
    expect(() => assertUniqueToolNames([{ name: 'a' }, { name: 'b' }], 'x')).not.toThrow();
  });

  it('turns free text into a valid tool name fragment', () => {
    expect(sanitizeToolName('Refund Agent (EU)')).toBe('Refund_Agent_EU');
    expect(sanitizeToolName('***')).toBe('_');
    expect(sanitizeToolName('a'.repeat(100))).toHaveLength(64);
  });
});
