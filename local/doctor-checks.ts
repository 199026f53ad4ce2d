/**
 * `npm run doctor`'s checks: the configuration the functions would load once deployed (the shell and
 * `.env`, completed with s.yaml's defaults), then the services it names: one 1-token LLM request, a
 * probe object written, read and deleted in the history store, the webhook allowlist, and s.yaml
 * against the loader's list. Each check is a row: pass, fail or skip, what was found, what to do.
 */
import { randomBytes } from 'node:crypto';
import { createObjectStore } from '../shared/adapters/create-object-store';
import { createDingTalkOpenApi } from '../shared/adapters/dingtalk-openapi';
import { connectionErrorCode } from '../shared/adapters/openai-errors';
import { createOpenAiLlm } from '../shared/adapters/openai-llm';
import { ossRegion } from '../shared/adapters/oss-object-store';
import { loadConversationConfig, loadReplyConfig, preview, type Env, type OpenApiConfig, type ReplyConfig } from '../shared/config/load-config';
import { variable, VARIABLES } from '../shared/config/variables';
import { DingTalkApiError, LlmRefusedError, LlmUnavailableError, StorageError } from '../shared/errors';
import { renderedEnvironments, replyTimeBudget, resourceProp, ROLE_ARN } from './deploy-checks';
import { listEnvReferences, sYamlProblems } from './s-yaml-env';
import { connectionCause } from './connection-cause';

