import { initialTransition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { agentMachine } from '../../src/actors/agent-machine.js';
import { MEMBER_STATE_KEYS } from '../../src/orchestrations/durable.js';

describe('what a checkpoint keeps of an agent actor', () => {
  it('every field of the agent context is classified: run state (kept) or configuration (from the resuming orchestration)', () => {
    const [snapshot] = initialTransition(agentMachine, { agent: 'A', topic: null });
    const configuration = [
      'agent', 'self', 'boundary', 'gateway', 'instructions', 'topic', 'tools', 'controlTools',
      'maxToolIterations', 'toolCallFilter', 'keep', 'contextWindow', 'review', 'outOfScopePhrase', 'streams',
    ];
    // A new field must be added to one list or the other: run state left out of a checkpoint would
    // be lost on resume; configuration kept in it would override the resuming orchestration's.
    expect(Object.keys(snapshot.context).sort()).toEqual([...MEMBER_STATE_KEYS, ...configuration].sort());
    expect([...MEMBER_STATE_KEYS]).toEqual(['history', 'cache', 'turn', 'deferred']);
  });
});
