/**
 * Routing by intent (`router`, the lazy classification of Agent Framework PR #1469) against
 * transfer-tool handoff, on the same scripted multi-topic support conversation and the same
 * scripted specialists (Billing, Security, Products):
 *   (a) triage-mediated — `resumeWith: 'start'`: every user message goes to a triage agent, which
 *       transfers to the specialist;
 *   (b) default handoff — `resumeWith: 'asker'`: triage routes the first message; specialists
 *       transfer to each other (full mesh) when the topic changes;
 *   (c) intent routing with a model classifier (an LLM call per classification);
 *   (c′) intent routing with a function classifier (keyword rules: no LLM call to classify).
 * The specialists are one scripted responder each: a question on their topic gets its answer; an
 * off-topic one gets a transfer call when they have transfer tools, else the out-of-scope phrase.
 * Counted: LLM calls (every model request, classifier included), calls per user turn, input
 * tokens (the ScriptedChatClient's deterministic estimate: characters of every request / 4), and
 * who answered each user turn — verified against the expected specialist, with the expected
 * words, in every mode. Two conversations: the issue's (10 user turns, 3 topics, 2 topic changes)
 * and a longer one (30 turns, same 2 changes), to show where the ratio goes as conversations grow.
 */
import {
  ChatCompletionAgent, HandoffOrchestration, InProcessRuntime, OrchestrationHandoffs,
  type ChatMessage, type ChatRequest, type HandoffOptions, type OrchestrationOutput,
} from '../src/index.js';
import { ScriptedChatClient, estimateInputTokens, type ScriptedStep } from '../src/testing/index.js';

type Topic = 'Billing' | 'Security' | 'Products';
const SPECIALISTS: Topic[] = ['Billing', 'Security', 'Products'];
const DESCRIPTIONS: Record<Topic, string> = {
  Billing: 'Invoices, charges, refunds and payment methods.',
  Security: 'Passwords, two-factor authentication, account access and suspicious activity.',
  Products: 'Product features, plans, compatibility and recommendations.',
};
const PHRASE = 'This is outside my area';

const QUESTIONS: Record<Topic, string[]> = {
  Billing: ['Why was I charged twice this month?', 'Can you refund the duplicate charge?', 'When will the refund arrive?', 'Can I switch to paying by invoice?',
    'Where do I download last year\'s invoices?', 'Can I change the card on file?', 'Is VAT included in the price?', 'Can I get a receipt for March?',
    'Why did my price go up?', 'Can I pay yearly instead?', 'Do you accept PayPal?', 'What is the late-payment fee?'],
  Security: ['I think someone logged into my account.', 'How do I turn on two-factor authentication?', 'I lost my phone with the authenticator app.',
    'Can I see recent login locations?', 'How do I revoke old sessions?', 'Is my password stored encrypted?', 'Can I use a hardware key?',
    'How do I change my recovery email?', 'What should I do about a phishing email?', 'Can I lock my account temporarily?'],
  Products: ['Does the Pro plan include API access?', 'Which plan supports SSO?', 'Is there a mobile app?', 'Can I export my data as CSV?',
    'Does it work offline?', 'Is there a team discount?', 'What integrations are available?', 'Is there a dark mode?'],
};

/** A conversation: the topic of each user turn. */
function plan(counts: Array<[Topic, number]>): Array<{ topic: Topic; text: string }> {
  return counts.flatMap(([topic, n]) => QUESTIONS[topic].slice(0, n).map((text) => ({ topic, text })));
}

const CONVERSATIONS = [
  { name: '10 user turns (4 billing, 3 security, 3 products)', turns: plan([['Billing', 4], ['Security', 3], ['Products', 3]]) },
  { name: '30 user turns (12 billing, 10 security, 8 products)', turns: plan([['Billing', 12], ['Security', 10], ['Products', 8]]) },
];

const answer = (topic: Topic, question: string) => `[${topic}] Here is the answer to "${question}".`;

