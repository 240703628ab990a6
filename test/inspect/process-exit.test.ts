/** inspect() must never keep a program alive: not its server, not a connected tab. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collect } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/inspected-run.ts', import.meta.url));

describe('inspect() in a program', () => {
  it('lets the program exit by itself after its run, with a client still connected', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let client: ReturnType<typeof collect> | undefined;
    try {
      await expect.poll(() => /^ws (\S+)$/m.test(stdout), { timeout: 15_000 }).toBe(true);
      client = collect(/^ws (\S+)$/m.exec(stdout)![1]);
      await client.opened;

      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the program did not exit within 15 s\n${stdout}\n${stderr}`)), 15_000).unref());
      const [code, signal] = await Promise.race([exited, timeout]);
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
      expect(stdout).toContain('run done: user_ended');
      await client.closed; // the program's end closed the connection
      expect(client.messages.filter((m) => m.type === '@xstate.event' && m.sourceId).length).toBeGreaterThan(20);
    } finally {
      client?.socket.terminate();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 40_000);
});
