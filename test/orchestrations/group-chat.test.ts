import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ChatCompletionAgent, GroupChatDecisionError, GroupChatOrchestration, InProcessRuntime, InvocationCancelledError, ModelGroupChatManager, OrchestrationConfigError,
  OrchestrationTimeoutError, RoundRobinGroupChatManager, UnknownSpeakerError, tool,
  type ChatMessage, type GroupChatManager, type GroupChatState, type OrchestrationEvent,
} from '../../src/index.js';
import { ScriptedChatClient } from '../../src/testing/index.js';
import { edgeList, validateMermaid } from './mermaid-validator.js';
import { agent, collect, groupChatDecision, nextHumanRequest, runActors, scripted, startedRuntime } from './helpers.js';

let runtime: InProcessRuntime;
afterEach(async () => runtime?.close());

/** A member whose model answers `<name> <n>` on its n-th call. */
function echo(name: string) {
  const client = scripted((_request, i) => ({ text: `${name} ${i + 1}` }));
  return { client, member: agent(name, client) };
}
const turns = (events: Array<OrchestrationEvent<unknown>>) => events.flatMap((e) => (e.type === 'group_chat_turn' ? [`${e.round}:${e.speaker}`] : []));
const contents = (messages: ChatMessage[]) => messages.map((m) => m.content);
const decision = groupChatDecision;

describe('GroupChatOrchestration: round-robin (the default manager)', () => {
  it('3 members, maxRounds 5: A B C A B, reason max_rounds; every second request has every earlier reply in order', async () => {
    runtime = startedRuntime();
    const [a, b, c] = ['A', 'B', 'C'].map(echo);
    const chat = new GroupChatOrchestration({ members: [a.member, b.member, c.member], maxRounds: 5 });
    const result = await chat.invoke('Write a product description', runtime);
    const events = await collect(result.events);
    const output = await result.get();
    expect(turns(events)).toEqual(['1:A', '2:B', '3:C', '4:A', '5:B']);
    // Each turn event comes before that member's response.
    const order = events.flatMap((e) => (e.type === 'group_chat_turn' ? [`turn ${e.speaker}`] : e.type === 'agent_response' ? [`said ${e.agent}`] : []));
    expect(order).toEqual(['turn A', 'said A', 'turn B', 'said B', 'turn C', 'said C', 'turn A', 'said A', 'turn B', 'said B']);
    expect(output.reason).toBe('max_rounds');
    expect(output.lastAgent).toBe('B');
    expect(contents(output.messages)).toEqual(['B 2']);
    expect(contents(output.conversation)).toEqual(['Write a product description', 'A 1', 'B 1', 'C 1', 'A 2', 'B 2']);
    expect(contents(a.client.requests[1].messages.filter((m) => m.role !== 'system'))).toEqual(['Write a product description', 'A 1', 'B 1', 'C 1']);
    expect(contents(b.client.requests[1].messages.filter((m) => m.role !== 'system'))).toEqual(['Write a product description', 'A 1', 'B 1', 'C 1', 'A 2']);
    expect(c.client.requests).toHaveLength(1);
    expect(contents(c.client.requests[0].messages)).toEqual(['Write a product description', 'A 1', 'B 1']);
    expect(Object.keys(output.usage.byAgent).sort()).toEqual(['A', 'B', 'C']);
    await runtime.stopWhenIdle();
    expect(runtime.stats).toMatchObject({ queued: 0, busy: 0 });
    expect(runActors(runtime)).toBe(0);
  });

  it('maxRounds defaults to 10 agent turns', async () => {
    runtime = startedRuntime();
    const chat = new GroupChatOrchestration({ members: [echo('A').member, echo('B').member] });
    const result = await chat.invoke('go', runtime);
    const events = await collect(result.events);
    expect(turns(events)).toHaveLength(10);
    expect((await result.get()).reason).toBe('max_rounds');
  });

  it('two concurrent invocations of one orchestration never share a round or a position; a later one starts at round 1', async () => {
    runtime = startedRuntime();
    const chat = new GroupChatOrchestration({ members: [echo('A').member, echo('B').member, echo('C').member], maxRounds: 4 });
    const [one, two] = await Promise.all([chat.invoke('first', runtime), chat.invoke('second', runtime)]);
    const [e1, e2] = await Promise.all([collect(one.events), collect(two.events)]);
    expect(turns(e1)).toEqual(['1:A', '2:B', '3:C', '4:A']);
    expect(turns(e2)).toEqual(['1:A', '2:B', '3:C', '4:A']);
    expect(contents((await one.get()).conversation)[0]).toBe('first');
    expect(contents((await two.get()).conversation)[0]).toBe('second');
    const again = await chat.invoke('third', runtime);
    expect(turns(await collect(again.events))).toEqual(['1:A', '2:B', '3:C', '4:A']);
  });

  it('continueFrom: the transcript carries over, the round count starts afresh, and round-robin goes on after lastAgent', async () => {
    runtime = startedRuntime();
    const [a, b, c] = ['A', 'B', 'C'].map(echo);
    const chat = new GroupChatOrchestration({ members: [a.member, b.member, c.member], maxRounds: 2 });
    const first = await (await chat.invoke('draft it', runtime)).get();
    expect(first.lastAgent).toBe('B');
    const next = await chat.invoke('now shorter', runtime, { continueFrom: first });
    expect(turns(await collect(next.events))).toEqual(['1:C', '2:A']);
    const output = await next.get();
    expect(contents(output.conversation)).toEqual(['draft it', 'A 1', 'B 1', 'now shorter', 'C 1', 'A 2']);
    expect(contents(c.client.requests[0].messages)).toEqual(['draft it', 'A 1', 'B 1', 'now shorter']);
  });

  it('RoundRobinGroupChatManager picks from the state alone', () => {
    const rr = new RoundRobinGroupChatManager();
    const state = (lastSpeaker?: string): GroupChatState => ({ round: 0, conversation: [], members: [{ name: 'A' }, { name: 'B' }], ...(lastSpeaker ? { lastSpeaker } : {}) });
    expect([rr.selectNextSpeaker(state()), rr.selectNextSpeaker(state('A')), rr.selectNextSpeaker(state('B'))]).toEqual(['A', 'B', 'A']);
  });
});