function lastUserMessage(request: ChatRequest): string {
  return [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}

/** The same specialist in every mode: answers its topic; off topic, transfers (if it can) or says the phrase. */
function specialistModel(topic: Topic, topicOf: Map<string, Topic>): ScriptedChatClient {
  return new ScriptedChatClient((request): ScriptedStep => {
    const question = lastUserMessage(request);
    const asked = topicOf.get(question);
    if (asked === undefined) throw new Error(`${topic}: unknown question "${question}"`);
    if (asked === topic) return { text: answer(topic, question) };
    if (request.tools?.some((t) => t.name === `transfer_to_${asked}`)) return { toolCalls: [{ name: `transfer_to_${asked}`, arguments: { reason: `${asked} question` } }] };
    return { text: PHRASE };
  });
}

function triageModel(topicOf: Map<string, Topic>): ScriptedChatClient {
  return new ScriptedChatClient((request): ScriptedStep => {
    const asked = topicOf.get(lastUserMessage(request))!;
    return { toolCalls: [{ name: `transfer_to_${asked}`, arguments: { reason: `${asked} question` } }] };
  });
}

/** A model classifier: reads the last `[user]` line of the conversation it is shown. */
function classifierModel(topicOf: Map<string, Topic>): ScriptedChatClient {
  return new ScriptedChatClient((request): ScriptedStep => {
    const lines = request.messages.at(-1)!.content.split('\n').filter((l) => l.startsWith('[user] '));
    const asked = topicOf.get(lines.at(-1)!.slice('[user] '.length))!;
    return { text: JSON.stringify({ agent: asked }) };
  });
}

/** The keyword rules a function classifier would use (no model). */
function keywordClassifier({ messages }: { messages: ChatMessage[] }): string {
  const text = [...messages].reverse().find((m) => m.role === 'user')!.content.toLowerCase();
  if (/(password|two-factor|authenticat|log ?in|session|hardware key|recovery|phishing|lock my|someone)/.test(text)) return 'Security';
  if (/(plan|api|sso|app|export|offline|discount|integration|dark mode)/.test(text)) return 'Products';
  return 'Billing';
}

type Mode = 'a' | 'b' | 'c' | 'c′';
const MODES: Array<{ mode: Mode; label: string }> = [
  { mode: 'a', label: "(a) triage-mediated (resumeWith 'start')" },
  { mode: 'b', label: "(b) default handoff (resumeWith 'asker')" },
  { mode: 'c', label: '(c) intent routing, model classifier' },
  { mode: 'c′', label: '(c′) intent routing, function classifier' },
];

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`bench verification failed: ${what}`);
}

async function run(mode: Mode, turns: Array<{ topic: Topic; text: string }>) {
  const topicOf = new Map(turns.map((t) => [t.text, t.topic]));
  const models = Object.fromEntries(SPECIALISTS.map((s) => [s, specialistModel(s, topicOf)])) as Record<Topic, ScriptedChatClient>;
  const specialists = SPECIALISTS.map((s) => new ChatCompletionAgent({ name: s, description: DESCRIPTIONS[s], instructions: `You are the ${s} specialist of Acme support.`, client: models[s] }));
  const extra: ScriptedChatClient[] = [];
  const answered: Array<{ agent: string; text: string }> = [];
  const queue = turns.slice(1).map((t) => t.text);
  const common = {
    agentResponseCallback: (r: { agent: string; message: ChatMessage }) => { if (r.message.content) answered.push({ agent: r.agent, text: r.message.content }); },
    humanResponse: () => queue.shift() ?? null,
  };
  let options: HandoffOptions<OrchestrationOutput, unknown>;
  if (mode === 'a' || mode === 'b') {
    const triageClient = triageModel(topicOf);
    extra.push(triageClient);
    const triage = new ChatCompletionAgent({ name: 'Triage', description: 'Routes customers to the right specialist.', instructions: 'Route the customer.', client: triageClient });
    const graph = OrchestrationHandoffs.startWith(triage).addMany(triage, specialists);
    if (mode === 'b') for (const s of specialists) graph.addMany(s, specialists.filter((o) => o !== s));
    options = { members: [triage, ...specialists], handoffs: graph, resumeWith: mode === 'a' ? 'start' : 'asker', maxHandoffs: 100, ...common };
  } else {
    const classifier = mode === 'c' ? classifierModel(topicOf) : keywordClassifier;
    if (classifier instanceof ScriptedChatClient) extra.push(classifier);
    options = { members: specialists, router: { classifier, outOfScopePhrase: PHRASE }, ...common };
  }
  const runtime = new InProcessRuntime();
  runtime.start();
  try {
    const output = await (await new HandoffOrchestration(options).invoke(turns[0].text, runtime)).get();
    check(output.reason === 'user_ended', `${mode}: ended with ${output.reason}`);
    check(answered.length === turns.length, `${mode}: ${answered.length} answers for ${turns.length} user turns`);
    turns.forEach((t, i) => check(answered[i].agent === t.topic && answered[i].text === answer(t.topic, t.text), `${mode}: turn ${i + 1} answered by ${answered[i].agent}: ${answered[i].text}`));
    const clients = [...Object.values(models), ...extra];
    const requests = clients.flatMap((c) => c.requests);
    return {
      calls: requests.length,
      input: requests.reduce((sum, r) => sum + estimateInputTokens(r), 0),
      answeredBy: answered.map((a) => a.agent[0]).join(''),
    };
  } finally {
    await runtime.close();
  }
}

for (const conversation of CONVERSATIONS) {
  const rows: string[][] = [];
  let base = { calls: 0, input: 0 };
  for (const { mode, label } of MODES) {
    const r = await run(mode, conversation.turns);
    if (mode === 'a') base = r;
    rows.push([
      label, String(r.calls), (r.calls / conversation.turns.length).toFixed(2), `${(100 * (1 - r.calls / base.calls)).toFixed(0)} %`,
      String(r.input), `${(100 * (1 - r.input / base.input)).toFixed(0)} %`, r.answeredBy,
    ]);
  }
  const header = ['routing', 'LLM calls', 'per user turn', 'fewer calls than (a)', 'input tokens', 'fewer tokens than (a)', 'answered by (verified)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n${conversation.name}; B = Billing, S = Security, P = Products`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 || i === 6 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}
