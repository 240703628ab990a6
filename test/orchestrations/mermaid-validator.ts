/**
 * A small structural check of the Mermaid flowcharts `toMermaid()` emits (no Mermaid parser is
 * installed, and a headless browser is far too heavy for a unit test). It accepts only the subset
 * the renderer produces, so anything else — a stray quote, an undeclared endpoint, a reserved id —
 * is reported. Returns the problems (empty when the chart is well-formed) and what it parsed.
 */

export const MERMAID_ID = /^[A-Za-z][A-Za-z0-9_]*$/;
const RESERVED = new Set(['end', 'graph', 'flowchart', 'subgraph', 'style', 'classdef', 'class', 'click', 'linkstyle', 'direction', 'default', 'call', 'href']);
const ID = '([A-Za-z][A-Za-z0-9_]*)';
const LABEL = '"([^"]*)"';
const NODE = new RegExp(`^${ID}(\\(\\[|\\{\\{|\\[/|\\(\\(|\\[\\[|\\[|\\()${LABEL}(\\]\\)|\\}\\}|/\\]|\\)\\)|\\]\\]|\\]|\\))$`);
const CLOSERS: Record<string, string> = { '([': '])', '{{': '}}', '[/': '/]', '((': '))', '[[': ']]', '[': ']', '(': ')' };
const SUBGRAPH = new RegExp(`^subgraph ${ID}\\[${LABEL}\\]$`);
const EDGE = new RegExp(`^${ID} (-->|-\\.->|==>)(?:\\|${LABEL}\\|)? ${ID}$`);
const CLASS_DEF = /^classDef ([A-Za-z][A-Za-z0-9_]*) [^"]+$/;
const CLASS = new RegExp(`^class (${ID.slice(1, -1)}(?:,${ID.slice(1, -1)})*) ([A-Za-z][A-Za-z0-9_]*)$`);

export interface ParsedEdge {
  from: string;
  to: string;
  arrow: string;
  label?: string;
}

export interface ParsedChart {
  problems: string[];
  /** Node id → label (as written, escaped). */
  nodes: Map<string, string>;
  /** Subgraph id → its node ids. */
  groups: Map<string, string[]>;
  edges: ParsedEdge[];
}

/** Problems with a label: raw quotes, or markup other than `<br/>`. */
function labelProblems(label: string, where: string): string[] {
  const problems: string[] = [];
  if (label.includes('"')) problems.push(`${where}: unescaped quote`);
  if (/[<>]/.test(label.replace(/<br\/>/g, ''))) problems.push(`${where}: raw < or > (only <br/> is allowed)`);
  if (/[[\]{}|`]/.test(label)) problems.push(`${where}: raw bracket, brace, pipe or backtick`);
  if (/#(?![a-z]+;|\d+;)/.test(label)) problems.push(`${where}: a # that is not an entity code`);
  return problems;
}

function checkId(id: string, where: string): string[] {
  if (!MERMAID_ID.test(id)) return [`${where}: bad id "${id}"`];
  if (RESERVED.has(id.toLowerCase())) return [`${where}: reserved id "${id}"`];
  return [];
}

/** Parses and checks `source`. */
export function validateMermaid(source: string): ParsedChart {
  const chart: ParsedChart = { problems: [], nodes: new Map(), groups: new Map(), edges: [] };
  const { problems } = chart;
  const lines = source.replace(/\n$/, '').split('\n');
  if (!/^flowchart (TB|LR)$/.test(lines[0] ?? '')) problems.push(`line 1: expected "flowchart TB|LR", got ${JSON.stringify(lines[0])}`);
  let group: string | null = null;
  const classNames = new Set<string>();
  const classUses: Array<[string[], string, string]> = [];
  for (const [i, raw] of lines.slice(1).entries()) {
    const where = `line ${i + 2}`;
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = SUBGRAPH.exec(line))) {
      if (group) problems.push(`${where}: nested subgraph`);
      problems.push(...checkId(m[1], where), ...labelProblems(m[2], where));
      group = m[1];
      chart.groups.set(group, []);
    } else if (line === 'end') {
      if (!group) problems.push(`${where}: "end" outside a subgraph`);
      group = null;
    } else if ((m = EDGE.exec(line))) {
      chart.edges.push({ from: m[1], to: m[4], arrow: m[2], ...(m[3] !== undefined ? { label: m[3] } : {}) });
      if (m[3] !== undefined) problems.push(...labelProblems(m[3], where));
    } else if ((m = NODE.exec(line))) {
      const [, id, open, label, close] = m;
      if (CLOSERS[open] !== close) problems.push(`${where}: shape opened with ${open} closed with ${close}`);
      problems.push(...checkId(id, where), ...labelProblems(label, where));
      if (chart.nodes.has(id) || chart.groups.has(id)) problems.push(`${where}: "${id}" declared twice`);
      chart.nodes.set(id, label);
      if (group) chart.groups.get(group)!.push(id);
    } else if ((m = CLASS_DEF.exec(line))) {
      classNames.add(m[1]);
    } else if ((m = CLASS.exec(line))) {
      classUses.push([m[1].split(','), m[m.length - 1], where]);
    } else {
      problems.push(`${where}: not understood: ${JSON.stringify(raw)}`);
    }
  }
  if (group) problems.push(`subgraph "${group}" is not closed`);
  const declared = (id: string) => chart.nodes.has(id) || chart.groups.has(id);
  for (const edge of chart.edges) {
    for (const end of [edge.from, edge.to]) if (!declared(end)) problems.push(`edge ${edge.from} → ${edge.to}: "${end}" is not declared`);
  }
  for (const [ids, name, where] of classUses) {
    if (!classNames.has(name)) problems.push(`${where}: class "${name}" has no classDef`);
    for (const id of ids) if (!chart.nodes.has(id)) problems.push(`${where}: class on undeclared node "${id}"`);
  }
  return chart;
}

/** The edges as `from -> to: label` strings, easy to compare. */
export function edgeList(chart: ParsedChart): string[] {
  return chart.edges.map((e) => `${e.from} ${e.arrow} ${e.to}${e.label !== undefined ? `: ${e.label}` : ''}`);
}
