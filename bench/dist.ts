import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The repository's root (the launcher pins `__dirname` to bench/). */
export const ROOT = path.resolve(__dirname, '..');
/** The functions s.yaml deploys, each bundled to dist/<name>/index.js. */
export const FUNCTIONS = ['conversation', 'reply'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** dist/<name>/index.js: the file FC loads (`handler: index.handler`). */
export const bundlePath = (name: FunctionName): string => path.join(ROOT, 'dist', name, 'index.js');

function newestMtime(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(target).reduce((newest, entry) => Math.max(newest, newestMtime(path.join(target, entry))), stat.mtimeMs);
}

/** Whether a bundle is missing or older than the sources it is built from. */
export function distIsStale(): boolean {
  const sources = Math.max(...['shared', 'functions', 'scripts', 'package-lock.json'].map((entry) => newestMtime(path.join(ROOT, entry))));
  return FUNCTIONS.some((name) => !existsSync(bundlePath(name)) || statSync(bundlePath(name)).mtimeMs < sources);
}

/** Runs `npm run build`'s script, so the bench measures what `s deploy` would ship. Throws when it fails. */
export function buildDist(): void {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the build failed (exit ${String(result.status)})`);
}

/** Size in KB of each function's bundle (dist/<name>/index.js, the code loaded at a cold start). */
export function bundleKb(name: FunctionName): number {
  return statSync(bundlePath(name)).size / 1024;
}

/** Size in KB of everything in dist/<name>/ (source map and files loaded on demand included): what s deploy uploads. */
export function deployedKb(name: FunctionName): number {
  const dir = path.dirname(bundlePath(name));
  return readdirSync(dir).reduce((sum, entry) => sum + statSync(path.join(dir, entry)).size, 0) / 1024;
}
