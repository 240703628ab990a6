/**
 * What every orchestration shares: validation of members and options, `invoke` (a namespace per
 * invocation, the start and end executors, one agent actor per member), output transforms and
 * callbacks. Each orchestration adds its coordinator and says who speaks first.
 */
import { z } from 'zod';
import { fromPromise, type AnyActorLogic } from 'xstate';
import type { ChatClient } from '../agents/chat-client.js';
import { ChatMessageSchema, type ChatMessage } from '../agents/chat-message.js';
import type { ChatCompletionAgent } from '../agents/chat-completion-agent.js';
import { createAgentActor, type AgentActorHooks } from '../actors/agent-actor.js';
import type { AgentActorInput } from '../actors/agent-machine.js';
import { endExecutorMachine, type OrchestrationOutput } from '../actors/end-executor.js';
import { startExecutorMachine, type StartMessage } from '../actors/start-executor.js';
import type { ActorEvent } from '../actors/events.js';
import { sanitizeName, type AgentIdLike, type AgentRuntime } from '../runtime/index.js';
import { OrchestrationConfigError } from './errors.js';
import { Invocation } from './invocation.js';
import type { OrchestrationResult } from './result.js';
import { extractStructuredOutput } from './structured-output.js';
import { taskMessages } from './task.js';

export type { OrchestrationOutput };

/** Options every orchestration accepts. */
export interface OrchestrationOptions<TOut = OrchestrationOutput, TIn = unknown> {
  members: readonly ChatCompletionAgent[];
  /** Turns the task into the first messages (required when the task is not a string/ChatMessage). */
  inputTransform?: (task: TIn) => ChatMessage[] | Promise<ChatMessage[]>;
  /** Maps the default output to your type. */
  outputTransform?: (output: OrchestrationOutput) => TOut | Promise<TOut>;
  /** Asks a model for the output as JSON matching this schema (structured output), validated. */
  outputSchema?: z.ZodType<TOut>;
  /** The model `outputSchema` uses; default: the first member's client. */
  outputClient?: ChatClient;
  /** Called with each agent's final reply of a turn. */
  agentResponseCallback?: (response: Extract<ActorEvent, { type: 'agent_response' }>) => void | Promise<void>;
  /** Called with each streamed text delta; setting it makes agents stream. */
  streamingAgentResponseCallback?: (delta: Extract<ActorEvent, { type: 'agent_response_delta' }>) => void;
  /** Model calls an agent may make in one turn before it fails (default 10). */
  maxToolIterations?: number;
}

export interface InvokeOptions {
  /** Aborting it cancels the invocation. */
  signal?: AbortSignal;
  /** Cancels the invocation if it has not finished by then. */
  timeoutMs?: number;
  /**
   * Continue a conversation: the previous invocation's output. Its transcript becomes every
   * agent's history and the start of this output's `conversation`; for handoff, its `lastAgent`
   * is who `resumeWith` may route the new message to.
   */
  continueFrom?: OrchestrationOutput;
}

/** A member as one invocation sees it. */
export interface MemberBinding {
  readonly agent: ChatCompletionAgent;
  readonly name: string;
  /** Unique, sanitised: the agent type suffix. */
  readonly slug: string;
  readonly id: AgentIdLike;
}

export interface Wiring {
  /** Who the start executor asks to speak once the task is broadcast. */
  firstSpeakers: AgentIdLike[];
}

const RESERVED_SLUGS = ['end', 'start', 'coordinator', 'gateway'];

/** Agent-type suffixes for member names: sanitised, and unique even when sanitising collides. */
function uniqueSlugs(names: string[]): string[] {
  const used = new Set(RESERVED_SLUGS);
  return names.map((name) => {
    const base = sanitizeName(name);
    let slug = base;
    for (let n = 2; used.has(slug); n++) slug = `${base}_${n}`;
    used.add(slug);
    return slug;
  });
}

function priorConversation(prior: OrchestrationOutput, kind: string): ChatMessage[] {
  const parsed = z.array(ChatMessageSchema).safeParse(prior?.conversation);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OrchestrationConfigError(`${kind}: continueFrom.conversation is not a list of ChatMessages (${issue.path.join('.') || '(root)'}: ${issue.message}); pass the output of a previous invocation.`);
  }
  return prior.conversation;
}

