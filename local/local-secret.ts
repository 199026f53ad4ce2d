/**
 * The DingTalk app secret of local mode. `npm start` and `npm run chat` run in two terminals and must
 * sign with the same secret: DINGTALK_APP_SECRET (or DINGTALK_CLIENT_SECRET) when set, else one
 * generated once and kept in `<LOCAL_DATA_DIR>/local-secret` (mode 0600, gitignored with `.data/`).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The secret and where it came from, for the start banner. */
export interface LocalSecret {
  value: string;
  source: 'environment' | 'file' | 'generated';
  /** The file it was read from or written to. */
  file?: string;
}

/** The file holding the generated secret. */
export const secretFile = (dataDir: string): string => path.join(dataDir, 'local-secret');

/** The secret from the environment or the file, or undefined when neither has one. */
export function findLocalSecret(env: Readonly<Record<string, string | undefined>>, dataDir: string): LocalSecret | undefined {
  const fromEnv = env.DINGTALK_APP_SECRET?.trim() || env.DINGTALK_CLIENT_SECRET?.trim();
  if (fromEnv) return { value: fromEnv, source: 'environment' };
  const file = secretFile(dataDir);
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (value !== '') return { value, source: 'file', file };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
  return undefined;
}

/** `findLocalSecret`, else a new random secret written to the file. */
export function localSecret(env: Readonly<Record<string, string | undefined>>, dataDir: string): LocalSecret {
  const found = findLocalSecret(env, dataDir);
  if (found !== undefined) return found;
  const value = `local-${randomBytes(24).toString('base64url')}`;
  const file = secretFile(dataDir);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, source: 'generated', file };
}
