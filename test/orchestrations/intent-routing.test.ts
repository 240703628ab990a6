import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { classifyActor } from '../../src/orchestrations/intent-routing.js';
import {
  AbortedError, ChatClientError, ChatCompletionAgent, HandoffOrchestration, INTENT_ROUTER_NAME, IntentClassificationError, InvocationCancelledError, OrchestrationConfigError, OrchestrationHandoffs,
  type ChatClient, type ChatMessage, type InProcessRuntime, type IntentClassifierInput, type OrchestrationEvent, type OrchestrationOutput,
} from '../../src/index.js';
import { estimateInputTokens, type ScriptedChatClient, type ScriptedStep } from '../../src/testing/index.js';
import { answerUser, collect, scripted, startedRuntime } from './helpers.js';
import { edgeList, validateMermaid } from './mermaid-validator.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

type Event = OrchestrationEvent<OrchestrationOutput>;
const PHRASE = 'This is outside my area';

function specialist(name: string, client: ChatClient, description = `${name} questions`): ChatCompletionAgent {
  return new ChatCompletionAgent({ name, description, instructions: `You handle ${name.toLowerCase()} questions.`, client });
}

/** A model classifier that answers these names in turn. */
function modelClassifier(...names: string[]): ScriptedChatClient {
  return scripted(names.map((agent) => ({ text: JSON.stringify({ agent }) })));
}

const texts = (steps: string[]): ScriptedStep[] => steps.map((text) => ({ text }));
const userTexts = (request: { messages: ChatMessage[] }) => request.messages.filter((m) => m.role === 'user').map((m) => m.content);
const spokenBy = (events: Event[]) => events.flatMap((e) => (e.type === 'agent_response' ? [e.agent] : []));

/** Runs a conversation: the task, then `replies` answered in turn; returns the events and the output. */
async function converse(support: HandoffOrchestration, task: string, replies: Array<string | null>) {
  const result = await support.invoke(task, runtime);
  const eventsDone = collect(result.events) as Promise<Event[]>;
  const output = await answerUser(result, [...replies]);
  return { events: await eventsDone, output };
}

