import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentId, DuplicateAgentTypeError, InProcessRuntime, InvalidArgumentError, TopicId, TypeSubscription,
} from '../../src/runtime/index.js';
import { echo } from './fixtures.js';

describe('argument validation', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('a duplicate registerFactory throws DuplicateAgentTypeError naming the type', () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('echo', () => echo());
    const attempt = () => runtime.registerFactory('echo', () => echo());
    expect(attempt).toThrow(DuplicateAgentTypeError);
    expect(attempt).toThrow(/"echo"/);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({ code: 'duplicate_agent_type', agentType: 'echo' });
    }
  });

  it('a malformed agent type throws InvalidArgumentError naming the value', () => {
    runtime = new InProcessRuntime();
    expect(() => runtime.registerFactory('bad type!', () => echo())).toThrow(InvalidArgumentError);
    expect(() => runtime.registerFactory('bad type!', () => echo())).toThrow(/"bad type!"/);
    expect(() => new AgentId('bad type!', 'k')).toThrow(/"bad type!"/);
    expect(() => new TypeSubscription('chat', 'bad type!')).toThrow(/"bad type!"/);
    expect(() => runtime.registerFactory('', () => echo())).toThrow(InvalidArgumentError);
  });

  it('a factory that is not a function is refused', () => {
    runtime = new InProcessRuntime();
    expect(() => runtime.registerFactory('echo', echo() as never)).toThrow(/"echo".*function/);
  });

  it('a malformed agent key or sendMessage recipient is refused with the value named', async () => {
    runtime = new InProcessRuntime();
    expect(() => new AgentId('echo', 'line\nbreak')).toThrow(InvalidArgumentError);
    const error = await runtime.sendMessage({ type: 'ping' }, { type: 'no spaces', key: 'k' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain('"no spaces"');
  });

  it('a malformed topic is refused with the value named', async () => {
    runtime = new InProcessRuntime();
    expect(() => new TopicId('has space', 'r')).toThrow(InvalidArgumentError);
    expect(() => new TopicId('has space', 'r')).toThrow(/"has space"/);
    const badType = await runtime.publishMessage({ type: 'x' }, { type: 'what?', source: 'r' }).catch((e: unknown) => e);
    expect(badType).toBeInstanceOf(InvalidArgumentError);
    expect((badType as Error).message).toContain('"what?"');
    const badSource = await runtime.publishMessage({ type: 'x' }, { type: 'chat', source: '' }).catch((e: unknown) => e);
    expect(badSource).toBeInstanceOf(InvalidArgumentError);
    expect((badSource as Error).message).toContain('""');
    expect(() => new TypeSubscription('', 'echo')).toThrow(InvalidArgumentError);
  });

  it('a message without a type is refused (publish and send), naming what was given', async () => {
    runtime = new InProcessRuntime();
    const noType = await runtime.publishMessage({ text: 'hi' } as never, new TopicId('chat', 'r')).catch((e: unknown) => e);
    expect(noType).toBeInstanceOf(InvalidArgumentError);
    expect((noType as Error).message).toMatch(/"type".*keys: text/);
    const notObject = await runtime.sendMessage('hello' as never, new AgentId('echo', 'k')).catch((e: unknown) => e);
    expect(notObject).toBeInstanceOf(InvalidArgumentError);
    expect((notObject as Error).message).toContain('"hello"');
    await expect(runtime.sendMessage({ type: '' }, new AgentId('echo', 'k'))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('reserved message types (xstate.*, runtime.*) are refused', async () => {
    runtime = new InProcessRuntime();
    await expect(runtime.publishMessage({ type: 'xstate.init' }, new TopicId('chat', 'r'))).rejects.toThrow(/"xstate.init".*reserved/);
    await expect(runtime.sendMessage({ type: 'runtime.reply' }, new AgentId('echo', 'k'))).rejects.toThrow(/reserved/);
  });

  it('a factory that returns no actor logic fails the message that triggered creation', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('broken', () => ({}) as never);
    runtime.start();
    const error = await runtime.sendMessage({ type: 'ping' }, new AgentId('broken', 'k')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain('"broken"');
    await expect(runtime.stopWhenIdle()).resolves.toBeUndefined();
  });

  it('a duplicate subscription id and removing an unknown one are refused', () => {
    runtime = new InProcessRuntime();
    runtime.addSubscription(new TypeSubscription('chat', 'echo', 'sub-1'));
    expect(() => runtime.addSubscription(new TypeSubscription('chat', 'other', 'sub-1'))).toThrow(/"sub-1"/);
    expect(() => runtime.removeSubscription('nope')).toThrow(/"nope"/);
  });
});
