/**
 * Entry point of `npm run admin` (bundled to dist/local/admin.js): a command line over the bot's history
 * store (stats, users, history, export, delete; see local/admin-args.ts). Reads the bot's variables from the
 * shell, then .env.local, then .env (`--deployed`: .env only, as `s deploy` and `npm run doctor` do).
 */
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { applyEnvFile, localEnvFiles } from './env-file';
import type { AdminIo } from './admin-inventory';
import { runAdmin } from './admin-run';
import { localSetting } from './local-variables';

/** Asks on the terminal; without one (a pipe, a script) nobody can answer, so the answer is no. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write(`${question}no terminal to answer on: pass --yes\n`);
    return false;
  }
  const readline = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await readline.question(question)).trim());
  } finally {
    readline.close();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const env = process.env;
  const deployed = argv.includes('--deployed');
  for (const file of localEnvFiles(env)) {
    if (!deployed || path.basename(file) !== '.env.local') applyEnvFile(env, path.resolve(file));
  }
  const io: AdminIo = {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    confirm,
    now: () => Date.now(),
  };
  process.exitCode = await runAdmin(argv, { env, io, dataDir: path.resolve(localSetting(env, 'LOCAL_DATA_DIR')) });
}

void main();