/** One row of the doctor's table. */
export interface DoctorRow {
  check: string;
  /** `info` shows what was found without judging it. */
  status: 'pass' | 'fail' | 'skip' | 'info';
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
  /** `llm`: check the LLM alone (`npm run doctor -- --llm`). */
  only?: 'llm';
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

/** What the LLM check found, from the adapter's typed errors (it names the host; never the key). */
function llmFailure(error: unknown, config: ReplyConfig): { detail: string; fix: string } {
  const where = `${config.llm.model} at ${config.llm.baseURL}`;
  const host = new URL(config.llm.baseURL).host;
  if (error instanceof LlmRefusedError) {
    switch (error.reason) {
      case 'auth':
        return { detail: `${where} refused the API key (${error.status ?? 401})`, fix: 'check OPENAI_API_KEY: a key of this provider, copied whole' };
      case 'model':
        return { detail: `${where}: unknown model or path (404)`, fix: "check OPENAI_MODEL (a model your key may use) and OPENAI_BASE_URL (see the README's provider table)" };
      case 'incompatible':
        return { detail: `${config.llm.baseURL}: this URL is not an OpenAI-compatible API (${host} answered something other than a chat completion)`, fix: "check OPENAI_BASE_URL: the provider's OpenAI-compatible base URL, usually ending in /v1 (see the README's provider table)" };
      case 'endpoint':
        return { detail: `${host} could not be reached (${connectionErrorCode(error) ?? 'connection failed'})`, fix: 'check OPENAI_BASE_URL (host name, port, https), and that this machine (and the reply function) can reach it' };
      case 'request':
        if (error.status === 402) return { detail: `${where}: 402 payment required`, fix: "the provider's account has no balance: top it up or check billing in the provider's console" };
        break;
      default:
        break;
    }
  }
  if (error instanceof LlmUnavailableError) {
    switch (error.reason) {
      case 'rate-limit':
        return {
          detail: `${where} answered 429: ${error.message.replace(/^the LLM is rate-limiting: /, '')}`,
          fix:
            "usually quota or billing, not traffic: a new key often has no credit (OpenAI insufficient_quota), a free quota is used up or the account is in arrears (DashScope Arrearage): check the plan, balance and rate limits in the provider's console",
        };
      case 'network':
      case 'timeout':
        return { detail: `${host} ${error.reason === 'network' ? 'could not be reached' : 'did not answer in time'}`, fix: 'check OPENAI_BASE_URL, and that this machine (and the reply function) can reach it' };
      default:
        break;
    }
  }
  return { detail: `${where}: ${message(error)}`, fix: 'check OPENAI_BASE_URL, OPENAI_MODEL and the provider status' };
}

async function llmRow(config: ReplyConfig, timeoutMs: number): Promise<DoctorRow> {
  const check = 'LLM answers';
  const where = `${config.llm.model} at ${config.llm.baseURL}`;
  const llm = createOpenAiLlm({ ...config.llm, maxRetries: 0, timeoutMs: Math.min(config.llm.timeoutMs, timeoutMs) }, { maxTokens: 1 });
  try {
    await llm.complete([{ role: 'user', content: 'Reply with one word: ok' }]);
    return { check, status: 'pass', detail: `${where} answered a 1-token request` };
  } catch (error) {
    // A real chat completion with no text at 1 token (reasoning models): the API works.
    if (error instanceof LlmRefusedError && error.reason === 'empty') return { check, status: 'pass', detail: `${where} answered (empty at 1 token)` };
    return { check, status: 'fail', ...llmFailure(error, config) };
  }
}

/** Where the history store is, in words an operator can check: bucket, region and endpoint. */
function describeStore(config: ReplyConfig): string {
  const history = config.history;
  switch (history.kind) {
    case 'filesystem':
      return `folder ${history.dir}`;
    case 'oss': {
      const region = history.region ?? config.region;
      const endpoint = history.endpoint ?? (region !== undefined ? `https://${history.bucket}.${ossRegion(region)}.aliyuncs.com` : 'no endpoint (no region)');
      return `OSS bucket ${history.bucket} (region ${region ?? 'unset'}, endpoint ${endpoint})`;
    }
    case 's3':
      return `S3 bucket ${history.bucket} (region ${history.region}, endpoint ${history.endpoint ?? 'AWS'})`;
  }
}


async function historyRow(config: ReplyConfig): Promise<DoctorRow> {
  const check = 'history store';
  const key = `${config.history.prefix}doctor-probe/${randomBytes(6).toString('hex')}.txt`;
  const body = Buffer.from('npm run doctor probe; safe to delete\n');
  const where = describeStore(config);
  if (config.history.kind === 'oss' && config.credentials === undefined) {
    return {
      check,
      status: 'fail',
      detail: `${where}: no access key to test with`,
      fix: 'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET to a key that may read and write the history prefix (the functions use their role instead)',
    };
  }
  const credentials = config.credentials;
  try {
    const store = createObjectStore(config.history, {
      region: () => config.region,
      credentials: () => credentials as NonNullable<typeof credentials>,
      insideFc: false,
    });
    await store.put(key, body);
    const read = await store.get(key);
    if (read === undefined || !read.equals(body)) throw new StorageError('read', 'the probe object read back differs from what was written');
    await store.deleteMany([key]);
    if ((await store.get(key)) !== undefined) throw new StorageError('delete', 'the probe object is still there after the delete');
    return { check, status: 'pass', detail: `${where}: wrote, read and deleted ${key}` };
  } catch (error) {
    const code = error instanceof StorageError ? error.code : undefined;
    const unreachable = error instanceof StorageError && error.status === undefined ? connectionCause(error) : undefined;
    const fixes: Record<string, string> = {
      NoSuchBucket: 'create the bucket, or correct OSS_BUCKET / S3_BUCKET and its region',
      AccessDenied: `allow read, write and delete on ${config.history.prefix}* to this key (the README's RAM policy)`,
      InvalidAccessKeyId: 'check the access key id',
      SignatureDoesNotMatch: 'check the access key secret',
      EACCES: 'make the folder writable, or choose another HISTORY_DIR',
    };
    if (unreachable !== undefined || code === 'RequestError' || code === 'ConnectionTimeoutError') {
      return {
        check,
        status: 'fail',
        detail: `${where}: could not be reached (${unreachable ?? code ?? 'no answer'})`,
        fix: 'check OSS_REGION (the bucket\'s region) and OSS_ENDPOINT, and that this machine can reach the endpoint (an -internal endpoint works only inside Alibaba Cloud)',
      };
    }
    return { check, status: 'fail', detail: `${where}: ${message(error)}`, fix: (code !== undefined ? fixes[code] : undefined) ?? 'check the history variables and the credentials' };
  }
}

/**
 * Every variable that is set, as the functions would get it: non-secret values in clear (a typo in a
 * bucket or model name shows), secrets as their first 4 characters and length.
 */
export function valuesRow(env: Env): DoctorRow {
  const lines: string[] = [];
  for (const spec of VARIABLES) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      const value = env[name]?.trim() ?? '';
      if (value === '') continue;
      lines.push(`${name}=${spec.secret ? preview(value) : JSON.stringify(value)}`);
    }
  }
  const role = env.FC_ROLE_ARN?.trim() ?? '';
  if (role !== '') lines.push(`FC_ROLE_ARN=${JSON.stringify(role)}`);
  return { check: 'values', status: 'info', detail: lines.length > 0 ? lines.join('\n') : 'no variable is set' };
}

