import { afterEach, describe, expect, it } from 'vitest';
import { AgentId, InProcessRuntime, TopicId, TypeSubscription } from '../../src/runtime/index.js';
import { Gates, gatedWorker, recorder, runtimeWithErrors, slowWorker, twoStep, until, type Delivery } from './fixtures.js';

describe('one mailbox per actor', () => {
  let runtime: InProcessRuntime;
  afterEach(() => runtime?.close());

  it('messages sent while the actor is busy in an async step are all handled, in arrival order', async () => {
    const trace: string[] = [];
    const { runtime: rt, errors } = runtimeWithErrors();
    runtime = rt;
    runtime.registerFactory('worker', () => slowWorker(trace, 3));
    runtime.start();
    const id = new AgentId('worker', 'k');
    const replies = await Promise.all([1, 2, 3, 4, 5].map((seq) => runtime.sendMessage({ type: 'job', seq }, id)));
    await runtime.stopWhenIdle();

    expect(replies).toEqual([1, 2, 3, 4, 5]);
    expect(trace).toEqual(['started:1', 'done:1', 'started:2', 'done:2', 'started:3', 'done:3', 'started:4', 'done:4', 'started:5', 'done:5']);
    expect(runtime.getActor(id)!.getSnapshot().context.handled).toBe(5);
    expect(errors).toEqual([]);
  });

  it('published messages that arrive while busy are kept too, and stopWhenIdle waits for all of them', async () => {
    const trace: string[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('worker', () => slowWorker(trace, 2));
    runtime.addSubscription(new TypeSubscription('jobs', 'worker'));
    runtime.start();
    for (let seq = 1; seq <= 4; seq++) await runtime.publishMessage({ type: 'job', seq }, new TopicId('jobs', 'k'));
    await runtime.stopWhenIdle();
    expect(trace).toEqual(['started:1', 'done:1', 'started:2', 'done:2', 'started:3', 'done:3', 'started:4', 'done:4']);
    expect(runtime.stats).toMatchObject({ queued: 0, busy: 0 });
  });

  it('messages that arrive at different times, some while busy, keep their order', async () => {
    const trace: string[] = [];
    const gates = new Gates();
    runtime = new InProcessRuntime();
    runtime.registerFactory('worker', () => gatedWorker(trace, gates));
    runtime.start();
    const id = new AgentId('worker', 'k');
    const first = runtime.sendMessage({ type: 'job', seq: 'a' }, id);
    await until(() => trace.includes('started:a'), "'a' in flight");
    expect(runtime.stats).toMatchObject({ busy: 1, queued: 0 });
    // 'b' and 'c' arrive while the worker is busy with 'a': they wait in its mailbox.
    const rest = ['b', 'c'].map((seq) => runtime.sendMessage({ type: 'job', seq }, id));
    await until(() => runtime.stats.queued === 2, "'b' and 'c' in the mailbox");
    expect(trace).toEqual(['started:a']);
    // Open the later gates first: the mailbox order, not the work's timing, decides.
    gates.open('c');
    gates.open('b');
    gates.open('a');
    expect(await Promise.all([first, ...rest])).toEqual(['a', 'b', 'c']);
    expect(trace).toEqual(['started:a', 'done:a', 'started:b', 'done:b', 'started:c', 'done:c']);
  });

  it('a busy actor does not hold up other actors', async () => {
    const trace: string[] = [];
    const log: Delivery[] = [];
    const gates = new Gates();
    runtime = new InProcessRuntime();
    runtime.registerFactory('worker', () => gatedWorker(trace, gates));
    runtime.registerFactory('rec', () => recorder(log));
    runtime.start();
    const slow = runtime.sendMessage({ type: 'job', seq: 1 }, new AgentId('worker', 'k'));
    await until(() => trace.includes('started:1'), 'the worker to start');
    await runtime.sendMessage({ type: 'quick' }, new AgentId('rec', 'k'));
    // The recorder answered while the worker is still busy (its gate is still closed).
    expect(trace).toEqual(['started:1']);
    expect(runtime.stats.busy).toBe(1);
    expect(log).toHaveLength(1);
    gates.open(1);
    await expect(slow).resolves.toBe(1);
    expect(trace).toEqual(['started:1', 'done:1']);
  });

  it('every actor of a set handles its own queue independently and completely', async () => {
    const trace: string[] = [];
    runtime = new InProcessRuntime();
    runtime.registerFactory('worker', () => slowWorker(trace, 1));
    runtime.start();
    const calls: Promise<unknown>[] = [];
    for (const key of ['x', 'y', 'z']) for (let seq = 1; seq <= 3; seq++) calls.push(runtime.sendMessage({ type: 'job', seq: `${key}${seq}` }, new AgentId('worker', key)));
    await Promise.all(calls);
    await runtime.stopWhenIdle();
    for (const key of ['x', 'y', 'z']) {
      expect(trace.filter((t) => t.includes(key))).toEqual([1, 2, 3].flatMap((n) => [`started:${key}${n}`, `done:${key}${n}`]));
    }
  });

  it('an actor busy across several async steps gets its next message only after the last one', async () => {
    runtime = new InProcessRuntime();
    runtime.registerFactory('two', () => twoStep);
    runtime.start();
    const id = new AgentId('two', 'k');
    const replies = await Promise.all([1, 2, 3].map((n) => runtime.sendMessage({ type: 'go', n }, id)));
    expect(replies).toEqual([['one', 'two'], ['one', 'two'], ['one', 'two']]);
    await runtime.stopWhenIdle();
    expect(runtime.stats).toMatchObject({ queued: 0, busy: 0 });
  });
});
