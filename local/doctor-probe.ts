/**
 * `npm run doctor -- --url <conversation URL>`: proves a deployed pair (or `npm start`) works end to
 * end. It POSTs a DingTalk callback signed with the app secret and marked as a probe; the conversation
 * function checks the signature, invokes reply through FC's real async invocation and answers with the
 * signer FC accepted; reply runs its path (history store, LLM with a tiny prompt) without posting and
 * leaves `<HISTORY_PREFIX>probes/<id>.json`, which this reads with the operator's credentials. Each
 * stage is a row with its time; the first failure names what to check.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createObjectStore } from '../shared/adapters/create-object-store';
import { loadReplyConfig, type Env, type HistoryConfig, type ReplyConfig } from '../shared/config/load-config';
import type { CloudCredentials } from '../shared/fc/context';
import { parseProbeResult, probeResultKey, type ProbeResult } from '../shared/core/reply/probe';
import { PROBE_BODY_FIELD } from '../shared/core/reply-task';
import { describeError } from '../shared/errors';
import type { Clock, ObjectStore } from '../shared/ports';
import { dingtalkHeaders, dingtalkTextMessage } from './dingtalk-payload';
import type { DoctorRow } from './doctor-checks';
import { findLocalSecret } from './local-secret';
import { abortableSleep } from '../shared/util/abortable-sleep';

/** Options of `runUrlProbe`. */
export interface UrlProbeOptions {
  /** The conversation function's URL (the robot's message receiving address). */
  url: string;
  /** The app secret to sign with (DINGTALK_APP_SECRET of this configuration). */
  appSecret: string;
  /** The history store the reply function uses, opened with the operator's credentials. */
  store: ObjectStore;
  /** HISTORY_PREFIX. */
  prefix: string;
  clock: Clock;
  /** How long to wait for reply's result. Default 120 s (a cold reply plus a slow LLM). */
  timeoutMs?: number;
  /** Pause between two reads of the result. Default 1 s. */
  pollMs?: number;
  /** Timeout of the POST to the conversation function. Default 15 s. */
  requestTimeoutMs?: number;
  /** Waits `ms` (tests may shorten it). Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** The probe id; default 32 random hex digits. */
  id?: string;
}

/** What the probe found: one row per stage, and whether the whole path passed. */
export interface UrlProbeReport {
  id: string;
  rows: DoctorRow[];
  ok: boolean;
  /** The signer FC accepted for the invocation, when conversation said. */
  signer?: string;
}

/** What the conversation function answers a probe with (see shared/core/handle-conversation.ts). */
interface ConversationProbeAnswer {
  id?: string;
  invoked?: boolean;
  signer?: string;
  requestId?: string;
  ms?: number;
  error?: { message?: string; status?: number; code?: string };
}

const SIGNERS: Record<string, string> = {
  fc2: "fc2 (FC's own signature scheme, @alicloud/fc2)",
  acs3: "acs3 (ACS3-HMAC-SHA256, FC 3.0's SDK, after FC refused fc2's signature)",
};

const timerSleep = (ms: number): Promise<void> => abortableSleep(ms);

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** The callback doctor sends: a 1:1 text message, marked as a probe. Its webhook is never posted to. */
export function probeCallback(id: string, now: number): Record<string, unknown> {
  const message = dingtalkTextMessage({
    text: 'npm run doctor deployment probe',
    user: 'doctor-probe',
    group: false,
    sessionWebhook: `https://oapi.dingtalk.com/robot/sendBySession?session=doctor-probe-${id}`,
    now,
  });
  return { ...message, msgId: `doctorProbe${id}`, [PROBE_BODY_FIELD]: { id } };
}

function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if ((error as { name?: unknown }).name === 'TimeoutError') return 'no answer in time';
  return typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error);
}

