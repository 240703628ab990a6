/**
 * The workloads, once per framework. Each arm is `{ setup() → { run(): Promise<void> } }`: `setup`
 * builds the agents once (as a server would), `run` performs one verified run (it throws when the
 * final text or the last agent is wrong). Every model is an in-process fake with zero latency that
 * answers from a script: what is measured is the framework's own cost per run.
 *
 * handoff-2:    Triage hands off to Refund (one model call, one handoff), Refund answers (one call).
 * sequential-5: five agents in a chain; each sees the conversation so far and answers once.
 */
export const TASK = 'I was charged twice for order 42; please refund one of the charges.';
export const REFUND_TEXT = 'Done: the duplicate charge on order 42 is refunded.';
export const memberText = (i) => `Reply from member ${i}.`;

export function check(condition, what) {
  if (!condition) throw new Error(`peers bench verification failed: ${what}`);
}

// ---- troupe (the built package) -------------------------------------------------------------

/** The built package; TROUPE_DIST points at another build (A/B runs, see ab.mjs). */
const DIST = process.env.TROUPE_DIST ? new URL(`file://${process.env.TROUPE_DIST.replace(/\/?$/, '/')}`) : new URL('../../dist/', import.meta.url);

async function troupeArm(workload, dist = DIST) {
  const troupe = await import(new URL('index.js', dist).href);
  const { ScriptedChatClient } = await import(new URL('testing/index.js', dist).href);
  const runtime = new troupe.InProcessRuntime();
  runtime.start();
  if (workload === 'handoff-2') {
    const triageModel = new ScriptedChatClient(() => ({ toolCalls: [{ name: 'transfer_to_Refund', arguments: { reason: 'refund request' } }] }), { record: false });
    const refundModel = new ScriptedChatClient(() => ({ text: REFUND_TEXT }), { record: false });
    const triage = new troupe.ChatCompletionAgent({ name: 'Triage', description: 'Routes customers.', instructions: 'Route the customer to the right agent.', client: triageModel });
    const refund = new troupe.ChatCompletionAgent({ name: 'Refund', description: 'Handles refunds.', instructions: 'You process refunds.', client: refundModel });
    const orchestration = new troupe.HandoffOrchestration({
      members: [triage, refund],
      handoffs: troupe.OrchestrationHandoffs.startWith(triage).add(triage, refund),
      terminationCondition: () => true,
    });
    return {
      async run() {
        const output = await (await orchestration.invoke(TASK, runtime)).get();
        check(output.lastAgent === 'Refund', `troupe handoff-2: last agent ${output.lastAgent}`);
        check(output.messages.at(-1)?.content === REFUND_TEXT, 'troupe handoff-2: final text');
      },
      clients: [triageModel, refundModel],
      runtime,
    };
  }
  const clients = [0, 1, 2, 3, 4].map((i) => new ScriptedChatClient(() => ({ text: memberText(i) }), { record: false }));
  const members = clients.map((client, i) => new troupe.ChatCompletionAgent({ name: `Member${i}`, instructions: `You are member ${i} of a pipeline.`, client }));
  const orchestration = new troupe.SequentialOrchestration({ members });
  return {
    async run() {
      const output = await (await orchestration.invoke(TASK, runtime)).get();
      check(output.lastAgent === 'Member4', `troupe sequential-5: last agent ${output.lastAgent}`);
      check(output.messages.at(-1)?.content === memberText(4), 'troupe sequential-5: final text');
      check(output.conversation.length === 6, 'troupe sequential-5: transcript');
    },
    clients,
    runtime,
  };
}

// ---- OpenAI Agents SDK (JS) -----------------------------------------------------------------

async function agentsArm(workload) {
  const sdk = await import('@openai/agents');
  sdk.setTracingDisabled(true);
  const usage = () => new sdk.Usage({ requests: 1, inputTokens: 10, outputTokens: 5, totalTokens: 15 });
  /** A `Model` that answers from a script: no network, no SDK client. */
  class ScriptedModel {
    calls = 0;
    constructor(answer) { this.answer = answer; }
    async getResponse(request) {
      this.calls++;
      return { usage: usage(), output: this.answer(request), responseId: `r${this.calls}` };
    }
    // eslint-disable-next-line require-yield
    async *getStreamedResponse() { throw new Error('not used'); }
  }
  const message = (text) => [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] }];
  const runner = new sdk.Runner({ tracingDisabled: true });
  if (workload === 'handoff-2') {
    let n = 0;
    const refund = new sdk.Agent({ name: 'Refund', handoffDescription: 'Handles refunds.', instructions: 'You process refunds.', model: new ScriptedModel(() => message(REFUND_TEXT)) });
    const triage = new sdk.Agent({
      name: 'Triage',
      instructions: 'Route the customer to the right agent.',
      handoffs: [refund],
      // The handoff tool the SDK offers (its name is the SDK's), called with a reason.
      model: new ScriptedModel((request) => [{ type: 'function_call', callId: `call_${++n}`, name: request.handoffs[0].toolName, arguments: JSON.stringify({ reason: 'refund request' }), status: 'completed' }]),
    });
    return {
      async run() {
        const result = await runner.run(triage, TASK);
        check(result.lastAgent?.name === 'Refund', `agents handoff-2: last agent ${result.lastAgent?.name}`);
        check(result.finalOutput === REFUND_TEXT, `agents handoff-2: final text ${result.finalOutput}`);
      },
    };
  }
  const agents = [0, 1, 2, 3, 4].map((i) => new sdk.Agent({ name: `Member${i}`, instructions: `You are member ${i} of a pipeline.`, model: new ScriptedModel(() => message(memberText(i))) }));
  return {
    async run() {
      // Sequential by chained runs: each agent gets the history so far.
      let input = TASK;
      let result;
      for (const agent of agents) {
        result = await runner.run(agent, input);
        input = result.history;
      }
      check(result.lastAgent?.name === 'Member4', `agents sequential-5: last agent ${result.lastAgent?.name}`);
      check(result.finalOutput === memberText(4), 'agents sequential-5: final text');
      check(result.history.length === 6, `agents sequential-5: history ${result.history.length}`);
    },
  };
}

