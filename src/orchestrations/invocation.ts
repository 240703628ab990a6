/**
 * One run of an orchestration on a runtime, seen from the code that awaits it: its id (the
 * `AgentId` key of its actors and the `TopicId` source of its topics), its result, the view of
 * its open requests, and its teardown (`runtime.retireKey(id)` once it settles, so a long-lived
 * runtime does not grow). Everything it learns arrives as messages at the boundary actor (shared
 * by the orchestration's runs), each naming its run.
 */
import { nanoid } from 'nanoid';
import type { ChatMessage } from '../agents/chat-message.js';
import type { ActorEvent } from '../actors/events.js';
import { HumanInputResponseSchema, type HumanDecision, type HumanInputResponse, type RequestKind } from '../actors/protocol.js';
import {
  InvalidArgumentError, RuntimeStateError,
  type AgentIdLike, type AgentRuntime, type Message, type RuntimeErrorEvent, type TopicIdLike,
} from '../runtime/index.js';
import { InvocationCancelledError, InvocationStateError, OrchestrationTimeoutError } from './errors.js';
import { OrchestrationResult, type PendingRequest, type ResultControl } from './result.js';
import { timerDelay } from './timeouts.js';
import type { Checkpoint } from '../persistence/checkpoint.js';

/** The ids of one run's actors and topics. */
export interface RunIds {
  /** The orchestration's actor-type prefix on this runtime. */
  prefix: string;
  /** The invocation id: every actor's key, every topic's source. */
  key: string;
  manager: AgentIdLike;
  gateway: AgentIdLike;
  /** The start executor: shared by every run (its key is not the invocation id). */
  start: AgentIdLike;
  end: AgentIdLike;
  /** Where the run's events and settlement go: shared by every run (messages name their run). */
  boundary: AgentIdLike;
  /** What was said by people and the system: the task, the user's replies. */
  conversation: TopicIdLike;
  /** Agents' responses. Managers and the end executor hear them; members when the orchestration wants. */
  replies: TopicIdLike;
}

export interface InvocationOptions {
  /** Reuse an id (a run attached after `loadState`); default: a fresh one. */
  id?: string;
  ids: (key: string) => RunIds;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called for every event, before it is streamed (callbacks such as agentResponseCallback). */
  onEvent?: (event: ActorEvent) => void | Promise<void>;
  /** A `humanResponse` callback answers `input` and `review` requests (they cannot be `respond`ed to). */
  callbackAnswers?: boolean;
  /** Takes the run's checkpoint (`result.checkpoint()`); rejects when it is not at rest. */
  checkpoint?: (key: string) => Promise<Checkpoint>;
  /** Resolves once automatic saves have reached the checkpoint store (`result.saved()`). */
  saved?: () => Promise<void>;
}

export class Invocation<TOut> {
  readonly id: string;
  readonly ids: RunIds;
  readonly result: OrchestrationResult<TOut>;
  /** A view of the gateway's request table, kept from its events, so `respond` can check at once. */
  private readonly pending = new Map<string, PendingRequest>();
  /** Requests the `humanResponse` callback is answering: open, but not the user's to answer. */
  private readonly answeredByCallback = new Set<string>();
  private readonly disposers: Array<() => void> = [];
  private lastEvent: ActorEvent | undefined;
  private cleanedUp = false;

  /**
   * What the result handle acts with: one object per run rather than a closure per operation.
   * Declared in the class body so it may call the invocation's private methods.
   */
  private static readonly Control = class<T> implements ResultControl {
    constructor(private readonly invocation: Invocation<T>) {}
    cancel(): void {
      this.invocation.cancel(new InvocationCancelledError(`Invocation ${this.invocation.id} was cancelled.`));
    }
    respond(requestId: string, reply: string | ChatMessage | null): void {
      this.invocation.respond(requestId, reply);
    }
    decide(requestId: string, approved: boolean, reason?: string): void {
      this.invocation.decide(requestId, approved, reason);
    }
    pending(): PendingRequest[] {
      return [...this.invocation.pending.values()];
    }
    describeWait(): string {
      return this.invocation.describeWait();
    }
    checkpoint(): Promise<Checkpoint> {
      return this.invocation.checkpoint();
    }
    saved(): Promise<void> {
      return this.invocation.options.saved?.() ?? Promise.resolve();
    }
  };

