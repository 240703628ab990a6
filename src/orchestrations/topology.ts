/**
 * An orchestration's actor topology as a {@link Flowchart}: the frame every orchestration shares
 * (start executor, manager, members, human gateway, end executor, boundary, and what flows
 * between them). Each orchestration adds how its manager drives the members; `toMermaid()`
 * renders the result.
 *
 * Edges: solid = a directed message, dotted = a broadcast (or an optional path), thick = the
 * first turn. Members also hear each other's replies in most orchestrations; that broadcast is
 * left out (a self-loop on the members group only adds noise).
 */
import { MermaidIds, flowchart, type FlowEdge, type FlowEdgeLine, type FlowNode, type Flowchart } from './mermaid.js';

/** Fixed node ids of the actors every orchestration has (and the members group). */
export const TOPOLOGY_NODES = {
  start: 'start_executor',
  manager: 'manager',
  members: 'members',
  gateway: 'human_gateway',
  end: 'end_executor',
  boundary: 'boundary',
} as const;

/** A member as the diagram shows it. */
export interface TopologyMember {
  name: string;
  description?: string;
  /** People review its answers (`humanReview`). */
  review?: boolean;
  /** It has a tool that may need a person's approval. */
  approval?: boolean;
}

export interface TopologyOptions {
  /** What the manager is (`sequencer`, `collector`, `handoff coordinator`…). */
  manager: string;
  members: readonly TopologyMember[];
  /** The manager asks the user for the next message through the gateway (handoff). */
  asksUser?: boolean;
  /** The manager reports events of its own (handoffs). */
  managerEvents?: string;
  /** Adds how the manager drives the members (turn requests, replies, routes). */
  drive: (diagram: TopologyDiagram) => void;
}

/** A diagram being built: the chart, and the node id of each member. */
export interface TopologyDiagram {
  readonly chart: Flowchart;
  /** The node id of the member named `name`. */
  member(name: string): string;
  /** The member's node (to mark it, e.g. the start agent). */
  node(id: string): FlowNode;
  edge(from: string, to: string, label?: string, line?: FlowEdgeLine): void;
  /** A fresh node id for `text` that clashes with nothing in the chart. */
  newId(text: string, prefix: string): string;
}

function memberLabel(member: TopologyMember): string {
  return member.description ? `${member.name}\n${member.description}` : member.name;
}

/** What a member asks people for, as the edge label (undefined: nothing). */
function peopleRequest(member: TopologyMember): string | undefined {
  if (member.review && member.approval) return 'review / approval request';
  if (member.review) return 'review request';
  if (member.approval) return 'approval request';
  return undefined;
}

function createDiagram(members: readonly TopologyMember[]): TopologyDiagram {
  const chart = flowchart('TB');
  const ids = new MermaidIds().reserve(...Object.values(TOPOLOGY_NODES));
  const memberIds = new Map(members.map((m) => [m.name, ids.take(m.name, 'agent')]));
  return {
    chart,
    member(name) {
      const id = memberIds.get(name);
      if (!id) throw new Error(`toMermaid: "${name}" is not a member.`);
      return id;
    },
    node(id) {
      const node = chart.nodes.find((n) => n.id === id);
      if (!node) throw new Error(`toMermaid: no node "${id}".`);
      return node;
    },
    edge(from, to, label, line = 'solid') {
      const edge: FlowEdge = { from, to, line };
      if (label) edge.label = label;
      chart.edges.push(edge);
    },
    newId: (text, prefix) => ids.take(text, prefix),
  };
}

/**
 * The flowchart of an orchestration's actors.
 *
 * @example
 * const { chart } = orchestrationTopology({
 *   manager: 'sequencer',
 *   members: [{ name: 'Writer' }, { name: 'Editor', description: 'Tightens prose.' }],
 *   drive: (d) => d.edge(TOPOLOGY_NODES.manager, d.member('Writer'), 'turn 1'),
 * });
 * renderFlowchart(chart);
 */
export function orchestrationTopology(options: TopologyOptions): TopologyDiagram {
  const { members } = options;
  const diagram = createDiagram(members);
  const { chart, edge } = diagram;
  const N = TOPOLOGY_NODES;
  const people = members.some((m) => peopleRequest(m)) || Boolean(options.asksUser);

  chart.nodes.push({ id: N.start, label: 'start executor', shape: 'stadium' });
  chart.nodes.push({ id: N.manager, label: options.manager, shape: 'hexagon' });
  chart.groups.push({ id: N.members, label: 'members' });
  for (const member of members) chart.nodes.push({ id: diagram.member(member.name), label: memberLabel(member), shape: 'box', group: N.members });
  if (people) chart.nodes.push({ id: N.gateway, label: 'human gateway', shape: 'parallelogram' });
  chart.nodes.push({ id: N.end, label: 'end executor', shape: 'stadium' });
  chart.nodes.push({ id: N.boundary, label: 'invocation boundary\nresult.events, result.get()', shape: 'rounded' });

  // The start executor broadcasts the task (to members and the end executor) before the kickoff.
  edge(N.start, N.members, 'task', 'dotted');
  edge(N.start, N.end, 'task', 'dotted');
  edge(N.start, N.manager, 'kickoff');
  options.drive(diagram);

  if (options.asksUser) {
    edge(N.manager, N.gateway, 'ask the user');
    edge(N.gateway, N.manager, 'user reply');
    edge(N.gateway, N.members, 'user message', 'dotted');
  }
  for (const member of members) {
    const request = peopleRequest(member);
    if (!request) continue;
    edge(diagram.member(member.name), N.gateway, request);
    edge(N.gateway, diagram.member(member.name), 'decision');
  }

  edge(N.manager, N.end, 'completion');
  edge(N.members, N.end, 'replies', 'dotted');
  edge(N.members, N.boundary, 'events', 'dotted');
  if (options.managerEvents) edge(N.manager, N.boundary, options.managerEvents, 'dotted');
  if (people) {
    edge(N.gateway, N.boundary, 'requests', 'dotted');
    edge(N.boundary, N.gateway, 'respond / approve / reject');
  }
  edge(N.end, N.boundary, 'result');
  return diagram;
}
