import type { ChatMessage } from '../../src/index.js';
import { HandoffOrchestration, tool } from '../../src/index.js';
import { z } from 'zod';
import { agent, scripted } from '../orchestrations/helpers.js';

export const transfer = (target: string) => ({ toolCalls: [{ name: `transfer_to_${target}`, arguments: {} }] });

/** What was said, without ids (ids derive from the runtime's envelope ids). */
export const said = (conversation: ChatMessage[]) => conversation.map((m) => [m.role, m.name ?? '', m.content, (m.toolCalls ?? []).map((c) => c.name).join(',')]);

/** Triage hands off to Refund, who asks for the order, then refunds it. Deterministic: same replies in every process. */
export function supportDesk(options: { refundInstructions?: string; id?: string } = {}) {
  const triage = scripted(() => transfer('Refund'));
  const refund = scripted((request) => {
    const users = request.messages.filter((m) => m.role === 'user');
    return { text: users.length === 1 ? 'Which order?' : `Refunded ${users.at(-1)!.content}.`, usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } };
  });
  const orchestration = new HandoffOrchestration({
    id: options.id ?? 'support',
    members: [agent('Triage', triage), agent('Refund', refund, { instructions: options.refundInstructions ?? 'You refund orders.' })],
  });
  return { orchestration, triage, refund };
}

/** Refund must have a refund tool approved before it runs. */
export function approvalDesk() {
  const executed: string[] = [];
  const issueRefund = tool({
    name: 'issue_refund',
    description: 'Refund an order',
    parameters: z.object({ order: z.string() }),
    needsApproval: true,
    execute: ({ order }) => {
      executed.push(order);
      return `refunded ${order}`;
    },
  });
  const refund = scripted((request) => {
    const last = request.messages.at(-1)!;
    if (last.role === 'tool') return { text: `Done: ${last.content}.` };
    return { toolCalls: [{ name: 'issue_refund', arguments: { order: '42' } }] };
  });
  const orchestration = new HandoffOrchestration({
    id: 'approvals',
    members: [agent('Triage', scripted(() => transfer('Refund'))), agent('Refund', refund, { tools: [issueRefund] })],
  });
  return { orchestration, executed, refund };
}
