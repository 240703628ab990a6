import { expect, it } from 'vitest';
import { createScriptedClients, runResearch } from '../../examples/magentic/main.js';

it('magentic example (scripted): the team stalls, resets and replans, then the researcher and the analyst finish it', async () => {
  const lines: string[] = [];
  const clients = createScriptedClients();
  const output = await runResearch(clients, (line) => lines.push(line));
  expect(output.reason).toBe('completed');
  expect(output.messages[0].content).toMatch(/^Birch had the best on-time rate last quarter: 95%.*5 points ahead of Acme/);
  expect(lines.filter((l) => l.startsWith('[plan'))).toHaveLength(2);
  expect(lines.some((l) => l.startsWith('[plan after reset 1]'))).toBe(true);
  // The round that resets asks nobody: it says so, rather than naming the ledger's next speaker.
  expect(lines.filter((l) => l.startsWith('[round '))).toEqual([
    '[round 1] → Analyst: Compute the on-time rate of Acme, Birch and Cobalt for last quarter.',
    '[round 2] stall (no progress), count 1 → Analyst: Please compute the on-time rates now.',
    '[round 3] stall (no progress), count 2 → reset',
    "[round 4] → Researcher: Look up last quarter's deliveries of Acme, Birch and Cobalt.",
    '[round 5] → Analyst: Compute each on-time rate (on time / delivered) and how far the best is ahead of the second.',
    '[round 6] → (done)',
  ]);
  expect(lines.filter((l) => l.includes('[tool] Researcher: lookup_deliveries'))).toHaveLength(3);
  expect(lines.filter((l) => l.includes('[tool] Analyst: calculate'))).toHaveLength(4);
  for (const client of Object.values(clients)) client.assertComplete();
  // After the reset the Analyst no longer sees its earlier "no figures" turns.
  const analystAfterReset = (clients.analyst as unknown as { requests: Array<{ messages: Array<{ content: string }> }> }).requests[2];
  expect(analystAfterReset.messages.map((m) => m.content).join('\n')).not.toContain('I have no delivery figures');
});
