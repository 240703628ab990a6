import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { humanGatewayMachine, type HumanGatewayInput, type OpenRequest } from '../../src/actors/human-gateway.js';
import type { HumanInputRequest, PlanReviewRequest, ToolApprovalRequest } from '../../src/actors/protocol.js';
import { boundaryOf, commandsOf, doneEvent, errorEvent, invokedOf, messageEvent, reportsOf } from '../../src/testing/step.js';

type Snap = SnapshotFrom<typeof humanGatewayMachine>;
const gatewayInput: HumanGatewayInput = {
  invocationId: 'inv1',
  topic: { type: 'r.conversation', source: 'inv1' },
  boundary: { type: 'r.boundary', key: '_shared' },
  useCallback: false,
};
const manager = { type: 'r.manager', key: 'inv1' };
const refund = { type: 'r.Refund', key: 'inv1' };
const planner = { type: 'r.magentic', key: 'inv1' };
const toolCall = { id: 'c1', name: 'process_refund', arguments: '{"id":500}' };

const inputRequest: HumanInputRequest = {
  type: 'human_input_request', requestId: 'inv1:human:1', kind: 'input', agent: 'Refund',
  message: { id: 'm', role: 'assistant', content: 'Which order?' }, replyTo: manager,
};
const reviewRequest: HumanInputRequest = {
  type: 'human_input_request', requestId: 'inv1:review:Refund:e1:1', kind: 'review', agent: 'Refund',
  message: { id: 'd', role: 'assistant', content: 'Refunded €10.' }, replyTo: refund,
};
const approvalRequest: ToolApprovalRequest = { type: 'tool_approval_request', requestId: 'inv1:approval:Refund:c1', agent: 'Refund', toolCall, replyTo: refund };
const planRequest: PlanReviewRequest = { type: 'plan_review_request', requestId: 'inv1:plan:1', agent: 'Manager', facts: 'F', plan: 'P', replyTo: planner };

const step = (s: Snap, e: unknown) => transition(humanGatewayMachine, s, e as never);
function open(...requests: Array<HumanInputRequest | ToolApprovalRequest | PlanReviewRequest>) {
  let [s] = initialTransition(humanGatewayMachine, gatewayInput);
  for (const r of requests) [s] = step(s, messageEvent(r));
  return s;
}
const closed = (requestId: string, kind: string) => ({ type: 'request_closed', invocationId: 'inv1', requestId, kind });

describe('human gateway (stepped): requests are reported with the right event', () => {
  it('input: human_input_requested with kind input; waits at rest', () => {
    const [s0] = initialTransition(humanGatewayMachine, gatewayInput);
    const [s, actions] = step(s0, messageEvent(inputRequest));
    expect(s.value).toBe('waiting');
    expect(s.hasTag('busy')).toBe(false);
    expect(reportsOf(actions)).toEqual([{ type: 'human_input_requested', requestId: 'inv1:human:1', agent: 'Refund', kind: 'input', message: inputRequest.message }]);
    expect(commandsOf(actions)).toEqual([]);
    expect(s.context.open).toEqual([{ requestId: 'inv1:human:1', kind: 'input', agent: 'Refund', replyTo: manager, message: inputRequest.message }]);
  });

  it('review: human_input_requested with kind review', () => {
    const [s0] = initialTransition(humanGatewayMachine, gatewayInput);
    const [, actions] = step(s0, messageEvent(reviewRequest));
    expect(reportsOf(actions)).toEqual([{ type: 'human_input_requested', requestId: reviewRequest.requestId, agent: 'Refund', kind: 'review', message: reviewRequest.message }]);
  });

  it('tool approval: approval_requested with the tool call', () => {
    const [s0] = initialTransition(humanGatewayMachine, gatewayInput);
    const [s, actions] = step(s0, messageEvent(approvalRequest));
    expect(reportsOf(actions)).toEqual([{ type: 'approval_requested', requestId: approvalRequest.requestId, agent: 'Refund', toolCall }]);
    expect(s.context.open).toEqual([{ requestId: approvalRequest.requestId, kind: 'approval', agent: 'Refund', replyTo: refund, toolCall }]);
  });

  it('plan review: plan_review_requested with facts and plan', () => {
    const [s0] = initialTransition(humanGatewayMachine, gatewayInput);
    const [s, actions] = step(s0, messageEvent(planRequest));
    expect(reportsOf(actions)).toEqual([{ type: 'plan_review_requested', requestId: 'inv1:plan:1', agent: 'Manager', facts: 'F', plan: 'P' }]);
    expect(s.context.open).toEqual([{ requestId: 'inv1:plan:1', kind: 'plan_review', agent: 'Manager', replyTo: planner, facts: 'F', plan: 'P' }]);
  });
});

