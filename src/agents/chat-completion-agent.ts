import type { ChatClient, ModelSettings } from './chat-client.js';
import { AgentDefinitionError, ToolDefinitionError } from './errors.js';
import { assertUniqueToolNames, type Tool } from './tool.js';

export interface ChatCompletionAgentOptions {
  /** Free text ("Refund agent" is fine); must be non-empty and unique within an orchestration. */
  name: string;
  /** What the agent is for; shown to managers and used for handoff tool descriptions. */
  description?: string;
  /** The system prompt. */
  instructions?: string;
  client: ChatClient;
  tools?: readonly Tool[];
  modelSettings?: ModelSettings;
}

/**
 * A participant that answers with a chat model. It is only configuration: the agent actor does
 * the calling, so one agent object can take part in any number of concurrent invocations.
 *
 * @example
 * const refunds = new ChatCompletionAgent({
 *   name: 'Refund agent',
 *   description: 'Handles refund requests.',
 *   instructions: 'You process refunds. Ask for the order number first.',
 *   client: new OpenAIChatClient({ model: 'gpt-4o-mini' }),
 *   tools: [issueRefund],
 * });
 */
export class ChatCompletionAgent {
  readonly name: string;
  readonly description: string;
  readonly instructions?: string;
  readonly client: ChatClient;
  readonly tools: readonly Tool[];
  readonly modelSettings?: ModelSettings;

  constructor(options: ChatCompletionAgentOptions) {
    const { name, description = '', instructions, client, tools = [], modelSettings } = options ?? ({} as ChatCompletionAgentOptions);
    if (typeof name !== 'string' || name.trim() === '') {
      throw new AgentDefinitionError(`ChatCompletionAgent needs a non-empty name (got ${JSON.stringify(name)}).`);
    }
    const label = `Agent "${name}"`;
    if (typeof description !== 'string') throw new AgentDefinitionError(`${label}: description must be a string.`);
    if (instructions !== undefined && typeof instructions !== 'string') {
      throw new AgentDefinitionError(`${label}: instructions must be a string.`);
    }
    if (!client || typeof client.complete !== 'function' || typeof client.stream !== 'function') {
      throw new AgentDefinitionError(`${label}: client must be a ChatClient (with complete() and stream()).`);
    }
    if (!Array.isArray(tools)) throw new AgentDefinitionError(`${label}: tools must be an array.`);
    tools.forEach((t, i) => {
      if (!t || typeof t.name !== 'string' || typeof t.execute !== 'function' || !t.definition) {
        throw new ToolDefinitionError(`${label}: tools[${i}] is not a tool; build tools with tool({...}).`);
      }
    });
    assertUniqueToolNames(tools, label);
    if (modelSettings !== undefined && (typeof modelSettings !== 'object' || modelSettings === null)) {
      throw new AgentDefinitionError(`${label}: modelSettings must be an object.`);
    }

    this.name = name;
    this.description = description;
    if (instructions !== undefined) this.instructions = instructions;
    this.client = client;
    this.tools = Object.freeze([...tools]);
    if (modelSettings !== undefined) this.modelSettings = Object.freeze({ ...modelSettings });
  }
}
