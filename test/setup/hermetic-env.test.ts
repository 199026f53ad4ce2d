import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { VARIABLES } from '../../shared/config/variables';
import { hostileEnvironment } from '../helpers/hostile-env';
import { documentedNames, makeHermetic } from './hermetic-env';

const ROOT = path.resolve(__dirname, '../..');

describe('the hermetic test environment', () => {
  it('removes every documented variable, alias, local setting and s.yaml variable, and turns .env files off', () => {
    const env: Record<string, string | undefined> = { ...hostileEnvironment(), OPENAI_ORG_ID: 'org', AWS_PROFILE: 'p', PATH: '/bin', HOME: '/home/x' };
    const removed = makeHermetic(env);
    expect(env).toEqual({ PATH: '/bin', HOME: '/home/x', LOCAL_ENV_FILES: 'none' });
    expect(removed).toEqual(expect.arrayContaining(['DINGTALK_CLIENT_SECRET', 'OPENAI_API_BASE', 'FC_ROLE_ARN', 'CONVERSATION_FUNCTION_NAME', 'PORT', 'TZ', 'AWS_PROFILE']));
  });

  it('knows every variable of the loader’s list', () => {
    for (const spec of VARIABLES) expect(documentedNames()).toContain(spec.name);
  });

  it('holds in a Jest started from a shell that sets every documented variable to a bogus value', async () => {
    const jest = require.resolve('jest/bin/jest');
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [jest, '--ci', '--reporters=default', '--testMatch', '**/test/setup/hermetic-probe.ts', '--rootDir', ROOT],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...hostileEnvironment(), LOCAL_ENV_FILES: '.env', HERMETIC_PROBE_MARKER: 'kept' }, timeout: 60_000 },
    );
    expect(`${stdout}${stderr}`).toMatch(/Tests:\s+1 passed, 1 total/);
  }, 70_000);
});
