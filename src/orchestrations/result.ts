import type { ChatMessage } from '../agents/chat-message.js';
import type { ActorEvent } from '../actors/events.js';
import type { RequestKind } from '../actors/protocol.js';
import type { AgentIdLike } from '../runtime/index.js';
import { EventStream } from './event-stream.js';
import { InvocationStateError, OrchestrationTimeoutError } from './errors.js';
import { timerDelay } from './timeouts.js';
import type { Checkpoint } from '../persistence/checkpoint.js';

/** Every event an invocation streams, tagged with its id. */
export type OrchestrationEvent<TOut = unknown> =
  | (ActorEvent & { invocationId: string })
  | { type: 'completed'; invocationId: string; output: TOut }
  | { type: 'failed'; invocationId: string; error: unknown };

export type InvocationStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** A request waiting for a person: answer `input`/`review` with `respond`, the others with `approve`/`reject`. */
export interface PendingRequest {
  requestId: string;
  kind: RequestKind;
  /** Who asks (an agent, or a manager). */
  agent: string;
  /** The actor the answer is routed to (the asking agent, or the manager that asked for the user). */
  recipient: AgentIdLike;
}

/** What the invocation gives its result handle to act with. */
export interface ResultControl {
  cancel(): void;
  respond(requestId: string, reply: string | ChatMessage | null): void;
  decide(requestId: string, approved: boolean, reason?: string): void;
  pending(): PendingRequest[];
  /** What the run waits on, in words (for timeout errors). */
  describeWait(): string;
  /** The run's checkpoint; rejects when it is not at rest. */
  checkpoint?(): Promise<Checkpoint>;
  /** Resolves once automatic saves have reached the store. */
  saved?(): Promise<void>;
}

/**
 * The handle `invoke` returns: await the output, stream events, answer humans, cancel.
 *
 * @example
 * const result = await orchestration.invoke('Where is order 42?', runtime);
 * for await (const event of result.events) if (event.type === 'human_input_requested') result.respond(event.requestId, 'yes');
 * const output = await result.get(30_000);
 */
export class OrchestrationResult<TOut> {
  /** Streams events from the start of the invocation; every loop replays them from the first. */
  readonly events: AsyncIterable<OrchestrationEvent<TOut>>;
  private readonly stream: EventStream<OrchestrationEvent<TOut>>;
  private readonly settled: Promise<TOut>;
  private resolveSettled!: (value: TOut) => void;
  private rejectSettled!: (error: unknown) => void;
  private state: InvocationStatus = 'running';

  constructor(readonly invocationId: string, private readonly control: ResultControl) {
    this.stream = new EventStream();
    this.events = this.stream;
    this.settled = new Promise<TOut>((resolve, reject) => {
      this.resolveSettled = resolve;
      this.rejectSettled = reject;
    });
    // A failure nobody awaits must not crash the process as an unhandled rejection.
    this.settled.catch(() => {});
  }

  get status(): InvocationStatus {
    return this.state;
  }

  /** The requests waiting for a person, oldest first (empty once the run has settled). */
  get pending(): PendingRequest[] {
    return this.state === 'running' ? this.control.pending() : [];
  }

  /**
   * The output. With `timeoutMs`, rejects with an {@link OrchestrationTimeoutError} if it takes
   * longer — without cancelling; call `get` again to keep waiting.
   */
  get(timeoutMs?: number): Promise<TOut> {
    let delay: number | undefined;
    try {
      delay = timerDelay(timeoutMs, 'get(timeoutMs)');
    } catch (error) {
      return Promise.reject(error);
    }
    if (delay === undefined || this.state !== 'running') return this.settled;
    return new Promise<TOut>((resolve, reject) => {
      const timer = setTimeout(() => reject(new OrchestrationTimeoutError(`get(${timeoutMs}): invocation ${this.invocationId} did not finish in ${timeoutMs} ms; it is ${this.control.describeWait()}.`)), delay);
      this.settled.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  /**
   * The invocation as a JSON checkpoint, while it is at rest (waiting on people, nothing queued
   * or busy); `orchestration.resume(checkpoint, runtime)` carries it on, in this process or
   * another. Rejects with {@link InvocationStateError} while it is busy or once it has settled.
   * It holds the run's state (histories, routing, open requests, usage, transcript), never its
   * configuration, callbacks, clients or secrets.
   *
   * @example
   * const checkpoint = await result.checkpoint(); // after a human_input_requested event
   * writeFileSync('run.json', JSON.stringify(checkpoint));
   */
  async checkpoint(): Promise<Checkpoint> {
    this.assertRunning('checkpoint');
    if (!this.control.checkpoint) throw new InvocationStateError(`checkpoint(): invocation ${this.invocationId} cannot be checkpointed.`);
    return this.control.checkpoint();
  }

  /**
   * With `invoke`/`resume`'s `checkpointStore`: resolves once the run's latest rest point (or,
   * once it has settled, the removal of its checkpoint) has reached the store — e.g. before
   * telling a customer their conversation is safe. Resolves at once without a store.
   *
   * @example
   * for await (const event of result.events) if (event.type === 'human_input_requested') break;
   * await result.saved(); // the process may stop now: resume(result.invocationId, …) carries on
   */
  saved(): Promise<void> {
    return this.control.saved?.() ?? Promise.resolve();
  }

  /** Stops new work and aborts in-flight model calls; `get()` then rejects as cancelled. */
  cancel(): void {
    if (this.state !== 'running') throw new InvocationStateError(`cancel(): invocation ${this.invocationId} has already ${this.state === 'completed' ? 'completed' : this.state === 'cancelled' ? 'been cancelled' : 'failed'}.`);
    this.control.cancel();
  }

  /**
   * Answers a `human_input_requested` event. For a user turn, `null` or '' ends a handoff
   * conversation; for a review (`kind: 'review'`), it approves the answer.
   */
  respond(requestId: string, reply: string | ChatMessage | null): void {
    this.assertRunning('respond');
    this.control.respond(requestId, reply);
  }

  /** Approves a tool call (`approval_requested`) or a plan (`plan_review_requested`). */
  approve(requestId: string): void {
    this.assertRunning('approve');
    this.control.decide(requestId, true);
  }

  /** Rejects a tool call (the model is told, with the reason) or a plan (the reason is the feedback). */
  reject(requestId: string, reason?: string): void {
    this.assertRunning('reject');
    this.control.decide(requestId, false, reason);
  }

  /** @internal */
  _emit(event: OrchestrationEvent<TOut>): void {
    this.stream.push(event);
  }

  /** @internal */
  _resolve(output: TOut): boolean {
    if (this.state !== 'running') return false;
    this.state = 'completed';
    this.stream.push({ type: 'completed', invocationId: this.invocationId, output });
    this.stream.end();
    this.resolveSettled(output);
    return true;
  }

  /** @internal */
  _reject(error: unknown, status: 'failed' | 'cancelled' = 'failed'): boolean {
    if (this.state !== 'running') return false;
    this.state = status;
    this.stream.push({ type: 'failed', invocationId: this.invocationId, error });
    this.stream.end();
    this.rejectSettled(error);
    return true;
  }

  private assertRunning(what: string): void {
    if (this.state !== 'running') throw new InvocationStateError(`${what}(): invocation ${this.invocationId} is ${this.state}.`);
  }
}