describe('HandoffOrchestration with router (routing by intent)', () => {
  it('classifies the first message once; billing then talks with the user directly (one model call per turn, no classifier call)', async () => {
    runtime = startedRuntime();
    const classifier = modelClassifier('Billing');
    const billing = scripted(texts(['Your invoice is $40.', 'It was charged on the 3rd.', 'Yes, card ending 42.', 'You are welcome.']));
    const security = scripted([]);
    const products = scripted([]);
    const support = new HandoffOrchestration({
      members: [specialist('Billing', billing), specialist('Security', security), specialist('Products', products)],
      router: { classifier },
    });
    const { events, output } = await converse(support, 'How much is my invoice?', ['When was it charged?', 'Which card?', 'Thanks', null]);

    expect(classifier.requests).toHaveLength(1);
    expect(billing.requests).toHaveLength(4);
    expect(security.requests).toHaveLength(0);
    expect(products.requests).toHaveLength(0);
    expect(spokenBy(events)).toEqual(['Billing', 'Billing', 'Billing', 'Billing']);
    expect(events.some((e) => e.type === 'handoff')).toBe(false);
    // The classifier saw the members' descriptions and the user's message, and answered by structured output.
    const asked = classifier.requests[0];
    expect(asked.responseFormat?.name).toBe('specialist');
    expect(asked.messages[0].content).toContain('- Billing: Billing questions');
    expect(asked.messages[0].content).toContain('- Products: Products questions');
    expect(asked.messages[1].content).toContain('[user] How much is my invoice?');
    // Specialists get no transfer tools, and a boundary line naming the phrase.
    expect(billing.requests[0].tools).toEqual([]);
    expect(billing.requests[0].messages[0]).toMatchObject({ role: 'system', content: `You handle billing questions.\n\nOnly handle requests within your own area. If a request is outside your area, reply exactly: ${PHRASE}` });
    expect(userTexts(billing.requests[3])).toEqual(['How much is my invoice?', 'When was it charged?', 'Which card?', 'Thanks']);
    expect(output).toMatchObject({ reason: 'user_ended', lastAgent: 'Billing' });
    expect(output.messages.map((m) => m.content)).toEqual(['You are welcome.']);
    classifier.assertComplete();
    billing.assertComplete();
  });

  it('an out-of-scope reply is withheld: one more classification, a classified handoff, and security answers the same question with the last turns only', async () => {
    runtime = startedRuntime();
    const classifier = modelClassifier('Billing', 'Security');
    const billing = scripted(texts(['Your invoice is $40.', 'Paid by card.', 'Sorry — THIS IS OUTSIDE MY AREA.']));
    const security = scripted(texts(['I have reset your password; check your email.', 'Two-factor is now on.']));
    const products = scripted([]);
    const support = new HandoffOrchestration({
      members: [specialist('Billing', billing), specialist('Security', security), specialist('Products', products)],
      router: { classifier, contextTurns: 1 },
    });
    const shown: string[] = [];
    const result = await support.invoke('How much is my invoice?', runtime);
    const eventsDone = collect(result.events) as Promise<Event[]>;
    const output = await answerUser(result, ['How did I pay?', 'I forgot my password', 'Turn on 2FA please', null], (request) => {
      shown.push((request as unknown as { message?: ChatMessage }).message?.content ?? '');
    });
    const events = await eventsDone;

    // The user never sees the out-of-scope reply: not in a request, not as an agent_response.
    expect(shown).toEqual(['Your invoice is $40.', 'Paid by card.', 'I have reset your password; check your email.', 'Two-factor is now on.']);
    expect(events.filter((e) => e.type === 'agent_response').map((e) => (e as { message: ChatMessage }).message.content).join()).not.toMatch(/outside my area/i);
    expect(spokenBy(events)).toEqual(['Billing', 'Billing', 'Security', 'Security']);
    expect(events.filter((e) => e.type === 'handoff')).toEqual([expect.objectContaining({ type: 'handoff', from: 'Billing', to: 'Security', reason: 'classified' })]);
    expect(classifier.requests).toHaveLength(2);
    // The second classification: the latest user message with the last contextTurns (1) turns.
    expect(classifier.requests[1].messages[1].content).toContain('[user] How did I pay?\n[Billing] Paid by card.\n[user] I forgot my password');
    expect(classifier.requests[1].messages[1].content).not.toContain('How much is my invoice?');
    expect(classifier.requests[1].messages[1].content).not.toMatch(/outside my area/i);
    // Security answers the same question, given the last turn and the question — not the whole transcript.
    const securitySaw = security.requests[0].messages;
    expect(securitySaw.map((m) => [m.role, m.content])).toEqual([
      ['system', `You handle security questions.\n\nOnly handle requests within your own area. If a request is outside your area, reply exactly: ${PHRASE}`],
      ['user', 'How did I pay?'],
      ['assistant', 'Paid by card.'],
      ['user', 'I forgot my password'],
    ]);
    // The next turn goes straight to security (no classifier call).
    expect(userTexts(security.requests[1]).at(-1)).toBe('Turn on 2FA please');
    expect(products.requests).toHaveLength(0);
    // Nor is the reply in the transcript; its tokens are still counted.
    expect(JSON.stringify(output.conversation)).not.toMatch(/outside my area/i);
    expect(output.usage.byAgent.Billing.inputTokens).toBe(billing.requests.reduce((sum, r) => sum + estimateInputTokens(r), 0));
    expect(output.lastAgent).toBe('Security');
    classifier.assertComplete();
    billing.assertComplete();
    security.assertComplete();
  });

  it('the model classifier\'s tokens are in output.usage, under "intent_router" and in the total', async () => {
    runtime = startedRuntime();
    const classifier = modelClassifier('Billing', 'Security');
    const billing = scripted(texts(['Your invoice is $40.', PHRASE]));
    const security = scripted(texts(['Reset link sent.']));
    const support = new HandoffOrchestration({
      members: [specialist('Billing', billing), specialist('Security', security)],
      router: { classifier },
    });
    const { output } = await converse(support, 'How much is my invoice?', ['I forgot my password', null]);
    const tokens = (client: ScriptedChatClient) => client.requests.reduce((sum, r) => sum + estimateInputTokens(r), 0);
    expect(classifier.requests).toHaveLength(2);
    expect(output.usage.byAgent[INTENT_ROUTER_NAME].inputTokens).toBe(tokens(classifier));
    expect(output.usage.total.inputTokens).toBe(tokens(classifier) + tokens(billing) + tokens(security));
    expect(INTENT_ROUTER_NAME).toBe('intent_router');
  });

  it('a function classifier spends no tokens: no "intent_router" entry in output.usage', async () => {
    runtime = startedRuntime();
    const billing = scripted(texts(['$40.']));
    const support = new HandoffOrchestration({ members: [specialist('Billing', billing)], router: { classifier: () => 'Billing' } });
    const { output } = await converse(support, 'invoice?', [null]);
    expect(Object.keys(output.usage.byAgent)).toEqual(['Billing']);
    expect(output.usage.total.inputTokens).toBe(estimateInputTokens(billing.requests[0]));
  });

  it('contextTurns defaults to 3: the new specialist gets three earlier turns and the question', async () => {
    runtime = startedRuntime();
    const billing = scripted(texts(['a1', 'a2', 'a3', 'a4', PHRASE.toLowerCase()]));
    const security = scripted(texts(['s1']));
    const order = ['Billing', 'Security'];
    const support = new HandoffOrchestration({
      members: [specialist('Billing', billing), specialist('Security', security)],
      router: { classifier: () => order.shift()! },
    });
    await converse(support, 'q1', ['q2', 'q3', 'q4', 'q5', null]);
    expect(userTexts(security.requests[0])).toEqual(['q2', 'q3', 'q4', 'q5']);
    expect(security.requests[0].messages.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual(['a2', 'a3', 'a4']);
  });

  it('adding a fourth specialist changes no other agent\'s request (instructions and tools byte-identical)', async () => {
    const requestsOf = async (withLegal: boolean) => {
      runtime = startedRuntime();
      const billing = scripted(texts(['b1', PHRASE]));
      const security = scripted(texts(['s1']));
      const products = scripted([]);
      const legal = scripted([]);
      const members = [specialist('Billing', billing), specialist('Security', security), specialist('Products', products)];
      if (withLegal) members.push(specialist('Legal', legal, 'Contracts and terms'));
      const order = ['Billing', 'Security'];
      const support = new HandoffOrchestration({ members, router: { classifier: () => order.shift()! } });
      await converse(support, 'invoice?', ['password?', null]);
      await runtime.close();
      const shape = (client: ScriptedChatClient) => client.requests.map((r) => JSON.stringify({ instructions: r.messages[0], tools: r.tools }));
      return { billing: shape(billing), security: shape(security) };
    };
    const three = await requestsOf(false);
    const four = await requestsOf(true);
    expect(three.billing).toHaveLength(2);
    expect(three.security).toHaveLength(1);
    expect(four).toEqual(three);
  });

  describe('classifiers', () => {
    it('a function classifier gets the messages and the candidates (names and descriptions); it may be async', async () => {
      runtime = startedRuntime();
      const seen: IntentClassifierInput[] = [];
      const security = scripted(texts(['Reset done.']));
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted([])), specialist('Security', security, 'Passwords, 2FA, account access')],
        router: { classifier: async (input) => { seen.push(input); return 'Security'; } },
      });
      const { output } = await converse(support, 'I forgot my password', [null]);
      expect(seen).toEqual([{
        messages: [expect.objectContaining({ role: 'user', content: 'I forgot my password' })],
        candidates: [{ name: 'Billing', description: 'Billing questions' }, { name: 'Security', description: 'Passwords, 2FA, account access' }],
        signal: expect.any(AbortSignal),
      }]);
      expect(output.lastAgent).toBe('Security');
    });

    it('a model naming a non-member is shown its mistake and retried; still wrong → the run fails with IntentClassificationError', async () => {
      runtime = startedRuntime();
      const classifier = modelClassifier('Legal', 'Legal', 'Legal');
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted([])), specialist('Security', scripted([]))],
        router: { classifier },
      });
      const result = await support.invoke('Can I sue you?', runtime);
      const error = await result.get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntentClassificationError);
      expect(error).toMatchObject({ code: 'intent_classification_failed', named: 'Legal', candidates: ['Billing', 'Security'] });
      expect((error as Error).message).toMatch(/"Legal".*members: Billing, Security/);
      expect(classifier.requests).toHaveLength(3);
      expect(classifier.requests[1].messages.at(-1)!.content).toContain('"Legal" is not one of the specialists; choose one of: Billing, Security.');
    });

    it('a model that corrects itself on the retry routes normally', async () => {
      runtime = startedRuntime();
      const classifier = modelClassifier('Legal', 'Security');
      const security = scripted(texts(['Done.']));
      const support = new HandoffOrchestration({ members: [specialist('Billing', scripted([])), specialist('Security', security)], router: { classifier, maxRetries: 1 } });
      const { output } = await converse(support, 'password reset', [null]);
      expect(output.lastAgent).toBe('Security');
      expect(classifier.requests).toHaveLength(2);
    });

    it('a function classifier naming a non-member fails the run at once with IntentClassificationError', async () => {
      runtime = startedRuntime();
      let calls = 0;
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted([])), specialist('Security', scripted([]))],
        router: { classifier: () => { calls++; return 'Legal'; } },
      });
      const error = await (await support.invoke('hello', runtime)).get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntentClassificationError);
      expect(error).toMatchObject({ named: 'Legal' });
      expect(calls).toBe(1);
    });

    it('a function classifier that throws fails the run with an IntentClassificationError naming the intent router, its error as cause', async () => {
      runtime = startedRuntime();
      const down = new Error('classifier down');
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted([]))],
        router: { classifier: () => { throw down; } },
      });
      const error = await (await support.invoke('hello', runtime)).get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntentClassificationError);
      expect(error).toMatchObject({ code: 'intent_classification_failed', named: undefined, candidates: ['Billing'], cause: down });
      expect((error as Error).message).toMatch(/^Intent router: the classifier failed: classifier down/);
      expect(error).not.toHaveProperty('status');
    });

    it('a model classifier\'s HTTP failure (429) fails the run with an IntentClassificationError carrying status and retryAfterMs, the ChatClientError as cause', async () => {
      runtime = startedRuntime();
      const classifier = scripted([{ error: { status: 429, message: 'Rate limited', retryAfterMs: 1500 } }]);
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted([])), specialist('Security', scripted([]))],
        router: { classifier },
      });
      const error = await (await support.invoke('hello', runtime)).get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntentClassificationError);
      expect(error).toMatchObject({ status: 429, retryAfterMs: 1500, named: undefined });
      expect((error as Error).cause).toBeInstanceOf(ChatClientError);
      expect((error as Error).message).toMatch(/^Intent router: the classifier failed: Rate limited/);
    });

    it('a function classifier gets the run\'s abort signal; cancelling the run aborts it (an abort is not wrapped)', async () => {
      runtime = startedRuntime();
      let started!: (signal: AbortSignal) => void;
      const called = new Promise<AbortSignal>((resolve) => { started = resolve; });
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted([]))],
        router: {
          classifier: ({ signal }) => new Promise<string>((_resolve, reject) => {
            started(signal);
            signal.addEventListener('abort', () => reject(new Error('aborted by signal')));
          }),
        },
      });
      const result = await support.invoke('hello', runtime);
      const signal = await called;
      expect(signal).toBeInstanceOf(AbortSignal);
      expect(signal.aborted).toBe(false);
      result.cancel();
      const error = await result.get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvocationCancelledError);
      expect(signal.aborted).toBe(true);
    });
  });

  describe('loop guard: the user is asked to rephrase', () => {
    it('when the classifier names the specialist that declined; the rephrased message goes to that specialist, with no classification', async () => {
      runtime = startedRuntime();
      const classifier = modelClassifier('Billing', 'Billing');
      const billing = scripted(texts([`${PHRASE}.`, 'Your invoice is $40.']));
      const support = new HandoffOrchestration({
        members: [specialist('Billing', billing), specialist('Security', scripted([]))],
        router: { classifier, rephraseMessage: 'Could you say that another way?' },
      });
      const shown: Array<[string, string | undefined]> = [];
      const result = await support.invoke('the thing with the stuff', runtime);
      const eventsDone = collect(result.events) as Promise<Event[]>;
      const output = await answerUser(result, ['How much is my invoice?', null], (request) => {
        shown.push([request.agent, (request as unknown as { message?: ChatMessage }).message?.content]);
      });
      const events = await eventsDone;
      expect(shown).toEqual([['Billing', 'Could you say that another way?'], ['Billing', 'Your invoice is $40.']]);
      expect(classifier.requests).toHaveLength(2);
      expect(events.some((e) => e.type === 'handoff')).toBe(false);
      // The request to rephrase is part of the conversation; billing's second turn sees it and the new message.
      expect(output.conversation.map((m) => m.content)).toEqual(['the thing with the stuff', 'Could you say that another way?', 'How much is my invoice?', 'Your invoice is $40.']);
      expect(userTexts(billing.requests[1]).at(-1)).toBe('How much is my invoice?');
      billing.assertComplete();
    });

    it('when the specialist chosen after an out-of-scope reply declines too (a second out-of-scope reply in a row)', async () => {
      runtime = startedRuntime();
      const classifier = modelClassifier('Billing', 'Security');
      const billing = scripted(texts(['Invoice is $40.', PHRASE]));
      const security = scripted(texts([`Hmm. ${PHRASE}`, 'Your password is reset.']));
      const support = new HandoffOrchestration({
        members: [specialist('Billing', billing), specialist('Security', security), specialist('Products', scripted([]))],
        router: { classifier },
      });
      const shown: string[] = [];
      const result = await support.invoke('invoice?', runtime);
      const eventsDone = collect(result.events) as Promise<Event[]>;
      const output = await answerUser(result, ['my cat is sad', 'reset my password', null], (request) => {
        shown.push((request as unknown as { message?: ChatMessage }).message?.content ?? '');
      });
      const events = await eventsDone;
      expect(shown).toEqual(['Invoice is $40.', "Sorry, I couldn't tell which of our specialists can help with that. Could you rephrase your request?", 'Your password is reset.']);
      expect(classifier.requests).toHaveLength(2);
      expect(events.filter((e) => e.type === 'handoff')).toHaveLength(1);
      // Security holds the conversation now: the rephrased message goes to it directly.
      expect(userTexts(security.requests[1]).at(-1)).toBe('reset my password');
      expect(output.lastAgent).toBe('Security');
      expect(JSON.stringify(output.conversation)).not.toMatch(/outside my area/i);
    });
  });

  describe('with the common options', () => {
    it('humanResponse answers the user turns', async () => {
      runtime = startedRuntime();
      const replies = ['And last month?', null];
      const billing = scripted(texts(['$40.', '$35.']));
      const support = new HandoffOrchestration({
        members: [specialist('Billing', billing), specialist('Security', scripted([]))],
        router: { classifier: () => 'Billing' },
        humanResponse: () => replies.shift(),
      });
      const output = await (await support.invoke('invoice?', runtime)).get();
      expect(output.messages.map((m) => m.content)).toEqual(['$35.']);
      expect(billing.requests).toHaveLength(2);
    });

    it('terminationCondition is checked after replies and user messages (not after a withheld reply)', async () => {
      runtime = startedRuntime();
      const conditions: number[] = [];
      const billing = scripted(texts([PHRASE]));
      const security = scripted(texts(['Reset.']));
      const order = ['Billing', 'Security'];
      const support = new HandoffOrchestration({
        members: [specialist('Billing', billing), specialist('Security', security)],
        router: { classifier: () => order.shift()! },
        terminationCondition: (conversation) => {
          conditions.push(conversation.length);
          return conversation.some((m) => m.role === 'user' && m.content === 'bye');
        },
      });
      const { output } = await converse(support, 'password?', ['bye']);
      expect(output.reason).toBe('terminated');
      expect(conditions).toEqual([2, 3]);
    });

    it('continueFrom: the specialist that answered last gets the next message directly (no classification)', async () => {
      runtime = startedRuntime();
      const classifier = modelClassifier('Security');
      const security = scripted(texts(['Reset.', 'Two-factor is on.']));
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted([])), specialist('Security', security)],
        router: { classifier },
        humanResponse: () => null,
      });
      const first = await (await support.invoke('password?', runtime)).get();
      const next = await (await support.invoke('and 2FA?', runtime, { continueFrom: first })).get();
      expect(classifier.requests).toHaveLength(1);
      expect(next.lastAgent).toBe('Security');
      expect(userTexts(security.requests[1])).toEqual(['password?', 'and 2FA?']);
      expect(next.conversation.map((m) => m.content)).toEqual(['password?', 'Reset.', 'and 2FA?', 'Two-factor is on.']);
    });

    it('maxHandoffs bounds classified handoffs (reason max_handoffs)', async () => {
      runtime = startedRuntime();
      const order = ['Billing', 'Security'];
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted(texts([PHRASE]))), specialist('Security', scripted([]))],
        router: { classifier: () => order.shift()! },
        maxHandoffs: 0,
        humanResponse: () => null,
      });
      const output = await (await support.invoke('password?', runtime)).get();
      expect(output.reason).toBe('max_handoffs');
    });

    it('max_handoffs after an answered turn: no classifier call, and output.messages is empty (nobody answered the latest message), not the previous turn\'s answer', async () => {
      runtime = startedRuntime();
      const calls: string[] = [];
      const billing = scripted(texts(['Your invoice is $40.', PHRASE]));
      const support = new HandoffOrchestration({
        members: [specialist('Billing', billing), specialist('Security', scripted([]))],
        router: { classifier: ({ messages }) => { calls.push(messages.at(-1)!.content); return 'Billing'; } },
        maxHandoffs: 0,
      });
      const { output } = await converse(support, 'invoice?', ['I forgot my password']);
      expect(output.reason).toBe('max_handoffs');
      expect(calls).toEqual(['invoice?']);
      expect(output.messages).toEqual([]);
      expect(output.conversation.map((m) => m.content)).toEqual(['invoice?', 'Your invoice is $40.', 'I forgot my password']);
      expect(output.lastAgent).toBe('Billing');
      billing.assertComplete();
    });

    it('a reviewed specialist\'s out-of-scope reply is not sent for review', async () => {
      runtime = startedRuntime();
      const order = ['Billing', 'Security'];
      const kinds: string[] = [];
      const support = new HandoffOrchestration({
        members: [specialist('Billing', scripted(texts([PHRASE]))), specialist('Security', scripted(texts(['Reset.'])))],
        router: { classifier: () => order.shift()! },
        humanReview: true,
        humanResponse: (request) => { kinds.push(`${request.kind}:${request.agent}`); return null; },
      });
      const output = await (await support.invoke('password?', runtime)).get();
      expect(kinds).toEqual(['review:Security', 'input:Security']);
      expect(output.lastAgent).toBe('Security');
    });
  });

  it('concurrent conversations on one orchestration keep their own specialist', async () => {
    runtime = startedRuntime();
    const billing = scripted((request) => ({ text: `billing: ${userTexts(request).at(-1)}` }));
    const security = scripted((request) => ({ text: `security: ${userTexts(request).at(-1)}` }));
    const support = new HandoffOrchestration({
      members: [specialist('Billing', billing), specialist('Security', security)],
      router: { classifier: ({ messages }) => (/password/.test(messages.at(-1)!.content) ? 'Security' : 'Billing') },
    });
    const [one, two] = await Promise.all([converse(support, 'invoice?', ['and the total?', null]), converse(support, 'password?', ['and 2FA?', null])]);
    expect(one.output.messages[0].content).toBe('billing: and the total?');
    expect(two.output.messages[0].content).toBe('security: and 2FA?');
  });

  it('streaming: the out-of-scope reply\'s deltas are retracted (agent_response_abandoned, OutOfScope) before the classified handoff; no agent_response for it', async () => {
    runtime = startedRuntime();
    const order = ['Billing', 'Security'];
    const deltas: string[] = [];
    const support = new HandoffOrchestration({
      members: [specialist('Billing', scripted(texts([PHRASE]))), specialist('Security', scripted(texts(['Reset.'])))],
      router: { classifier: () => order.shift()! },
      streamingAgentResponseCallback: (d) => deltas.push(`${d.agent}:${d.delta}`),
    });
    const { events } = await converse(support, 'password?', [null]);
    expect(deltas.join('')).toMatch(/^Billing:.*Security:/);
    const kinds = ['agent_response_delta', 'agent_response_abandoned', 'handoff', 'agent_response'];
    const seen = events.filter((e) => kinds.includes(e.type)).map((e) => `${e.type}:${(e as { agent?: string }).agent ?? (e as { to?: string }).to}`);
    const billingDeltas = seen.filter((s) => s === 'agent_response_delta:Billing').length;
    expect(billingDeltas).toBeGreaterThan(0);
    expect(seen.slice(billingDeltas, billingDeltas + 2)).toEqual(['agent_response_abandoned:Billing', 'handoff:Security']);
    expect(seen.slice(0, billingDeltas).every((s) => s === 'agent_response_delta:Billing')).toBe(true);
    expect(seen.at(-1)).toBe('agent_response:Security');
    expect(seen.filter((s) => s.startsWith('agent_response_abandoned'))).toHaveLength(1);
    const abandoned = events.find((e) => e.type === 'agent_response_abandoned') as Extract<Event, { type: 'agent_response_abandoned' }>;
    expect(abandoned.error).toMatchObject({ name: 'OutOfScope', message: expect.stringMatching(/another agent answers/) });
  });

  it('without streaming, an out-of-scope reply reports no agent_response_abandoned (nothing was shown)', async () => {
    runtime = startedRuntime();
    const order = ['Billing', 'Security'];
    const support = new HandoffOrchestration({
      members: [specialist('Billing', scripted(texts([PHRASE]))), specialist('Security', scripted(texts(['Reset.'])))],
      router: { classifier: () => order.shift()! },
    });
    const { events } = await converse(support, 'password?', [null]);
    expect(events.some((e) => e.type === 'agent_response_abandoned')).toBe(false);
    expect(events.some((e) => e.type === 'handoff')).toBe(true);
  });

  describe('construction', () => {
    const members = () => [specialist('Billing', scripted([])), specialist('Security', scripted([]))];
    it.each([
      ['resumeWith', { resumeWith: 'start' as const }],
      ['handoffs', { handoffs: OrchestrationHandoffs.startWith('Billing').add('Billing', 'Security') }],
      ['handoffInstructions', { handoffInstructions: false as const }],
      ['autonomous', { autonomous: true }],
    ])('router with %s is a construction error', (option, extra) => {
      expect(() => new HandoffOrchestration({ members: members(), router: { classifier: () => 'Billing' }, ...extra })).toThrow(OrchestrationConfigError);
      expect(() => new HandoffOrchestration({ members: members(), router: { classifier: () => 'Billing' }, ...extra })).toThrow(`"${option}" does not apply with "router"`);
    });

    it('rejects a bad classifier, phrase or contextTurns, and a model classifier over members without descriptions', () => {
      const make = (router: object, ms = members()) => () => new HandoffOrchestration({ members: ms, router: router as never });
      expect(make({ classifier: 'gpt' })).toThrow(/router.classifier/);
      expect(make({ classifier: () => 'Billing', outOfScopePhrase: ' ' })).toThrow(/outOfScopePhrase/);
      expect(make({ classifier: () => 'Billing', contextTurns: -1 })).toThrow(/contextTurns/);
      expect(make({ classifier: () => 'Billing', contextTurns: 1.5 })).toThrow(/contextTurns/);
      const bare = new ChatCompletionAgent({ name: 'Bare', client: scripted([]) });
      expect(make({ classifier: scripted([]) }, [bare])).toThrow(/"Bare" has no description/);
      expect(make({ classifier: () => 'Bare' }, [bare])).not.toThrow();
      expect(make({ classifier: () => 'Billing', contextTurns: 0 })).not.toThrow();
      const named = new ChatCompletionAgent({ name: INTENT_ROUTER_NAME, description: 'x', client: scripted([]) });
      expect(make({ classifier: () => 'Billing' }, [...members(), named])).toThrow(OrchestrationConfigError);
      expect(make({ classifier: () => 'Billing' }, [...members(), named])).toThrow(/"intent_router".*the intent router/);
    });
  });
});

