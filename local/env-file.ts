import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/**
 * The variables of a `.env` file (`NAME=value` lines, `#` comments, quoted values), or an empty map
 * when there is no such file. Uses Node's own parser (`util.parseEnv`), the one `node --env-file` uses,
 * so a file that works here works there too.
 */
export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return {};
    throw error;
  }
  return parseEnv(text) as Record<string, string>;
}

/**
 * Copies the variables of `file` into `env` where `env` has no value yet: the shell wins over the
 * file, as with Serverless Devs' own `.env` handling (see s.yaml). Answers the names it set.
 */
export function applyEnvFile(env: Record<string, string | undefined>, file: string): string[] {
  const applied: string[] = [];
  for (const [name, value] of Object.entries(readEnvFile(file))) {
    if (env[name] === undefined || env[name] === '') {
      env[name] = value;
      applied.push(name);
    }
  }
  return applied;
}

/**
 * The variable that names the files the laptop tools read (see local/local-variables.ts). `none` turns
 * file reading off: the test setup (test/setup/hermetic-env.ts) sets it, so a developer's files never
 * reach a test.
 */
export const ENV_FILES_VARIABLE = 'LOCAL_ENV_FILES';

/**
 * The files the laptop tools read, first wins: `.env.local` holds laptop-only values (a local
 * OPENAI_BASE_URL, a HISTORY_DIR on this machine) that `s deploy` never sees, `.env` the deploy values
 * that both read. Keep in step with LOCAL_VARIABLES' default of LOCAL_ENV_FILES.
 */
export const DEFAULT_ENV_FILES: readonly string[] = ['.env.local', '.env'];

type EnvMap = Readonly<Record<string, string | undefined>>;

/**
 * The files to read, from LOCAL_ENV_FILES (comma-separated, `none` for no file) in `env`, else in this
 * process's own environment: a test run turns files off once for every tool it drives, even those
 * handed an environment object of their own. Unset means {@link DEFAULT_ENV_FILES}.
 */
export function localEnvFiles(env: EnvMap, processEnv: EnvMap = process.env): string[] {
  const setting = (env[ENV_FILES_VARIABLE]?.trim() || processEnv[ENV_FILES_VARIABLE]?.trim()) ?? '';
  if (setting === '') return [...DEFAULT_ENV_FILES];
  if (setting.toLowerCase() === 'none') return [];
  return setting
    .split(',')
    .map((file) => file.trim())
    .filter((file) => file !== '');
}

/** What {@link applyLocalEnvFiles} read: each file and the names it set. */
export interface AppliedEnvFile {
  file: string;
  names: string[];
}

/**
 * Loads the laptop tools' settings (`npm start`, `npm run chat`, `npm run doctor`) into `env`: the
 * shell first, then `.env.local`, then `.env` (each only fills what is still unset). Files are relative
 * to `dir` (default: the working directory, the project folder under npm). Answers what each file set.
 */
export function applyLocalEnvFiles(env: Record<string, string | undefined>, options: { dir?: string; processEnv?: EnvMap } = {}): AppliedEnvFile[] {
  const dir = options.dir ?? process.cwd();
  return localEnvFiles(env, options.processEnv).map((file) => ({ file, names: applyEnvFile(env, path.resolve(dir, file)) }));
}