export abstract class Orchestration<TOut = OrchestrationOutput, TIn = unknown> {
  readonly members: readonly ChatCompletionAgent[];
  protected readonly options: OrchestrationOptions<TOut, TIn>;
  /** Invocations not yet torn down, by id: how shared actor logic finds the invocation it acts for. */
  private readonly live = new Map<string, Invocation<TOut>>();
  /** Actor logic built once per orchestration (building a machine with `provide` is costly). */
  /** Each member's agent-type suffix: sanitised, unique, never an executor's name. */
  private readonly slugs: string[];
  private readonly memberInputs = new Map<ChatCompletionAgent, Omit<AgentActorInput, 'topic'>>();
  private readonly logicCache = new Map<unknown, AnyActorLogic>();

  protected constructor(protected readonly kind: string, options: OrchestrationOptions<TOut, TIn>) {
    if (!options || !Array.isArray(options.members) || options.members.length === 0) {
      throw new OrchestrationConfigError(`${kind}: "members" must be a non-empty array of agents.`);
    }
    const seen = new Set<string>();
    for (const [i, member] of options.members.entries()) {
      if (!member || typeof member.name !== 'string' || !member.client) {
        throw new OrchestrationConfigError(`${kind}: members[${i}] is not an agent (expected a ChatCompletionAgent).`);
      }
      if (seen.has(member.name)) throw new OrchestrationConfigError(`${kind}: two members are named "${member.name}"; member names must be unique.`);
      seen.add(member.name);
    }
    if (options.outputSchema && options.outputTransform) {
      throw new OrchestrationConfigError(`${kind}: give "outputSchema" or "outputTransform", not both.`);
    }
    if (options.maxToolIterations !== undefined && !(Number.isInteger(options.maxToolIterations) && options.maxToolIterations >= 1)) {
      throw new OrchestrationConfigError(`${kind}: "maxToolIterations" must be an integer >= 1, got ${options.maxToolIterations}.`);
    }
    this.members = options.members;
    this.options = options;
    this.slugs = uniqueSlugs(options.members.map((m) => m.name));
  }

