import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyLocalEnvFiles, localEnvFiles } from '../../local/env-file';
import { hostileEnvFile, hostileEnvironment } from '../helpers/hostile-env';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'env-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the local tools read .env.local and .env', () => {
  it('takes the shell first, then .env.local, then .env', () => {
    writeFileSync(path.join(dir, '.env'), 'A=deploy\nB=deploy\nC=deploy\n');
    writeFileSync(path.join(dir, '.env.local'), 'B=laptop\nC=laptop\n');
    const env: Record<string, string | undefined> = { C: 'shell' };
    const applied = applyLocalEnvFiles(env, { dir, processEnv: {} });
    expect(env).toEqual({ A: 'deploy', B: 'laptop', C: 'shell' });
    expect(applied).toEqual([
      { file: '.env.local', names: ['B'] },
      { file: '.env', names: ['A'] },
    ]);
  });

  it('reads the files LOCAL_ENV_FILES names, and none with `none`', () => {
    expect(localEnvFiles({}, {})).toEqual(['.env.local', '.env']);
    expect(localEnvFiles({ LOCAL_ENV_FILES: ' a.env , b.env ' }, {})).toEqual(['a.env', 'b.env']);
    expect(localEnvFiles({ LOCAL_ENV_FILES: 'None' }, {})).toEqual([]);
    expect(localEnvFiles({}, { LOCAL_ENV_FILES: 'none' })).toEqual([]);
    writeFileSync(path.join(dir, 'a.env'), 'A=1\n');
    const env: Record<string, string | undefined> = { LOCAL_ENV_FILES: 'a.env' };
    applyLocalEnvFiles(env, { dir, processEnv: {} });
    expect(env.A).toBe('1');
  });

  it('reads no file in a test run, however hostile the developer’s .env and .env.local are', () => {
    writeFileSync(path.join(dir, '.env'), hostileEnvFile());
    writeFileSync(path.join(dir, '.env.local'), hostileEnvFile());
    // The test setup (test/setup/hermetic-env.ts) set LOCAL_ENV_FILES=none in this process.
    expect(process.env.LOCAL_ENV_FILES).toBe('none');
    const env: Record<string, string | undefined> = {};
    expect(applyLocalEnvFiles(env, { dir })).toEqual([]);
    expect(env).toEqual({});
    // Control: outside a test run the same files are read, every variable of them.
    const outside: Record<string, string | undefined> = {};
    applyLocalEnvFiles(outside, { dir, processEnv: {} });
    expect(outside).toEqual(hostileEnvironment());
  });
});
