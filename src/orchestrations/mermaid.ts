/**
 * A tiny Mermaid `flowchart` model and its renderer: nodes, edges, one level of groups
 * (subgraphs) and node classes. Orchestrations describe their actor topology with it
 * (see `topology.ts`); this file knows nothing of orchestrations. Output is deterministic — the
 * order things were added — so tests and a README can compare strings.
 */

/** How a node is drawn. */
export type FlowNodeShape = 'box' | 'rounded' | 'stadium' | 'hexagon' | 'parallelogram' | 'circle' | 'subroutine';

/** How an edge is drawn: `solid` a directed message, `dotted` a broadcast or optional path, `thick` the main path. */
export type FlowEdgeLine = 'solid' | 'dotted' | 'thick';

export interface FlowNode {
  /** A valid Mermaid id (see {@link MermaidIds}). */
  id: string;
  /** Free text; escaped on rendering. Lines (`\n`) become line breaks. */
  label: string;
  shape: FlowNodeShape;
  /** The id of the {@link FlowGroup} that draws it inside, if any. */
  group?: string;
  /** A class from {@link Flowchart.classes}. */
  className?: string;
}

export interface FlowEdge {
  from: string;
  to: string;
  label?: string;
  line?: FlowEdgeLine;
}

export interface FlowGroup {
  id: string;
  label: string;
}

export interface Flowchart {
  direction: 'TB' | 'LR';
  groups: FlowGroup[];
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** Class name → Mermaid style (`stroke-width:3px`), declared with `classDef`. */
  classes: Record<string, string>;
}

/** An empty chart. */
export function flowchart(direction: Flowchart['direction'] = 'TB'): Flowchart {
  return { direction, groups: [], nodes: [], edges: [], classes: {} };
}

/**
 * Hands out Mermaid node ids derived from free text: letters, digits and `_` only, starting with a
 * letter (so a reserved word such as `end` or `graph` can never be produced when a prefix is
 * given), unique within one chart (a clash gets `_2`, `_3`…).
 *
 * @example
 * const ids = new MermaidIds();
 * ids.take('Refund Agent (EU)', 'agent'); // 'agent_Refund_Agent_EU'
 * ids.take('end', 'agent');               // 'agent_end'
 * ids.take('Refund-Agent EU', 'agent');   // 'agent_Refund_Agent_EU_2'
 */
export class MermaidIds {
  private readonly used = new Set<string>();

  /** Reserves ids that are fixed by the caller (infrastructure nodes, groups). */
  reserve(...ids: string[]): this {
    for (const id of ids) this.used.add(id.toLowerCase());
    return this;
  }

  /** A fresh id for `text`: `<prefix>_<text, sanitised>`; `<prefix>` alone when nothing is left. */
  take(text: string, prefix: string): string {
    const cleaned = text.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
    const base = cleaned ? `${prefix}_${cleaned}` : prefix;
    let id = base;
    // Mermaid ids are case-sensitive, but two ids differing only by case are confusing to read.
    for (let n = 2; this.used.has(id.toLowerCase()); n++) id = `${base}_${n}`;
    this.used.add(id.toLowerCase());
    return id;
  }
}

/** Characters that would end or reinterpret a quoted Mermaid label, as Mermaid entity codes. */
const ENTITIES: Record<string, string> = {
  '"': '#quot;',
  '#': '#35;',
  '&': '#amp;',
  '<': '#lt;',
  '>': '#gt;',
  '[': '#91;',
  ']': '#93;',
  '{': '#123;',
  '}': '#125;',
  '|': '#124;',
  '`': '#96;',
};

/**
 * `text` as the inside of a quoted Mermaid label: quotes, brackets and braces, `<`/`>`, `#`, `&`,
 * `|` and backticks become entity codes (parentheses are safe inside quotes and stay readable);
 * line breaks become `<br/>` (the only raw markup emitted).
 *
 * @example
 * escapeMermaidLabel('Say "hi" <now>\n[EU]'); // 'Say #quot;hi#quot; #lt;now#gt;<br/>#91;EU#93;'
 */
export function escapeMermaidLabel(text: string): string {
  return text
    .replace(/["#&<>[\]{}|`]/g, (c) => ENTITIES[c])
    .replace(/\r\n|\r|\n/g, '<br/>')
    // Other control characters (tabs…) would only confuse the parser.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ');
}

const SHAPES: Record<FlowNodeShape, [string, string]> = {
  box: ['[', ']'],
  rounded: ['(', ')'],
  stadium: ['([', '])'],
  hexagon: ['{{', '}}'],
  parallelogram: ['[/', '/]'],
  circle: ['((', '))'],
  subroutine: ['[[', ']]'],
};

const ARROWS: Record<FlowEdgeLine, string> = { solid: '-->', dotted: '-.->', thick: '==>' };

function renderNode(node: FlowNode): string {
  const [open, close] = SHAPES[node.shape];
  return `${node.id}${open}"${escapeMermaidLabel(node.label)}"${close}`;
}

function renderEdge(edge: FlowEdge): string {
  const arrow = ARROWS[edge.line ?? 'solid'];
  const label = edge.label ? `|"${escapeMermaidLabel(edge.label)}"|` : '';
  return `${edge.from} ${arrow}${label} ${edge.to}`;
}

/**
 * The chart as Mermaid source: the header, ungrouped nodes, each group (a `subgraph`) with its
 * nodes, the edges, then classes — every part in the order it was added.
 *
 * @example
 * const chart = flowchart('LR');
 * chart.nodes.push({ id: 'a', label: 'A', shape: 'box' }, { id: 'b', label: 'B', shape: 'box' });
 * chart.edges.push({ from: 'a', to: 'b', label: 'hello' });
 * renderFlowchart(chart); // 'flowchart LR\n  a["A"]\n  b["B"]\n  a -->|"hello"| b\n'
 */
export function renderFlowchart(chart: Flowchart): string {
  const lines = [`flowchart ${chart.direction}`];
  for (const node of chart.nodes) if (!node.group) lines.push(`  ${renderNode(node)}`);
  for (const group of chart.groups) {
    lines.push(`  subgraph ${group.id}["${escapeMermaidLabel(group.label)}"]`);
    for (const node of chart.nodes) if (node.group === group.id) lines.push(`    ${renderNode(node)}`);
    lines.push('  end');
  }
  for (const edge of chart.edges) lines.push(`  ${renderEdge(edge)}`);
  for (const [name, style] of Object.entries(chart.classes)) lines.push(`  classDef ${name} ${style}`);
  for (const [name] of Object.entries(chart.classes)) {
    const ids = chart.nodes.filter((n) => n.className === name).map((n) => n.id);
    if (ids.length > 0) lines.push(`  class ${ids.join(',')} ${name}`);
  }
  return `${lines.join('\n')}\n`;
}
