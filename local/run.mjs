// Runs one laptop tool (`npm start`, `npm run chat`, `npm run doctor`, `npm run connect`, `npm run admin`,
// `npm run predeploy-check`):
// rebuilds what is missing or stale first, then loads dist/local/<tool>.js. The tools read their
// settings from the shell, then .env.local, then .env (local/env-file.ts); the deploy check reads only
// .env, as `s deploy` does. "Stale" means a source under shared/, functions/ or
// local/ (or package.json, the build script) is newer than the bundle. Build output goes to stderr, so
// with `npm run --silent` stdout carries only the tool's own output (transcripts, pipes).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_TOOLS as TOOLS } from '../scripts/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Newest modification time of the files under `entries` (folders walked, node_modules skipped). */
function newest(entries) {
  let latest = 0;
  const visit = (file) => {
    let stats;
    try {
      stats = statSync(file);
    } catch {
      return;
    }
    if (stats.isDirectory()) {
      for (const name of readdirSync(file)) if (name !== 'node_modules') visit(path.join(file, name));
    } else latest = Math.max(latest, stats.mtimeMs);
  };
  for (const entry of entries) visit(path.join(root, entry));
  return latest;
}

/** Modification time of a bundle, 0 when missing. */
function built(file) {
  try {
    return statSync(path.join(root, 'dist', file)).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * The build targets (see scripts/build.mjs) whose bundle is older than its sources. The function
 * bundles count only for tools that run them; the deploy check (a pre-deploy action of s.yaml, before
 * s.yaml's own build action) and the admin command line (it reads the store only) need only their own file.
 */
export function staleTargets(tool) {
  const common = newest(['shared', 'package.json', 'scripts/build.mjs']);
  const targets = [];
  for (const name of tool === 'deploy-check' || tool === 'admin' ? [] : ['conversation', 'reply']) {
    if (built(`${name}/index.js`) < Math.max(common, newest([`functions/${name}`]))) targets.push(name);
  }
  const tools = Math.min(...TOOLS.map((tool) => built(`local/${tool}.js`)));
  if (tools < Math.max(common, newest(['local']))) targets.push('local');
  return targets;
}

const tool = process.argv[2];
if (!TOOLS.includes(tool)) {
  process.stderr.write(`usage: node local/run.mjs <${TOOLS.join('|')}> [arguments]\n`);
  process.exit(2);
}
const stale = staleTargets(tool);
if (stale.length > 0) {
  process.stderr.write(`building ${stale.join(', ')}...\n`);
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), ...stale], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
process.argv.splice(2, 1);
// npm runs scripts in the project folder; so does a direct call, so .env, .env.local, s.yaml and .data/ are found.
process.chdir(root);
createRequire(import.meta.url)(path.join(root, 'dist', 'local', `${tool}.js`));