async function readJson(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await response.text());
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The rows of the conversation function's answer; `invoked` when FC took the invocation. */
function conversationRows(status: number, body: Record<string, unknown> | undefined, ms: number, host: string): { rows: DoctorRow[]; invoked: boolean; signer?: string } {
  const probe = body?.probe as ConversationProbeAnswer | undefined;
  if (status === 401) {
    return {
      invoked: false,
      rows: [
        {
          check: 'signature',
          status: 'fail',
          detail: `${host} refused the signed probe (401: ${String(body?.message ?? 'unauthorized')})`,
          fix: "the deployed DINGTALK_APP_SECRET differs from this configuration's, or this machine's clock is off by more than an hour",
        },
      ],
    };
  }
  if (status === 500 && body?.error === 'misconfigured') {
    return {
      invoked: false,
      rows: [{ check: 'signature', status: 'fail', detail: `${host}: the conversation function is misconfigured (500)`, fix: 'read its log line conversation.misconfigured: it names the variable' }],
    };
  }
  if (body === undefined || (status !== 200 && body.error === undefined)) {
    return {
      invoked: false,
      rows: [{ check: 'signature', status: 'fail', detail: `${host} answered ${status} without the conversation function's JSON`, fix: "check the URL: the conversation function's HTTP trigger, as `s deploy` printed it" }],
    };
  }
  const signature: DoctorRow = { check: 'signature', status: 'pass', detail: `${host} accepted the signed probe (${ms} ms)` };
  if (status === 400) {
    return { invoked: false, rows: [{ ...signature, status: 'fail', detail: `${host} refused the probe body (400: ${String(body.message ?? '')})`, fix: 'update this checkout or redeploy: doctor and the function disagree on the message format' }] };
  }
  if (probe === undefined) {
    return {
      invoked: false,
      rows: [signature, { check: 'invocation', status: 'fail', detail: 'the conversation function answered like for an ordinary message: it does not know probes', fix: 'redeploy (npx s deploy) so both functions run this version' }],
    };
  }
  if (probe.invoked !== true) {
    const error = probe.error?.message ?? `answered ${status}`;
    return {
      invoked: false,
      rows: [signature, { check: 'invocation', status: 'fail', detail: error, fix: "check REPLY_FUNCTION_NAME, that the reply function exists in the same region, and the role's fc:InvokeFunction permission (README: Create the RAM role)" }],
    };
  }
  const signer = probe.signer;
  const how = signer !== undefined ? `, signer ${SIGNERS[signer] ?? signer}` : '';
  return {
    invoked: true,
    ...(signer !== undefined ? { signer } : {}),
    rows: [signature, { check: 'invocation', status: 'pass', detail: `FC accepted the async invocation of reply in ${probe.ms ?? '?'} ms${how}` }],
  };
}

function resultRows(result: ProbeResult): DoctorRow[] {
  const rows: DoctorRow[] = [{ check: 'reply ran', status: 'pass', detail: `after ${seconds(result.queueMs)} in FC's async queue; whole run ${result.finishedAt - result.startedAt} ms` }];
  const fixes: Record<string, string> = {
    store: "check OSS_BUCKET / S3_BUCKET / HISTORY_DIR and HISTORY_PREFIX as deployed, and the role's OSS statements (README: Create the RAM role)",
    llm: 'check OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL as deployed, and that the reply function can reach the provider (npm run doctor -- --llm checks them from here)',
  };
  for (const stage of result.stages) {
    const row: DoctorRow = { check: stage.name === 'llm' ? 'LLM' : 'store', status: stage.ok ? 'pass' : 'fail', detail: `${stage.detail} (${stage.ms} ms)` };
    if (!stage.ok) row.fix = fixes[stage.name] ?? 'see the reply function logs (reply.probe)';
    rows.push(row);
  }
  return rows;
}

/**
 * Sends the probe and waits for reply's result. Never throws: every failure is a row. The result object
 * is deleted once read.
 */
export async function runUrlProbe(options: UrlProbeOptions): Promise<UrlProbeReport> {
  const { clock } = options;
  const id = options.id ?? randomBytes(16).toString('hex');
  const sleep = options.sleep ?? timerSleep;
  const host = new URL(options.url).host;
  const now = clock.now();
  const started = clock.now();
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: dingtalkHeaders(options.appSecret, now),
      body: JSON.stringify(probeCallback(id, now)),
      signal: AbortSignal.timeout(options.requestTimeoutMs ?? 15_000),
    });
  } catch (error) {
    const rows: DoctorRow[] = [{ check: 'signature', status: 'fail', detail: `${host} could not be reached (${networkCode(error)})`, fix: 'check the URL, and that the function (or npm start) is running' }];
    return { id, rows, ok: false };
  }
  const body = await readJson(response);
  const sent = conversationRows(response.status, body, clock.now() - started, host);
  if (!sent.invoked) return { id, rows: sent.rows, ok: false, ...(sent.signer !== undefined ? { signer: sent.signer } : {}) };

  const key = probeResultKey(options.prefix, id);
  const deadline = clock.now() + (options.timeoutMs ?? 120_000);
  const waitStarted = clock.now();
  for (;;) {
    let bytes: Buffer | undefined;
    try {
      bytes = await options.store.get(key);
    } catch (error) {
      const rows: DoctorRow[] = [
        ...sent.rows,
        { check: 'reply ran', status: 'fail', detail: `could not read ${key} from ${options.store.description} here: ${String(describeError(error).message)}`, fix: 'give this machine read access to the history store (the same bucket and prefix as the deploy)' },
      ];
      return { id, rows, ok: false, ...(sent.signer !== undefined ? { signer: sent.signer } : {}) };
    }
    const result = bytes === undefined ? undefined : parseProbeResult(bytes);
    if (result !== undefined) {
      await options.store.deleteMany([key]).catch(() => undefined);
      const rows = [...sent.rows, ...resultRows(result)];
      return { id, rows, ok: rows.every((row) => row.status === 'pass'), ...(sent.signer !== undefined ? { signer: sent.signer } : {}) };
    }
    if (clock.now() >= deadline) break;
    await sleep(options.pollMs ?? 1000);
  }
  const rows: DoctorRow[] = [
    ...sent.rows,
    {
      check: 'reply ran',
      status: 'fail',
      detail: `no result at ${key} in ${options.store.description} after ${seconds(clock.now() - waitStarted)}`,
      fix:
        "read the reply function's logs: reply.probe (a store that could not be written), reply.misconfigured (a missing variable), or nothing at all " +
        '(FC did not run it: check asyncInvokeConfig and the function exists); and check that this configuration names the same bucket and HISTORY_PREFIX as the deploy',
    },
  ];
  return { id, rows, ok: false, ...(sent.signer !== undefined ? { signer: sent.signer } : {}) };
}