describe('human gateway (stepped): answers are routed to replyTo', () => {
  it('an input reply is broadcast as a user message, sent to the asker, and closed at the boundary', () => {
    let s = open(inputRequest);
    let actions;
    [s, actions] = step(s, messageEvent({ type: 'human_input_response', requestId: 'inv1:human:1', reply: 'order 42' }));
    expect(s.value).toBe('waiting');
    const userMessage = { id: 'inv1:human:1:reply', role: 'user', content: 'order 42' };
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.publish', topic: gatewayInput.topic, message: { type: 'conversation', messages: [userMessage] } },
      { type: 'runtime.send', recipient: manager, message: { type: 'user_reply', requestId: 'inv1:human:1', message: userMessage } },
    ]);
    expect(boundaryOf(actions)).toEqual([closed('inv1:human:1', 'input')]);
    expect(s.context.open).toEqual([]);
  });

  it('an empty input reply: nothing is broadcast, the asker hears null', () => {
    const s = open(inputRequest);
    const [, actions] = step(s, messageEvent({ type: 'human_input_response', requestId: 'inv1:human:1', reply: '  ' }));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: manager, message: { type: 'user_reply', requestId: 'inv1:human:1', message: null } }]);
    expect(boundaryOf(actions)).toEqual([closed('inv1:human:1', 'input')]);
  });

  it('a review reply goes only to the reviewed agent (never broadcast); null approves', () => {
    const feedback = { id: 'f', role: 'user' as const, content: 'Say it in dollars.' };
    const [, withFeedback] = step(open(reviewRequest), messageEvent({ type: 'human_input_response', requestId: reviewRequest.requestId, reply: feedback }));
    expect(commandsOf(withFeedback)).toEqual([{ type: 'runtime.send', recipient: refund, message: { type: 'user_reply', requestId: reviewRequest.requestId, message: feedback } }]);
    expect(boundaryOf(withFeedback)).toEqual([closed(reviewRequest.requestId, 'review')]);
    const [s, approved] = step(open(reviewRequest), messageEvent({ type: 'human_input_response', requestId: reviewRequest.requestId, reply: null }));
    expect(commandsOf(approved)).toEqual([{ type: 'runtime.send', recipient: refund, message: { type: 'user_reply', requestId: reviewRequest.requestId, message: null } }]);
    expect(s.context.open).toEqual([]);
  });

  it('a human_decision on an approval becomes a tool_approval_decision (reason kept)', () => {
    const [s, actions] = step(open(approvalRequest), messageEvent({ type: 'human_decision', requestId: approvalRequest.requestId, approved: false, reason: 'too much' }));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: refund, message: { type: 'tool_approval_decision', requestId: approvalRequest.requestId, approved: false, reason: 'too much' } }]);
    expect(boundaryOf(actions)).toEqual([closed(approvalRequest.requestId, 'approval')]);
    expect(s.context.open).toEqual([]);
    const [, approved] = step(open(approvalRequest), messageEvent({ type: 'human_decision', requestId: approvalRequest.requestId, approved: true }));
    expect(commandsOf(approved)).toEqual([{ type: 'runtime.send', recipient: refund, message: { type: 'tool_approval_decision', requestId: approvalRequest.requestId, approved: true } }]);
  });

  it('a human_decision on a plan review becomes a plan_review_decision (the reason is the feedback)', () => {
    const [, rejected] = step(open(planRequest), messageEvent({ type: 'human_decision', requestId: 'inv1:plan:1', approved: false, reason: 'add a testing step' }));
    expect(commandsOf(rejected)).toEqual([{ type: 'runtime.send', recipient: planner, message: { type: 'plan_review_decision', requestId: 'inv1:plan:1', approved: false, feedback: 'add a testing step' } }]);
    expect(boundaryOf(rejected)).toEqual([closed('inv1:plan:1', 'plan_review')]);
    const [, approved] = step(open(planRequest), messageEvent({ type: 'human_decision', requestId: 'inv1:plan:1', approved: true }));
    expect(commandsOf(approved)).toEqual([{ type: 'runtime.send', recipient: planner, message: { type: 'plan_review_decision', requestId: 'inv1:plan:1', approved: true } }]);
  });

  it('unknown request ids, and answers of the wrong kind, are ignored', () => {
    const s = open(inputRequest, approvalRequest);
    const ignored = [
      { type: 'human_input_response', requestId: 'nope', reply: 'x' },
      { type: 'human_decision', requestId: 'nope', approved: true },
      // A decision does not answer a question, nor words an approval.
      { type: 'human_decision', requestId: inputRequest.requestId, approved: true },
      { type: 'human_input_response', requestId: approvalRequest.requestId, reply: 'yes' },
    ];
    for (const message of ignored) {
      const [same, actions] = step(s, messageEvent(message as never));
      expect(same.value).toBe('waiting');
      expect(commandsOf(actions)).toEqual([]);
      expect(boundaryOf(actions)).toEqual([]);
      expect(same.context.open).toEqual(s.context.open);
    }
  });

  it('an answered request is closed: answering it again does nothing', () => {
    let s = open(inputRequest);
    let first;
    [s, first] = step(s, messageEvent({ type: 'human_input_response', requestId: 'inv1:human:1', reply: 'order 42' }));
    // The first answer was taken (so the silence below is the request being closed, not every answer ignored).
    expect(boundaryOf(first)).toEqual([closed('inv1:human:1', 'input')]);
    const [, again] = step(s, messageEvent({ type: 'human_input_response', requestId: 'inv1:human:1', reply: 'order 43' }));
    expect(commandsOf(again)).toEqual([]);
    expect(boundaryOf(again)).toEqual([]);
  });

  it('several open requests at once, answered out of order, each reach their own asker', () => {
    let s = open(inputRequest, approvalRequest, planRequest);
    expect(s.context.open.map((r) => r.kind)).toEqual(['input', 'approval', 'plan_review']);
    let actions;
    [s, actions] = step(s, messageEvent({ type: 'human_decision', requestId: 'inv1:plan:1', approved: true }));
    expect(commandsOf(actions)).toEqual([expect.objectContaining({ recipient: planner, message: expect.objectContaining({ type: 'plan_review_decision' }) })]);
    [s, actions] = step(s, messageEvent({ type: 'human_decision', requestId: approvalRequest.requestId, approved: true }));
    expect(commandsOf(actions)).toEqual([expect.objectContaining({ recipient: refund, message: expect.objectContaining({ type: 'tool_approval_decision', approved: true }) })]);
    expect(s.context.open.map((r) => r.requestId)).toEqual(['inv1:human:1']);
    [s, actions] = step(s, messageEvent({ type: 'human_input_response', requestId: 'inv1:human:1', reply: 'order 42' }));
    expect(commandsOf(actions).at(-1)).toMatchObject({ recipient: manager, message: { type: 'user_reply', requestId: 'inv1:human:1' } });
    expect(boundaryOf(actions)).toEqual([closed('inv1:human:1', 'input')]);
    expect(s.context.open).toEqual([]);
  });
});

