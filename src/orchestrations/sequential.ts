import type { AnyActorLogic } from 'xstate';
import { sequencerMachine, type SequencerInput } from '../actors/sequencer.js';
import { Orchestration, type MemberBinding, type OrchestrationOptions, type OrchestrationOutput } from './orchestration.js';
import type { RunIds } from './invocation.js';
import { TOPOLOGY_NODES, orchestrationTopology, type TopologyDiagram } from './topology.js';

export interface SequentialOptions<TOut, TIn> extends OrchestrationOptions<TOut, TIn> {
  /**
   * What each member sees: `all` (default) the task and every earlier reply; `previous` the task
   * and only the reply just before its turn.
   */
  history?: 'all' | 'previous';
}

/**
 * Members answer one after another, in order; the output is the last reply.
 *
 * @example
 * const pipeline = new SequentialOrchestration({ members: [writer, editor] });
 * const result = await pipeline.invoke('A slogan for an eco-friendly kettle', runtime);
 * console.log((await result.get()).messages[0].content);
 */
export class SequentialOrchestration<TOut = OrchestrationOutput, TIn = unknown> extends Orchestration<TOut, TIn> {
  private readonly history: 'all' | 'previous';

  constructor(options: SequentialOptions<TOut, TIn>) {
    super('SequentialOrchestration', options);
    if (options.history !== undefined && options.history !== 'all' && options.history !== 'previous') {
      throw new RangeError(`SequentialOrchestration: "history" must be 'all' or 'previous', got ${JSON.stringify(options.history)}.`);
    }
    this.history = options.history ?? 'all';
  }

  protected override memberInput(member: MemberBinding) {
    return { ...super.memberInput(member), keep: this.history === 'previous' ? 'latestResponse' as const : 'all' as const };
  }

  /** The sequencer asks the members one after another (`turn 1`, `turn 2`…). */
  protected override topology(): TopologyDiagram {
    return orchestrationTopology({
      manager: 'sequencer',
      members: this.topologyMembers(),
      drive: (d) => this.members.forEach((m, i) => {
        d.edge(TOPOLOGY_NODES.manager, d.member(m.name), `turn ${i + 1}`);
        d.edge(d.member(m.name), TOPOLOGY_NODES.manager, 'reply');
      }),
    });
  }

  protected managerLogic(): AnyActorLogic {
    return this.cachedLogic(sequencerMachine, () => sequencerMachine.provide({ actions: { checkTermination: this.terminationEffect() } }));
  }

  protected managerInput(ids: RunIds): SequencerInput {
    return { members: this.memberIds(ids), end: ids.end, checkTermination: Boolean(this.options.terminationCondition) };
  }
}
