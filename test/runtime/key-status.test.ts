import { afterEach, describe, expect, it } from 'vitest';
import { AgentId, InProcessRuntime } from '../../src/runtime/index.js';
import { Gates, counter, gatedWorker, until } from './fixtures.js';

describe('keyStatus(key): what one key is doing', () => {
  let runtime: InProcessRuntime;
  afterEach(async () => runtime?.close());

  it('counts the key\'s actors, its queued and mailboxed messages and its busy actors, not other keys\'', async () => {
    runtime = new InProcessRuntime();
    const gates = new Gates();
    const trace: string[] = [];
    runtime.registerFactory('worker', () => gatedWorker(trace, gates));
    runtime.registerFactory('counter', () => counter);
    expect(runtime.keyStatus('k1')).toEqual({ actors: 0, queued: 0, busy: 0 });

    // Not started: messages wait in the runtime's queue.
    const first = runtime.sendMessage({ type: 'job', seq: 1 }, new AgentId('worker', 'k1'));
    const second = runtime.sendMessage({ type: 'job', seq: 2 }, new AgentId('worker', 'k1'));
    void runtime.sendMessage({ type: 'inc' }, new AgentId('counter', 'k2'));
    await until(() => runtime.keyStatus('k1').queued === 2, 'two queued for k1');
    expect(runtime.keyStatus('k1')).toEqual({ actors: 0, queued: 2, busy: 0 });
    expect(runtime.keyStatus('k2')).toEqual({ actors: 0, queued: 1, busy: 0 });

    // Started: job 1 is busy, job 2 waits in the worker's mailbox; k2 is at rest.
    runtime.start();
    await until(() => trace.includes('started:1'), 'job 1 started');
    await until(() => runtime.keyStatus('k2').queued === 0, 'k2 handled');
    expect(runtime.keyStatus('k1')).toEqual({ actors: 1, queued: 1, busy: 1 });
    expect(runtime.keyStatus('k2')).toEqual({ actors: 1, queued: 0, busy: 0 });

    gates.open(1);
    gates.open(2);
    await Promise.all([first, second]);
    await until(() => runtime.keyStatus('k1').busy === 0, 'k1 at rest');
    expect(runtime.keyStatus('k1')).toEqual({ actors: 1, queued: 0, busy: 0 });
    runtime.retireKey('k1');
    expect(runtime.keyStatus('k1')).toEqual({ actors: 0, queued: 0, busy: 0 });
  });
});
