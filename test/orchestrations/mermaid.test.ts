import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ChatCompletionAgent, ConcurrentOrchestration, HandoffOrchestration, OrchestrationHandoffs, SequentialOrchestration, tool,
} from '../../src/index.js';
import { MermaidIds, escapeMermaidLabel } from '../../src/orchestrations/mermaid.js';
import { edgeList, validateMermaid, type ParsedChart } from './mermaid-validator.js';
import { scripted } from './helpers.js';

const client = scripted([]);
const member = (name: string, description?: string, extra: Partial<ConstructorParameters<typeof ChatCompletionAgent>[0]> = {}) =>
  new ChatCompletionAgent({ name, client, ...(description !== undefined ? { description } : {}), ...extra });

/** Renders, checks the structure, and returns what was parsed. */
function parsed(source: string): ParsedChart {
  const chart = validateMermaid(source);
  expect(chart.problems).toEqual([]);
  return chart;
}

const FRAME_START = [
  'start_executor -.-> members: task',
  'start_executor -.-> end_executor: task',
  'start_executor --> manager: kickoff',
];
const FRAME_END = [
  'manager --> end_executor: completion',
  'members -.-> end_executor: replies',
  'members -.-> boundary: events',
];

describe('toMermaid', () => {
  it('sequential: the exact chart — start, sequencer, members in order, end, boundary', () => {
    const writer = member('Writer');
    const editor = member('Editor', 'Tightens prose.');
    const source = new SequentialOrchestration({ members: [writer, editor] }).toMermaid();
    expect(source).toBe([
      'flowchart TB',
      '  start_executor(["start executor"])',
      '  manager{{"sequencer"}}',
      '  end_executor(["end executor"])',
      '  boundary("invocation boundary<br/>result.events, result.get()")',
      '  subgraph members["members"]',
      '    agent_Writer["Writer"]',
      '    agent_Editor["Editor<br/>Tightens prose."]',
      '  end',
      '  start_executor -.->|"task"| members',
      '  start_executor -.->|"task"| end_executor',
      '  start_executor -->|"kickoff"| manager',
      '  manager -->|"turn 1"| agent_Writer',
      '  agent_Writer -->|"reply"| manager',
      '  manager -->|"turn 2"| agent_Editor',
      '  agent_Editor -->|"reply"| manager',
      '  manager -->|"completion"| end_executor',
      '  members -.->|"replies"| end_executor',
      '  members -.->|"events"| boundary',
      '  end_executor -->|"result"| boundary',
      '',
    ].join('\n'));
    parsed(source);
  });

  it('concurrent: the collector asks every member at once; no gateway without people', () => {
    const chart = parsed(new ConcurrentOrchestration({ members: [member('Physicist'), member('Chemist', 'Knows molecules.')] }).toMermaid());
    expect(chart.nodes.get('manager')).toBe('collector');
    expect(chart.nodes.has('human_gateway')).toBe(false);
    expect(chart.groups.get('members')).toEqual(['agent_Physicist', 'agent_Chemist']);
    expect(edgeList(chart)).toEqual([
      ...FRAME_START,
      'manager --> agent_Physicist: turn request (parallel)',
      'manager --> agent_Chemist: turn request (parallel)',
      'agent_Physicist --> manager: reply',
      'agent_Chemist --> manager: reply',
      ...FRAME_END,
      'end_executor --> boundary: result',
    ]);
  });

  it('handoff with an explicit graph: routes labelled by their description (else the target\'s), the start agent marked, complete_task', () => {
    const triage = member('Triage', 'Routes customers.');
    const refund = member('Refund', 'Handles refunds.');
    const orders = member('Orders');
    const support = new HandoffOrchestration({
      members: [triage, refund, orders],
      handoffs: OrchestrationHandoffs.startWith(refund).add(triage, refund, 'refund requests').add(triage, orders).add(refund, triage).add(orders, triage, 'anything else'),
      completeTask: true,
    });
    const source = support.toMermaid();
    const chart = parsed(source);
    expect(chart.nodes.get('manager')).toBe('handoff coordinator');
    expect(chart.nodes.get('tool_complete_task')).toBe('complete_task<br/>ends the conversation');
    expect(source).toContain('  classDef startAgent stroke-width:3px\n  class agent_Refund startAgent\n');
    expect(edgeList(chart)).toEqual([
      ...FRAME_START,
      'manager ==> agent_Refund: first turn',
      'manager --> members: turn request',
      'members --> manager: reply or handoff',
      'agent_Triage --> agent_Refund: refund requests',
      'agent_Triage --> agent_Orders: handoff',
      'agent_Refund --> agent_Triage: Routes customers.',
      'agent_Orders --> agent_Triage: anything else',
      'agent_Triage -.-> tool_complete_task',
      'agent_Refund -.-> tool_complete_task',
      'agent_Orders -.-> tool_complete_task',
      'manager --> human_gateway: ask the user',
      'human_gateway --> manager: user reply',
      'human_gateway -.-> members: user message',
      ...FRAME_END,
      'manager -.-> boundary: handoff events',
      'human_gateway -.-> boundary: requests',
      'boundary --> human_gateway: respond / approve / reject',
      'end_executor --> boundary: result',
    ]);
  });

  it('handoff with the default full mesh: every ordered pair, labelled with the target\'s description; the first member starts', () => {
    const a = member('A', 'Does a.');
    const b = member('B', 'Does b.');
    const c = member('C');
    const chart = parsed(new HandoffOrchestration({ members: [a, b, c] }).toMermaid());
    const routes = edgeList(chart).filter((e) => /^agent_\w+ --> agent_/.test(e));
    expect(routes).toEqual([
      'agent_A --> agent_B: Does b.',
      'agent_A --> agent_C: handoff',
      'agent_B --> agent_A: Does a.',
      'agent_B --> agent_C: handoff',
      'agent_C --> agent_A: Does a.',
      'agent_C --> agent_B: Does b.',
    ]);
    expect(edgeList(chart)).toContain('manager ==> agent_A: first turn');
    expect(edgeList(chart).some((e) => e.includes('complete_task'))).toBe(false);
  });

  it('names and descriptions that need escaping: safe ids (reserved words too), escaped labels', () => {
    const members = [
      member('Refund Agent (EU)', 'Refunds "in full" <b>only</b>\n[EU] #1 | `fast` & {safe}'),
      member('Refund-Agent EU'),
      member('end', 'the end'),
      member('graph'),
      member('Возврат'),
      member('Rückgabe'),
    ];
    const source = new HandoffOrchestration({ members, handoffs: OrchestrationHandoffs.startWith('end').add('end', 'graph', 'say "graph"').add('graph', 'Refund Agent (EU)') }).toMermaid();
    const chart = parsed(source);
    expect(chart.groups.get('members')).toEqual(['agent_Refund_Agent_EU', 'agent_Refund_Agent_EU_2', 'agent_end', 'agent_graph', 'agent', 'agent_R_ckgabe']);
    expect(chart.nodes.get('agent_Refund_Agent_EU')).toBe(
      'Refund Agent (EU)<br/>Refunds #quot;in full#quot; #lt;b#gt;only#lt;/b#gt;<br/>#91;EU#93; #35;1 #124; #96;fast#96; #amp; #123;safe#125;',
    );
    expect(chart.nodes.get('agent')).toBe('Возврат');
    expect(edgeList(chart)).toContain('agent_end --> agent_graph: say #quot;graph#quot;');
    expect(edgeList(chart)).toContain('manager ==> agent_end: first turn');
  });

  it('the human gateway appears for reviews and approvals, with an edge per member that asks', () => {
    const approve = tool({ name: 'refund', description: 'Refund.', parameters: z.object({}), execute: () => 'ok', needsApproval: true });
    const chart = parsed(new SequentialOrchestration({
      members: [member('Writer'), member('Payer', undefined, { tools: [approve] }), member('Quiet')],
      humanReview: ['Writer'],
    }).toMermaid());
    expect(chart.nodes.get('human_gateway')).toBe('human gateway');
    const people = edgeList(chart).filter((e) => e.includes('human_gateway'));
    expect(people).toEqual([
      'agent_Writer --> human_gateway: review request',
      'human_gateway --> agent_Writer: decision',
      'agent_Payer --> human_gateway: approval request',
      'human_gateway --> agent_Payer: decision',
      'human_gateway -.-> boundary: requests',
      'boundary --> human_gateway: respond / approve / reject',
    ]);
  });

  it('is deterministic: the same orchestration, or an equal one, renders the same string', () => {
    const make = () => new HandoffOrchestration({ members: [member('A', 'a'), member('B', 'b')], completeTask: true });
    const one = make();
    expect(one.toMermaid()).toBe(one.toMermaid());
    expect(make().toMermaid()).toBe(one.toMermaid());
  });
});

