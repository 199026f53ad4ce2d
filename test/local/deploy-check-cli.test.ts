import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deployEnvironment, runDeployCheck } from '../../local/deploy-check-cli';

const S_YAML = path.resolve(__dirname, '../../s.yaml');
const SHELL = { FC_ROLE_ARN: 'acs:ram::1234567890123456:role/dingtalk-llm-role', PATH: '/usr/bin' };
const DEPLOY_ENV = 'DINGTALK_APP_SECRET=' + 'a'.repeat(64) + '\nOPENAI_API_KEY=sk-deploy\nOSS_BUCKET=my-dingtalk-llm-history\n';
const LAPTOP_ENV = 'OPENAI_BASE_URL=http://127.0.0.1:11434/v1\nHISTORY_DIR=/home/me/dingtalk-history\nDINGTALK_WEBHOOK_HOSTS=oapi.dingtalk.com,127.0.0.1\n';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'deploy-check-'));
  copyFileSync(S_YAML, path.join(dir, 's.yaml'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function check(env: Record<string, string>, argv: string[] = []): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runDeployCheck({ argv, env, cwd: dir, out: { write: (text: string) => (out += text) }, errors: { write: (text: string) => (err += text) } });
  return { code, out, err };
}

describe('npm run predeploy-check', () => {
  it('passes a deploy configuration in .env, and ignores the laptop values in .env.local', () => {
    writeFileSync(path.join(dir, '.env'), DEPLOY_ENV);
    writeFileSync(path.join(dir, '.env.local'), LAPTOP_ENV);
    const run = check(SHELL);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/every value s\.yaml will deploy can work/);
    expect(run.err).toBe('');
  });

  it('refuses laptop values that flow into the deploy through .env, on stderr with exit code 1, and says where they came from', () => {
    writeFileSync(path.join(dir, '.env'), DEPLOY_ENV + LAPTOP_ENV);
    const run = check(SHELL);
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain('OPENAI_BASE_URL="http://127.0.0.1:11434/v1" (from .env)');
    expect(run.err).toContain('HISTORY_DIR="/home/me/dingtalk-history" (from .env)');
    expect(run.err).toContain('DINGTALK_WEBHOOK_HOSTS="oapi.dingtalk.com,127.0.0.1" (from .env)');
  });

  it('refuses the empty values a copied .env.example deploys', () => {
    writeFileSync(path.join(dir, '.env'), "DINGTALK_APP_SECRET=''\nOPENAI_API_KEY=\nOSS_BUCKET=\nREPLY_FUNCTION_NAME=\n");
    const run = check(SHELL);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/DINGTALK_APP_SECRET .*is required.*set to '' in \.env/);
    expect(run.err).toMatch(/OPENAI_API_KEY is required/);
    expect(run.err).toMatch(/OSS_BUCKET or S3_BUCKET is required/);
  });

  it('lets the shell win over .env even with an empty value, as s (dotenv) does', () => {
    writeFileSync(path.join(dir, '.env'), DEPLOY_ENV);
    const run = check({ ...SHELL, OSS_BUCKET: '' });
    expect(run.code).toBe(1);
    expect(run.err).toContain("OSS_BUCKET (from the shell)");
  });

  it('reads another template with --template, and the .env beside it', () => {
    const other = path.join(dir, 'other');
    mkdirSync(other);
    copyFileSync(S_YAML, path.join(other, 'prod.yaml'));
    writeFileSync(path.join(other, '.env'), DEPLOY_ENV);
    expect(check(SHELL, ['--template', 'other/prod.yaml']).code).toBe(0);
    expect(check(SHELL, ['--template', 'missing.yaml']).code).toBe(2);
    expect(check(SHELL, ['--bogus']).code).toBe(2);
  });
});

describe('deployEnvironment', () => {
  it('adds .env values the shell lacks, keeps the shell’s own, and names where each came from', () => {
    const { env, origins } = deployEnvironment({ A: 'shell', B: '', C: 'same' }, { A: 'file', B: 'file', C: 'same', D: 'file' });
    expect(env).toEqual({ A: 'shell', B: '', C: 'same', D: 'file' });
    expect(origins).toEqual({ A: 'the shell', B: 'the shell', C: '.env', D: '.env' });
  });
});
