import { describe, expect, it } from 'vitest';
import { addAgentUsage, type UsageReport } from '../../src/actors/output.js';
import { ZERO_USAGE } from '../../src/agents/chat-message.js';

const usage = { inputTokens: 3, outputTokens: 2, totalTokens: 5 };
const empty: UsageReport = { total: ZERO_USAGE, byAgent: {} };

describe('addAgentUsage', () => {
  it('adds to the total and to the agent, leaving the report it was given as it was', () => {
    const once = addAgentUsage(empty, 'Refund', usage);
    const twice = addAgentUsage(once, 'Refund', usage);
    expect(twice).toEqual({ total: { inputTokens: 6, outputTokens: 4, totalTokens: 10 }, byAgent: { Refund: { inputTokens: 6, outputTokens: 4, totalTokens: 10 } } });
    expect(once.byAgent.Refund.totalTokens).toBe(5);
    expect(empty.byAgent).toEqual({});
  });

  it('counts agents named like Object.prototype properties (__proto__, constructor) as their own entries', () => {
    let report = addAgentUsage(empty, '__proto__', usage);
    report = addAgentUsage(report, 'constructor', usage);
    report = addAgentUsage(report, 'constructor', usage);
    expect(Object.keys(report.byAgent)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(report.byAgent)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(report.byAgent, '__proto__')?.value).toEqual(usage);
    expect(report.byAgent.constructor).toEqual({ inputTokens: 6, outputTokens: 4, totalTokens: 10 });
    expect(report.total.totalTokens).toBe(15);
  });
});
