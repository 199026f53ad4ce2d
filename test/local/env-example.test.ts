import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { VARIABLES } from '../../shared/config/variables';
import { renderEnvExample } from '../../local/env-example';
import { LOCAL_VARIABLES } from '../../local/local-variables';

const text = readFileSync(path.resolve(__dirname, '../../.env.example'), 'utf8');

describe('.env.example', () => {
  it('is the one generated from the variable lists (npm run docs)', () => {
    expect(text).toBe(renderEnvExample());
  });

  it('names every variable the functions and the local tools read, each with a comment above it', () => {
    for (const { name } of [...VARIABLES, ...LOCAL_VARIABLES]) {
      const line = text.split('\n').findIndex((candidate) => candidate === `${name}=` || candidate.startsWith(`# ${name}=`));
      expect(line).toBeGreaterThan(0);
      expect(text.split('\n')[line - 1]).toMatch(/^# \S/);
    }
  });

  it('sets nothing but empty required variables when copied to .env as it is', () => {
    const values = parseEnv(text);
    expect(Object.keys(values).sort()).toEqual(VARIABLES.filter((spec) => spec.required).map((spec) => spec.name).sort());
    expect(Object.values(values).every((value) => value === '')).toBe(true);
  });

  it('tells deploy values (.env, read by s deploy and checked before it) from laptop values (.env.local, never deployed), both gitignored', () => {
    expect(text).toMatch(/^# \.env {8}what `s deploy` sends/m);
    expect(text).toMatch(/^# \.env\.local {2}values for this machine only: .*\n.*s never reads it/m);
    expect(text).toContain('npm run predeploy-check');
    const ignored = readFileSync(path.resolve(__dirname, '../../.gitignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.env', '.env.local']));
  });
});
