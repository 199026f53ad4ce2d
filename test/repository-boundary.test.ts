/**
 * A clone must work on its own: no source, script, test or configuration file may read a path outside
 * the repository (the reference folder that sat beside it while the project was written included).
 * Fixtures the tests need live in test/fixtures/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.data', '.s', 'coverage']);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs|json|ya?ml|sh)$/;
const THIS_FILE = path.relative(ROOT, __filename);

/** The repository's source files (code, scripts, configuration), relative to the root. */
function sourceFiles(dir = ROOT): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) files.push(...sourceFiles(full));
    } else if (SOURCE.test(entry.name) || path.relative(ROOT, full) === path.join('.ci', 'run')) {
      files.push(path.relative(ROOT, full));
    }
  }
  return files;
}

/**
 * Where `file` refers to the shared folder beside the repository: a relative path that climbs above the
 * root into `shared`, or the reference folder by name. (Climbing paths to anything else are allowed:
 * the path-escape tests use them as hostile input.)
 */
export function outsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  const dir = path.dirname(path.join(ROOT, file));
  for (const match of text.matchAll(/((?:\.\.\/)+)(shared)\b/g)) {
    const target = path.resolve(dir, match[1] as string, match[2] as string);
    if (path.relative(ROOT, target).startsWith('..')) found.push(match[0]);
  }
  for (const match of text.matchAll(/(?:\/work\/|\.\.\/)?shared\/reference\b/g)) found.push(match[0]);
  return found;
}

describe('the repository boundary', () => {
  const files = sourceFiles().filter((file) => file !== THIS_FILE);

  it('finds the sources it checks', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'jest.config.js', 's.yaml', path.join('test', 'helpers', 'fixtures.ts')]));
  });

  it('has no source file that refers to a folder outside the repository', () => {
    const offenders = files.flatMap((file) => outsideReferences(file, readFileSync(path.join(ROOT, file), 'utf8')).map((ref) => `${file}: ${ref}`));
    expect(offenders).toEqual([]);
  });

  it('would notice a test that reads the reference folder beside the repository', () => {
    // The old fixtures path, spelled in pieces so that this guard's own source names no outside folder.
    const oldFixtures = `path.resolve(__dirname, '../../../${['shared', 'reference'].join('/')}')`;
    expect(outsideReferences('test/helpers/fixtures.ts', oldFixtures)).not.toEqual([]);
    expect(outsideReferences('test/deploy/x.test.ts', "'../../../shared/x.json'")).toEqual(['../../../shared']);
    expect(outsideReferences('test/shared/core/x.test.ts', "import '../../../shared/core/handle-reply'")).toEqual([]);
  });
});
