import { collectorMachine } from '../actors/collector.js';
import type { ChatMessage } from '../agents/chat-message.js';
import type { AgentIdLike } from '../runtime/index.js';
import { Orchestration, type MemberBinding, type OrchestrationOptions, type OrchestrationOutput, type Wiring } from './orchestration.js';
import type { Invocation } from './invocation.js';
import { OrchestrationConfigError } from './errors.js';

export interface ConcurrentOptions<TOut, TIn> extends OrchestrationOptions<TOut, TIn> {
  /** Combines the replies (one per member, in member order) into the output. */
  aggregator?: (replies: ChatMessage[], output: OrchestrationOutput) => TOut | Promise<TOut>;
}

/**
 * Sends the task to every member at once; they work in parallel. The output holds one reply per
 * member, in member order (or what `aggregator` makes of them).
 *
 * @example
 * const panel = new ConcurrentOrchestration({ members: [physicist, chemist] });
 * const { messages } = await (await panel.invoke('What is temperature?', runtime)).get();
 */
export class ConcurrentOrchestration<TOut = OrchestrationOutput, TIn = unknown> extends Orchestration<TOut, TIn> {
  constructor(options: ConcurrentOptions<TOut, TIn>) {
    if (options?.aggregator && (options.outputTransform || options.outputSchema)) {
      throw new OrchestrationConfigError('ConcurrentOrchestration: give "aggregator", "outputTransform" or "outputSchema", not several.');
    }
    if (options?.aggregator !== undefined && typeof options.aggregator !== 'function') {
      throw new OrchestrationConfigError('ConcurrentOrchestration: "aggregator" must be a function.');
    }
    const aggregator = options?.aggregator;
    super('ConcurrentOrchestration', aggregator ? { ...options, outputTransform: (output) => aggregator(output.messages, output) } : options);
  }

  /** Members answer independently: none needs the others' replies (and fan-out stays linear). */
  protected override membersHearReplies(): boolean {
    return false;
  }

  protected wire(invocation: Invocation<TOut>, members: MemberBinding[], end: AgentIdLike): Wiring {
    invocation.register('coordinator', () => ({
      logic: collectorMachine,
      input: { members: members.map((m) => m.name), end },
    }), { topics: invocation.allTopics });
    return { firstSpeakers: members.map((m) => m.id) };
  }
}