describe('HandoffOrchestration with router: toMermaid()', () => {
  it('draws the intent router, the classifier it asks, and no edges between members', () => {
    const client = scripted([]);
    const support = new HandoffOrchestration({
      members: [specialist('Billing', client, 'Invoices.'), specialist('Security', client, 'Passwords.')],
      router: { classifier: client },
    });
    const chart = validateMermaid(support.toMermaid());
    expect(chart.problems).toEqual([]);
    expect(chart.nodes.get('manager')).toBe('intent router');
    expect(chart.nodes.get('decision_classifier')).toBe('classifier (model)<br/>first message, out-of-scope replies');
    const edges = edgeList(chart);
    expect(edges).toContain('manager -.-> decision_classifier: classify');
    expect(edges).toContain('manager --> members: turn request (+ last turns on a handoff)');
    expect(edges).toContain('manager -.-> boundary: handoff events (classified)');
    expect(edges.some((e) => /^agent_\w+ --> agent_/.test(e))).toBe(false);
    expect(edges.find((e) => e.startsWith('members --> manager'))).toMatch(/This is outside my area/);
    const fn = new HandoffOrchestration({ members: [specialist('Billing', client)], router: { classifier: () => 'Billing' } });
    expect(validateMermaid(fn.toMermaid()).nodes.get('decision_classifier')).toMatch(/^classifier \(function\)/);
    expect(support.toMermaid()).toBe(support.toMermaid());
  });
});

