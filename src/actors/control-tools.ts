/**
 * Control tools: tools an orchestration gives an agent that are not run but decide how its turn
 * ends — a handoff (`transfer_to_<target>`) or `complete_task`. This module owns them: their
 * names, their definitions, and intercepting their calls. The agent machine only receives them as
 * data (`controlTools`) and hands each model reply's calls to {@link interceptControlCalls}.
 */
import type { ToolDefinition } from '../agents/chat-client.js';
import type { ToolCall } from '../agents/chat-message.js';
import { sanitizeToolName } from '../agents/tool.js';
import type { TurnOutcome } from './protocol.js';

/** Calling it hands the conversation to `target`. */
export interface HandoffControl {
  name: string;
  kind: 'handoff';
  target: string;
  description?: string;
}

/** Calling it ends the conversation with a summary. */
export interface CompleteControl {
  name: string;
  kind: 'complete';
}

export type ControlTool = HandoffControl | CompleteControl;

export const COMPLETE_TASK_TOOL = 'complete_task';

/** The tool that hands off to `target`: `transfer_to_<target>`, sanitised for every provider. */
export function transferToolName(target: string): string {
  return sanitizeToolName(`transfer_to_${target}`);
}

/** The `complete_task` control. */
export const COMPLETE_CONTROL: CompleteControl = Object.freeze({ name: COMPLETE_TASK_TOOL, kind: 'complete' }) as CompleteControl;

const REASON_PARAMETERS = { type: 'object', properties: { reason: { type: ['string', 'null'], description: 'Why, in one sentence.' } }, required: ['reason'], additionalProperties: false };
const SUMMARY_PARAMETERS = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'], additionalProperties: false };

const definitionCache = new WeakMap<readonly ControlTool[], ToolDefinition[]>();
const toolListCache = new WeakMap<readonly ToolDefinition[], WeakMap<readonly ControlTool[], ToolDefinition[]>>();

/** What the model is offered for each control. Memoised per array: orchestrations share them. */
export function controlToolDefinitions(controls: readonly ControlTool[]): ToolDefinition[] {
  let defs = definitionCache.get(controls);
  if (defs) return defs;
  defs = controls.map((c) => (c.kind === 'handoff'
    ? {
      name: c.name,
      description: c.description ? `Transfer the conversation to ${c.target}: ${c.description}` : `Transfer the conversation to ${c.target}.`,
      parameters: REASON_PARAMETERS,
      strict: true,
    }
    : { name: c.name, description: 'Call when the task is done, with a short summary of the outcome.', parameters: SUMMARY_PARAMETERS, strict: true }));
  definitionCache.set(controls, defs);
  return defs;
}

/** The agent's own tools followed by its controls; memoised so idle conversations share the list. */
export function toolsWithControls(own: readonly ToolDefinition[], controls: readonly ControlTool[]): ToolDefinition[] {
  if (controls.length === 0) return own as ToolDefinition[];
  let byControls = toolListCache.get(own);
  if (!byControls) toolListCache.set(own, (byControls = new WeakMap()));
  let all = byControls.get(controls);
  if (!all) byControls.set(controls, (all = [...own, ...controlToolDefinitions(controls)]));
  return all;
}

export interface ToolOutcome {
  content: string;
  isError: boolean;
}

export interface Interception {
  /** The calls, with controls marked (`control`), in the model's order. */
  calls: ToolCall[];
  /** Results of the calls answered here (controls, unknown tools). */
  results: Record<string, ToolOutcome>;
  /** Ordinary calls, to run. */
  pending: ToolCall[];
  /** The turn's outcome, if a control decided it (the first control call wins). */
  outcome: TurnOutcome | undefined;
  controlIds: string[];
}

function controlNamed(controls: readonly ControlTool[], name: string): ControlTool | undefined {
  for (const control of controls) if (control.name === name) return control;
  return undefined;
}

function parseArgs(raw: string): Record<string, unknown> {
  try {
    const value = JSON.parse(raw || '{}');
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

/**
 * Sorts one model reply's tool calls. Controls are answered here and decide the outcome (one per
 * turn: later controls are answered "Ignored"). When the agent has handoffs, a call that names
 * neither its own tool nor a control gets an error listing the transfers (a hallucinated
 * target), so the model can try again. Everything else is left to run.
 */
export function interceptControlCalls(
  controls: readonly ControlTool[], ownTools: readonly ToolDefinition[], calls: readonly ToolCall[], decided: TurnOutcome | undefined,
): Interception {
  const results: Record<string, ToolOutcome> = {};
  const pending: ToolCall[] = [];
  const controlIds: string[] = [];
  let outcome = decided;
  // Loops rather than map/find closures: this runs on every model reply.
  const marked: ToolCall[] = [];
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    const control = controlNamed(controls, call.name);
    if (!control) {
      if (controls.some((c) => c.kind === 'handoff') && !ownTools.some((t) => t.name === call.name)) {
        const valid = controls.flatMap((c) => (c.kind === 'handoff' ? [c.target] : [])).join(', ');
        results[call.id] = { content: `Error: "${call.name}" is not an available handoff or tool. You can transfer to: ${valid}.`, isError: true };
      } else {
        pending.push(call);
      }
      marked.push(call);
      continue;
    }
    controlIds.push(call.id);
    if (outcome && outcome.kind !== 'reply') {
      results[call.id] = { content: `Ignored: only one handoff per turn (already ${outcome.kind === 'handoff' ? `transferring to ${outcome.target}` : 'completing the task'}).`, isError: false };
    } else if (control.kind === 'handoff') {
      const reason = parseArgs(call.arguments).reason;
      outcome = { kind: 'handoff', target: control.target, toolCallId: call.id, ...(typeof reason === 'string' && reason ? { reason } : {}) };
      results[call.id] = { content: `Transferred to ${control.target}.`, isError: false };
    } else {
      const summary = parseArgs(call.arguments).summary;
      outcome = { kind: 'complete', summary: typeof summary === 'string' ? summary : '', toolCallId: call.id };
      results[call.id] = { content: 'Task completed.', isError: false };
    }
    // Not `{ ...call, control }`: on Node 20's V8 that makes new hidden classes on every call.
    marked.push(Object.assign({}, call, { control: control.kind }));
  }
  return { calls: marked, results, pending, outcome, controlIds };
}
