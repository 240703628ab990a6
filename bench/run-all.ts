/**
 * Runs every `bench/*.bench.ts` in turn, each in its own Node process (through tsx) so that one
 * benchmark's JIT state and heap do not colour the next. Usage: `npm run bench [-- filter]`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts') && (!filter || name.includes(filter)))
  .sort();

if (files.length === 0) {
  console.error(filter ? `No bench/*.bench.ts matches "${filter}".` : 'No bench/*.bench.ts files.');
  process.exit(1);
}

let failed = 0;
for (const name of files) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, name)], { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production' } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    failed++;
    console.error(`=== ${name} FAILED (exit ${result.status ?? result.signal}) after ${seconds}s ===`);
  } else {
    console.log(`=== ${name} done in ${seconds}s ===`);
  }
}
process.exit(failed === 0 ? 0 : 1);
