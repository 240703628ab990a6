import type { z } from 'zod';
import type { ChatClient } from '../agents/chat-client.js';
import { callStructured, StructuredOutputError } from '../agents/structured-call.js';
import type { OrchestrationOutput } from '../actors/end-executor.js';
import { OutputValidationError } from './errors.js';

const INSTRUCTIONS = 'You turn the transcript of a multi-agent conversation into its final result. Answer with JSON that matches the given schema, and nothing else.';

/**
 * Asks `client` for the result of the conversation as JSON matching `schema` (structured
 * output), validated with zod through {@link callStructured}. An answer that does not match
 * fails with {@link OutputValidationError} naming the field. `maxRetries` defaults to 0, which
 * keeps `outputSchema`'s behaviour (one extraction call) until the orchestration exposes it.
 */
export async function extractStructuredOutput<T>(
  schema: z.ZodType<T>,
  client: ChatClient,
  output: OrchestrationOutput,
  signal: AbortSignal,
  maxRetries = 0,
): Promise<T> {
  const transcript = output.conversation
    .filter((m) => m.role !== 'tool' && m.content.trim() !== '')
    .map((m) => `${m.name ?? m.role}: ${m.content}`)
    .join('\n');
  try {
    const { value } = await callStructured({
      client,
      caller: 'outputSchema',
      schema,
      schemaName: 'output',
      messages: [
        { id: 'output:instructions', role: 'system', content: INSTRUCTIONS },
        { id: 'output:transcript', role: 'user', content: transcript },
      ],
      maxRetries,
      signal,
    });
    return value;
  } catch (error) {
    // Keep outputSchema's own error type (users catch it); the structured-call error is the cause.
    if (error instanceof StructuredOutputError) throw new OutputValidationError(error.message, { cause: error });
    throw error;
  }
}
