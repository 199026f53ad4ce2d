// Helpers to read and render s.yaml, shared by the deploy tests.
//
// Rendering runs the real Serverless Devs CLI: `s preview -t <s.yaml> -o json --output-file <file>`.
// preview only parses the YAML and resolves its variables (env(), vars, this, resources.*.props):
// it loads no component, needs no credentials and no `s config`, and makes no network request,
// so it works offline on a fresh CI machine. The child process gets a scrubbed environment:
//   - only PATH plus the variables a test passes, so nothing from the developer's shell leaks in;
//   - HOME / serverless_devs_config_home point to a temp dir, where s writes its logs and state;
//   - NODE_ENV=test, which stops s from spawning its detached daemons (update check, telemetry),
//     the only parts of the CLI that would go to the network.
// s.yaml is copied into that temp dir first, because s also loads a `.env` file beside the YAML
// (and in each code directory); a developer's gitignored .env must not change what a test sees.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listEnvReferences as parseEnvReferences, type EnvReference } from '../../local/s-yaml-env';

export type { EnvReference };

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const S_YAML_PATH = path.join(REPO_ROOT, 's.yaml');

/** The FC functions of s.yaml; each is a resource of that name. */
export const FUNCTION_NAMES = ['conversation', 'reply'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export type JsonObject = { [key: string]: unknown };

export interface RenderedResource {
  component: string;
  actions?: JsonObject;
  props: JsonObject;
}

export interface RenderedSYaml {
  edition: string;
  name: string;
  access?: unknown;
  vars?: JsonObject;
  resources: Record<string, RenderedResource>;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readSYaml(): string {
  return fs.readFileSync(S_YAML_PATH, 'utf8');
}

/** The env() references of s.yaml (see local/s-yaml-env.ts, which `npm run doctor` uses too). */
export function listEnvReferences(text: string = readSYaml()): EnvReference[] {
  return parseEnvReferences(text);
}

// Sample values that are valid where they land (a real region, a role ARN), and differ from the
// defaults so a test can tell an environment value from a default.
const SAMPLE_VALUES: Record<string, string> = {
  FC_REGION: 'cn-shanghai',
  FC_ROLE_ARN: 'acs:ram::1234567890123456:role/dingtalk-llm-test',
  CONVERSATION_FUNCTION_NAME: 'test-conversation',
  REPLY_FUNCTION_NAME: 'test-reply',
  DINGTALK_APP_SECRET: 'sample-app-secret',
  OPENAI_API_KEY: 'sk-sample',
  OPENAI_BASE_URL: 'https://llm.example.test/v1',
  OPENAI_MODEL: 'sample-model',
  LLM_TIMEOUT_SECONDS: '30',
  LLM_MAX_RETRIES: '1',
  SYSTEM_PROMPT: 'You are a test assistant.',
  HISTORY_LENGTH: '7',
  MAX_CONTEXT_TOKENS: '8000',
  OSS_BUCKET: 'sample-bucket',
  OSS_REGION: 'oss-cn-shanghai',
  OSS_ENDPOINT: 'http://127.0.0.1:9000',
  HISTORY_PREFIX: 'test-history/',
  HISTORY_DIR: '/tmp/sample-history',
  DINGTALK_WEBHOOK_HOSTS: 'oapi.dingtalk.com,api.dingtalk.com',
  WEBHOOK_TIMEOUT_SECONDS: '8',
  LOG_LEVEL: 'debug',
};

/** A value for every variable s.yaml reads; names not known here get `sample-<NAME>`. */
export function sampleEnvironment(references: EnvReference[] = listEnvReferences()): Record<string, string> {
  return Object.fromEntries(references.map(({ name }) => [name, SAMPLE_VALUES[name] ?? `sample-${name}`]));
}

function sBinary(): string {
  return require.resolve('@serverless-devs/s/bin/s');
}

/**
 * Renders s.yaml with `s preview` in a scrubbed environment holding only `env` (see the top of
 * this file). Throws with the CLI's output when s fails, e.g. on a required variable left unset.
 */
export function renderSYaml(env: Record<string, string>): RenderedSYaml {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's-preview-'));
  try {
    const home = path.join(dir, 'home');
    const project = path.join(dir, 'project');
    fs.mkdirSync(home);
    fs.mkdirSync(project);
    const template = path.join(project, 's.yaml');
    fs.copyFileSync(S_YAML_PATH, template);
    const output = path.join(dir, 'preview.json');
    try {
      execFileSync(process.execPath, [sBinary(), 'preview', '-t', template, '-o', 'json', '--output-file', output], {
        cwd: project,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          USERPROFILE: home,
          serverless_devs_config_home: home,
          NODE_ENV: 'test',
          ...env,
        },
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 60_000,
      });
    } catch (error) {
      const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`s preview failed: ${message}\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
    }
    const rendered: unknown = JSON.parse(fs.readFileSync(output, 'utf8'));
    return asRenderedSYaml(rendered);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function asRenderedSYaml(value: unknown): RenderedSYaml {
  if (!isJsonObject(value) || typeof value.edition !== 'string' || typeof value.name !== 'string' || !isJsonObject(value.resources)) {
    throw new Error(`s preview gave an unexpected document: ${JSON.stringify(value)}`);
  }
  const resources: Record<string, RenderedResource> = {};
  for (const [name, resource] of Object.entries(value.resources)) {
    if (!isJsonObject(resource) || typeof resource.component !== 'string' || !isJsonObject(resource.props)) {
      throw new Error(`resource ${name} has no component or props: ${JSON.stringify(resource)}`);
    }
    resources[name] = {
      component: resource.component,
      props: resource.props,
      ...(isJsonObject(resource.actions) ? { actions: resource.actions } : {}),
    };
  }
  return {
    edition: value.edition,
    name: value.name,
    access: value.access,
    ...(isJsonObject(value.vars) ? { vars: value.vars } : {}),
    resources,
  };
}

/** The environmentVariables of one rendered function, checked to be a string map. */
export function functionEnvironment(rendered: RenderedSYaml, fn: FunctionName): Record<string, string> {
  const resource = rendered.resources[fn];
  if (!resource) throw new Error(`s.yaml has no resource ${fn}`);
  const variables = resource.props.environmentVariables;
  if (!isJsonObject(variables)) throw new Error(`${fn} has no environmentVariables`);
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(variables)) {
    if (typeof value !== 'string') throw new Error(`${fn}: environment variable ${key} is not a string: ${JSON.stringify(value)}`);
    result[key] = value;
  }
  return result;
}

/**
 * The environment variable names each function receives from s.yaml (the keys of its
 * environmentVariables, i.e. what its code can read from process.env), sorted. Renders s.yaml
 * once with `s preview` (about half a second).
 */
export function listFunctionEnvironmentVariables(): Record<FunctionName, string[]> {
  const rendered = renderSYaml(sampleEnvironment());
  return {
    conversation: Object.keys(functionEnvironment(rendered, 'conversation')).sort(),
    reply: Object.keys(functionEnvironment(rendered, 'reply')).sort(),
  };
}