// ---- LangGraph.js ---------------------------------------------------------------------------

async function langgraphArm(workload) {
  const { BaseChatModel } = await import('@langchain/core/language_models/chat_models');
  const { AIMessage, HumanMessage } = await import('@langchain/core/messages');
  const { StateGraph, MessagesAnnotation, START, END } = await import('@langchain/langgraph');
  /** A chat model that answers from a script (and accepts tools). */
  class ScriptedLCModel extends BaseChatModel {
    constructor(answer) { super({}); this.answer = answer; this.calls = 0; }
    _llmType() { return 'scripted'; }
    bindTools() { return this; }
    async _generate(messages) {
      this.calls++;
      const message = this.answer(messages, this.calls);
      return { generations: [{ text: typeof message.content === 'string' ? message.content : '', message }] };
    }
  }
  if (workload === 'handoff-2') {
    const { createReactAgent } = await import('@langchain/langgraph/prebuilt');
    const { createSwarm, createHandoffTool } = await import('@langchain/langgraph-swarm');
    const triage = createReactAgent({
      llm: new ScriptedLCModel((_m, n) => new AIMessage({ content: '', tool_calls: [{ id: `call_${n}`, name: 'transfer_to_refund', args: { reason: 'refund request' } }] })),
      tools: [createHandoffTool({ agentName: 'Refund', description: 'Transfer to Refund.' })],
      name: 'Triage',
      prompt: 'Route the customer to the right agent.',
    });
    const refund = createReactAgent({ llm: new ScriptedLCModel(() => new AIMessage(REFUND_TEXT)), tools: [], name: 'Refund', prompt: 'You process refunds.' });
    const app = createSwarm({ agents: [triage, refund], defaultActiveAgent: 'Triage' }).compile();
    return {
      async run() {
        const state = await app.invoke({ messages: [new HumanMessage(TASK)] });
        const last = state.messages.at(-1);
        check(state.activeAgent === 'Refund' && last.name === 'Refund', `langgraph handoff-2: last agent ${state.activeAgent}/${last.name}`);
        check(last.content === REFUND_TEXT, 'langgraph handoff-2: final text');
      },
    };
  }
  const models = [0, 1, 2, 3, 4].map((i) => new ScriptedLCModel(() => new AIMessage({ content: memberText(i), name: `Member${i}` })));
  let graph = new StateGraph(MessagesAnnotation);
  models.forEach((model, i) => {
    graph = graph.addNode(`Member${i}`, async (state) => ({ messages: [await model.invoke(state.messages)] }));
  });
  graph = graph.addEdge(START, 'Member0');
  for (let i = 1; i < 5; i++) graph = graph.addEdge(`Member${i - 1}`, `Member${i}`);
  const app = graph.addEdge('Member4', END).compile();
  return {
    async run() {
      const state = await app.invoke({ messages: [new HumanMessage(TASK)] });
      const last = state.messages.at(-1);
      check(last.name === 'Member4', `langgraph sequential-5: last agent ${last.name}`);
      check(last.content === memberText(4), 'langgraph sequential-5: final text');
      check(state.messages.length === 6, 'langgraph sequential-5: transcript');
    },
  };
}

/** The troupe arm on the build at `dir` (A/B in one process). */
export const troupeArmAt = (dir, workload) => troupeArm(workload, new URL(`file://${dir.replace(/\/?$/, '/')}`));

export const ARMS = {
  troupe: troupeArm,
  /** troupe at another build (TROUPE_BASE_DIST): before/after in one interleaved run. */
  'troupe-base': (workload) => troupeArmAt(process.env.TROUPE_BASE_DIST, workload),
  agents: agentsArm, langgraph: langgraphArm };
