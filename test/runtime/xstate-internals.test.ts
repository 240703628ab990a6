import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentId, InProcessRuntime, TopicId, TypeSubscription } from '../../src/runtime/index.js';
import { echo, recorder, type Delivery } from './fixtures.js';

type WithOptions = { options: object };

describe('XState internals the host relies on', () => {
  let runtime: InProcessRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it('the installed XState reads an actor\'s options only while constructing and starting it', () => {
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('xstate'));
    const files = readdirSync(dist).filter((f) => /^raise-.*\.cjs\.js$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const source = readFileSync(path.join(dist, file), 'utf8');
      const uses = [...source.matchAll(/^.*this\.options\b.*$/gm)].map((m) => m[0].trim());
      // constructor (declare, assign), _initState (from the constructor), start(), attachDevTools()
      expect(uses, file).toEqual([
        'this.options = void 0;',
        'this.options = resolvedOptions;',
        expect.stringContaining('this.options?.input'),
        'const initEvent = createInitEvent(this.options.input);',
        'if (this.options.devTools) {',
        '} = this.options;',
      ]);
      // attachDevTools (the last reader) is called from start() alone.
      expect(source.match(/this\.attachDevTools\(\)/g), file).toHaveLength(1);
    }
  });

  it('a started hosted actor shares one frozen empty options object, and still works: messages, restore from a snapshot, save', async () => {
    runtime = new InProcessRuntime();
    const log: Delivery[] = [];
    runtime.registerFactory('echo', () => echo(log));
    runtime.registerFactory('rec', () => recorder(log));
    runtime.addSubscription(new TypeSubscription('chat', 'rec'));
    runtime.start();
    expect(await runtime.sendMessage({ type: 'ping', n: 1 }, new AgentId('echo', 'a'))).toEqual({ pong: 1, by: 'echo/a' });
    await runtime.publishMessage({ type: 'hello' }, new TopicId('chat', 'a'));
    await runtime.stopWhenIdle();
    const a = runtime.getActor(new AgentId('echo', 'a')) as unknown as WithOptions;
    const r = runtime.getActor(new AgentId('rec', 'a')) as unknown as WithOptions & { getSnapshot(): { context: { count: number } } };
    expect(a.options).toBe(r.options);
    expect(Object.isFrozen(a.options) && Object.keys(a.options)).toEqual([]);

    const saved = await runtime.saveState();
    const fresh = new InProcessRuntime();
    fresh.registerFactory('echo', () => echo(log));
    fresh.registerFactory('rec', () => recorder(log));
    await fresh.loadState(saved);
    const restored = fresh.getActor(new AgentId('rec', 'a')) as unknown as WithOptions & { getSnapshot(): { context: { count: number } } };
    expect(restored.options).toBe(a.options); // the restored snapshot is not kept through its options either
    expect(restored.getSnapshot().context.count).toBe(1);
    fresh.start();
    expect(await fresh.sendMessage({ type: 'ping', n: 2 }, new AgentId('echo', 'a'))).toEqual({ pong: 2, by: 'echo/a' });
    await fresh.close();
  });
});
