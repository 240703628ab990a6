/** Turning free text into identifiers (agent types, tool names). */

/**
 * Turns free text (an agent's name) into letters, digits, `_` and `-`: usable as an agent type
 * or a tool name. Runs of other characters become `_`; `fallback` stands in for an empty result.
 *
 * @example
 * sanitizeName('Refund Agent (EU)') // 'Refund_Agent_EU'
 */
export function sanitizeName(name: string, fallback = 'agent'): string {
  const cleaned = name.replace(/[^\w-]+/g, '_').replace(/^_+|_+$/g, '');
  return cleaned.length > 0 ? cleaned : fallback;
}