  constructor(readonly runtime: AgentRuntime, private readonly options: InvocationOptions) {
    this.id = options.id ?? `run_${nanoid(12)}`;
    this.ids = options.ids(this.id);
    const timeoutMs = timerDelay(options.timeoutMs, 'invoke({ timeoutMs })');
    this.result = new OrchestrationResult<TOut>(this.id, new Invocation.Control(this));
    const { signal } = options;
    if (signal?.aborted) {
      this.cancel(new InvocationCancelledError(`Invocation ${this.id} was aborted by its signal before it started.`, { cause: signal.reason }));
      return;
    }
    const ours = (id?: AgentIdLike) => id !== undefined && id.key === this.id;
    // The actors a registration shares between runs (start executor, boundary) are not keyed by
    // the run; what they were handling then names it.
    const about = (message: unknown) => (message as { invocationId?: unknown } | undefined)?.invocationId === this.id;
    // A publish on one of the run's topics (their source is the run), e.g. the shared start executor's task broadcast.
    const onOurTopic = (topic?: TopicIdLike) => topic !== undefined && topic.source === this.id;
    this.disposers.push(runtime.onError((event: RuntimeErrorEvent) => {
      if (ours(event.agent) || ours(event.sender) || about(event.message) || onOurTopic(event.topic)) this.fail(event.error);
    }));
    if (signal) {
      const onAbort = () => this.cancel(new InvocationCancelledError(`Invocation ${this.id} was aborted by its signal.`, { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      this.disposers.push(() => signal.removeEventListener('abort', onAbort));
    }
    if (timeoutMs !== undefined) {
      const timer = setTimeout(() => this.cancel(new OrchestrationTimeoutError(`Invocation ${this.id} did not finish within timeoutMs = ${timeoutMs} (${this.describeWait()}); it was cancelled.`)), timeoutMs);
      this.disposers.push(() => clearTimeout(timer));
    }
  }

  /** Runs `dispose` when the invocation is torn down (at once if it already was). */
  onCleanup(dispose: () => void): void {
    if (this.cleanedUp) dispose();
    else this.disposers.push(dispose);
  }

  /**
   * Sends the message that starts the run to the shared start executor. Until it is delivered, a
   * teardown (cancel, timeout, signal) withdraws it: that actor is not the run's, so retiring the
   * run's key would not, and a late start would bring the run's actors back.
   */
  sendStart(message: Message, recipient: AgentIdLike): void {
    const teardown = new AbortController();
    const withdraw = () => teardown.abort();
    this.disposers.push(withdraw);
    this.runtime.sendMessage(message, recipient, { signal: teardown.signal }).then(
      () => {
        const i = this.disposers.indexOf(withdraw);
        if (i >= 0) this.disposers.splice(i, 1);
      },
      (error) => this.fail(error),
    );
  }

  /** Sends a message into the run; a failure to deliver fails the invocation. */
  send(message: Message, recipient: AgentIdLike): void {
    this.runtime.sendMessage(message, recipient).catch((error) => this.fail(error));
  }

  /** An event from one of the run's actors. */
  report(event: ActorEvent): void {
    if (this.result.status !== 'running') return;
    this.lastEvent = event;
    if (this.options.onEvent) {
      try {
        const pending = this.options.onEvent(event);
        if (pending && typeof (pending as Promise<void>).then === 'function') (pending as Promise<void>).catch((error) => this.fail(error));
      } catch (error) {
        this.fail(error);
      }
    }
    // Not `{ ...event, invocationId }`: on Node 20's V8 that makes new hidden classes per event.
    this.result._emit(Object.assign({}, event, { invocationId: this.id }));
  }

  /** The gateway opened a request (its event follows). */
  openRequest(request: PendingRequest): void {
    if (this.result.status !== 'running') return;
    if (this.options.callbackAnswers && (request.kind === 'input' || request.kind === 'review')) this.answeredByCallback.add(request.requestId);
    else this.pending.set(request.requestId, request);
  }

  /** The gateway closed a request (a callback answered it, or it routed an answer). */
  closeRequest(requestId: string): void {
    this.pending.delete(requestId);
    this.answeredByCallback.delete(requestId);
  }

  // Cleanup is queued before the result settles, so code awaiting `get()` runs after the run's
  // actors are retired (it sees `runtime.stats` back at its registrations' baseline: no actor of the run).
  resolve(output: TOut): void {
    if (this.result.status !== 'running') return;
    this.scheduleCleanup();
    this.result._resolve(output);
  }

  fail(error: unknown): void {
    if (this.result.status !== 'running') return;
    this.scheduleCleanup();
    this.result._reject(error);
  }

  cancel(error: Error): void {
    if (this.result._reject(error, 'cancelled')) this.cleanup();
  }

  private checkpoint(): Promise<Checkpoint> {
    if (!this.options.checkpoint) return Promise.reject(new InvocationStateError(`checkpoint(): invocation ${this.id} cannot be checkpointed.`));
    return this.options.checkpoint(this.id);
  }

  /** What the run waits on, for timeout messages. */
  private describeWait(): string {
    const open = [...this.pending.values()];
    if (open.length > 0) {
      return `waiting for ${open.map((r) => `${KIND_LABEL[r.kind]} ${r.requestId} from ${r.agent}`).join(', ')}`;
    }
    const last = this.lastEvent;
    if (!last) return 'still running: no agent has reported yet';
    return `still running: the last event was ${last.type}${'agent' in last ? ` from ${last.agent}` : ''}`;
  }

  /** A reply sent into a stopped runtime would wait, undelivered, until someone starts it. */
  private assertDeliverable(what: string): void {
    if (!this.runtime.isRunning) {
      throw new RuntimeStateError(`${what}: the runtime is not running (stopped, or stopWhenIdle() was called); call runtime.start() first.`);
    }
  }

  private takeRequest(what: string, requestId: string, kinds: RequestKind[]): PendingRequest {
    this.assertDeliverable(`${what}("${requestId}")`);
    if (this.answeredByCallback.has(requestId)) {
      throw new InvalidArgumentError(`${what}("${requestId}"): the humanResponse callback answers this request; invocation ${this.id} does not take an answer for it here.`);
    }
    const request = this.pending.get(requestId);
    if (!request || !kinds.includes(request.kind)) {
      const which = kinds.includes('input') ? 'human input request "%" (nor a review request)' : 'approval request "%" (nor a plan review)';
      const other = request ? `; "${requestId}" is ${KIND_LABEL[request.kind]}: answer it with ${request.kind === 'input' || request.kind === 'review' ? 'respond()' : 'approve() or reject()'}` : '';
      throw new InvalidArgumentError(`${what}(): invocation ${this.id} has no open ${which.replace('%', requestId)}${other}.`);
    }
    return request;
  }

  private respond(requestId: string, reply: string | ChatMessage | null): void {
    this.takeRequest('respond', requestId, ['input', 'review']);
    if (!HumanInputResponseSchema.shape.reply.safeParse(reply).success) {
      throw new InvalidArgumentError(`respond("${requestId}"): the reply must be a string, a ChatMessage ({ id, role, content }) or null.`);
    }
    this.pending.delete(requestId);
    const message: HumanInputResponse = { type: 'human_input_response', requestId, reply };
    this.send(message, this.ids.gateway);
  }

  private decide(requestId: string, approved: boolean, reason?: string): void {
    this.takeRequest(approved ? 'approve' : 'reject', requestId, ['approval', 'plan_review']);
    this.pending.delete(requestId);
    const message: HumanDecision = { type: 'human_decision', requestId, approved, ...(reason ? { reason } : {}) };
    this.send(message, this.ids.gateway);
  }

  // Settling happens inside an actor's transition; tear down after it has returned.
  private scheduleCleanup(): void {
    queueMicrotask(() => this.cleanup());
  }

  /**
   * Retires every actor of this run (aborting in-flight work); registrations, and the actors they
   * share between runs (keyed otherwise), stay for the next run.
   */
  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.runtime.retireKey(this.id);
    for (const dispose of this.disposers.splice(0)) dispose();
  }
}

const KIND_LABEL: Record<RequestKind, string> = {
  input: 'human input',
  review: 'a review',
  approval: 'an approval',
  plan_review: 'a plan review',
};
