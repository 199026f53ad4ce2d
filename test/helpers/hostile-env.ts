import { ENV_FILES_VARIABLE } from '../../local/env-file';
import { documentedNames } from '../setup/hermetic-env';

/** Values that would visibly change a test's result if anything read them. */
const HOSTILE: Record<string, string> = {
  DINGTALK_APP_SECRET: 'hostile-app-secret-from-a-developer-env',
  DINGTALK_CLIENT_SECRET: 'hostile-client-secret',
  OPENAI_API_KEY: 'sk-hostile',
  OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
  OPENAI_API_BASE: 'http://127.0.0.1:1/v1',
  OPENAI_API_VERSION: '2024-10-21',
  FC_ENDPOINT: 'http://127.0.0.1:1',
  OSS_ENDPOINT: 'http://127.0.0.1:1',
  S3_ENDPOINT: 'http://127.0.0.1:1',
  DINGTALK_API_BASE: 'http://127.0.0.1:1',
  HISTORY_DIR: '/nonexistent/hostile-history',
  LOCAL_DATA_DIR: '/nonexistent/hostile-data',
  PORT: '1',
  HOST: '203.0.113.9',
  LOG_LEVEL: 'hostile',
  TZ: 'Hostile/Zone',
  FORCE_MOCK_OPENAI: '1',
  DINGTALK_WEBHOOK_HOSTS: 'hostile.example',
  ALLOWED_USERS: 'nobody-hostile',
  DAILY_MESSAGE_LIMIT: '-1',
  LLM_TIMEOUT_SECONDS: '0',
};

/**
 * A bogus value for every documented variable (the functions', their aliases, the local tools', s.yaml's),
 * as a developer's `.env` or shell might hold them: what the hermetic-test checks put in front of the loaders.
 */
export function hostileEnvironment(): Record<string, string> {
  return Object.fromEntries(documentedNames().filter((name) => name !== ENV_FILES_VARIABLE).map((name) => [name, HOSTILE[name] ?? `hostile-${name}`]));
}

/** The same as `.env` file text. */
export function hostileEnvFile(): string {
  return `${Object.entries(hostileEnvironment())
    .map(([name, value]) => `${name}=${value}`)
    .join('\n')}\n`;
}
