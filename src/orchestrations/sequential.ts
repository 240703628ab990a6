import { sequencerMachine } from '../actors/sequencer.js';
import type { AgentActorInput } from '../actors/agent-machine.js';
import type { AgentIdLike } from '../runtime/index.js';
import { Orchestration, type MemberBinding, type OrchestrationOptions, type OrchestrationOutput, type Wiring } from './orchestration.js';
import type { Invocation } from './invocation.js';

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

  protected override memberInput(member: MemberBinding): Omit<AgentActorInput, 'topic'> {
    return { ...super.memberInput(member), keep: this.history === 'previous' ? 'latestResponse' : 'all' };
  }

  protected wire(invocation: Invocation<TOut>, members: MemberBinding[], end: AgentIdLike): Wiring {
    invocation.register('coordinator', () => ({
      logic: sequencerMachine,
      input: { members: members.map((m) => ({ name: m.name, id: m.id })), end },
    }), { topics: invocation.allTopics });
    return { firstSpeakers: [members[0].id] };
  }
}
