import type { ChatCompletionAgent } from '../agents/chat-completion-agent.js';
import { OrchestrationConfigError } from './errors.js';

type AgentRef = ChatCompletionAgent | string;

/** The plain-object form of a handoff graph. */
export interface HandoffGraph {
  start: string;
  /** source → targets: a list of names, or names with the description of each route. */
  edges: Record<string, string[] | Record<string, string | undefined>>;
}

function nameOf(agent: AgentRef, what: string): string {
  const name = typeof agent === 'string' ? agent : agent?.name;
  if (typeof name !== 'string' || name.length === 0) throw new OrchestrationConfigError(`OrchestrationHandoffs: ${what} must be an agent or an agent name, got ${JSON.stringify(agent)}.`);
  return name;
}

/**
 * Who may hand the conversation to whom: a directed graph with a start agent.
 *
 * @example
 * const handoffs = OrchestrationHandoffs.startWith(triage)
 *   .addMany(triage, { Refund: 'refunds and money back', OrderStatus: 'where an order is' })
 *   .add(refund, triage, 'anything that is not a refund');
 */
export class OrchestrationHandoffs {
  /** source → (target → description). */
  readonly edges = new Map<string, Map<string, string | undefined>>();

  private constructor(readonly start: string) {}

  /** A graph whose conversations begin with `agent`. */
  static startWith(agent: AgentRef): OrchestrationHandoffs {
    return new OrchestrationHandoffs(nameOf(agent, 'the start agent'));
  }

  /** Builds a graph from its plain-object form. */
  static from(graph: HandoffGraph | OrchestrationHandoffs): OrchestrationHandoffs {
    if (graph instanceof OrchestrationHandoffs) return graph;
    if (!graph || typeof graph.start !== 'string') throw new OrchestrationConfigError('handoffs: expected OrchestrationHandoffs or { start, edges }; the start agent is missing.');
    const built = OrchestrationHandoffs.startWith(graph.start);
    for (const [source, targets] of Object.entries(graph.edges ?? {})) built.addMany(source, targets);
    return built;
  }

  /** `source` may hand off to `target`; the description tells the model when. */
  add(source: AgentRef, target: AgentRef, description?: string): this {
    const from = nameOf(source, 'a handoff source');
    const to = nameOf(target, `a handoff target of "${from}"`);
    if (from === to) throw new OrchestrationConfigError(`OrchestrationHandoffs: agent "${from}" cannot hand off to itself.`);
    let targets = this.edges.get(from);
    if (!targets) this.edges.set(from, (targets = new Map()));
    targets.set(to, description);
    return this;
  }

  /** Several routes from `source`: a list of targets, or `{ targetName: description }`. */
  addMany(source: AgentRef, targets: AgentRef[] | Record<string, string | undefined>): this {
    if (Array.isArray(targets)) for (const target of targets) this.add(source, target);
    else if (targets && typeof targets === 'object') for (const [target, description] of Object.entries(targets)) this.add(source, target, description);
    else throw new OrchestrationConfigError(`OrchestrationHandoffs: the targets of "${nameOf(source, 'a handoff source')}" must be a list or an object.`);
    return this;
  }

  toJSON(): HandoffGraph {
    const edges: HandoffGraph['edges'] = {};
    for (const [source, targets] of this.edges) edges[source] = Object.fromEntries(targets);
    return { start: this.start, edges };
  }
}