/** FC_ROLE_ARN, which `s deploy` gives both functions: `acs:ram::<account id>:role/<name>`. */
function roleRow(env: Env): DoctorRow {
  const check = 'FC_ROLE_ARN';
  const role = env.FC_ROLE_ARN?.trim() ?? '';
  const fix = 'set FC_ROLE_ARN to acs:ram::<account id>:role/<role name>: RAM console → Roles → your role → ARN (README: Create the RAM role)';
  if (role === '') return { check, status: 'fail', detail: 'not set: npx s deploy needs the RAM role both functions run as', fix };
  if (ROLE_ARN.test(role)) return { check, status: 'pass', detail: role };
  return { check, status: 'fail', detail: `${JSON.stringify(role)} is not a RAM role ARN (acs:ram::<account id>:role/<name>)`, fix };
}

/**
 * The worst-case time of one reply run against the reply function's `timeout` in s.yaml:
 * (LLM_MAX_RETRIES + 1) × LLM_TIMEOUT_SECONDS + backoff + WEBHOOK_TIMEOUT_SECONDS + a margin.
 */
function budgetRow(env: Env, sYaml: string | undefined): DoctorRow {
  const check = 'reply time budget';
  if (sYaml === undefined) return { check, status: 'skip', detail: 'no s.yaml here' };
  const replyEnv = renderedEnvironments(env, sYaml).reply ?? env;
  const budget = replyTimeBudget(replyEnv);
  const timeout = Number(resourceProp(sYaml, 'reply', 'timeout', env));
  if (budget === undefined || !Number.isFinite(timeout)) return { check, status: 'skip', detail: 'the LLM or webhook timeouts, or the reply timeout in s.yaml, are not whole numbers' };
  const terms =
    `${budget.attempts} × ${budget.llmTimeoutSeconds} s (LLM_MAX_RETRIES + 1 attempts × LLM_TIMEOUT_SECONDS) + ${budget.backoffSeconds} s backoff + ` +
    `${budget.webhookTimeoutSeconds} s webhook + ${budget.marginSeconds} s margin = ${budget.totalSeconds} s`;
  if (budget.totalSeconds <= timeout) return { check, status: 'pass', detail: `${terms}, within the reply timeout of ${timeout} s` };
  return {
    check,
    status: 'fail',
    detail: `${terms}: more than the reply function's timeout of ${timeout} s in s.yaml, so FC would stop a slow run before it answers`,
    fix: `lower LLM_TIMEOUT_SECONDS or LLM_MAX_RETRIES, or raise the reply resource's timeout in s.yaml to at least ${Math.ceil(budget.totalSeconds)}`,
  };
}

/** The scopes an app needs for AI cards and OpenAPI sends. */
export const CARD_SCOPES = ['Card.Streaming.Write', 'Card.Instance.Write', 'qyapi_robot_sendmsg'];