describe('human gateway (stepped): list_requests', () => {
  it('replies with the table of open requests, in the order they were made', () => {
    let s = open(inputRequest, approvalRequest);
    let actions;
    [s, actions] = step(s, messageEvent({ type: 'list_requests' }, { rpc: true }));
    const table: OpenRequest[] = [
      { requestId: 'inv1:human:1', kind: 'input', agent: 'Refund', replyTo: manager, message: inputRequest.message },
      { requestId: approvalRequest.requestId, kind: 'approval', agent: 'Refund', replyTo: refund, toolCall },
    ];
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.reply', value: table }]);
    expect(boundaryOf(actions)).toEqual([]);
    [s] = step(s, messageEvent({ type: 'human_decision', requestId: approvalRequest.requestId, approved: true }));
    [, actions] = step(s, messageEvent({ type: 'list_requests' }, { rpc: true }));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.reply', value: [table[0]] }]);
  });

  it('an empty table replies []', () => {
    const [s0] = initialTransition(humanGatewayMachine, gatewayInput);
    const [, actions] = step(s0, messageEvent({ type: 'list_requests' }, { rpc: true }));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.reply', value: [] }]);
  });
});

describe('human gateway (stepped): with a humanResponse callback', () => {
  const withCallback = { ...gatewayInput, useCallback: true };

  it('an input request invokes askHuman while busy; its answer is broadcast, sent to the asker, closed', () => {
    let [s] = initialTransition(humanGatewayMachine, withCallback);
    let actions;
    [s, actions] = step(s, messageEvent(inputRequest));
    expect(s.value).toBe('askingCallback');
    expect(s.hasTag('busy')).toBe(true);
    expect(reportsOf(actions)).toEqual([expect.objectContaining({ type: 'human_input_requested', kind: 'input' })]);
    expect(invokedOf(actions)[0]).toMatchObject({ id: 'askHuman', input: { requestId: 'inv1:human:1', invocationId: 'inv1', kind: 'input', agent: 'Refund', message: inputRequest.message } });
    // The table can be read while the callback runs.
    const [, listed] = step(s, messageEvent({ type: 'list_requests' }, { rpc: true }));
    expect(commandsOf(listed)).toEqual([{ type: 'runtime.reply', value: [expect.objectContaining({ requestId: 'inv1:human:1' })] }]);
    [s, actions] = step(s, doneEvent('askHuman', 'yes'));
    expect(s.value).toBe('waiting');
    expect(commandsOf(actions)).toEqual([
      { type: 'runtime.publish', topic: gatewayInput.topic, message: { type: 'conversation', messages: [expect.objectContaining({ role: 'user', content: 'yes' })] } },
      { type: 'runtime.send', recipient: manager, message: { type: 'user_reply', requestId: 'inv1:human:1', message: expect.objectContaining({ content: 'yes' }) } },
    ]);
    expect(boundaryOf(actions)).toEqual([closed('inv1:human:1', 'input')]);
    expect(s.context.open).toEqual([]);
    expect(s.context.asking).toBeNull();
  });

  it('a review request also goes to the callback; its answer is not broadcast', () => {
    let [s] = initialTransition(humanGatewayMachine, withCallback);
    let actions;
    [s, actions] = step(s, messageEvent(reviewRequest));
    expect(s.value).toBe('askingCallback');
    expect(invokedOf(actions)[0]).toMatchObject({ id: 'askHuman', input: { requestId: reviewRequest.requestId, kind: 'review' } });
    [s, actions] = step(s, doneEvent('askHuman', 'shorter please'));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: refund, message: { type: 'user_reply', requestId: reviewRequest.requestId, message: expect.objectContaining({ role: 'user', content: 'shorter please' }) } }]);
  });

  it('approvals and plan reviews never go to the callback: they wait at rest', () => {
    let [s] = initialTransition(humanGatewayMachine, withCallback);
    let actions;
    [s, actions] = step(s, messageEvent(approvalRequest));
    expect(s.value).toBe('waiting');
    expect(invokedOf(actions)).toEqual([]);
    [s, actions] = step(s, messageEvent(planRequest));
    expect(s.value).toBe('waiting');
    expect(invokedOf(actions)).toEqual([]);
  });

  it('a failing callback is reported on the error channel', () => {
    let [s] = initialTransition(humanGatewayMachine, withCallback);
    [s] = step(s, messageEvent(inputRequest));
    const boom = new Error('callback broke');
    const [next, actions] = step(s, errorEvent('askHuman', boom));
    expect(next.value).toBe('waiting');
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.error', error: boom }]);
  });
});

/**
 * A memory guard, not a behaviour test: an open request lives as long as its conversation waits
 * on a person. Built with an object spread at a site that has seen several shapes, V8 (Node 20)
 * gives every such object a hidden class of its own (~200 bytes per idle conversation).
 */
describe('human gateway: open requests stay small while a run waits', () => {
  it('open requests of one kind share a hidden class, whatever else the gateway has opened', () => {
    setFlagsFromString('--allow-natives-syntax');
    const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: unknown, b: unknown) => boolean;
    // Every kind, with and without a message, so the construction site has seen several shapes.
    const noMessage: HumanInputRequest = { ...inputRequest, requestId: 'inv1:human:0', message: undefined };
    for (let i = 0; i < 3; i++) open(noMessage, reviewRequest, approvalRequest, planRequest);
    const first = open({ ...inputRequest, requestId: 'a' }).context.open[0];
    const second = open({ ...inputRequest, requestId: 'b' }).context.open[0];
    expect(second).toEqual({ requestId: 'b', kind: 'input', agent: 'Refund', replyTo: manager, message: inputRequest.message });
    expect(sameMap(first, second)).toBe(true);
  });
});