describe('GroupChatOrchestration: selectors and managers', () => {
  it('a selector that picks by content', async () => {
    runtime = startedRuntime();
    const writer = agent('Writer', scripted([{ text: 'DRAFT: a kettle' }, { text: 'DRAFT: a fast kettle' }]));
    const reviewer = agent('Reviewer', scripted([{ text: 'Needs speed.' }, { text: 'APPROVED' }]));
    const seen: number[] = [];
    const chat = new GroupChatOrchestration({
      members: [writer, reviewer],
      manager: ({ round, conversation }) => {
        seen.push(round);
        return conversation.at(-1)!.content.startsWith('DRAFT') ? 'Reviewer' : 'Writer';
      },
      terminationCondition: (conversation) => conversation.at(-1)?.content === 'APPROVED',
    });
    const result = await chat.invoke('Describe the kettle', runtime);
    expect(turns(await collect(result.events))).toEqual(['1:Writer', '2:Reviewer', '3:Writer', '4:Reviewer']);
    const output = await result.get();
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(output.reason).toBe('terminated');
    expect(contents(output.messages)).toEqual(['APPROVED']);
  });

  it('a selector naming a non-member fails the run with an UnknownSpeakerError naming it; nothing is left on the runtime', async () => {
    runtime = startedRuntime();
    const a = echo('A');
    const chat = new GroupChatOrchestration({ members: [a.member, echo('B').member], manager: ({ round }) => (round === 0 ? 'A' : 'Zed') });
    const result = await chat.invoke('go', runtime);
    const error = await result.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownSpeakerError);
    expect(error).toMatchObject({ code: 'unknown_speaker', speaker: 'Zed', members: ['A', 'B'] });
    expect(String((error as Error).message)).toMatch(/"Zed".*members: A, B/);
    expect(a.client.requests).toHaveLength(1);
    await runtime.stopWhenIdle();
    expect(runtime.stats).toMatchObject({ queued: 0, busy: 0 });
    expect(runActors(runtime)).toBe(0);
  });

  it("terminationCondition ends with 'terminated' before shouldTerminate or the next speaker is asked", async () => {
    runtime = startedRuntime();
    const calls: string[] = [];
    const manager: GroupChatManager = {
      selectNextSpeaker: () => { calls.push('select'); return 'A'; },
      shouldTerminate: () => { calls.push('shouldTerminate'); return false; },
    };
    const chat = new GroupChatOrchestration({ members: [echo('A').member], manager, terminationCondition: (c) => c.at(-1)?.content === 'A 2' });
    const output = await (await chat.invoke('go', runtime)).get();
    expect(output.reason).toBe('terminated');
    expect(calls).toEqual(['select', 'shouldTerminate', 'select']);
  });

  it("shouldTerminate ends with 'completed' (before maxRounds and the next speaker); filterResults is the answer; decisions get a signal", async () => {
    runtime = startedRuntime();
    const calls: string[] = [];
    const signals: AbortSignal[] = [];
    const manager: GroupChatManager = {
      selectNextSpeaker: async ({ round }, { signal }) => { signals.push(signal); calls.push('select'); return { speaker: round % 2 === 0 ? 'A' : 'B', reason: `round ${round + 1}` }; },
      shouldTerminate: async ({ round }) => { calls.push('shouldTerminate'); return { terminate: round === 2, reason: 'enough' }; },
      filterResults: ({ conversation }) => conversation.filter((m) => m.name === 'A'),
    };
    const chat = new GroupChatOrchestration({ members: [echo('A').member, echo('B').member], manager, maxRounds: 2 });
    const result = await chat.invoke('go', runtime);
    const events = await collect(result.events);
    const output = await result.get();
    expect(output.reason).toBe('completed');
    expect(calls).toEqual(['select', 'shouldTerminate', 'select', 'shouldTerminate']);
    expect(events.filter((e) => e.type === 'group_chat_turn').map((e) => (e as { reason?: string }).reason)).toEqual(['round 1', 'round 2']);
    expect(contents(output.messages)).toEqual(['A 1']);
    expect(signals).toHaveLength(calls.filter((c) => c === 'select').length); // every selection got a signal
    expect(signals.every((s) => s instanceof AbortSignal && !s.aborted)).toBe(true);
  });

  it('decisions get a deep copy: a selector, shouldTerminate and filterResults that change the messages change nothing else', async () => {
    runtime = startedRuntime();
    const [a, b] = ['A', 'B'].map(echo);
    const shout = (state: GroupChatState) => { for (const m of state.conversation) { m.content = m.content.toUpperCase(); m.name = 'X'; } };
    const seenBySelector: string[][] = [];
    let terminationConversation: string[] = [];
    const manager: GroupChatManager = {
      selectNextSpeaker: (state) => { seenBySelector.push(contents(state.conversation)); shout(state); state.conversation.push({ id: 'x', role: 'user', content: 'INJECTED' }); return state.round % 2 === 0 ? 'A' : 'B'; },
      shouldTerminate: (state) => { shout(state); return false; },
      filterResults: (state) => { shout(state); terminationConversation = contents(state.conversation); return state.conversation.slice(-1); },
    };
    const chat = new GroupChatOrchestration({ members: [a.member, b.member], manager, maxRounds: 3, terminationCondition: (conversation) => { for (const m of conversation) m.content = m.content.toUpperCase(); return false; } });
    const output = await (await chat.invoke('go', runtime)).get();
    expect(contents(output.conversation)).toEqual(['go', 'A 1', 'B 1', 'A 2']);
    expect(output.conversation.map((m) => m.name ?? null)).toEqual([null, 'A', 'B', 'A']);
    expect(seenBySelector).toEqual([['go'], ['go', 'A 1'], ['go', 'A 1', 'B 1']]);
    expect(contents(a.client.requests[1].messages.filter((m) => m.role !== 'system'))).toEqual(['go', 'A 1', 'B 1']);
    expect(contents(b.client.requests[0].messages.filter((m) => m.role !== 'system'))).toEqual(['go', 'A 1']);
    // What filterResults returned is its (changed) copy: that is the answer it chose.
    expect(contents(output.messages)).toEqual(['A 2'.toUpperCase()]);
    expect(terminationConversation).toEqual(['GO', 'A 1', 'B 1', 'A 2']);
  });

  it("shouldTerminate's message: a string or a ChatMessage (id and name filled in when missing); anything else fails the run with a GroupChatDecisionError naming shouldTerminate and the manager", async () => {
    runtime = startedRuntime();
    const finishWith = (message: unknown) => new GroupChatOrchestration({
      members: [echo('A').member],
      manager: { name: 'Judge', selectNextSpeaker: () => 'A', shouldTerminate: () => ({ terminate: true, message: message as never }) },
    });
    for (const bad of [null, 42, { role: 'assistant' }, { role: 'robot', content: 'x' }]) {
      const error = await (await finishWith(bad).invoke('go', runtime)).get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GroupChatDecisionError);
      expect(error).toMatchObject({ code: 'invalid_decision', manager: 'Judge', decision: 'shouldTerminate' });
      expect((error as Error).message).toMatch(/^Group chat manager "Judge": shouldTerminate\(\) returned a final message that is /);
    }
    const bare = await (await finishWith({ role: 'assistant', content: 'Done.' }).invoke('go', runtime)).get();
    expect(bare.reason).toBe('completed');
    expect(bare.messages).toEqual([{ id: expect.stringMatching(/:Judge:final$/), role: 'assistant', name: 'Judge', content: 'Done.' }]);
    expect(bare.conversation.at(-1)).toEqual(bare.messages[0]);
    const full = await (await finishWith({ id: 'm1', role: 'assistant', name: 'Chair', content: 'Done.' }).invoke('go', runtime)).get();
    expect(full.messages).toEqual([{ id: 'm1', role: 'assistant', name: 'Chair', content: 'Done.' }]);
  });

  it('filterResults: each element must be a ChatMessage (a missing id is filled in); otherwise a GroupChatDecisionError names filterResults and the manager', async () => {
    runtime = startedRuntime();
    const filtered = (result: unknown) => new GroupChatOrchestration({
      members: [echo('A').member], maxRounds: 1,
      manager: { name: 'Judge', selectNextSpeaker: () => 'A', filterResults: () => result as never },
    });
    for (const [bad, what] of [[[null], /index 0/], [[{ id: 'a', role: 'assistant', content: 'ok' }, { role: 'assistant' }], /index 1.*content/], ['nope', /an array/]] as const) {
      const error = await (await filtered(bad).invoke('go', runtime)).get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GroupChatDecisionError);
      expect(error).toMatchObject({ code: 'invalid_decision', manager: 'Judge', decision: 'filterResults' });
      expect((error as Error).message).toMatch(what);
    }
    const output = await (await filtered([{ role: 'assistant', content: 'summary' }]).invoke('go', runtime)).get();
    expect(output.messages).toEqual([{ id: expect.stringMatching(/:Judge:result:0$/), role: 'assistant', content: 'summary' }]);
  });

  it("a selector returning undefined (or nothing usable) 'returned no name' rather than naming \"undefined\"", async () => {
    runtime = startedRuntime();
    for (const selection of [undefined, null, '', { reason: 'no idea' }]) {
      const chat = new GroupChatOrchestration({ members: [echo('A').member], manager: { selectNextSpeaker: () => selection as never } });
      const error = await (await chat.invoke('go', runtime)).get().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownSpeakerError);
      expect((error as Error).message).toBe('The group chat manager returned no name for the next speaker (members: A).');
    }
  });

  it('a manager that throws fails the run with its error', async () => {
    runtime = startedRuntime();
    const chat = new GroupChatOrchestration({ members: [echo('A').member], manager: { selectNextSpeaker: () => 'A', shouldTerminate: () => { throw new Error('judge broke'); } } });
    await expect((await chat.invoke('go', runtime)).get()).rejects.toThrow('judge broke');
  });

  it('outputTransform maps the output as everywhere', async () => {
    runtime = startedRuntime();
    const chat = new GroupChatOrchestration({ members: [echo('A').member], maxRounds: 1, outputTransform: (o) => `${o.reason}: ${o.messages[0].content}` });
    expect(await (await chat.invoke('go', runtime)).get()).toBe('max_rounds: A 1');
  });
});