describe('the classify actor (classifyActor)', () => {
  const input = { messages: [{ id: 'u1', role: 'user' as const, content: 'hi' }], candidates: [{ name: 'Billing', description: 'b' }] };
  const run = (classifier: Parameters<typeof classifyActor>[0]['classifier']) => toPromise(createActor(classifyActor({ classifier }), { input }).start());

  it('answers { name } for a function, { name, usage } for a model', async () => {
    await expect(run(() => 'Billing')).resolves.toEqual({ name: 'Billing' });
    const model = scripted([{ text: JSON.stringify({ agent: 'Billing' }) }]);
    const answer = await run(model);
    expect(answer).toEqual({ name: 'Billing', usage: expect.objectContaining({ inputTokens: estimateInputTokens(model.requests[0]) }) });
  });

  it('an abort and an IntentClassificationError pass unchanged; any other error is wrapped', async () => {
    const aborted = new AbortedError('The classifier call was aborted.');
    await expect(run(() => { throw aborted; })).rejects.toBe(aborted);
    const typed = new IntentClassificationError('Legal', ['Billing']);
    await expect(run(() => { throw typed; })).rejects.toBe(typed);
    const plain = new TypeError('boom');
    const wrapped = await run(() => { throw plain; }).catch((e: unknown) => e);
    expect(wrapped).toBeInstanceOf(IntentClassificationError);
    expect(wrapped).toMatchObject({ cause: plain, message: expect.stringMatching(/^Intent router: the classifier failed: boom/) });
  });
});
