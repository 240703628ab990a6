/**
 * The package manifest, checked offline on every `npm test` (`npm run test:package` installs the
 * real tarball into scratch apps; CI runs it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

describe('package.json', () => {
  it('exports ., ./testing and ./inspect to import and require alike, types first', () => {
    expect(Object.keys(manifest.exports)).toEqual(['.', './testing', './inspect', './package.json']);
    for (const [subpath, dir] of [['.', ''], ['./testing', 'testing/'], ['./inspect', 'inspect/']]) {
      // `default` serves both import and require (Node ≥ 20.19 loads ES modules from require).
      expect(manifest.exports[subpath]).toEqual({ types: `./dist/${dir}index.d.ts`, default: `./dist/${dir}index.js` });
      expect(Object.keys(manifest.exports[subpath])[0]).toBe('types');
      expect(existsSync(new URL(`src/${dir}index.ts`, root))).toBe(true);
    }
  });

  it('builds on npm install (prepare) and ships the license and the sources its maps point at', () => {
    expect(manifest.scripts.prepare).toBe('npm run build');
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'src', 'README.md', 'LICENSE']));
    expect(readFileSync(new URL('LICENSE', root), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} troupe contributors\n/);
  });

  it('accepts openai 6 and 7 as an optional peer; ws (for troupe/inspect) is a dependency', () => {
    expect(manifest.peerDependencies.openai).toBe('^6.0.0 || ^7.0.0');
    expect(manifest.peerDependenciesMeta.openai).toEqual({ optional: true });
    expect(manifest.dependencies.ws).toMatch(/^\^8\./);
    expect(manifest.devDependencies.ws).toBeUndefined();
  });
});
