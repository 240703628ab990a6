import type { ChatMessage, Usage } from '../agents/chat-message.js';
import { addUsage, ZERO_USAGE } from '../agents/chat-message.js';

/** Token totals per agent and overall. */
export interface UsageReport {
  total: Usage;
  byAgent: Record<string, Usage>;
}

/** What every orchestration produces before any output transform. */
export interface OrchestrationOutput {
  /** The orchestration's answer (e.g. the last reply; one reply per member for concurrent). */
  messages: ChatMessage[];
  /** The whole transcript, task included, tool calls included. */
  conversation: ChatMessage[];
  /** Why it ended (e.g. `completed`, `user_ended`, `terminated`, `max_handoffs`). */
  reason: string;
  lastAgent?: string;
  usage: UsageReport;
}

/** `report` plus `usage` for `agent`, in total and per agent. */
export function addAgentUsage(report: UsageReport, agent: string, usage: Usage | undefined): UsageReport {
  if (!usage) return report;
  // Not `{ ...byAgent, [agent]: … }` (on Node 20's V8 adding a key to a spread copy makes new hidden
  // classes per call), and not `Object.assign`: that assigns, so an agent called `__proto__` would
  // set the copy's prototype. A plain spread copy defines its keys; then one key is defined.
  const byAgent = { ...report.byAgent };
  const before = Object.hasOwn(report.byAgent, agent) ? report.byAgent[agent] : ZERO_USAGE;
  Object.defineProperty(byAgent, agent, { value: addUsage(before, usage), enumerable: true, writable: true, configurable: true });
  return { total: addUsage(report.total, usage), byAgent };
}
