/**
 * Loads the function bundles of `dist/` (the very files `s deploy` ships) into this process. Each load
 * is a fresh instance: a bundle keeps its configuration for the life of its module, as an FC instance
 * does, so a new local server must not inherit the previous one's (nor share a module cache with it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { compileFunction } from 'node:vm';

/** FC's handler signature. */
export type FcHandler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * The `handler` export of `<distDir>/<name>/index.js`, evaluated anew as a CommonJS module (the
 * bundle's own `require` still resolves beside it, e.g. the tokenizer file of the reply bundle).
 */
export function loadBundle(distDir: string, name: 'conversation' | 'reply'): FcHandler {
  const file = path.resolve(distDir, name, 'index.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build`);
  const module = { exports: {} as { handler?: unknown } };
  // `process` is passed in so the bundle reads this caller's environment (the same object outside a
  // test runner's sandbox).
  const params = ['exports', 'require', 'module', '__filename', '__dirname', 'process'];
  const run = compileFunction(readFileSync(file, 'utf8'), params, { filename: file });
  run(module.exports, createRequire(file), module, file, path.dirname(file), process);
  if (typeof module.exports.handler !== 'function') throw new Error(`${file} has no handler export`);
  return module.exports.handler as FcHandler;
}
