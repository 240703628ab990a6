/**
 * The customer-support team: a triage agent and three specialists, their tools, and who may hand
 * the conversation to whom. Modelled on Semantic Kernel's handoff sample (step4_handoff.py).
 *
 *   Triage ──► OrderStatus ──┐
 *     │  ├──► Refund ────────┤  (every specialist can hand back to Triage)
 *     │  └──► Returns ───────┘
 *     ◄──────────────────────┘
 */
import { z } from 'zod';
import {
  ChatCompletionAgent,
  HandoffOrchestration,
  OrchestrationHandoffs,
  tool,
  type ChatClient,
  type HandoffOptions,
  type IntentClassifier,
  type OrchestrationOutput,
} from '../../src/index.js';

/** The agents' names: what the transcript, the events and the `transfer_to_<name>` tools use. */
export const AGENT_NAMES = ['Triage', 'OrderStatus', 'Refund', 'Returns'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

interface Order {
  item: string;
  total: number;
  status: 'processing' | 'shipped' | 'delivered';
  detail: string;
  refunded?: boolean;
  returnLabel?: string;
}

/** A tiny in-memory order database. Each team gets its own copy, so runs never share state. */
function sampleOrders(): Map<string, Order> {
  return new Map<string, Order>([
    ['123', { item: 'Ceramic mug (set of 2)', total: 24.99, status: 'delivered', detail: 'delivered yesterday at 14:02, signed for by the front desk' }],
    ['456', { item: 'Wool scarf', total: 39.5, status: 'shipped', detail: 'shipped on Monday, arriving in 2-3 days' }],
    ['789', { item: 'Desk lamp', total: 58, status: 'processing', detail: 'being packed; it ships tomorrow' }],
  ]);
}

const orderId = z.string().describe('The order number, digits only, e.g. "123".');

/** The tools, bound to one order database. Errors they throw become tool results the model sees. */
export function supportTools(orders: Map<string, Order> = sampleOrders()) {
  const find = (id: string): Order => {
    const order = orders.get(id.replace(/^#/, ''));
    if (!order) throw new Error(`There is no order #${id}. Ask the customer to check the number.`);
    return order;
  };
  const checkOrderStatus = tool({
    name: 'check_order_status',
    description: 'Look up where an order is.',
    parameters: z.object({ order_id: orderId }),
    execute: ({ order_id }) => {
      const order = find(order_id);
      return `Order ${order_id} (${order.item}): ${order.detail}.`;
    },
  });
  const processRefund = tool({
    name: 'process_refund',
    description: 'Refund an order in full to the original payment method.',
    parameters: z.object({ order_id: orderId, reason: z.string().describe('Why the customer wants a refund.') }),
    execute: ({ order_id }) => {
      const order = find(order_id);
      if (order.refunded) return `Order ${order_id} was already refunded.`;
      order.refunded = true;
      return `Refund of $${order.total.toFixed(2)} for order ${order_id} issued; it reaches the card in 3-5 business days.`;
    },
  });
  const processReturn = tool({
    name: 'process_return',
    description: 'Open a return for an order and create a prepaid shipping label.',
    parameters: z.object({ order_id: orderId, reason: z.string().describe('Why the customer returns it.') }),
    execute: ({ order_id }) => {
      const order = find(order_id);
      if (order.status !== 'delivered') return `Order ${order_id} has not been delivered yet, so it cannot be returned; offer a refund instead.`;
      order.returnLabel ??= `RMA-${order_id}-01`;
      return `Return ${order.returnLabel} opened for order ${order_id}; the prepaid label was emailed to the customer.`;
    },
  });
  return { checkOrderStatus, processRefund, processReturn };
}

/** One model for every agent, or one per agent (e.g. a scripted model per agent in tests). */
export type TeamClients = ChatClient | Record<AgentName, ChatClient>;

export interface SupportTeam {
  triage: ChatCompletionAgent;
  orderStatus: ChatCompletionAgent;
  refund: ChatCompletionAgent;
  returns: ChatCompletionAgent;
  members: ChatCompletionAgent[];
  handoffs: OrchestrationHandoffs;
}

/** Builds the four agents and the handoff graph (triage → every specialist; specialists → triage). */
export function createSupportTeam(clients: TeamClients): SupportTeam {
  const clientFor = (name: AgentName): ChatClient => ('complete' in clients ? (clients as ChatClient) : clients[name]);
  const { checkOrderStatus, processRefund, processReturn } = supportTools();

  const triage = new ChatCompletionAgent({
    name: 'Triage',
    description: 'A customer support agent that triages issues.',
    instructions: 'You are the first line of customer support for an online shop. Greet the customer, find out what they need, and transfer them to the right specialist. Answer only small talk (greetings, thanks) yourself.',
    client: clientFor('Triage'),
  });
  const orderStatus = new ChatCompletionAgent({
    name: 'OrderStatus',
    description: 'A customer support agent that checks order status.',
    instructions: 'You answer questions about where an order is. Use check_order_status; ask for the order number if you do not have it. Be brief and friendly.',
    client: clientFor('OrderStatus'),
    tools: [checkOrderStatus],
  });
  const refund = new ChatCompletionAgent({
    name: 'Refund',
    description: 'A customer support agent that handles refunds.',
    instructions: 'You handle refunds. Use process_refund with the order number and the reason; ask for what is missing. Confirm the amount and timing to the customer. Be brief and friendly.',
    client: clientFor('Refund'),
    tools: [processRefund],
  });
  const returns = new ChatCompletionAgent({
    name: 'Returns',
    description: 'A customer support agent that handles order returns.',
    instructions: 'You handle returns. Use process_return with the order number and the reason; ask for what is missing. Be brief and friendly.',
    client: clientFor('Returns'),
    tools: [processReturn],
  });

  const handoffs = OrchestrationHandoffs.startWith(triage)
    .addMany(triage, {
      Refund: 'Transfer to this agent if the issue is refund related',
      OrderStatus: 'Transfer to this agent if the issue is order status related',
      Returns: 'Transfer to this agent if the issue is order return related',
    })
    .add(refund, triage, 'Transfer to this agent if the issue is not refund related')
    .add(orderStatus, triage, 'Transfer to this agent if the issue is not order status related')
    .add(returns, triage, 'Transfer to this agent if the issue is not order return related');

  return { triage, orderStatus, refund, returns, members: [triage, orderStatus, refund, returns], handoffs };
}

/** Handoff options the example lets you vary (the benchmark runs it under each filter). */
export type SupportOptions = Pick<HandoffOptions<OrchestrationOutput, string>, 'resumeWith' | 'toolCallFilter' | 'contextWindow' | 'humanResponse' | 'maxHandoffs'> & {
  /**
   * `handoff` (default): Triage and transfer tools along the graph. `intent`: routing by intent —
   * the three specialists only, no transfer tools; `classifier` picks who answers the first
   * message and any message a specialist says is outside its area.
   */
  routing?: 'handoff' | 'intent';
  /** The classifier for `routing: 'intent'` (a model, or a function). */
  classifier?: IntentClassifier;
};

/** The orchestration: the team, its handoff graph (or its router), and the options you pass. */
export function createSupportOrchestration(team: SupportTeam, options: SupportOptions = {}): HandoffOrchestration<OrchestrationOutput, string> {
  const { routing = 'handoff', classifier, ...handoff } = options;
  if (routing === 'handoff') return new HandoffOrchestration<OrchestrationOutput, string>({ members: team.members, handoffs: team.handoffs, ...handoff });
  if (!classifier) throw new Error("routing 'intent' needs a classifier.");
  const { resumeWith: _notApplicable, ...rest } = handoff;
  return new HandoffOrchestration<OrchestrationOutput, string>({ members: [team.orderStatus, team.refund, team.returns], router: { classifier }, ...rest });
}
