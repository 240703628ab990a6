import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileCheckpointStore, InProcessRuntime, SqliteCheckpointStore, type OrchestrationOutput } from '../../src/index.js';
import { CUSTOMER_LINES, OPENING_LINE } from '../../examples/customer-support/customer.js';
import { createScriptedModel } from '../../examples/customer-support/scripted-model.js';
import { createSupportOrchestration, createSupportTeam } from '../../examples/customer-support/support-team.js';
import { said } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/support-process.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'troupe-two-processes-'));
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts the fixture; resolves with its first stdout line (JSON), rejects if it exits first. */
function process1Line(args: string[]): { child: ChildProcess; line: Promise<any> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  const line = new Promise<any>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end >= 0) resolve(JSON.parse(out.slice(0, end)));
    });
    child.stderr!.on('data', (chunk) => (err += chunk));
    child.on('exit', (code, signal) => reject(new Error(`fixture ${args[0]} exited (${code ?? signal}) before answering: ${err}`)));
  });
  return { child, line };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function uninterrupted(): Promise<OrchestrationOutput> {
  const runtime = new InProcessRuntime();
  runtime.start();
  try {
    const result = await createSupportOrchestration(createSupportTeam(createScriptedModel())).invoke(OPENING_LINE, runtime);
    const lines = [...CUSTOMER_LINES];
    for await (const event of result.events) if (event.type === 'human_input_requested') result.respond(event.requestId, lines.shift() ?? null);
    return await result.get();
  } finally {
    await runtime.close();
  }
}

describe.each([
  ['SqliteCheckpointStore', 'conversations.db'],
  ['FileCheckpointStore', 'conversations'],
])('two real processes, %s', (_name, file) => {
  it('process 1 runs the customer-support example until it waits for the customer and is killed with SIGKILL; process 2 resumes from the same store by invocation id and finishes: the transcript equals an uninterrupted run, the store is empty', async () => {
    const where = join(root, `${Date.now()}-${file}`);
    const reference = await uninterrupted();

    const first = process1Line(['start', where]);
    const { invocationId, pending } = await first.line;
    expect(pending).toEqual([{ requestId: `${invocationId}:human:1`, kind: 'input', agent: 'OrderStatus', recipient: expect.objectContaining({ key: invocationId }) }]);
    first.child.kill('SIGKILL');
    await exited(first.child);
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = process1Line(['resume', where, invocationId]);
    const { pending: resumedPending, output } = await second.line as { pending: unknown; output: OrchestrationOutput };
    await exited(second.child);
    expect(second.child.exitCode).toBe(0);
    expect(resumedPending).toEqual(pending);
    expect(said(output.conversation)).toEqual(said(reference.conversation));
    expect(output.reason).toBe(reference.reason);
    expect(output.lastAgent).toBe(reference.lastAgent);
    expect(output.usage).toEqual(reference.usage);

    const store = file.endsWith('.db') ? new SqliteCheckpointStore(where) : new FileCheckpointStore(where);
    expect(await store.list()).toEqual([]);
    (store as { close?: () => void }).close?.();
  }, 60_000);
});
