import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { handoffCoordinatorMachine, type HandoffCoordinatorInput } from '../../src/actors/handoff-coordinator.js';
import { humanGatewayMachine } from '../../src/actors/human-gateway.js';
import type { AgentResponse } from '../../src/actors/protocol.js';
import { commandsOf, doneEvent, invokedOf, messageEvent, reportsOf } from '../../src/testing/step.js';

type Snap = SnapshotFrom<typeof handoffCoordinatorMachine>;
const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
const ids = { Triage: { type: 'r.Triage', key: 'main' }, Refund: { type: 'r.Refund', key: 'main' } };
const input: HandoffCoordinatorInput = {
  members: ids, startAgent: 'Triage', resumeWith: 'asker', gateway: { type: 'r.gateway', key: 'main' }, end: { type: 'r.end', key: 'main' },
  maxHandoffs: 1, autonomous: {}, continuationPrompt: 'go on', checkTermination: false,
};
function said(agent: string, text: string, extra: Partial<AgentResponse> = {}): AgentResponse {
  return { type: 'agent_response', agent, text, usage, messages: [{ id: `${agent}-${text}`, role: 'assistant', name: agent, content: text }], ...extra };
}
const step = (s: Snap, e: unknown) => transition(handoffCoordinatorMachine, s, e as never);

describe('handoff coordinator (stepped)', () => {
  it('routes a handoff to its target and reports it', () => {
    const [s0] = initialTransition(handoffCoordinatorMachine, input);
    const [s1, actions] = step(s0, messageEvent(said('Triage', '', { handoff: { target: 'Refund', reason: 'money', toolCallId: 'h' } })));
    expect(s1.value).toBe('routing');
    expect(s1.context.lastAgent).toBe('Refund');
    expect(reportsOf(actions)).toEqual([{ type: 'handoff', from: 'Triage', to: 'Refund', reason: 'money' }]);
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', message: { type: 'turn_request' }, recipient: ids.Refund }]);
    // The second handoff is over maxHandoffs = 1: the run ends with that reason.
    const [s2, end] = step(s1, messageEvent(said('Refund', '', { handoff: { target: 'Triage', toolCallId: 'h2' } })));
    expect(s2.value).toBe('done');
    expect(commandsOf(end)[0]).toMatchObject({ type: 'runtime.send', recipient: input.end, message: { type: 'completion', reason: 'max_handoffs', lastAgent: 'Refund' } });
  });

  it('asks the user through the gateway after a plain reply, and routes the reply by resumeWith', () => {
    let [s] = initialTransition(handoffCoordinatorMachine, { ...input, resumeWith: 'start' });
    [s] = step(s, messageEvent(said('Triage', '', { handoff: { target: 'Refund', toolCallId: 'h' } })));
    let actions;
    [s, actions] = step(s, messageEvent(said('Refund', 'Which order?')));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', recipient: input.gateway, message: expect.objectContaining({ type: 'human_input_request', requestId: 'human_1', agent: 'Refund' }) }]);
    [s, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'human_1', message: { id: 'u', role: 'user', content: '42' } }));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', message: { type: 'turn_request' }, recipient: ids.Triage }]);
    [, actions] = step(s, messageEvent({ type: 'user_reply', requestId: 'human_2', message: null }));
    expect(commandsOf(actions)[0]).toMatchObject({ message: { type: 'completion', reason: 'user_ended' } });
  });

  it('continues autonomously up to the limit, with the continuation prompt', () => {
    let [s] = initialTransition(handoffCoordinatorMachine, { ...input, autonomous: { Triage: 1 } });
    let actions;
    [s, actions] = step(s, messageEvent(said('Triage', 'step 1')));
    expect(commandsOf(actions)).toEqual([{ type: 'runtime.send', message: { type: 'turn_request', instruction: 'go on' }, recipient: ids.Triage }]);
    [s, actions] = step(s, messageEvent(said('Triage', 'step 2')));
    expect(commandsOf(actions)[0]).toMatchObject({ message: { type: 'human_input_request', agent: 'Triage' } });
  });

  it('checks the termination condition (an invoked actor) before asking the user', () => {
    let [s] = initialTransition(handoffCoordinatorMachine, { ...input, checkTermination: true });
    let actions;
    [s, actions] = step(s, messageEvent(said('Triage', 'bye')));
    expect(s.value).toBe('checkingTerminationAfterReply');
    expect(s.hasTag('busy')).toBe(true);
    expect(invokedOf(actions)[0]).toMatchObject({ id: 'checkTermination', input: { conversation: [expect.objectContaining({ content: 'bye' })] } });
    [s, actions] = step(s, doneEvent('checkTermination', true));
    expect(s.value).toBe('done');
    expect(commandsOf(actions)[0]).toMatchObject({ message: { type: 'completion', reason: 'terminated', messages: [expect.objectContaining({ content: 'bye' })] } });
  });
});

