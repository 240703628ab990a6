/**
 * The README's "Diagrams" section shows `support.toMermaid()` for the quick start's `support`.
 * This test builds that very orchestration — it runs the quick start's own code up to the
 * runtime (no model is called: building agents and the orchestration needs no network) — and
 * checks the ```mermaid block is what `toMermaid()` renders today. When it fails, paste the
 * received string into the README block.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';
import type { Orchestration } from '../../src/index.js';
import { validateMermaid } from '../orchestrations/mermaid-validator.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
// Next to readme.test.ts's samples: that folder ignores itself, so nothing here gets committed.
const dir = join(root, 'test/examples/.readme-samples', `mermaid-${process.pid}`);

/** The fenced blocks of `lang`, in order. */
function blocks(lang: string): string[] {
  const found: string[] = [];
  const fence = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  for (const match of readme.matchAll(fence)) found.push(match[1]);
  return found;
}

/** The quick start's code that builds `support`, as a module exporting it. */
function quickStartModule(file: string): string {
  const sample = blocks('ts').find((code) => code.includes('const support = new HandoffOrchestration('));
  if (!sample) throw new Error('README.md: no ```ts block builds `const support = new HandoffOrchestration(...)` any more; update this test.');
  const end = sample.indexOf('const runtime = new InProcessRuntime();');
  if (end < 0) throw new Error('README.md: the quick start no longer creates `const runtime = new InProcessRuntime();` after `support`; update this test.');
  const src = relative(dirname(file), join(root, 'src/index.js')).split('\\').join('/');
  return `${sample.slice(0, end).replace(/from 'troupe'/g, `from '${src.startsWith('.') ? src : `./${src}`}'`)}\nexport { support };\n`;
}

afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

it('README.md\'s mermaid block is the quick start\'s support.toMermaid()', async () => {
  // The quick start's OpenAIChatClient reads its key from the environment; nothing is sent.
  vi.stubEnv('OPENAI_API_KEY', 'sk-readme-mermaid');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '*\n');
  const file = join(dir, 'quick-start.ts');
  writeFileSync(file, quickStartModule(file));
  const { support } = (await import(pathToFileURL(file).href)) as { support: Orchestration };

  const diagrams = blocks('mermaid');
  expect(diagrams).toHaveLength(1);
  expect(diagrams[0]).toBe(support.toMermaid());
  expect(validateMermaid(diagrams[0]).problems).toEqual([]);
});
