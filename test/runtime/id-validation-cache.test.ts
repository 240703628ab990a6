/** Ids remember the types and the last key they found valid; what is invalid stays refused. */
import { expect, it } from 'vitest';
import { AgentId, TopicId, validateAgentType } from '../../src/runtime/ids.js';
import { InvalidArgumentError } from '../../src/runtime/index.js';

it('a remembered valid key or type does not let an invalid one through', () => {
  expect(new AgentId('echo', 'run-1').key).toBe('run-1');
  expect(new TopicId('chat', 'run-1').source).toBe('run-1');
  expect(() => new AgentId('echo', 'run-1\n')).toThrow(InvalidArgumentError);
  expect(() => new AgentId('echo', '')).toThrow(InvalidArgumentError);
  expect(() => new TopicId('chat', '')).toThrow(InvalidArgumentError);
  expect(() => new AgentId('echo', 42 as unknown as string)).toThrow(InvalidArgumentError);
  expect(() => new AgentId('echo!', 'run-1')).toThrow(/"echo!"/);
  expect(() => validateAgentType(undefined)).toThrow(InvalidArgumentError);
});

it('past the bound of remembered types, types are still checked and accepted', () => {
  for (let i = 0; i < 2_100; i++) validateAgentType(`type_${i}`);
  expect(() => validateAgentType('type_0')).not.toThrow();
  expect(() => validateAgentType('type 0')).toThrow(InvalidArgumentError);
  expect(new AgentId('type_2099', 'k').type).toBe('type_2099');
});