describe('Mermaid helpers', () => {
  it('escapeMermaidLabel turns every character that would break a quoted label into an entity code', () => {
    expect(escapeMermaidLabel('Say "hi" <now>\r\n[EU]\t(ok)')).toBe('Say #quot;hi#quot; #lt;now#gt;<br/>#91;EU#93; (ok)');
  });

  it('MermaidIds: prefixed, sanitised, unique regardless of case, never a reserved word', () => {
    const ids = new MermaidIds().reserve('manager');
    expect(ids.take('Refund Agent (EU)', 'agent')).toBe('agent_Refund_Agent_EU');
    expect(ids.take('refund agent eu', 'agent')).toBe('agent_refund_agent_eu_2');
    expect(ids.take('end', 'agent')).toBe('agent_end');
    expect(ids.take('!!!', 'agent')).toBe('agent');
    expect(ids.take('', 'agent')).toBe('agent_2');
    expect(ids.take('', 'manager')).toBe('manager_2');
  });

  it('the validator catches what it is there for', () => {
    const bad = validateMermaid('flowchart TB\n  end["x"]\n  a["say "hi""]\n  b["<b>"]\n  a --> ghost\n');
    expect(bad.problems).toEqual([
      'line 2: reserved id "end"',
      'line 3: not understood: "  a[\\"say \\"hi\\"\\"]"',
      'line 4: raw < or > (only <br/> is allowed)',
      'edge a → ghost: "a" is not declared',
      'edge a → ghost: "ghost" is not declared',
    ]);
  });
});
