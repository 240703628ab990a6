import { z } from 'zod';
import type { ChatClient } from '../agents/chat-client.js';
import type { OrchestrationOutput } from '../actors/end-executor.js';
import { OutputValidationError } from './errors.js';

const INSTRUCTIONS = 'You turn the transcript of a multi-agent conversation into its final result. Answer with JSON that matches the given schema, and nothing else.';

/**
 * Asks `client` for the result of the conversation as JSON matching `schema` (structured
 * output), then validates it with zod.
 */
export async function extractStructuredOutput<T>(schema: z.ZodType<T>, client: ChatClient, output: OrchestrationOutput, signal: AbortSignal): Promise<T> {
  const jsonSchema = z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as Record<string, unknown>;
  delete jsonSchema.$schema;
  const transcript = output.conversation
    .filter((m) => m.role !== 'tool' && m.content.trim() !== '')
    .map((m) => `${m.name ?? m.role}: ${m.content}`)
    .join('\n');
  const response = await client.complete({
    messages: [
      { id: 'output:instructions', role: 'system', content: INSTRUCTIONS },
      { id: 'output:transcript', role: 'user', content: transcript },
    ],
    responseFormat: { name: 'output', schema: jsonSchema, strict: false },
    signal,
  });
  let value: unknown;
  try {
    value = JSON.parse(response.text);
  } catch (error) {
    throw new OutputValidationError(`outputSchema: the model did not answer with JSON (${(error as Error).message}).`, { cause: error });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new OutputValidationError(`outputSchema: the model's answer does not match the schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