  /**
   * Starts a run on `runtime` and returns its handle at once.
   *
   * @example
   * runtime.start();
   * const result = await orchestration.invoke('Summarise this ticket', runtime, { timeoutMs: 60_000 });
   * const output = await result.get();
   */
  async invoke(task: TIn, runtime: AgentRuntime, options: InvokeOptions = {}): Promise<OrchestrationResult<TOut>> {
    const messages = this.options.inputTransform ? await this.options.inputTransform(task) : taskMessages(task);
    const prior = options.continueFrom === undefined ? [] : priorConversation(options.continueFrom, this.kind);
    const invocation = new Invocation<TOut>(runtime, {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      onEvent: (event) => this.onEvent(event),
    });
    try {
      this.live.set(invocation.id, invocation);
      invocation.onCleanup(() => this.live.delete(invocation.id));
      const members = this.bind(invocation);
      for (const member of members) {
        invocation.register(member.slug, () => ({
          logic: this.agentLogic(member),
          input: { ...this.agentInput(member, invocation), history: this.priorHistory(prior, member) },
        }), { topics: this.membersHearReplies() ? invocation.allTopics : [invocation.topic], agentName: member.name });
      }
      const end = invocation.register('end', () => ({ logic: this.endExecutor(), input: { conversation: prior } }), { topics: invocation.allTopics });
      const { firstSpeakers } = this.wire(invocation, members, end, options);
      const start = invocation.register('start', () => ({ logic: startExecutorMachine, input: { topic: invocation.topic, firstSpeakers } }));
      const startMessage: StartMessage = { type: 'start', messages };
      invocation.send(startMessage, start);
    } catch (error) {
      // Nothing of a run that could not start may stay on the runtime.
      invocation.cancel(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    return invocation.result;
  }

  /** Registers the orchestration's own actors (coordinator, gateway) and names the first speakers. */
  protected abstract wire(invocation: Invocation<TOut>, members: MemberBinding[], end: AgentIdLike, options: InvokeOptions): Wiring;

  /** Whether members hear each other's responses (true unless they work independently). */
  protected membersHearReplies(): boolean {
    return true;
  }

  /**
   * Hooks for the agent actors (reporting, streaming; handoff adds a custom filter). They serve
   * every invocation: a report finds its invocation through the reporting actor.
   */
  protected agentHooks(): AgentActorHooks {
    return {
      report: (event, actor) => this.invocationOf(actor)?.report(event),
      stream: Boolean(this.options.streamingAgentResponseCallback),
    };
  }

  /** What a member starts with when continuing a conversation. */
  protected priorHistory(prior: ChatMessage[], _member: MemberBinding): ChatMessage[] {
    return prior;
  }

  /**
   * The agent actor's input for `member`, apart from the topic; orchestrations extend it
   * (handoffs, filters…). Computed once per member: every invocation shares it.
   */
  protected memberInput(member: MemberBinding): Omit<AgentActorInput, 'topic'> {
    return {
      agent: member.name,
      instructions: member.agent.instructions,
      tools: member.agent.tools.map((t) => t.definition),
      maxToolIterations: this.options.maxToolIterations,
    };
  }

  private agentInput(member: MemberBinding, invocation: Invocation<TOut>): AgentActorInput {
    let input = this.memberInputs.get(member.agent);
    if (!input) this.memberInputs.set(member.agent, (input = this.memberInput(member)));
    return { ...input, topic: invocation.replies };
  }

  /** Applies the output transform or structured output; the default output otherwise. */
  protected finalize(output: OrchestrationOutput, signal: AbortSignal): Promise<TOut> | TOut {
    const { outputSchema, outputTransform } = this.options;
    if (outputSchema) return extractStructuredOutput(outputSchema, this.options.outputClient ?? this.members[0].client, output, signal);
    if (outputTransform) return outputTransform(output);
    return output as unknown as TOut;
  }

  /**
   * The invocation an actor of this orchestration belongs to, from the actor itself: the runtime
   * names each hosted actor by its agent id, whose type starts with `<invocation id>.` (see
   * `Invocation.typeFor`). Undefined once the invocation is torn down (late actions do nothing).
   */
  protected invocationOf(self: { id: string }): Invocation<TOut> | undefined {
    const dot = self.id.indexOf('.');
    return dot < 0 ? undefined : this.live.get(self.id.slice(0, dot));
  }

  /** `build()` once per orchestration and `key`; the logic must not capture an invocation. */
  protected cachedLogic<L extends AnyActorLogic>(key: unknown, build: () => L): L {
    let logic = this.logicCache.get(key) as L | undefined;
    if (!logic) this.logicCache.set(key, (logic = build()));
    return logic;
  }

  /** The agent actor's logic: built once per member, shared by every invocation. */
  private agentLogic(member: MemberBinding): AnyActorLogic {
    return this.cachedLogic(member.agent, () => createAgentActor(member.agent, this.agentHooks()));
  }

  /** The end executor's logic, shared by every invocation: settling finds the invocation through the actor. */
  private endExecutor(): AnyActorLogic {
    return this.cachedLogic(endExecutorMachine, () => endExecutorMachine.provide({
      actors: { finalize: fromPromise<unknown, OrchestrationOutput>(async ({ input, signal }) => this.finalize(input, signal)) },
      actions: {
        settle: ({ self }, output) => this.invocationOf(self)?.resolve(output as TOut),
        settleFailure: ({ self }, error) => this.invocationOf(self)?.fail(error),
      },
    }));
  }

  private bind(invocation: Invocation<TOut>): MemberBinding[] {
    return this.members.map((agent, i) => ({ agent, name: agent.name, slug: this.slugs[i], id: invocation.idFor(this.slugs[i]) }));
  }

  private onEvent(event: ActorEvent): void | Promise<void> {
    if (event.type === 'agent_response') return this.options.agentResponseCallback?.(event);
    if (event.type === 'agent_response_delta') return this.options.streamingAgentResponseCallback?.(event);
  }
}
