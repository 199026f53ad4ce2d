/**
 * The command of `npm run predeploy-check` (entry point local/deploy-check.ts), and the first pre-deploy action of each resource in s.yaml: refuses a
 * deploy whose values cannot work in Function Compute (see deploy-checks.ts), before anything is
 * uploaded. It sees what s renders from: the shell, then the `.env` beside s.yaml (s loads it with
 * dotenv, which never replaces a variable the shell has, even an empty one). It never reads
 * `.env.local`: laptop-only values stay on the laptop. Exit code 1 and the reasons on stderr make s stop.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Env } from '../shared/config/load-config';
import { deployRefusals, renderRefusals, type Origins } from './deploy-checks';
import { readEnvFile } from './env-file';

/** The environment s deploys from (the shell, then `.env` for names the shell lacks) and where each value came from. */
export function deployEnvironment(shell: Env, dotEnv: Readonly<Record<string, string>>): { env: Env; origins: Origins } {
  const env: Record<string, string | undefined> = { ...shell };
  const origins: Record<string, string> = {};
  for (const [name, value] of Object.entries(dotEnv)) {
    // Under s the shell already holds the .env values it loaded: an equal value came from the file.
    if (!(name in shell) || shell[name] === value) {
      env[name] = shell[name] ?? value;
      origins[name] = '.env';
    }
  }
  for (const name of Object.keys(shell)) origins[name] ??= 'the shell';
  return { env, origins };
}

/** Options of {@link runDeployCheck}. */
export interface DeployCheckOptions {
  argv: readonly string[];
  /** The process environment (under s: the shell plus what s loaded from .env). */
  env: Env;
  /** Folder that `--template` is relative to (the project folder). */
  cwd: string;
  out: { write(text: string): unknown };
  errors: { write(text: string): unknown };
}

/** Runs the check; answers the exit code (0 may deploy, 1 refused, 2 usage). */
export function runDeployCheck(options: DeployCheckOptions): number {
  let template: string;
  try {
    template = parseArgs({ args: [...options.argv], options: { template: { type: 'string', short: 't' } }, allowPositionals: false }).values.template ?? 's.yaml';
  } catch (error) {
    options.errors.write(`${error instanceof Error ? error.message : String(error)}\nusage: npm run predeploy-check [-- --template s.yaml]\n`);
    return 2;
  }
  const file = path.resolve(options.cwd, template);
  let sYaml: string;
  try {
    sYaml = readFileSync(file, 'utf8');
  } catch (error) {
    options.errors.write(`deploy check: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const { env, origins } = deployEnvironment(options.env, readEnvFile(path.join(path.dirname(file), '.env')));
  const refusals = deployRefusals(env, sYaml, origins);
  (refusals.length === 0 ? options.out : options.errors).write(renderRefusals(refusals));
  return refusals.length === 0 ? 0 : 1;
}

/** `npm run predeploy-check`. */
export function main(): void {
  process.exitCode = runDeployCheck({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), out: process.stdout, errors: process.stderr });
}
