import type { AnyActorLogic } from 'xstate';
import { collectorMachine, type CollectorInput } from '../actors/collector.js';
import type { ChatMessage } from '../agents/chat-message.js';
import { Orchestration, type OrchestrationOptions, type OrchestrationOutput } from './orchestration.js';
import type { RunIds } from './invocation.js';
import { OrchestrationConfigError } from './errors.js';
import { TOPOLOGY_NODES, orchestrationTopology, type TopologyDiagram } from './topology.js';

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

  /** The collector asks every member at once and waits for each reply. */
  protected override topology(): TopologyDiagram {
    return orchestrationTopology({
      manager: 'collector',
      members: this.topologyMembers(),
      drive: (d) => {
        for (const m of this.members) d.edge(TOPOLOGY_NODES.manager, d.member(m.name), 'turn request (parallel)');
        for (const m of this.members) d.edge(d.member(m.name), TOPOLOGY_NODES.manager, 'reply');
      },
    });
  }

  protected managerLogic(): AnyActorLogic {
    return this.cachedLogic(collectorMachine, () => collectorMachine.provide({ actions: { checkTermination: this.terminationEffect() } }));
  }

  protected managerInput(ids: RunIds): CollectorInput {
    return { members: this.memberIds(ids), end: ids.end, checkTermination: Boolean(this.options.terminationCondition) };
  }
}
