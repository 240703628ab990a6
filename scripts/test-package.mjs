#!/usr/bin/env node
/**
 * `npm run test:package`: what an app gets from `npm install troupe`. Packs the tarball, checks
 * what it ships, installs it into two scratch apps in a temp dir (peers from the npm registry),
 * and imports every entry point there:
 *   1. with its peers: from ESM, from CommonJS (`require`, Node ≥ 20.19 loads ESM from it), and
 *      from TypeScript (`module`/`moduleResolution` nodenext, strict, both an ES module and a
 *      CommonJS one);
 *   2. without the optional `openai` peer: the same imports must run and type-check.
 * Exits non-zero with what failed; always removes its temp dir.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const devVersion = (name) => manifest.devDependencies[name];
const entryPoints = Object.keys(manifest.exports).filter((key) => key !== './package.json').map((key) => key.replace(/^\./, manifest.name));
const npmCommand = process.platform === 'win32' ? 'npm.cmd' : 'npm';

class Failure extends Error {}

const temp = mkdtempSync(join(tmpdir(), 'troupe-package-'));
const cleanUp = () => rmSync(temp, { recursive: true, force: true });
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (cleanUp(), process.exit(130)));

const started = Date.now();
const step = (text) => console.log(`[test:package ${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);

/** Runs a command; on failure, says which step failed and shows its output. */
function run(what, command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  } catch (error) {
    throw new Failure(`${what} failed (${command} ${args.join(' ')} in ${cwd}):\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
  }
}

function pack() {
  step('npm pack (runs prepare: the build)');
  const [info] = JSON.parse(run('npm pack', npmCommand, ['pack', '--json', '--pack-destination', temp], root));
  const files = new Set(info.files.map((file) => file.path));
  // Every file the exports map names (types and code) must be in the tarball.
  const exported = Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
  const missing = ['LICENSE', 'README.md', ...exported.map((path) => path.replace(/^\.\//, ''))].filter((file) => !files.has(file));
  if (missing.length) throw new Failure(`the tarball lacks ${missing.join(', ')}`);
  const stray = [...files].filter((file) => /^(test|bench|examples|scripts)\//.test(file));
  if (stray.length) throw new Failure(`the tarball ships files no app needs: ${stray.slice(0, 5).join(', ')}`);
  // Every source map must point at files the tarball ships (else debuggers show nothing).
  const unresolved = [];
  for (const map of [...files].filter((file) => file.endsWith('.map'))) {
    const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8'));
    for (const source of sources) {
      const target = relative(root, resolve(root, dirname(map), source)).split('\\').join('/');
      if (!files.has(target)) unresolved.push(`${map} → ${source}`);
    }
  }
  if (unresolved.length) throw new Failure(`source maps point at files the tarball lacks: ${unresolved.slice(0, 5).join(', ')}`);
  step(`packed ${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} kB`);
  return join(temp, info.filename);
}

/** A scratch app with the tarball and `dependencies` installed, and one file per way to import. */
function scratchApp(name, tarball, dependencies) {
  const dir = join(temp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, version: '0.0.0' }, null, 2));
  step(`${name}: npm install troupe ${dependencies.join(' ')}`);
  run(`installing the tarball into ${name}`, npmCommand, ['install', '--prefer-offline', '--no-package-lock', tarball, ...dependencies], dir);

  const checks = entryPoints.map((entry) => `check(${JSON.stringify(entry)}, troupe${entryPoints.indexOf(entry)});`).join('\n');
  const expected = `
const expected = { troupe: ['InProcessRuntime', 'HandoffOrchestration', 'ChatCompletionAgent'], 'troupe/testing': ['ScriptedChatClient'], 'troupe/inspect': ['inspect'] };
function check(entry, module) {
  for (const name of expected[entry] ?? []) if (typeof module[name] !== 'function') throw new Error(entry + ' does not export ' + name);
}`;
  writeFileSync(join(dir, 'esm.mjs'), `${entryPoints.map((entry, i) => `import * as troupe${i} from '${entry}';`).join('\n')}\n${expected}\n${checks}
// Something real: a runtime watched by the inspector (which needs ws, a dependency of troupe).
const inspector = await troupe${entryPoints.indexOf('troupe/inspect')}.inspect({ print: false });
const runtime = new troupe0.InProcessRuntime({ inspect: inspector.inspect });
runtime.start();
await runtime.stopWhenIdle();
await inspector.close();
console.log('ok');
`);
  writeFileSync(join(dir, 'cjs.cjs'), `${entryPoints.map((entry, i) => `const troupe${i} = require('${entry}');`).join('\n')}\n${expected}\n${checks}\nconsole.log('ok');\n`);
  const typed = (style) => `${entryPoints.map((entry, i) => `import * as troupe${i} from '${entry}';`).join('\n')}
import { InProcessRuntime, type OrchestrationOutput } from 'troupe';
import { ScriptedChatClient } from 'troupe/testing';
import { inspect, type Inspector } from 'troupe/inspect';

// ${style}
export async function watched(): Promise<OrchestrationOutput | undefined> {
  const inspector: Inspector = await inspect({ port: 0, print: false });
  const runtime = new InProcessRuntime({ inspect: inspector.inspect });
  void new ScriptedChatClient([{ text: 'hi' }]);
  await inspector.close();
  void runtime;
  return undefined;
}
export const modules = [${entryPoints.map((_, i) => `troupe${i}`).join(', ')}];
`;
  writeFileSync(join(dir, 'typed.mts'), typed('an ES module'));
  writeFileSync(join(dir, 'typed.cts'), typed('a CommonJS module: TypeScript compiles these imports to require()'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
    files: ['typed.mts', 'typed.cts'],
  }, null, 2));
  return dir;
}

/** Imports every entry point the three ways; `hint` explains a type error, if one is known. */
function importEverywhere(dir, hint = '') {
  for (const [how, file] of [['ESM import', 'esm.mjs'], ['CommonJS require', 'cjs.cjs']]) {
    const out = run(`${how} of ${entryPoints.join(', ')} (${dir})`, process.execPath, [file], dir);
    if (out.trim() !== 'ok') throw new Failure(`${how} printed ${JSON.stringify(out)}`);
    step(`  ${how}: ok`);
  }
  try {
    run('tsc', process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', '.'], dir);
  } catch (error) {
    throw new Failure(`TypeScript (nodenext, strict) rejects the imports in ${dir}:\n${error.message}${hint}`);
  }
  step('  TypeScript (nodenext, strict, .mts and .cts): ok');
}

try {
  const tarball = pack();
  const peers = [`xstate@${manifest.peerDependencies.xstate}`, `zod@${manifest.peerDependencies.zod}`];
  const tools = [`typescript@${devVersion('typescript')}`, `@types/node@${devVersion('@types/node')}`];

  const full = scratchApp('app-with-peers', tarball, [...peers, `openai@${devVersion('openai')}`, ...tools]);
  importEverywhere(full);

  const lean = scratchApp('app-without-openai', tarball, [...peers, ...tools]);
  if (existsSync(join(lean, 'node_modules/openai'))) throw new Failure('openai got installed although it is an optional peer');
  if (existsSync(join(lean, 'node_modules/better-sqlite3'))) throw new Failure('better-sqlite3 got installed although it is an optional peer');
  importEverywhere(lean, `\n\nAn app without the optional 'openai' peer must type-check: troupe's public types must not`
    + ` reference 'openai' (see src/agents/openai-chat-client.ts and src/agents/openai-mapping.ts).`);
  step(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`\ntest:package FAILED: ${error instanceof Failure ? error.message : error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  cleanUp();
}