describe('GroupChatOrchestration: ModelGroupChatManager', () => {
  it('picks, finishes with completed and its final message; its usage counts under its name', async () => {
    runtime = startedRuntime();
    const [writer, editor] = [echo('Writer'), echo('Editor')];
    const model = new ScriptedChatClient([
      decision({ nextSpeaker: 'Writer', reason: 'a draft first' }),
      decision({ nextSpeaker: 'Editor', reason: 'needs an edit' }),
      decision({ terminate: true, reason: 'good', finalMessage: 'Editor 1, final.' }),
    ]);
    const chat = new GroupChatOrchestration({ members: [writer.member, editor.member], manager: new ModelGroupChatManager({ client: model }) });
    const result = await chat.invoke('Describe the kettle', runtime);
    const events = await collect(result.events);
    const output = await result.get();
    model.assertComplete();
    expect(events.filter((e) => e.type === 'group_chat_turn')).toMatchObject([
      { round: 1, speaker: 'Writer', reason: 'a draft first' },
      { round: 2, speaker: 'Editor', reason: 'needs an edit' },
    ]);
    expect(output.reason).toBe('completed');
    expect(output.messages).toMatchObject([{ role: 'assistant', name: 'GroupChatManager', content: 'Editor 1, final.' }]);
    expect(output.conversation.at(-1)).toEqual(output.messages[0]);
    expect(model.requests).toHaveLength(3); // one decision per round: first speaker, then finish-or-next
    expect(output.usage.byAgent.GroupChatManager.totalTokens).toBeGreaterThan(0);
    const sum = (k: 'totalTokens') => Object.values(output.usage.byAgent).reduce((n, u) => n + u[k], 0);
    expect(output.usage.total.totalTokens).toBe(sum('totalTokens'));
    // The model is shown the members' descriptions and the conversation, and asked for structured output.
    const last = model.requests[2];
    expect(last.responseFormat?.name).toBe('group_chat_decision');
    expect(last.messages[0].content).toContain('- Writer: Writer agent');
    expect(last.messages[1].content).toContain('[Writer]: Writer 1');
    expect(last.messages[1].content).toContain('[Editor]: Editor 1');
  });

  it('a name that is not a member is shown to the model and retried, then accepted', async () => {
    runtime = startedRuntime();
    const model = new ScriptedChatClient([
      decision({ nextSpeaker: 'Wrter' }),
      decision({ nextSpeaker: 'Writer' }),
      decision({ terminate: true }),
    ]);
    const writer = echo('Writer');
    const chat = new GroupChatOrchestration({ members: [writer.member, echo('Editor').member], manager: new ModelGroupChatManager({ client: model, name: 'Chair' }) });
    const output = await (await chat.invoke('go', runtime)).get();
    expect(model.requests[1].messages.at(-1)!.content).toMatch(/"Wrter" is not a member; name exactly one of: Writer, Editor/);
    expect(output.lastAgent).toBe('Writer');
    expect(output.reason).toBe('completed');
    // No final message: the answer is the last reply.
    expect(contents(output.messages)).toEqual(['Writer 1']);
    expect(Object.keys(output.usage.byAgent).sort()).toEqual(['Chair', 'Writer']);
  });

  it('a bad name past maxRetries fails the run with an UnknownSpeakerError naming it', async () => {
    runtime = startedRuntime();
    const model = new ScriptedChatClient([decision({ nextSpeaker: 'Nobody' }), decision({ nextSpeaker: 'Nobody' })]);
    const writer = echo('Writer');
    const chat = new GroupChatOrchestration({ members: [writer.member], manager: new ModelGroupChatManager({ client: model, maxRetries: 1 }) });
    const error = await (await chat.invoke('go', runtime)).get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownSpeakerError);
    expect(error).toMatchObject({ speaker: 'Nobody', members: ['Writer'] });
    expect((error as Error).message).toMatch(/ModelGroupChatManager "GroupChatManager" named "Nobody" as the next speaker after 2 attempt\(s\)/);
    expect(writer.client.requests).toHaveLength(0);
    model.assertComplete();
  });

  it("cancel() while the manager's model call is pending aborts it", async () => {
    runtime = startedRuntime();
    let started!: () => void;
    const calling = new Promise<void>((resolve) => { started = resolve; });
    const model = new ScriptedChatClient(() => { started(); return { delayMs: 600_000, text: '{}' }; });
    const chat = new GroupChatOrchestration({ members: [echo('Writer').member], manager: new ModelGroupChatManager({ client: model }) });
    const result = await chat.invoke('go', runtime);
    await calling;
    result.cancel();
    await expect(result.get()).rejects.toBeInstanceOf(InvocationCancelledError);
    await runtime.stopWhenIdle();
    expect(model.requests[0].aborted).toBe(true);
    expect(runActors(runtime)).toBe(0);
  });
});

