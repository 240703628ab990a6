import { expect, it } from 'vitest';
import { main, runGroupChat, scriptedClients } from '../../examples/group-chat/main.js';

it('the group chat example runs offline: Writer, Reviewer, Writer, Editor, then the manager finishes', async () => {
  const lines: string[] = [];
  const clients = scriptedClients();
  const output = await runGroupChat(clients, (line) => lines.push(line));
  expect(lines.filter((l) => l.startsWith('  [round')).map((l) => l.replace(/ \(.*\)$/, ''))).toEqual([
    '  [round 1] → Writer', '  [round 2] → Reviewer', '  [round 3] → Writer', '  [round 4] → Editor',
  ]);
  expect(output.reason).toBe('completed');
  expect(output.messages[0]).toMatchObject({ name: 'GroupChatManager' });
  expect(Object.keys(output.usage.byAgent).sort()).toEqual(['Editor', 'GroupChatManager', 'Reviewer', 'Writer']);
  for (const client of Object.values(clients)) (client as { assertComplete(): void }).assertComplete();
});

it('main() stays offline without OPENAI_API_KEY (and with --scripted)', async () => {
  const lines: string[] = [];
  expect(await main({ OPENAI_API_KEY: 'sk-x' }, ['--scripted'], (l) => lines.push(l))).toBe(0);
  expect(lines.join('\n')).toContain('scripted (offline)');
  expect(lines.at(-2)).toMatch(/^Final \(completed\): Meet the Swift kettle/);
});
