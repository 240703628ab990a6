import { describe, expect, it } from 'vitest';
import { scriptedCustomer } from '../../examples/customer-support/customer.js';
import { main, routingOf } from '../../examples/customer-support/main.js';
import { runCustomerSupport } from '../../examples/customer-support/run.js';
import { createScriptedClassifier, createScriptedModel } from '../../examples/customer-support/scripted-model.js';

describe('customer-support example with --routing intent (scripted, offline)', () => {
  it('status → refund by a classified handoff (OrderStatus says it is outside its area, unseen) → thanks; no Triage', async () => {
    const lines: string[] = [];
    const model = createScriptedModel();
    const classifier = createScriptedClassifier();
    const output = await runCustomerSupport({ clients: model, customer: scriptedCustomer(), print: (l) => lines.push(l), routing: 'intent', classifier });
    expect(lines.filter((l) => l.includes('[handoff]')).map((l) => l.trim())).toEqual(['[handoff] OrderStatus → Refund (classified)']);
    expect(lines.filter((l) => l.includes('[tool]')).map((l) => l.trim().slice(0, l.trim().indexOf('(')))).toEqual(['[tool] check_order_status', '[tool] process_refund']);
    expect(lines.some((l) => /outside my area/i.test(l))).toBe(false);
    const spoken = lines.filter((l) => /^(Customer|Triage|OrderStatus|Refund|Returns): /.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    expect(spoken).toEqual(['Customer', 'OrderStatus', 'Customer', 'Refund', 'Customer', 'Refund', 'Customer']);
    expect(output).toMatchObject({ reason: 'user_ended', lastAgent: 'Refund' });
    // Two classifications (the first message, the refund question); Triage is not a member.
    expect(classifier.callCount).toBe(2);
    expect(Object.fromEntries(Object.entries(model).map(([name, c]) => [name, c.callCount]))).toEqual({ Triage: 0, OrderStatus: 3, Refund: 3, Returns: 0 });
  });

  it('main() takes --routing intent / --routing=intent; anything else is an error', async () => {
    expect(routingOf([])).toBe('handoff');
    expect(routingOf(['--routing', 'intent'])).toBe('intent');
    expect(routingOf(['--routing=intent'])).toBe('intent');
    expect(() => routingOf(['--routing=magic'])).toThrow(/--routing/);
    const lines: string[] = [];
    const code = await main({ env: {}, argv: ['--scripted', '--routing', 'intent'], print: (l) => lines.push(l) });
    expect(code).toBe(0);
    expect(lines[0]).toBe('troupe · customer support (handoff orchestration, routing by intent)');
    expect(lines).toContain('  [handoff] OrderStatus → Refund (classified)');
  });
});
