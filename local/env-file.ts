import { readFileSync } from 'node:fs';
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
