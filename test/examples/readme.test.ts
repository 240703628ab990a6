/**
 * The README must not lie: every ```ts block in it is marked `<!-- readme-test: run -->` or
 * `<!-- readme-test: typecheck -->`; all of them are type-checked against the real API, and the
 * `run` ones are executed (imports of 'troupe', 'troupe/testing' and 'troupe/inspect' point at src/; vitest-style
 * samples run through a shim; the quick start talks to a local fake OpenAI-compatible server).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeOpenAIServer, type ReceivedRequest } from '../support/fake-openai-server.js';
import { collected } from './readme-vitest-shim.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const base = join(root, 'test/examples/.readme-samples');
const dir = join(base, String(process.pid));

interface Sample {
  line: number;
  mode: 'run' | 'typecheck' | undefined;
  code: string;
  file: string;
}

function extract(markdown: string): Sample[] {
  const lines = markdown.split('\n');
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    let j = i - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    const mode = /<!--\s*readme-test:\s*(run|typecheck)\s*-->/.exec(lines[j] ?? '')?.[1] as Sample['mode'];
    const end = lines.indexOf('```', i + 1);
    samples.push({ line: i + 1, mode, code: lines.slice(i + 1, end).join('\n'), file: join(dir, `sample-line-${i + 1}.ts`) });
    i = end;
  }
  return samples;
}

function importPath(target: string, from: string): string {
  const path = relative(dirname(from), join(root, target)).split('\\').join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/** The sample as a module in this repo: 'troupe' → src, 'vitest' → the shim. */
function rewrite(sample: Sample): string {
  return sample.code
    .replace(/from 'troupe'/g, `from '${importPath('src/index.js', sample.file)}'`)
    .replace(/from 'troupe\/testing'/g, `from '${importPath('src/testing/index.js', sample.file)}'`)
    .replace(/from 'troupe\/inspect'/g, `from '${importPath('src/inspect/index.js', sample.file)}'`)
    .replace(/from 'vitest'/g, `from '${importPath('test/examples/readme-vitest-shim.js', sample.file)}'`);
}

const samples = extract(readFileSync(join(root, 'README.md'), 'utf8'));

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  // A directory that ignores itself: nothing generated here can be committed by accident.
  writeFileSync(join(base, '.gitignore'), '*\n');
  for (const sample of samples) writeFileSync(sample.file, rewrite(sample));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('README.md', () => {
  it('has TypeScript samples, each marked run or typecheck', () => {
    expect(samples.length).toBeGreaterThanOrEqual(4);
    expect(samples.filter((s) => !s.mode).map((s) => `README.md:${s.line}`)).toEqual([]);
  });

  it('every sample type-checks against the real API', () => {
    const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram(samples.map((s) => s.file), { ...parsed.options, noEmit: true });
    const problems = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file && d.file.fileName.startsWith(dir))
      .map((d) => {
        const sample = samples.find((s) => s.file === d.file!.fileName)!;
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `README.md:${sample.line + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 60_000);

  describe('runnable samples', () => {
    let server: FakeOpenAIServer;
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL, model: process.env.OPENAI_MODEL };

    beforeAll(async () => {
      server = await FakeOpenAIServer.start();
      // Plays the quick start's model: Triage hands off, Refund calls its tool, then answers.
      server.respondWith((request: ReceivedRequest) => {
        const tools: string[] = (request.body.tools ?? []).map((t: { function: { name: string } }) => t.function.name);
        const last = request.body.messages.at(-1);
        if (tools.includes('transfer_to_Refund')) return { toolCalls: [{ id: 'call_t1', name: 'transfer_to_Refund', arguments: { reason: 'refund' } }] };
        if (last.role !== 'tool') return { toolCalls: [{ id: 'call_r1', name: 'process_refund', arguments: { order_id: '123', reason: 'arrived broken' } }] };
        return { text: 'Your refund for order 123 is on its way.' };
      });
      process.env.OPENAI_API_KEY = 'sk-readme-test';
      process.env.OPENAI_BASE_URL = server.baseURL;
      delete process.env.OPENAI_MODEL;
    });

    afterAll(async () => {
      for (const [name, value] of [['OPENAI_API_KEY', saved.key], ['OPENAI_BASE_URL', saved.url], ['OPENAI_MODEL', saved.model]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await server?.close();
    });

    for (const sample of samples.filter((s) => s.mode === 'run')) {
      it(`README.md:${sample.line} runs`, async () => {
        const logs: unknown[][] = [];
        const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(args));
        try {
          collected.length = 0;
          await import(pathToFileURL(sample.file).href);
          const tests = collected.splice(0);
          for (const t of tests) await t.fn();
          if (sample.code.includes('from \'vitest\'')) expect(tests.length).toBeGreaterThan(0);
        } finally {
          spy.mockRestore();
        }
        const printed = logs.map((args) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
        if (sample.code.includes('OpenAIChatClient')) {
          expect(printed).toEqual([
            '[tool] transfer_to_Refund({"reason":"refund"})',
            '[handoff] Triage → Refund',
            '[tool] process_refund({"order_id":"123","reason":"arrived broken"})',
            'Refund: Your refund for order 123 is on its way.',
            expect.stringMatching(/^user_ended Refund \{"inputTokens":\d+,"outputTokens":\d+,"totalTokens":\d+\}$/),
          ]);
          expect(server.requests.map((r) => r.body.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini']);
        }
        // A `console.log(…); // "text"` line promises what it prints.
        const promised = [...sample.code.matchAll(/console\.log\(.*\/\/ "(.*)"\s*$/gm)].map((m) => m[1]);
        if (promised.length > 0) expect(printed).toEqual(promised);
      });
    }
  });
});
