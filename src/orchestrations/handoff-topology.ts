/**
 * The handoff orchestration's diagram: the common topology, with the handoff graph drawn among
 * the members — one edge per route, labelled with the route's description (which falls back to
 * the target's description, then to `handoff`) — the start agent marked, and `complete_task`
 * when enabled.
 */
import { COMPLETE_TASK_TOOL } from '../actors/control-tools.js';
import { TOPOLOGY_NODES, orchestrationTopology, type TopologyDiagram, type TopologyMember } from './topology.js';

/** A route as the diagram needs it (the orchestration's `HandoffEdge`). */
export interface HandoffRoute {
  target: string;
  description?: string;
}

export interface HandoffTopologyOptions {
  members: readonly TopologyMember[];
  /** The start agent's name. */
  start: string;
  /** Each member's outgoing routes, by member name (members without routes may be missing). */
  routes: ReadonlyMap<string, readonly HandoffRoute[]>;
  completeTask: boolean;
}

/** Style of the start agent's node: a heavier border. */
const START_CLASS = 'startAgent';

/**
 * The handoff coordinator's topology.
 *
 * @example
 * handoffTopology({
 *   members: [{ name: 'Triage' }, { name: 'Refund', description: 'Handles refunds.' }],
 *   start: 'Triage',
 *   routes: new Map([['Triage', [{ target: 'Refund', description: 'refund requests' }]]]),
 *   completeTask: false,
 * });
 */
export function handoffTopology(options: HandoffTopologyOptions): TopologyDiagram {
  const N = TOPOLOGY_NODES;
  return orchestrationTopology({
    manager: 'handoff coordinator',
    members: options.members,
    asksUser: true,
    managerEvents: 'handoff events',
    drive: (d) => {
      d.node(d.member(options.start)).className = START_CLASS;
      d.chart.classes[START_CLASS] = 'stroke-width:3px';
      d.edge(N.manager, d.member(options.start), 'first turn', 'thick');
      d.edge(N.manager, N.members, 'turn request');
      d.edge(N.members, N.manager, 'reply or handoff');
      for (const member of options.members) {
        for (const route of options.routes.get(member.name) ?? []) {
          // Unlabelled, a route would read like any other message: name it for what it is.
          d.edge(d.member(member.name), d.member(route.target), route.description ?? 'handoff');
        }
      }
      if (!options.completeTask) return;
      // A control tool, not an actor: drawn as a tool node every member can reach.
      const tool = d.newId(COMPLETE_TASK_TOOL, 'tool');
      d.chart.nodes.push({ id: tool, label: `${COMPLETE_TASK_TOOL}\nends the conversation`, shape: 'subroutine' });
      for (const member of options.members) d.edge(d.member(member.name), tool, undefined, 'dotted');
    },
  });
}

export interface IntentRouterTopologyOptions {
  members: readonly TopologyMember[];
  /** What classifies: a model or a function (a provided decision, drawn as a subroutine). */
  classifier: 'model' | 'function';
  /** The out-of-scope phrase. */
  phrase: string;
  completeTask: boolean;
}

/**
 * Routing by intent's topology: the intent router asks the classifier (first message, and after
 * an out-of-scope reply), gives the chosen specialist its turn (with the last turns after a
 * handoff), and hears replies — no edges among members: nobody knows the others.
 *
 * @example
 * intentRouterTopology({ members: [{ name: 'Billing' }, { name: 'Security' }], classifier: 'model', phrase: 'This is outside my area', completeTask: false });
 */
export function intentRouterTopology(options: IntentRouterTopologyOptions): TopologyDiagram {
  const N = TOPOLOGY_NODES;
  return orchestrationTopology({
    manager: 'intent router',
    members: options.members,
    asksUser: true,
    managerEvents: 'handoff events (classified)',
    drive: (d) => {
      const classifier = d.newId('classifier', 'decision');
      d.chart.nodes.push({ id: classifier, label: `classifier (${options.classifier})\nfirst message, out-of-scope replies`, shape: 'subroutine' });
      d.edge(N.manager, classifier, 'classify', 'dotted');
      d.edge(N.manager, N.members, 'turn request (+ last turns on a handoff)');
      d.edge(N.members, N.manager, `reply, or "${options.phrase}"`);
      if (!options.completeTask) return;
      const tool = d.newId(COMPLETE_TASK_TOOL, 'tool');
      d.chart.nodes.push({ id: tool, label: `${COMPLETE_TASK_TOOL}\nends the conversation`, shape: 'subroutine' });
      for (const member of options.members) d.edge(d.member(member.name), tool, undefined, 'dotted');
    },
  });
}
