// The pre-deploy check under the real Serverless Devs CLI: s renders s.yaml from the shell and the
// .env beside it, runs each resource's pre-deploy actions with that environment, and stops before the
// component when an action fails. The fc3 component is replaced by a local one that only records what
// it was asked to deploy (s loads a component from a path without the network), and `npm run build` by
// a marker, so the test sees exactly what would have been built and uploaded.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { renderedEnvironments } from '../../local/deploy-checks';
import { functionEnvironment, FUNCTION_NAMES, readSYaml, REPO_ROOT, renderSYaml, sampleEnvironment } from './s-yaml';

const run = promisify(execFile);
const CHECK = path.join(REPO_ROOT, 'dist', 'local', 'deploy-check.js');
const ROLE = 'acs:ram::1234567890123456:role/dingtalk-llm-test';
const DEPLOY_ENV = `DINGTALK_APP_SECRET=${'a'.repeat(64)}\nOPENAI_API_KEY=sk-deploy\nOSS_BUCKET=my-dingtalk-llm-history\n`;
const LAPTOP_ENV = 'OPENAI_BASE_URL=http://127.0.0.1:11434/v1\nHISTORY_DIR=/home/me/dingtalk-history\n';

describe('the deploy check renders s.yaml as s does', () => {
  it('gives each function the environment `s preview` renders, defaults and empty values included', () => {
    const env = { ...sampleEnvironment(), OPENAI_MODEL: '', SYSTEM_PROMPT: '', HISTORY_LENGTH: '9' };
    const rendered = renderSYaml(env);
    const ours = renderedEnvironments(env, readSYaml());
    for (const fn of FUNCTION_NAMES) expect(ours[fn]).toEqual(functionEnvironment(rendered, fn));
  });
});

describe('s deploy with the pre-deploy check', () => {
  let project: string;
  let home: string;

  beforeEach(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 's-deploy-'));
    home = path.join(project, '.home');
    fs.mkdirSync(home);
    const component = path.join(project, 'recording-component');
    fs.mkdirSync(component);
    fs.writeFileSync(path.join(component, 'package.json'), JSON.stringify({ name: 'recording-component', version: '0.0.0', main: 'index.js' }));
    fs.writeFileSync(
      path.join(component, 'index.js'),
      `const fs = require('fs');
module.exports = class {
  async deploy(inputs) {
    fs.appendFileSync(${JSON.stringify(path.join(project, 'uploaded.jsonl'))}, JSON.stringify({ name: inputs.props.functionName, env: inputs.props.environmentVariables }) + '\\n');
    return {};
  }
};\n`,
    );
    fs.writeFileSync(path.join(project, 's.yaml'), readSYaml().replace(/component: fc3/g, `component: ${component}`));
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({
        name: 'deploy-check-test',
        private: true,
        scripts: {
          'predeploy-check': `node ${JSON.stringify(CHECK)}`,
          build: `node -e "require('fs').appendFileSync('built.txt', process.argv[1] + '\\\\n')"`,
        },
      }),
    );
  });

  afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

  /** `s deploy -y` in the project, with only the role in the shell; resolves with the exit code and output. */
  async function deploy(): Promise<{ code: number; output: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [require.resolve('@serverless-devs/s/bin/s'), 'deploy', '-y'], {
        cwd: project,
        env: { PATH: process.env.PATH ?? '', HOME: home, USERPROFILE: home, serverless_devs_config_home: home, NODE_ENV: 'test', FC_ROLE_ARN: ROLE },
        timeout: 60_000,
      });
      return { code: 0, output: `${stdout}${stderr}` };
    } catch (error) {
      const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
      return { code: code ?? -1, output: `${stdout ?? ''}${stderr ?? ''}` };
    }
  }
  const uploaded = (): Array<{ name: string; env: Record<string, string> }> => {
    const file = path.join(project, 'uploaded.jsonl');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { name: string; env: Record<string, string> }) : [];
  };

  it('stops before building or uploading anything when laptop values in .env would be deployed', async () => {
    fs.writeFileSync(path.join(project, '.env'), DEPLOY_ENV + LAPTOP_ENV);
    const result = await deploy();
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('OPENAI_BASE_URL="http://127.0.0.1:11434/v1" (from .env)');
    expect(result.output).toContain('HISTORY_DIR="/home/me/dingtalk-history" (from .env)');
    expect(result.output).toMatch(/\[reply\] pre-action failed/);
    expect(fs.existsSync(path.join(project, 'built.txt'))).toBe(false);
    expect(uploaded()).toEqual([]);
  }, 70_000);

  it('deploys the .env values, never the .env.local ones, after checking them', async () => {
    fs.writeFileSync(path.join(project, '.env'), DEPLOY_ENV);
    fs.writeFileSync(path.join(project, '.env.local'), LAPTOP_ENV);
    const result = await deploy();
    expect(result.output).toContain('every value s.yaml will deploy can work in Function Compute');
    expect(result.code).toBe(0);
    const functions = uploaded();
    expect(functions.map((fn) => fn.name)).toEqual(['dingtalk-llm-reply', 'dingtalk-llm-conversation']);
    expect(functions[0]?.env).toMatchObject({ OPENAI_API_KEY: 'sk-deploy', OSS_BUCKET: 'my-dingtalk-llm-history', OPENAI_BASE_URL: '', HISTORY_DIR: '' });
  }, 70_000);
});