/** With DINGTALK_CLIENT_ID: asks DingTalk for a token (proves the Client ID and Secret); with a card template, the scopes to grant. */
async function openApiRows(openApi: OpenApiConfig | undefined, timeoutMs: number): Promise<DoctorRow[]> {
  if (openApi === undefined) return [];
  const check = 'DingTalk OpenAPI';
  const rows: DoctorRow[] = [];
  try {
    const api = createDingTalkOpenApi({ clientId: openApi.clientId, clientSecret: openApi.clientSecret, apiBase: openApi.apiBase, timeoutMs, throttleAttempts: 1 });
    await api.checkToken({ signal: AbortSignal.timeout(timeoutMs) });
    rows.push({ check, status: 'pass', detail: `${new URL(openApi.apiBase).host} gave a token for Client ID ${openApi.clientId}` });
  } catch (error) {
    const refused = error instanceof DingTalkApiError && error.reason === 'auth';
    rows.push({
      check,
      status: 'fail',
      detail: refused ? `DingTalk refused Client ID ${openApi.clientId} with this secret (${error.code ?? error.status ?? 'auth'})` : `token request failed: ${message(error)}`,
      fix: refused
        ? 'DINGTALK_CLIENT_ID and DINGTALK_APP_SECRET must be the Client ID and Client Secret of the same app (developer console → Credentials & Basic Info)'
        : `check that this machine can reach ${openApi.apiBase}`,
    });
  }
  if (openApi.card !== undefined) {
    rows.push({
      check: 'card permissions',
      status: 'info',
      detail: `AI cards with template ${openApi.card.templateId}: the app needs ${CARD_SCOPES.join(', ')}`,
      fix: `grant ${CARD_SCOPES.join(', ')} (developer console → your app → Permissions), and publish the card template`,
    });
  }
  return rows;
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

/** The LLM alone (`--llm`): its variables, then one 1-token request. Other stores and services are not needed. */
async function llmOnly(env: Env, timeoutMs: number): Promise<DoctorRow[]> {
  // Placeholders for what the LLM check does not use, so only the LLM variables can fail to load.
  const llmEnv: Env = { ...env, HISTORY_DIR: 'unused-by-the-llm-check', OSS_BUCKET: '', S3_BUCKET: '', DINGTALK_CLIENT_ID: '', DINGTALK_CARD_TEMPLATE_ID: '', DAILY_MESSAGE_LIMIT: '0' };
  let reply: ReplyConfig;
  try {
    reply = loadReplyConfig(llmEnv);
  } catch (error) {
    return [{ check: 'LLM variables', status: 'fail', detail: message(error).replace(/^.*incomplete:\n/, ''), fix: 'set or correct the variables listed (see .env.example)' }, { check: 'LLM answers', status: 'skip', detail: 'the LLM variables do not load' }];
  }
  const shown = ['OPENAI_BASE_URL', 'OPENAI_MODEL', 'OPENAI_API_VERSION', 'LLM_TIMEOUT_SECONDS', 'LLM_MAX_RETRIES'].filter((name) => (env[name]?.trim() ?? '') !== '');
  const values = [`OPENAI_API_KEY=${preview(reply.llm.apiKey)}`, ...shown.map((name) => `${name}=${JSON.stringify(env[name]?.trim() ?? '')}`)];
  return [{ check: 'LLM variables', status: 'pass', detail: values.join('\n') }, await llmRow(reply, timeoutMs)];
}

/** Runs every check; the services are probed only when their configuration loads. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorRow[]> {
  const timeoutMs = options.llmTimeoutMs ?? 15_000;
  let env: Env;
  let sYamlRowValue: DoctorRow;
  try {
    env = deployedEnvironment(options.env, options.sYaml);
    sYamlRowValue = sYamlRow(options.sYaml);
  } catch (error) {
    env = options.env;
    sYamlRowValue = { check: 's.yaml variables', status: 'fail', detail: message(error), fix: "write env() calls as ${env('NAME', 'default')}" };
  }
  if (options.only === 'llm') return llmOnly(env, timeoutMs);
  const rows: DoctorRow[] = [valuesRow(env), configRow('conversation variables', () => loadConversationConfig(env)), configRow('reply variables', () => loadReplyConfig(env)), secretRow(env)];
  let reply: ReplyConfig | undefined;
  try {
    reply = loadReplyConfig(env);
  } catch {
    reply = undefined;
  }
  if (reply === undefined) {
    for (const check of ['LLM answers', 'history store', 'webhook host allowlist']) rows.push({ check, status: 'skip', detail: 'the reply variables do not load' });
  } else {
    rows.push(await llmRow(reply, timeoutMs), await historyRow(reply), webhookRow(reply), ...(await openApiRows(reply.openApi, timeoutMs)));
  }
  let deployRows: DoctorRow[];
  try {
    deployRows = [roleRow(env), budgetRow(env, options.sYaml)];
  } catch (error) {
    deployRows = [{ check: 'reply time budget', status: 'fail', detail: message(error), fix: 's.yaml could not be read: restore it from the repository' }];
  }
  rows.push(...deployRows, sYamlRowValue);
  return rows;
}

/** The rows as a text table: status, check, what was found, and `→ what to do` under failures and advice. */
export function renderDoctorTable(rows: readonly DoctorRow[]): string {
  const width = Math.max(...rows.map((row) => row.check.length));
  const pad = ' '.repeat(width + 8);
  const lines = rows.flatMap((row) => {
    const [first = '', ...rest] = row.detail.split('\n');
    const head = `${row.status.toUpperCase().padEnd(4)}  ${row.check.padEnd(width)}  ${first}`;
    // A failure's fix, and an `info` row's advice (what to grant), go under it.
    const advice = (row.status === 'fail' || row.status === 'info') && row.fix ? [`${pad}→ ${row.fix}`] : [];
    return [head, ...rest.map((line) => `${pad}${line}`), ...advice];
  });
  const failed = rows.filter((row) => row.status === 'fail').length;
  lines.push('', failed === 0 ? 'All checks passed.' : `${failed} check${failed === 1 ? '' : 's'} failed.`);
  return `${lines.join('\n')}\n`;
}