/** Options of `probeDeployment`: the configuration doctor was given, and where it points. */
export interface ProbeDeploymentOptions {
  url: string;
  /** The shell with the env files applied. */
  env: Env;
  /** Local mode's folder (LOCAL_DATA_DIR): its saved app secret and default history folder, for a loopback URL. */
  dataDir: string;
  clock: Clock;
  timeoutMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** True for a URL on this machine: the probe then targets `npm start` and its local state. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/**
 * Sets the probe up from the configuration (the app secret to sign with, the history store to read the
 * result from, with the operator's keys) and runs it. For `npm start` (a loopback URL) the secret and
 * the history folder default as local mode's do.
 */
export async function probeDeployment(options: ProbeDeploymentOptions): Promise<UrlProbeReport> {
  const local = isLoopbackUrl(options.url);
  const env: Record<string, string | undefined> = { ...options.env };
  if (local && !['HISTORY_DIR', 'OSS_BUCKET', 'S3_BUCKET'].some((name) => (env[name]?.trim() ?? '') !== '')) {
    env.HISTORY_DIR = path.join(options.dataDir, 'history');
  }
  const secret = local ? findLocalSecret(env, options.dataDir)?.value : env.DINGTALK_APP_SECRET?.trim() || env.DINGTALK_CLIENT_SECRET?.trim();
  const setup = (detail: string, fix: string): UrlProbeReport => ({ id: '', ok: false, rows: [{ check: 'configuration', status: 'fail', detail, fix }] });
  if (secret === undefined || secret === '') {
    return setup('no app secret to sign the probe with', local ? 'start the bot first (npm start saves one in .data/local-secret), or set DINGTALK_APP_SECRET' : 'set DINGTALK_APP_SECRET to the deployed Client Secret');
  }
  let history: HistoryConfig;
  let config: ReplyConfig;
  try {
    // Only the history store matters here: the other required variables get placeholders.
    config = loadReplyConfig({ ...env, OPENAI_API_KEY: env.OPENAI_API_KEY?.trim() || 'unused-by-the-probe', DINGTALK_CLIENT_ID: '', DINGTALK_CARD_TEMPLATE_ID: '' });
    history = config.history;
  } catch (error) {
    return setup(`the history variables do not load: ${error instanceof Error ? error.message.replace(/^.*incomplete:\n/, '') : String(error)}`, 'set OSS_BUCKET (or S3_BUCKET, HISTORY_DIR) and HISTORY_PREFIX as deployed');
  }
  const credentials = config.credentials;
  if (history.kind === 'oss' && credentials === undefined) {
    return setup('no access key to read the probe result from OSS with', 'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET to a key that may read and delete the history prefix');
  }
  let store: ObjectStore;
  try {
    store = createObjectStore(history, { region: () => config.region, credentials: () => credentials as CloudCredentials, insideFc: false });
  } catch (error) {
    return setup(error instanceof Error ? error.message : String(error), 'set OSS_REGION (the bucket region) here');
  }
  return runUrlProbe({
    url: options.url,
    appSecret: secret,
    store,
    prefix: history.prefix,
    clock: options.clock,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.sleep !== undefined ? { sleep: options.sleep } : {}),
  });
}
