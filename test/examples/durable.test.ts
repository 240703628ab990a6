import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteCheckpointStore } from '../../src/index.js';
import { scriptedCustomer } from '../../examples/customer-support/customer.js';
import { createScriptedModel } from '../../examples/customer-support/scripted-model.js';
import { runCustomerSupport } from '../../examples/customer-support/run.js';
import { main } from '../../examples/durable/main.js';
import { said } from '../persistence/helpers.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-durable-example-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('examples/durable', () => {
  it('starts a conversation, "stops the process" while it waits, and a second run carries on to the same end as an uninterrupted one', async () => {
    const db = join(root, 'demo.db');
    const reference = (await runCustomerSupport({ clients: createScriptedModel(), customer: scriptedCustomer(), print: () => {} }))!;

    const firstLines: string[] = [];
    const stopped = await main({ argv: [`--db=${db}`], print: (l) => firstLines.push(l), participants: { clients: createScriptedModel(), customer: scriptedCustomer() }, stopAfterWaits: 1 });
    expect(stopped).toBeNull();
    expect(firstLines[0]).toMatch(/^A new conversation/);
    const store = new SqliteCheckpointStore(db);
    expect((await store.list()).map((c) => c.pending[0].agent)).toEqual(['OrderStatus']);

    const secondLines: string[] = [];
    const output = await main({ argv: [`--db=${db}`], print: (l) => secondLines.push(l), participants: { clients: createScriptedModel(), customer: scriptedCustomer() } });
    expect(secondLines[0]).toMatch(/^Carrying on conversation run_[\w-]+ \(saved .*, \d+ messages so far\)\.$/);
    expect(said(output!.conversation)).toEqual(said(reference.conversation));
    expect(secondLines.at(-1)).toBe('Conversation ended: user_ended.');
    expect(await store.list()).toEqual([]);
    store.close();
  });
});