describe('GroupChatOrchestration: people in the chat', () => {
  const askAfterFirstTurn: GroupChatManager = {
    selectNextSpeaker: ({ round }) => (round % 2 === 0 ? 'A' : 'B'),
    shouldRequestUserInput: ({ round }) => round === 1 || round === 2,
  };

  it("the user's words reach every member's next request; '' continues; the request names the last speaker", async () => {
    runtime = startedRuntime();
    const [a, b] = [echo('A'), echo('B')];
    const chat = new GroupChatOrchestration({ members: [a.member, b.member], manager: askAfterFirstTurn, maxRounds: 3 });
    const result = await chat.invoke('go', runtime);
    const asked: Array<{ agent: string; message?: string; invocationId: string }> = [];
    for await (const event of result.events) {
      if (event.type !== 'human_input_requested') continue;
      asked.push({ agent: event.agent, message: event.message?.content, invocationId: event.invocationId });
      result.respond(event.requestId, asked.length === 1 ? 'Mention the price.' : '');
    }
    const output = await result.get();
    expect(asked).toEqual([
      { agent: 'A', message: 'A 1', invocationId: result.invocationId },
      { agent: 'B', message: 'B 1', invocationId: result.invocationId },
    ]);
    expect(contents(b.client.requests[0].messages)).toEqual(['go', 'A 1', 'Mention the price.']);
    expect(contents(a.client.requests[1].messages)).toEqual(['go', 'A 1', 'Mention the price.', 'B 1']);
    expect(contents(output.conversation)).toEqual(['go', 'A 1', 'Mention the price.', 'B 1', 'A 2']);
    expect(output.conversation[2]).toMatchObject({ role: 'user' });
    expect(output.reason).toBe('max_rounds');
  });

  it('humanResponse answers instead of result.respond (told the invocation); null adds nothing', async () => {
    runtime = startedRuntime();
    const [a, b] = [echo('A'), echo('B')];
    const seen: string[] = [];
    const chat = new GroupChatOrchestration({
      members: [a.member, b.member], manager: askAfterFirstTurn, maxRounds: 3,
      humanResponse: ({ invocationId, kind }) => { seen.push(`${kind}:${invocationId}`); return seen.length === 1 ? 'Shorter.' : null; },
    });
    const result = await chat.invoke('go', runtime);
    const output = await result.get();
    expect(seen).toEqual([`input:${result.invocationId}`, `input:${result.invocationId}`]);
    expect(contents(output.conversation)).toEqual(['go', 'A 1', 'Shorter.', 'B 1', 'A 2']);
  });

  it('humanReview and tool approvals work inside the chat', async () => {
    runtime = startedRuntime();
    const price = tool({ name: 'lookup_price', description: 'Price', parameters: z.object({}), needsApproval: true, execute: () => '$49' });
    const writer = new ChatCompletionAgent({
      name: 'Writer', description: 'Writes drafts', tools: [price],
      client: scripted([{ toolCalls: [{ name: 'lookup_price' }] }, { text: 'A $49 kettle.' }, { text: 'A $49 kettle, fast.' }]),
    });
    const editor = agent('Editor', scripted([{ text: 'Fast $49 kettle.' }]));
    const chat = new GroupChatOrchestration({ members: [writer, editor], maxRounds: 2, humanReview: [writer] });
    const result = await chat.invoke('go', runtime);
    const kinds: string[] = [];
    for await (const event of result.events) {
      if (event.type === 'approval_requested') { kinds.push('approval'); result.approve(event.requestId); }
      if (event.type === 'human_input_requested') { kinds.push(event.kind); result.respond(event.requestId, kinds.length === 2 ? 'Say fast.' : ''); }
    }
    const output = await result.get();
    expect(kinds).toEqual(['approval', 'review', 'review']);
    expect(contents(output.messages)).toEqual(['Fast $49 kettle.']);
    expect(output.conversation.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual(['$49']);
  });

  it('a chat waiting on the user is saved with saveState({ key }), attached in a fresh runtime and finishes there', async () => {
    runtime = startedRuntime();
    const team = () => new GroupChatOrchestration({ id: 'copy', members: [echo('A').member, echo('B').member], manager: askAfterFirstTurn, maxRounds: 2 });
    const first = await team().invoke('go', runtime);
    const asked = await nextHumanRequest(first);
    await runtime.stopWhenIdle();
    const saved = JSON.parse(JSON.stringify(await runtime.saveState({ key: first.invocationId })));
    const fresh = new InProcessRuntime();
    try {
      fresh.start();
      const again = team();
      again.register(fresh);
      await fresh.loadState(saved);
      const resumed = await again.attach(first.invocationId, fresh);
      expect(resumed.pending).toEqual([{ requestId: asked.requestId, kind: 'input', agent: 'A', recipient: expect.objectContaining({ key: resumed.invocationId }) }]);
      resumed.respond(asked.requestId, 'Add the price.');
      const output = await resumed.get();
      expect(contents(output.conversation)).toEqual(['go', 'A 1', 'Add the price.', 'B 1']);
      expect(output.reason).toBe('max_rounds');
    } finally {
      await fresh.close();
    }
  });

  it('timeoutMs cancels a chat waiting on the user', async () => {
    runtime = startedRuntime();
    const chat = new GroupChatOrchestration({ members: [echo('A').member], manager: { selectNextSpeaker: () => 'A', shouldRequestUserInput: () => true } });
    const result = await chat.invoke('go', runtime, { timeoutMs: 50 });
    await nextHumanRequest(result);
    await expect(result.get()).rejects.toBeInstanceOf(OrchestrationTimeoutError);
  });
});

describe('GroupChatOrchestration: construction', () => {
  const a = () => agent('A', scripted([]));
  const bare = new ChatCompletionAgent({ name: 'Quiet', client: scripted([]) });

  it('every member needs a description (the error names the member)', () => {
    expect(() => new GroupChatOrchestration({ members: [a(), bare] })).toThrow(OrchestrationConfigError);
    expect(() => new GroupChatOrchestration({ members: [a(), bare] })).toThrow(/member "Quiet" has no description/);
  });

  it('bad limits, managers and names are errors naming the option', () => {
    expect(() => new GroupChatOrchestration({ members: [a()], maxRounds: 0 })).toThrow(/"maxRounds" must be an integer >= 1, got 0/);
    expect(() => new GroupChatOrchestration({ members: [a()], maxRounds: 1.5 })).toThrow(/"maxRounds"/);
    expect(() => new GroupChatOrchestration({ members: [a()], manager: {} as GroupChatManager })).toThrow(/"manager" must be a selector function/);
    expect(() => new GroupChatOrchestration({ members: [a()], manager: { selectNextSpeaker: () => 'A', shouldTerminate: true } as unknown as GroupChatManager })).toThrow(/"shouldTerminate" must be a method/);
    const named = new ChatCompletionAgent({ name: 'GroupChatManager', description: 'x', client: scripted([]) });
    expect(() => new GroupChatOrchestration({ members: [named], manager: new ModelGroupChatManager({ client: scripted([]) }) })).toThrow(/a member is named "GroupChatManager", like the manager/);
    expect(() => new ModelGroupChatManager({ client: scripted([]), maxRetries: -1 })).toThrow(/"maxRetries" must be an integer >= 0/);
    expect(() => new ModelGroupChatManager({} as never)).toThrow(/"client" must be a ChatClient/);
    expect(() => new GroupChatOrchestration({ members: [] })).toThrow(/non-empty/);
  });

  it('toMermaid: the group chat manager drives the members; the gateway appears when the manager asks the user', () => {
    const members = [agent('Writer', scripted([])), agent('Editor', scripted([]))];
    const plain = validateMermaid(new GroupChatOrchestration({ members }).toMermaid());
    expect(plain.problems).toEqual([]);
    const edges = edgeList(plain);
    expect(edges).toContain('manager --> members: turn request (next speaker)');
    expect(edges).toContain('members --> manager: reply (heard by every member)');
    expect(edges).toContain('manager -.-> boundary: group_chat_turn events');
    expect(edges.some((e) => e.includes('human_gateway'))).toBe(false);
    const asking = validateMermaid(new GroupChatOrchestration({ members, manager: { selectNextSpeaker: () => 'Writer', shouldRequestUserInput: () => false } }).toMermaid());
    expect(asking.problems).toEqual([]);
    expect(edgeList(asking)).toContain('manager --> human_gateway: ask the user');
  });
});
