/**
 * A performance guard, not a behaviour test: XState copies a machine's context with
 * `Object.assign({}, context, update)` on every assign, and on Node 20's V8 such a copy of an
 * object literal with 20 or more properties becomes a dictionary-mode object — measured 14–17 %
 * more CPU per run for handoff-2 and sequential-5 (see the agent machine's `tools` field).
 */
import { expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { agentMachine } from '../../src/actors/agent-machine.js';

it('the agent context stays under 20 fields', () => {
  const [snapshot] = initialTransition(agentMachine, { agent: 'A', topic: null, controlTools: [{ name: 'transfer_to_B', kind: 'handoff', target: 'B' }], review: true, outOfScopePhrase: 'not mine' });
  expect(Object.keys(snapshot.context).length).toBeLessThan(20);
});
