/**
 * Tests ignore the developer's environment and `.env` files. Every variable the functions, the local
 * tools or s.yaml read (with their aliases), and every name with a prefix the bot's SDKs read
 * (OPENAI_, AWS_, ALIBABA_CLOUD_, ...), is removed from the environment, and LOCAL_ENV_FILES=none
 * tells the local tools' loader (local/env-file.ts) to read no `.env` / `.env.local`. A test that
 * needs a variable sets it itself.
 *
 * Applied twice by jest.config.js: as globalSetup, to Jest's own process before it starts its workers
 * (so the workers and every child process a test spawns inherit a clean environment), and as a
 * setupFiles module, to the copy of `process.env` each test file sees.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENV_FILES_VARIABLE } from '../../local/env-file';
import { LOCAL_VARIABLES } from '../../local/local-variables';
import { listEnvReferences } from '../../local/s-yaml-env';
import { VARIABLES } from '../../shared/config/variables';

/** Prefixes of variables the bot or its SDKs read (openai reads OPENAI_*, the AWS SDK AWS_*, ...). */
export const SCRUBBED_PREFIXES: readonly string[] = ['OPENAI_', 'AZURE_OPENAI_', 'AWS_', 'ALIBABA_CLOUD_', 'ALICLOUD_', 'DINGTALK_', 'FC_', 'OSS_', 'S3_', 'LLM_', 'HISTORY_'];

/** Every documented name: the functions' variables and aliases, the local tools' settings, s.yaml's env() calls. */
export function documentedNames(sYaml: string = readFileSync(path.resolve(__dirname, '../../s.yaml'), 'utf8')): string[] {
  const names = new Set<string>();
  for (const spec of VARIABLES) for (const name of [spec.name, ...(spec.aliases ?? [])]) names.add(name);
  for (const spec of LOCAL_VARIABLES) names.add(spec.name);
  for (const { name } of listEnvReferences(sYaml)) names.add(name);
  return [...names];
}

/** True when a test run must not inherit `name` from the developer's environment. */
export function isScrubbed(name: string, documented: readonly string[] = documentedNames()): boolean {
  return documented.includes(name) || SCRUBBED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/**
 * Makes `env` hermetic in place: removes every scrubbed name and sets LOCAL_ENV_FILES=none. Answers the
 * names it removed (a developer's values are never printed).
 */
export function makeHermetic(env: Record<string, string | undefined>): string[] {
  const documented = documentedNames();
  const removed = Object.keys(env).filter((name) => isScrubbed(name, documented));
  for (const name of removed) delete env[name];
  env[ENV_FILES_VARIABLE] = 'none';
  return removed;
}
