/**
 * `npm run doctor`'s checks: the configuration the functions would load once deployed (the shell and
 * `.env`, completed with s.yaml's defaults), then the services it names: one 1-token LLM request, a
 * probe object written, read and deleted in the history store, the webhook allowlist, and s.yaml
 * against the loader's list. Each check is a row: pass, fail or skip, what was found, what to do.
 */
import { randomBytes } from 'node:crypto';
import { createObjectStore } from '../shared/adapters/create-object-store';
import { createOpenAiLlm } from '../shared/adapters/openai-llm';
import { loadConversationConfig, loadReplyConfig, preview, type Env, type ReplyConfig } from '../shared/config/load-config';
import { variable } from '../shared/config/variables';
import { LlmRefusedError, LlmUnavailableError, StorageError } from '../shared/errors';
import { listEnvReferences, sYamlProblems } from './s-yaml-env';

/** One row of the doctor's table. */
export interface DoctorRow {
  check: string;
  status: 'pass' | 'fail' | 'skip';
  /** What was found; never a secret (at most its first 4 characters). */
  detail: string;
  /** What to do, for a failure. */
  fix?: string;
}

/** Options of `runDoctor`. */
export interface DoctorOptions {
  /** The shell's environment, with `.env` applied. */
  env: Env;
  /** The text of s.yaml, or undefined when there is none. */
  sYaml: string | undefined;
  /** Timeout of the LLM probe. Default 15 s. */
  llmTimeoutMs?: number;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The environment a deployed function would see: the given one, with s.yaml's env() defaults where a
 * variable is unset (s treats '' as unset too).
 */
export function deployedEnvironment(env: Env, sYaml: string | undefined): Env {
  const out: Record<string, string | undefined> = { ...env };
  if (sYaml === undefined) return out;
  for (const { name, defaultValue } of listEnvReferences(sYaml)) {
    if ((out[name] ?? '') === '' && defaultValue !== undefined && defaultValue !== '') out[name] = defaultValue;
  }
  return out;
}

function configRow(check: string, load: () => unknown): DoctorRow {
  try {
    load();
    return { check, status: 'pass', detail: 'every required variable is set and well-formed' };
  } catch (error) {
    return { check, status: 'fail', detail: message(error).replace(/^.*incomplete:\n/, ''), fix: 'set or correct the variables listed (see .env.example)' };
  }
}

/** A DingTalk Client Secret: 64 letters, digits, `-` and `_` (accept 32 to 128). */
function secretRow(env: Env): DoctorRow {
  const check = 'app secret format';
  const value = (env.DINGTALK_APP_SECRET?.trim() || env.DINGTALK_CLIENT_SECRET?.trim()) ?? '';
  if (value === '') return { check, status: 'skip', detail: 'DINGTALK_APP_SECRET is not set' };
  if (/^[A-Za-z0-9_-]{32,128}$/.test(value)) return { check, status: 'pass', detail: `${preview(value)} looks like a Client Secret` };
  return {
    check,
    status: 'fail',
    detail: `${preview(value)} does not look like a DingTalk Client Secret (about 64 letters, digits, - and _)`,
    fix: `copy it again, without quotes or spaces: ${variable('DINGTALK_APP_SECRET').where ?? ''}`,
  };
}

async function llmRow(config: ReplyConfig, timeoutMs: number): Promise<DoctorRow> {
  const check = 'LLM answers';
  const where = `${config.llm.model} at ${config.llm.baseURL}`;
  const llm = createOpenAiLlm({ ...config.llm, maxRetries: 0, timeoutMs: Math.min(config.llm.timeoutMs, timeoutMs) }, { maxTokens: 1 });
  try {
    await llm.complete([{ role: 'user', content: 'Reply with one word: ok' }]);
    return { check, status: 'pass', detail: `${where} answered a 1-token request` };
  } catch (error) {
    if (error instanceof LlmRefusedError && error.reason === 'empty') return { check, status: 'pass', detail: `${where} answered (empty at 1 token)` };
    if (error instanceof LlmRefusedError && error.reason === 'auth') {
      return { check, status: 'fail', detail: `${where} refused the API key (${error.status ?? 401})`, fix: 'check OPENAI_API_KEY: a key of this provider, copied whole' };
    }
    if (error instanceof LlmRefusedError && error.reason === 'model') {
      return { check, status: 'fail', detail: `${where}: unknown model or path (404)`, fix: "check OPENAI_MODEL (a model your key may use) and OPENAI_BASE_URL (see the README's provider table)" };
    }
    const unreachable = error instanceof LlmRefusedError && error.reason === 'endpoint';
    if (unreachable || (error instanceof LlmUnavailableError && (error.reason === 'network' || error.reason === 'timeout'))) {
      return {
        check,
        status: 'fail',
        detail: `${new URL(config.llm.baseURL).host} ${unreachable || error.reason === 'network' ? 'could not be reached' : 'did not answer in time'}`,
        fix: 'check OPENAI_BASE_URL, and that this machine (and the reply function) can reach it',
      };
    }
    return { check, status: 'fail', detail: `${where}: ${message(error)}`, fix: 'check OPENAI_BASE_URL, OPENAI_MODEL and the provider status' };
  }
}

async function historyRow(config: ReplyConfig): Promise<DoctorRow> {
  const check = 'history store';
  const key = `${config.history.prefix}doctor-probe/${randomBytes(6).toString('hex')}.txt`;
  const body = Buffer.from('npm run doctor probe; safe to delete\n');
  let where = config.history.kind === 'filesystem' ? config.history.dir : `${config.history.kind.toUpperCase()} bucket ${config.history.bucket}`;
  try {
    const store = createObjectStore(config.history, {
      region: () => config.region,
      credentials: () => {
        if (config.credentials === undefined) throw new StorageError('write', 'no access key to test with: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');
        return config.credentials;
      },
      insideFc: false,
    });
    where = store.description;
    await store.put(key, body);
    const read = await store.get(key);
    if (read === undefined || !read.equals(body)) throw new StorageError('read', 'the probe object read back differs from what was written');
    await store.deleteMany([key]);
    if ((await store.get(key)) !== undefined) throw new StorageError('delete', 'the probe object is still there after the delete');
    return { check, status: 'pass', detail: `${where}: wrote, read and deleted ${key}` };
  } catch (error) {
    const code = error instanceof StorageError ? error.code : undefined;
    const fixes: Record<string, string> = {
      NoSuchBucket: 'create the bucket, or correct OSS_BUCKET / S3_BUCKET and its region',
      AccessDenied: `allow read, write and delete on ${config.history.prefix}* to this key (the README's RAM policy)`,
      InvalidAccessKeyId: 'check the access key id',
      SignatureDoesNotMatch: 'check the access key secret',
      EACCES: 'make the folder writable, or choose another HISTORY_DIR',
    };
    return { check, status: 'fail', detail: `${where}: ${message(error)}`, fix: (code !== undefined ? fixes[code] : undefined) ?? 'check the history variables and the credentials' };
  }
}

function webhookRow(config: ReplyConfig): DoctorRow {
  const check = 'webhook host allowlist';
  const hosts = config.webhookHosts;
  const foreign = hosts.filter((host) => host !== 'dingtalk.com' && !host.endsWith('.dingtalk.com'));
  if (!hosts.includes('oapi.dingtalk.com')) {
    return { check, status: 'fail', detail: `${hosts.join(', ')} lacks oapi.dingtalk.com: DingTalk's answers would be refused`, fix: 'keep the default DINGTALK_WEBHOOK_HOSTS=oapi.dingtalk.com' };
  }
  if (foreign.length > 0) {
    return {
      check,
      status: 'fail',
      detail: `${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not DingTalk: a forged callback could make the bot post answers there`,
      fix: 'remove them from DINGTALK_WEBHOOK_HOSTS (local mode adds 127.0.0.1 by itself)',
    };
  }
  return { check, status: 'pass', detail: hosts.join(', ') };
}

function sYamlRow(sYaml: string | undefined): DoctorRow {
  const check = 's.yaml variables';
  if (sYaml === undefined) return { check, status: 'skip', detail: 'no s.yaml here' };
  const problems = sYamlProblems(sYaml);
  return problems.length === 0
    ? { check, status: 'pass', detail: 'each function gets exactly the variables its loader reads' }
    : { check, status: 'fail', detail: problems.join('; '), fix: 'make environmentVariables in s.yaml match shared/config/variables.ts' };
}

/** Runs every check; the services are probed only when their configuration loads. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorRow[]> {
  let env: Env;
  let sYamlRowValue: DoctorRow;
  try {
    env = deployedEnvironment(options.env, options.sYaml);
    sYamlRowValue = sYamlRow(options.sYaml);
  } catch (error) {
    env = options.env;
    sYamlRowValue = { check: 's.yaml variables', status: 'fail', detail: message(error), fix: "write env() calls as ${env('NAME', 'default')}" };
  }
  const rows: DoctorRow[] = [configRow('conversation variables', () => loadConversationConfig(env)), configRow('reply variables', () => loadReplyConfig(env)), secretRow(env)];
  let reply: ReplyConfig | undefined;
  try {
    reply = loadReplyConfig(env);
  } catch {
    reply = undefined;
  }
  if (reply === undefined) {
    for (const check of ['LLM answers', 'history store', 'webhook host allowlist']) rows.push({ check, status: 'skip', detail: 'the reply variables do not load' });
  } else {
    rows.push(await llmRow(reply, options.llmTimeoutMs ?? 15_000), await historyRow(reply), webhookRow(reply));
  }
  rows.push(sYamlRowValue);
  return rows;
}

/** The rows as a text table: status, check, what was found, and `→ what to do` under failures. */
export function renderDoctorTable(rows: readonly DoctorRow[]): string {
  const width = Math.max(...rows.map((row) => row.check.length));
  const pad = ' '.repeat(width + 8);
  const lines = rows.flatMap((row) => {
    const [first = '', ...rest] = row.detail.split('\n');
    const head = `${row.status.toUpperCase().padEnd(4)}  ${row.check.padEnd(width)}  ${first}`;
    return [head, ...rest.map((line) => `${pad}${line}`), ...(row.status === 'fail' && row.fix ? [`${pad}→ ${row.fix}`] : [])];
  });
  const failed = rows.filter((row) => row.status === 'fail').length;
  lines.push('', failed === 0 ? 'All checks passed.' : `${failed} check${failed === 1 ? '' : 's'} failed.`);
  return `${lines.join('\n')}\n`;
}
