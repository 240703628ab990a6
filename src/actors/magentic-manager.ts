/**
 * The magentic manager (Magentic-One): plans (a fact sheet and a plan), lets a person review the
 * plan, tells the team, then runs rounds — a progress ledger; the request satisfied → the final
 * answer; no progress or a loop → a stall; too many stalls → a reset (members forget, a new
 * plan); otherwise the instruction is said to everyone and the named member speaks. The round
 * and reset limits end the run with a partial answer; more than `maxPlanRejections` rejected
 * plans in a row end it with a `PlanRejectedError`.
 *
 * Pure logic: what needs a model (`plan`, `replan`, `progress`, `finalAnswer`, and the
 * `reviewPlan` callback) is provided as invoked actors by the orchestration, so a test steps the
 * machine with synthetic ledgers. All state (round, stall count, reset count, ledgers) lives in
 * the context of one invocation's actor.
 */
import { and, assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { ZERO_USAGE, type ChatMessage, type Usage } from '../agents/chat-message.js';
import { BUSY_TAG, errorCommand, publishCommand, sendCommand, type AgentIdLike, type MessageEvent, type TopicIdLike } from '../runtime/index.js';
import {
  conversation, turnRequest, type AgentResponse, type Completion, type ConversationMessage, type HistoryMessage, type Kickoff,
  type PlanReviewDecision, type PlanReviewRequest, type Reset,
} from './protocol.js';
import { reportAction, reportCommand, type ActorEvent } from './events.js';
import { heardMessages } from './termination.js';
import {
  MagenticManagerError, PlanRejectedError, renderTaskLedger, type MagenticContext, type MagenticStep, type ProgressLedger, type TaskLedger,
} from './magentic-ledgers.js';

/** What a provided manager step returns: its value and the tokens it used. */
export interface MagenticStepOutput<T> {
  value: T;
  usage?: Usage;
}

/** What the provided `reviewPlan` actor (a `planReview` callback) is asked. */
export interface PlanReviewInput {
  requestId: string;
  invocationId: string;
  /** The manager's name. */
  agent: string;
  facts: string;
  plan: string;
}

/** A plan review's outcome: approved, or rejected with feedback for the replan. */
export interface PlanReviewOutcome {
  approved: boolean;
  feedback?: string;
}

export interface MagenticManagerInput {
  invocationId: string;
  /** The manager's name: author of its messages, its key in `usage.byAgent`, the asker of plan reviews. */
  name: string;
  /** This actor's id: where plan review decisions come back. */
  self: AgentIdLike;
  boundary: AgentIdLike;
  gateway: AgentIdLike;
  end: AgentIdLike;
  /** Where the manager's messages (the task ledger, instructions) are said to everyone. */
  topic: TopicIdLike;
  members: Array<{ name: string; description: string; id: AgentIdLike }>;
  maxRounds: number;
  maxStallCount: number;
  maxResets: number;
  /**
   * Rejections of one plan cycle tolerated: each one replans; one more ends the run with a
   * {@link PlanRejectedError}. An approval starts the count afresh.
   */
  maxPlanRejections: number;
  /** Who reviews each plan: nobody, a person (`plan_review_requested`), or the provided `reviewPlan` callback. */
  planReview: 'none' | 'person' | 'callback';
}

export interface MagenticManagerContext extends MagenticManagerInput {
  /** The task: what was said before the kickoff. */
  task: ChatMessage[];
  /** What the team has heard since the last reset (the manager's own broadcasts included). */
  conversation: ChatMessage[];
  ledger: TaskLedger | null;
  progress: ProgressLedger | null;
  round: number;
  stallCount: number;
  resetCount: number;
  /** Plans made so far (ids of ledger messages and review requests derive from it). */
  plans: number;
  /** Why the plan is being redone, while it is. */
  replanReason: 'stalled' | 'rejected' | null;
  /** A reviewer's words on the rejected plan, until the replan has used them. */
  feedback: string | null;
  /** The plan review waiting for its decision. */
  openReview: string | null;
  /** Plans rejected in a row since the last approved (or unreviewed) plan. */
  planRejections: number;
  /** The member asked to speak this round. */
  speaker: string | null;
  /** Why the latest round counted as a stall (null: it did not). */
  stall: string | null;
  /** The limit that ends the run with a partial answer. */
  limit: 'max_rounds' | 'max_resets' | null;
}

type ManagerEvent =
  | MessageEvent<Kickoff> | MessageEvent<ConversationMessage> | MessageEvent<HistoryMessage>
  | MessageEvent<AgentResponse> | MessageEvent<PlanReviewDecision>;

type Done<T> = { output: T };

function output<T>(event: unknown): T {
  return (event as Done<T>).output;
}

/** The task's words, as the manager's prompts quote them. */
function taskText(task: readonly ChatMessage[]): string {
  return task.map((m) => m.content).filter((c) => c.trim() !== '').join('\n\n');
}

/** What a manager step is told: a JSON snapshot of this run. */
export function magenticContextOf(context: MagenticManagerContext): MagenticContext {
  return {
    invocationId: context.invocationId,
    task: taskText(context.task),
    conversation: context.conversation,
    members: context.members.map(({ name, description }) => ({ name, description })),
    ...(context.ledger ? { ledger: context.ledger } : {}),
    round: context.round,
    stallCount: context.stallCount,
    resetCount: context.resetCount,
    ...(context.replanReason ? { replanReason: context.replanReason } : {}),
    ...(context.replanReason === 'rejected' ? { feedback: context.feedback ?? '' } : {}),
    ...(context.limit ? { limit: context.limit } : {}),
  };
}

/** Why a progress ledger makes a stall (null: it does not). */
function stallReason(context: MagenticManagerContext, ledger: ProgressLedger): string | null {
  if (ledger.isRequestSatisfied.answer) return null;
  const reasons: string[] = [];
  if (!ledger.isProgressBeingMade.answer) reasons.push('no progress');
  if (ledger.isInLoop.answer) reasons.push('in a loop');
  const speaker = ledger.nextSpeaker.answer;
  if (!context.members.some((m) => m.name === speaker)) reasons.push(`unknown next speaker ${JSON.stringify(speaker)}`);
  return reasons.length > 0 ? reasons.join(', ') : null;
}

function messageId(context: MagenticManagerContext, what: string): string {
  return `${context.invocationId}:${context.name}:${what}`;
}

/** The manager's words to the end executor only: they join the transcript and usage, not the members' history. */
function toTranscript(context: MagenticManagerContext, messages: ChatMessage[], usage: Usage | undefined): AgentResponse {
  const last = messages[messages.length - 1];
  return { type: 'agent_response', agent: context.name, messages, text: last?.content ?? '', usage: usage ?? ZERO_USAGE, outcome: { kind: 'reply' } };
}

function hasUsage(usage: Usage | undefined): boolean {
  return Boolean(usage && (usage.inputTokens || usage.outputTokens || usage.totalTokens));
}

const notProvided = (step: string) => fromPromise<never, MagenticContext>(async () => {
  throw new Error(`No magentic manager is attached (step "${step}"): provide it with magenticManagerMachine.provide({ actors }).`);
});

/**
 * A busy state that invokes the provided manager `step` with {@link magenticContextOf}: `onDone`
 * is where its answer goes; a throw fails the run with a {@link MagenticManagerError} for the step.
 */
function managerStepState<const S extends MagenticStep, const D>(step: S, onDone: D) {
  return {
    tags: [BUSY_TAG],
    invoke: {
      id: step,
      src: step,
      input: ({ context }: { context: MagenticManagerContext }) => magenticContextOf(context),
      onDone,
      onError: { target: 'done', actions: { type: 'failStep', params: { step } } },
    },
  } as const;
}

/**
 * The magentic manager's machine. Provide `plan`, `replan`, `progress`, `finalAnswer` (and
 * `reviewPlan` for a callback review) with `.provide({ actors })`; step it with `transition()`,
 * feeding `doneEvent('progress', { value: ledger })` and reading the commands it emits.
 *
 * @example
 * const [planning] = transition(magenticManagerMachine, waiting, messageEvent({ type: 'kickoff' }));
 * const [assessing, actions] = transition(magenticManagerMachine, planning, doneEvent('plan', { value: { facts, plan } }));
 * reportsOf(actions); // [{ type: 'magentic_plan', agent: 'magentic_manager', facts, plan, resetCount: 0 }]
 */
export const magenticManagerMachine = setup({
  types: {
    context: {} as MagenticManagerContext,
    input: {} as MagenticManagerInput,
    events: {} as ManagerEvent,
  },
  actors: {
    plan: notProvided('plan') as unknown as ReturnType<typeof fromPromise<MagenticStepOutput<TaskLedger>, MagenticContext>>,
    replan: notProvided('replan') as unknown as ReturnType<typeof fromPromise<MagenticStepOutput<TaskLedger>, MagenticContext>>,
    progress: notProvided('progress') as unknown as ReturnType<typeof fromPromise<MagenticStepOutput<ProgressLedger>, MagenticContext>>,
    finalAnswer: notProvided('finalAnswer') as unknown as ReturnType<typeof fromPromise<MagenticStepOutput<string | ChatMessage>, MagenticContext>>,
    reviewPlan: fromPromise<PlanReviewOutcome, PlanReviewInput>(async () => ({ approved: true })),
  },
  actions: {
    report: emit(({ context }, event: ActorEvent) => reportCommand(context.boundary, context.invocationId, event)),
    /** Before the kickoff, what is said is the task. */
    recordTask: assign(({ context, event }) => {
      const { messages } = (event as MessageEvent<ConversationMessage>).message;
      return { task: [...context.task, ...messages], conversation: [...context.conversation, ...messages] };
    }),
    recordHeard: assign({ conversation: ({ context, event }) => [...context.conversation, ...heardMessages(event)] }),
    /** A new task ledger (from `plan` or `replan`): reported, its tokens counted. */
    recordPlan: enqueueActions(({ context, event, enqueue }) => {
      const { value, usage } = output<MagenticStepOutput<TaskLedger>>(event);
      enqueue.assign({ ledger: value, plans: context.plans + 1 });
      enqueue(reportAction({ type: 'magentic_plan', agent: context.name, facts: value.facts, plan: value.plan, resetCount: context.resetCount }));
      if (hasUsage(usage)) enqueue.emit(sendCommand(toTranscript(context, [], usage), context.end));
    }),
    /** A stall reset: the round counter goes on; the stall count and the team's memory start afresh. */
    startReset: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ resetCount: context.resetCount + 1, stallCount: 0, replanReason: 'stalled' });
      const reset: Reset = { type: 'reset' };
      for (const member of context.members) enqueue.emit(sendCommand(reset, member.id));
    }),
    /** After a reset's replan, the manager too starts from the new ledger. */
    forgetConversation: assign({ conversation: [] }),
    requestPlanReview: enqueueActions(({ context, enqueue }) => {
      const requestId = messageId(context, `plan_review:${context.plans}`);
      const request: PlanReviewRequest = {
        type: 'plan_review_request', requestId, agent: context.name, facts: context.ledger!.facts, plan: context.ledger!.plan, replyTo: context.self,
      };
      enqueue.assign({ openReview: requestId });
      enqueue.emit(sendCommand(request, context.gateway));
    }),
    recordRejection: assign(({ context, event }) => ({
      openReview: null,
      planRejections: (context.planRejections ?? 0) + 1,
      replanReason: 'rejected' as const,
      feedback: 'output' in event ? output<PlanReviewOutcome>(event).feedback ?? '' : (event as MessageEvent<PlanReviewDecision>).message.feedback ?? '',
    })),
    /** The approved (or unreviewed) ledger is said to everyone. */
    broadcastLedger: enqueueActions(({ context, enqueue }) => {
      const ledger = context.ledger!;
      const message: ChatMessage = {
        id: messageId(context, `task_ledger:${context.plans}`),
        role: 'user',
        name: context.name,
        content: ledger.rendered ?? renderTaskLedger(taskText(context.task), context.members, ledger),
        metadata: { magentic: 'task_ledger', resetCount: context.resetCount },
      };
      enqueue.emit(publishCommand(conversation([message]), context.topic));
      enqueue.assign({ conversation: [...context.conversation, message], openReview: null, replanReason: null, feedback: null, planRejections: 0 });
    }),
    startRound: assign({ round: ({ context }) => context.round + 1, speaker: null }),
    recordProgress: enqueueActions(({ context, event, enqueue }) => {
      const { value: ledger, usage } = output<MagenticStepOutput<ProgressLedger>>(event);
      const stall = stallReason(context, ledger);
      const stallCount = stall ? context.stallCount + 1 : Math.max(0, context.stallCount - 1);
      enqueue.assign({ progress: ledger, stall, stallCount });
      enqueue(reportAction({ type: 'magentic_progress', agent: context.name, round: context.round, ledger, stallCount, ...(stall ? { stall } : {}) }));
      const message: ChatMessage = {
        id: messageId(context, `progress_ledger:${context.round}`),
        role: 'assistant',
        name: context.name,
        content: JSON.stringify(ledger, null, 2),
        metadata: { magentic: 'progress_ledger', round: context.round },
      };
      enqueue.emit(sendCommand(toTranscript(context, [message], usage), context.end));
    }),
    /** The instruction is said to everyone as the manager's message; only the named member is asked to speak. */
    instructSpeaker: enqueueActions(({ context, enqueue }) => {
      const ledger = context.progress!;
      const speaker = context.members.find((m) => m.name === ledger.nextSpeaker.answer)!;
      const message: ChatMessage = {
        id: messageId(context, `instruction:${context.round}`),
        role: 'user',
        name: context.name,
        content: ledger.instructionOrQuestion.answer,
        metadata: { magentic: 'instruction', round: context.round, to: speaker.name },
      };
      enqueue.emit(publishCommand(conversation([message]), context.topic));
      enqueue.emit(sendCommand(turnRequest(), speaker.id));
      enqueue.assign({ conversation: [...context.conversation, message], speaker: speaker.name });
    }),
    endAtMaxRounds: assign({ limit: 'max_rounds' as const }),
    endAtMaxResets: assign({ limit: 'max_resets' as const }),
    /** The final (or partial) answer: to the transcript, as an `agent_response` event, and as the completion. */
    complete: enqueueActions(({ context, event, enqueue }) => {
      const { value, usage } = output<MagenticStepOutput<string | ChatMessage>>(event);
      const answer: ChatMessage = typeof value === 'string'
        ? { id: messageId(context, 'answer'), role: 'assistant', name: context.name, content: value }
        : value;
      enqueue.emit(sendCommand(toTranscript(context, [answer], usage), context.end));
      enqueue(reportAction({ type: 'agent_response', agent: context.name, message: answer, messages: [answer], usage: usage ?? ZERO_USAGE }));
      const completion: Completion = { type: 'completion', reason: context.limit ?? 'completed', messages: [answer], lastAgent: context.name };
      enqueue.emit(sendCommand(completion, context.end));
    }),
    /** A manager step failed: the run fails with a {@link MagenticManagerError} naming the manager and the step. */
    failStep: emit(({ context, event }, params: { step: MagenticStep }) => errorCommand(new MagenticManagerError(context.name, params.step, {
      cause: (event as unknown as { error: unknown }).error,
      round: context.round,
    }))),
    /** Too many plans of one cycle were rejected: the run fails with a {@link PlanRejectedError}. */
    failRejected: emit(({ context }) => errorCommand(new PlanRejectedError(context.name, context.planRejections, context.maxPlanRejections, context.feedback ?? ''))),
    /** The `planReview` callback threw: the run fails with its error. */
    failReview: emit(({ event }) => errorCommand((event as unknown as { error: unknown }).error)),
  },
  guards: {
    reviewsByPerson: ({ context }) => context.planReview === 'person',
    reviewsByCallback: ({ context }) => context.planReview === 'callback',
    answersOpenReview: ({ context, event }) => (event as MessageEvent<PlanReviewDecision>).message.requestId === context.openReview,
    approvesPlan: ({ event }) => (event as MessageEvent<PlanReviewDecision>).message.approved,
    callbackApproves: ({ event }) => output<PlanReviewOutcome>(event).approved === true,
    reachedMaxRounds: ({ context }) => context.round >= context.maxRounds,
    isRequestSatisfied: ({ context }) => context.progress?.isRequestSatisfied.answer === true,
    stalledTooOften: ({ context }) => context.stallCount > context.maxStallCount,
    // A context without the limit (a checkpoint from before it existed) has no bound.
    rejectedTooOften: ({ context }) => typeof context.maxPlanRejections === 'number' && context.planRejections > context.maxPlanRejections,
    usedAllResets: ({ context }) => context.resetCount >= context.maxResets,
    hasNoKnownSpeaker: ({ context }) => !context.members.some((m) => m.name === context.progress?.nextSpeaker.answer),
    isSpeakerReply: ({ context, event }) => (event as MessageEvent<AgentResponse>).message.agent === context.speaker,
  },
}).createMachine({
  id: 'magenticManager',
  context: ({ input }) => ({
    ...input,
    task: [],
    conversation: [],
    ledger: null,
    progress: null,
    round: 0,
    stallCount: 0,
    resetCount: 0,
    plans: 0,
    replanReason: null,
    feedback: null,
    openReview: null,
    planRejections: 0,
    speaker: null,
    stall: null,
    limit: null,
  }),
  initial: 'waitingForKickoff',
  on: {
    history: { actions: 'recordHeard' },
    conversation: { actions: 'recordHeard' },
    agent_response: { actions: 'recordHeard' },
  },
  states: {
    waitingForKickoff: {
      on: {
        conversation: { actions: 'recordTask' },
        kickoff: { target: 'planning' },
      },
    },
    /** The manager surveys the facts and writes a plan. */
    planning: managerStepState('plan', { target: 'planned', actions: 'recordPlan' }),
    planned: {
      always: [
        { guard: 'reviewsByPerson', target: 'reviewingPlan.waitingForReviewer' },
        { guard: 'reviewsByCallback', target: 'reviewingPlan.askingReviewer' },
        { target: 'broadcastingPlan' },
      ],
    },
    /** A person (or the `planReview` callback) approves the plan, or rejects it with feedback. */
    reviewingPlan: {
      initial: 'waitingForReviewer',
      states: {
        /** At rest: a `plan_review_requested` event waits for `approve` / `reject`. */
        waitingForReviewer: {
          entry: 'requestPlanReview',
          on: {
            plan_review_decision: [
              { guard: and(['answersOpenReview', 'approvesPlan']), target: '#magenticManager.broadcastingPlan' },
              { guard: 'answersOpenReview', target: '#magenticManager.rejected', actions: 'recordRejection' },
            ],
          },
        },
        askingReviewer: {
          tags: [BUSY_TAG],
          invoke: {
            id: 'reviewPlan',
            src: 'reviewPlan',
            input: ({ context }) => ({
              requestId: messageId(context, `plan_review:${context.plans}`),
              invocationId: context.invocationId,
              agent: context.name,
              facts: context.ledger!.facts,
              plan: context.ledger!.plan,
            }),
            onDone: [
              { guard: 'callbackApproves', target: '#magenticManager.broadcastingPlan' },
              { target: '#magenticManager.rejected', actions: 'recordRejection' },
            ],
            onError: { target: '#magenticManager.done', actions: 'failReview' },
          },
        },
      },
    },
    /** The reviewer rejected the plan: replan, unless more than `maxPlanRejections` plans in a row were rejected. */
    rejected: {
      always: [
        { guard: 'rejectedTooOften', target: 'done', actions: 'failRejected' },
        { target: 'replanning' },
      ],
    },
    /** The reviewer rejected the plan: a new one, with the feedback. */
    replanning: managerStepState('replan', { target: 'planned', actions: 'recordPlan' }),
    broadcastingPlan: {
      entry: 'broadcastLedger',
      always: { target: 'nextRound' },
    },
    nextRound: {
      always: [
        { guard: 'reachedMaxRounds', target: 'answering', actions: 'endAtMaxRounds' },
        { target: 'assessingProgress', actions: 'startRound' },
      ],
    },
    /** The manager writes the progress ledger: done? stuck? who speaks next, and what to do. */
    assessingProgress: managerStepState('progress', { target: 'decidingNextStep', actions: 'recordProgress' }),
    decidingNextStep: {
      always: [
        { guard: 'isRequestSatisfied', target: 'answering' },
        { guard: and(['stalledTooOften', 'usedAllResets']), target: 'answering', actions: 'endAtMaxResets' },
        { guard: 'stalledTooOften', target: 'resetting' },
        { guard: 'hasNoKnownSpeaker', target: 'nextRound' },
        { target: 'waitingForMember', actions: 'instructSpeaker' },
      ],
    },
    /** At rest: the named member works on the instruction. */
    waitingForMember: {
      on: {
        agent_response: { guard: 'isSpeakerReply', target: 'nextRound', actions: 'recordHeard' },
      },
    },
    /** Too many stalls: every member forgets, and the manager revises the facts and the plan. */
    resetting: { entry: 'startReset', ...managerStepState('replan', { target: 'planned', actions: ['recordPlan', 'forgetConversation'] }) },
    /** The manager writes the final answer (partial when a limit ended the run). */
    answering: managerStepState('finalAnswer', { target: 'done', actions: 'complete' }),
    done: {},
  },
});
