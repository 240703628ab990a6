/** `npm start -- --inspect`: the example starts the inspector and says what to open. */
import { describe, expect, it } from 'vitest';
import { inspectPort, main } from '../../examples/customer-support/main.js';

describe('the example with --inspect', () => {
  it('reads --inspect and --inspect=PORT', () => {
    expect(inspectPort([])).toBeUndefined();
    expect(inspectPort(['--scripted', '--inspect'])).toBe(0);
    expect(inspectPort(['--inspect=4100'])).toBe(4100);
    expect(() => inspectPort(['--inspect=web'])).toThrow(/not a port/);
  });

  it('prints the page to open, plays the conversation, closes the inspector (stdin is no terminal: no wait)', async () => {
    const lines: string[] = [];
    const code = await main({ env: {}, argv: ['--inspect'], print: (line) => lines.push(line) });
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^Stately inspector: open http:\/\/127\.0\.0\.1:\d+\/ \(the page loads https:\/\/stately\.ai\/inspect, which needs internet\)$/);
    expect(lines).toContain('Conversation ended: user_ended (last agent: Refund)');
    const url = /open (\S+)/.exec(lines[0])![1];
    await expect(fetch(url)).rejects.toThrow(); // closed
  });
});
