/**
 * A performance guard, not a behaviour test: XState copies a machine's context with
 * `Object.assign({}, context, update)` on every assign, and on Node 20's V8 such a copy of an
 * object literal with 20 or more properties becomes a dictionary-mode object (see
 * agent-context-size.test.ts). The handoff coordinator's context is 19 fields: a new field must
 * replace one, or move into a nested object.
 */
import { expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { handoffCoordinatorMachine, type HandoffCoordinatorInput } from '../../src/actors/handoff-coordinator.js';

it('the handoff coordinator context stays under 20 fields', () => {
  const id = (type: string) => ({ type, key: 'run' });
  const input: HandoffCoordinatorInput = {
    invocationId: 'run', self: id('manager'), boundary: id('boundary'), members: { A: id('A') }, startAgent: 'A', resumeWith: 'asker',
    gateway: id('gateway'), end: id('end'), maxHandoffs: 10, autonomous: { A: 1 }, continuationPrompt: 'go on', checkTermination: true,
  };
  const [snapshot] = initialTransition(handoffCoordinatorMachine, input);
  expect(Object.keys(snapshot.context).length).toBeLessThan(20);
  // Built without spreading the input, every input field is still there, unchanged.
  expect(snapshot.context).toMatchObject(input);
});