describe('human gateway (stepped)', () => {
  const gatewayInput = { topic: { type: 'r.conversation', source: 'main' }, coordinator: { type: 'r.coordinator', key: 'main' }, useCallback: false };
  const request = { type: 'human_input_request' as const, requestId: 'human_1', agent: 'Refund', message: { id: 'm', role: 'assistant' as const, content: 'Which order?' } };

  it('reports the request, waits at rest, then broadcasts the reply and tells the coordinator', () => {
    let [s] = initialTransition(humanGatewayMachine, gatewayInput);
    let actions;
    [s, actions] = step2(s, messageEvent(request));
    expect(s.value).toBe('awaitingUser');
    expect(s.hasTag('busy')).toBe(false);
    expect(reportsOf(actions)).toEqual([{ type: 'human_input_requested', requestId: 'human_1', agent: 'Refund', message: request.message }]);
    const [same] = step2(s, messageEvent({ type: 'human_input_response', requestId: 'other', reply: 'x' }));
    expect(same.value).toBe('awaitingUser');
    [s, actions] = step2(s, messageEvent({ type: 'human_input_response', requestId: 'human_1', reply: 'order 42' }));
    expect(s.value).toBe('idle');
    const [broadcast, toCoordinator] = commandsOf(actions);
    expect(broadcast).toMatchObject({ type: 'runtime.publish', topic: gatewayInput.topic, message: { type: 'conversation', messages: [{ role: 'user', content: 'order 42' }] } });
    expect(toCoordinator).toMatchObject({ type: 'runtime.send', recipient: gatewayInput.coordinator, message: { type: 'user_reply', requestId: 'human_1', message: { content: 'order 42' } } });
  });

  it('an empty reply ends: nothing is broadcast, the coordinator hears null', () => {
    let [s] = initialTransition(humanGatewayMachine, gatewayInput);
    [s] = step2(s, messageEvent(request));
    const [, actions] = step2(s, messageEvent({ type: 'human_input_response', requestId: 'human_1', reply: '  ' }));
    expect(commandsOf(actions)).toEqual([expect.objectContaining({ type: 'runtime.send', message: { type: 'user_reply', requestId: 'human_1', message: null } })]);
  });

  it('with a callback it asks the provided askHuman actor while busy', () => {
    let [s] = initialTransition(humanGatewayMachine, { ...gatewayInput, useCallback: true });
    let actions;
    [s, actions] = step2(s, messageEvent(request));
    expect(s.value).toBe('askingCallback');
    expect(s.hasTag('busy')).toBe(true);
    expect(invokedOf(actions)[0]).toMatchObject({ id: 'askHuman', input: request });
    [s, actions] = step2(s, doneEvent('askHuman', 'yes'));
    expect(s.value).toBe('idle');
    expect(commandsOf(actions)[1]).toMatchObject({ message: { type: 'user_reply', message: { content: 'yes' } } });
  });
});

function step2(s: SnapshotFrom<typeof humanGatewayMachine>, e: unknown) {
  return transition(humanGatewayMachine, s, e as never);
}
