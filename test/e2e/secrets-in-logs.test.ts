/**
 * The built bundles, run the way FC runs them (a Node process each, every byte of stdout and stderr
 * kept), against the loopback fakes: a full run at LOG_LEVEL=debug and at info, through the happy path
 * and the paths where secrets usually leak (refused signatures, a bad LLM key, OSS refusing the access
 * key, a forged webhook). Then every line is scanned for every configured secret, raw and encoded.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CloudCredentials } from '../../shared/fc/context';
import { startFcApiFake, type FcApiFake } from '../fakes/fc-api-fake';
import { startOpenAiFake, type OpenAiFake } from '../fakes/openai-fake';
import { startOssFake, type OssFake } from '../fakes/oss-fake';
import { startWebhookSink, type WebhookSink } from '../fakes/webhook-sink';
import { bundleEnv } from '../helpers/bundle-env';
import { fcContext, STS_CREDENTIALS } from '../helpers/fc-context';
import { dingtalkSample } from '../helpers/fixtures';
import { guarantee } from '../helpers/guarantee';
import { signedEvent, type SignedEventOptions } from '../helpers/signed-request';

const run = promisify(execFile);
const DIST = path.resolve(__dirname, '../../dist');
const ACCOUNT = '1234567890123456';
const BUCKET = 'secrets-history';
const REPLY = 'dingtalk-llm-reply';
const HOUR = 60 * 60 * 1000;

/** Secrets with characters that change under URL and JSON encoding, and one that is not ASCII. */
const APP_SECRET = 'app/Secret+钉钉=0123456789abcdef';
const API_KEY = 'sk-proj/Live+Key=0123456789abcdef';
const BAD_API_KEY = 'sk-revoked/Old+Key=fedcba9876543210';
const SESSION = 'sessTok+/=0123456789abcdef0123';
/** Credentials FC would hand a function whose role OSS does not know: OSS answers 403 and names the key id. */
const REVOKED_STS: Required<CloudCredentials> = {
  accessKeyId: 'STS.RevokedKeyId0123456789',
  accessKeySecret: 'Revoked/Secret+0123456789abcdefABCDEF',
  securityToken: 'CAIS-revoked+token/0123456789abcdefABCDEF',
};

/** The msgIds (suffixes) the conversation bundle must accept, and those it must refuse for their signature. */
const ACCEPTED = ['ok', 'badkey', 'oss', 'forged', 'echo', 'webhook-down'];
const REFUSED_BY_SIGNATURE = ['wrong-secret', 'ascii-only-secret', 'replayed', 'future', 'non-numeric', 'empty-sign', 'unsigned', 'no-timestamp'];

type Level = 'debug' | 'info';
const LEVELS: Level[] = ['debug', 'info'];

interface ChildRun {
  name: string;
  output: string;
  results: unknown[];
}

let fc: FcApiFake;
let oss: OssFake;
let openai: OpenAiFake;
let sink: WebhookSink;
let workDir: string;
/** Every child process of the run, by level. */
const runs = new Map<Level, ChildRun[]>();
/** The sign headers sent (valid ones included): DingTalk's signature must not be logged either. */
const signs: string[] = [];

function baseEnv(level: Level): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    LOG_LEVEL: level,
    ...bundleEnv({ appSecret: APP_SECRET, apiKey: API_KEY, replyFunctionName: REPLY, bucket: BUCKET, fcUrl: fc.url, openAiUrl: openai.url, ossUrl: oss.url }),
  };
}

/** Node code that runs a bundle's handler on each event of an input file, as FC would, reporting results on stderr. */
const RUNNER = `
  const { handler } = require(process.argv[1]);
  const input = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
  (async () => {
    for (const event of input.events) {
      try {
        const result = await handler(Buffer.from(event, 'base64'), input.context);
        process.stderr.write('RESULT ' + JSON.stringify(result) + '\\n');
      } catch (error) {
        // What FC writes to the function log for a handler that throws.
        process.stderr.write('THROWN ' + JSON.stringify({ errorMessage: String(error && error.message), errorType: error && error.name, stackTrace: String(error && error.stack) }) + '\\n');
        process.stderr.write('RESULT "thrown"\\n');
      }
    }
  })();`;

async function runBundle(name: string, bundle: string, events: Buffer[], env: Record<string, string>, context: unknown): Promise<ChildRun> {
  const input = path.join(workDir, `${name}.json`);
  await writeFile(input, JSON.stringify({ events: events.map((event) => event.toString('base64')), context }));
  const { stdout, stderr } = await run(process.execPath, ['-e', RUNNER, path.join(DIST, bundle, 'index.js'), input], { env, timeout: 15_000 });
  const results = stderr
    .split('\n')
    .filter((line) => line.startsWith('RESULT '))
    .map((line) => JSON.parse(line.slice('RESULT '.length)) as unknown);
  return { name, output: `${stdout}\n${stderr}`, results };
}

/** A DingTalk text message with its own msgId, answered through the webhook sink. */
function message(msgId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body = dingtalkSample('text-1to1');
  return {
    ...body,
    msgId,
    createAt: Date.now(),
    sessionWebhookExpiredTime: Date.now() + HOUR,
    sessionWebhook: sink.webhookUrl(SESSION),
    text: { content: `question ${msgId}` },
    ...overrides,
  };
}

/** A signed FC event (correctly signed with the app secret unless `options` says otherwise); records its sign header. */
function event(options: Partial<SignedEventOptions> & { body: unknown }): Buffer {
  const built = signedEvent({ secret: APP_SECRET, timestamp: Date.now(), ...options });
  const { headers } = JSON.parse(built.toString('utf8')) as { headers: Record<string, string> };
  if (headers.sign !== undefined) signs.push(headers.sign);
  return built;
}

/** The msgIds of the invocations FC received, mapped to their payloads. */
function payloadsByMsgId(): Map<string, Buffer> {
  return new Map(fc.invocations.map((invocation) => [(JSON.parse(invocation.payload.toString('utf8')) as { msgId: string }).msgId, invocation.payload]));
}

/** What DingTalk (and a forger) sends the conversation bundle at `level`: accepted messages, refusals, a broken body. */
function conversationEvents(level: Level): Buffer[] {
  const id = (what: string) => `msg-${level}-${what}`;
  return [
    event({ body: message(id('ok')) }),
    event({ body: message(id('badkey')) }),
    event({ body: message(id('oss')) }),
    event({ body: message(id('forged'), { sessionWebhook: `https://oapi.dingtalk.com@evil.example/robot/sendBySession?session=${encodeURIComponent(SESSION)}` }) }),
    event({ body: message(id('echo')) }),
    // An allowed host where nothing listens: the post fails with a connection error that names the address.
    event({ body: message(id('webhook-down'), { sessionWebhook: `http://127.0.0.1:1/robot/sendBySession?session=${encodeURIComponent(SESSION)}` }) }),
    // Signature refusals (REFUSED_BY_SIGNATURE), then a body that is not JSON.
    event({ body: message(id('wrong-secret')), secret: 'not-the-app-secret-0123456789' }),
    event({ body: message(id('ascii-only-secret')), secret: APP_SECRET.replace(/[^\x20-\x7e]/g, '') }),
    event({ body: message(id('replayed')), timestamp: Date.now() - 2 * HOUR }),
    event({ body: message(id('future')), timestamp: Date.now() + 2 * HOUR }),
    event({ body: message(id('non-numeric')), timestamp: 'tomorrow' }),
    event({ body: message(id('empty-sign')), sign: '' }),
    event({ body: message(id('unsigned')), omit: ['sign'] }),
    event({ body: message(id('no-timestamp')), omit: ['timestamp'] }),
    event({ body: `{"msgId":"${id('broken')}","sessionWebhook":"${sink.webhookUrl(SESSION)}"` }),
  ];
}

/** Runs both bundles at both levels: the levels in parallel, each failure path in its own process. */
async function fullRuns(): Promise<void> {
  const context = fcContext({ functionName: REPLY });
  const conversations = await Promise.all(
    LEVELS.map((level) =>
      runBundle(`conversation-${level}`, 'conversation', conversationEvents(level), baseEnv(level), fcContext({ functionName: 'dingtalk-llm-conversation' })),
    ),
  );
  await fc.idle();
  const payloads = payloadsByMsgId();
  const payload = (level: Level, what: string): Buffer => {
    const found = payloads.get(`msg-${level}-${what}`);
    if (found === undefined) throw new Error(`the conversation bundle did not invoke the reply for msg-${level}-${what}`);
    return found;
  };
  const replies = await Promise.all(
    LEVELS.map((level) =>
      Promise.all([
        runBundle(`reply-${level}`, 'reply', [payload(level, 'ok'), payload(level, 'forged')], baseEnv(level), context),
        runBundle(`reply-bad-llm-key-${level}`, 'reply', [payload(level, 'badkey')], { ...baseEnv(level), OPENAI_API_KEY: BAD_API_KEY }, context),
        runBundle(`reply-oss-refused-${level}`, 'reply', [payload(level, 'oss')], baseEnv(level), fcContext({ functionName: REPLY, credentials: REVOKED_STS })),
        runBundle(`reply-webhook-down-${level}`, 'reply', [payload(level, 'webhook-down')], baseEnv(level), context),
      ]),
    ),
  );
  // Only these runs call the LLM now, so each takes one scripted answer: a 401 that repeats the key it was sent.
  const echoBody = { error: { message: `Incorrect API key provided: ${API_KEY}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } };
  openai.queue(...LEVELS.map(() => ({ status: 401, body: echoBody })));
  const echoes = await Promise.all(
    LEVELS.map((level) => runBundle(`reply-llm-echoes-key-${level}`, 'reply', [payload(level, 'echo')], baseEnv(level), context)),
  );
  LEVELS.forEach((level, index) => {
    runs.set(level, [conversations[index], ...(replies[index] ?? []), echoes[index]].filter((child): child is ChildRun => child !== undefined));
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'secrets-in-logs-'));
  oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  openai = await startOpenAiFake({ apiKey: API_KEY, models: ['gpt-4o-mini'] });
  sink = await startWebhookSink();
  // The fake only records the invocations: each reply runs in its own process below.
  fc = await startFcApiFake({ accountId: ACCOUNT, credentials: [STS_CREDENTIALS], functions: { [REPLY]: { handler: async () => ({}) } } });
  await fullRuns();
});

afterAll(async () => {
  await Promise.all([fc.close(), oss.close(), openai.close(), sink.close()]);
  await rm(workDir, { recursive: true, force: true });
});

/**
 * The ways a secret can appear in a log: as is, URL-encoded, JSON-escaped, and in base64 at any of the
 * three byte alignments (inside a longer base64 string, such as a Basic authorization header).
 */
function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set([secret, encodeURIComponent(secret), encodeURIComponent(encodeURIComponent(secret)), JSON.stringify(secret).slice(1, -1)]);
  for (let shift = 0; shift < 3; shift += 1) {
    for (const encoding of ['base64', 'base64url'] as const) {
      const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString(encoding).replace(/=+$/, '');
      // Drop the characters that also depend on the bytes around the secret.
      forms.add(encoded.slice(shift === 0 ? 0 : 4, -4));
    }
  }
  return [...forms].filter((form) => form.length >= 8);
}

function secretsToFind(): Array<[string, string]> {
  const named: Array<[string, string]> = [
    ['DINGTALK_APP_SECRET', APP_SECRET],
    ['OPENAI_API_KEY', API_KEY],
    ['the revoked OPENAI_API_KEY', BAD_API_KEY],
    ['the session webhook token', SESSION],
    ['the access key id', STS_CREDENTIALS.accessKeyId],
    ['the access key secret', STS_CREDENTIALS.accessKeySecret],
    ['the security token', STS_CREDENTIALS.securityToken],
    ['the revoked access key id', REVOKED_STS.accessKeyId],
    ['the revoked access key secret', REVOKED_STS.accessKeySecret],
    ['the revoked security token', REVOKED_STS.securityToken],
    ...signs.map((sign, index): [string, string] => [`sign header #${index + 1}`, sign]),
  ];
  return named.flatMap(([name, secret]) => encodedForms(secret).map((form): [string, string] => [name, form]));
}

/** The JSON log lines of a run (the bundles' own logger). */
const logLines = (child: ChildRun): Array<Record<string, unknown>> =>
  child.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Each secret form found in the children's output, with the line it is on. */
function findLeaks(children: readonly ChildRun[]): string[] {
  const leaks: string[] = [];
  for (const child of children) {
    for (const [name, form] of secretsToFind()) {
      const line = child.output.split('\n').find((candidate) => candidate.includes(form));
      if (line !== undefined) leaks.push(`${child.name}: ${name} (${JSON.stringify(form)}) in ${line.slice(0, 300)}`);
    }
  }
  return leaks;
}

const RUN_NAMES = ['conversation', 'reply', 'reply-bad-llm-key', 'reply-oss-refused', 'reply-webhook-down', 'reply-llm-echoes-key'];

describe(guarantee('No secrets in logs'), () => {
  it('the scan finds a secret hidden in URL encoding, JSON escaping or a base64 header (the control)', () => {
    const planted = [
      `{"url":"https://x/?session=${encodeURIComponent(SESSION)}"}`,
      `{"authorization":"Basic ${Buffer.from(`user:${API_KEY}`).toString('base64')}"}`,
      JSON.stringify({ secret: APP_SECRET }),
      `{"id":"${REVOKED_STS.accessKeyId}"}`,
    ];
    expect(planted.map((output) => findLeaks([{ name: 'planted', output, results: [] }]).length > 0)).toEqual([true, true, true, true]);
  });

  it.each(LEVELS)('no line either bundle writes at LOG_LEVEL=%s carries a secret, a key, a token or the session parameter', (level) => {
    const children = runs.get(level) ?? [];
    expect(children.map((child) => child.name)).toEqual(RUN_NAMES.map((name) => `${name}-${level}`));
    expect(findLeaks(children)).toEqual([]);
  });

  it.each(LEVELS)('the run at LOG_LEVEL=%s went through the paths it claims to scan', (level) => {
    const children = runs.get(level) ?? [];
    const byName = (name: string): ChildRun => children.find((child) => child.name === `${name}-${level}`) ?? { name, output: '', results: [] };
    const events = (name: string) => logLines(byName(name)).map((line) => line.event);
    const line = (name: string, event: string) => logLines(byName(name)).find((candidate) => candidate.event === event);

    expect(byName('conversation').results.map((result) => (result as { statusCode: number }).statusCode)).toEqual([
      ...ACCEPTED.map(() => 200),
      ...REFUSED_BY_SIGNATURE.map(() => 401),
      400,
    ]);
    expect(events('conversation')).toEqual(expect.arrayContaining(['conversation.accepted', 'conversation.rejected']));
    expect(byName('reply').results).toEqual([{ outcome: 'answered' }, { outcome: 'destination_refused' }]);
    expect(events('reply')).toContain('reply.webhook_refused');
    expect(byName('reply-bad-llm-key').results).toEqual([{ outcome: 'llm_failed' }]);
    expect(line('reply-bad-llm-key', 'reply.llm_failed')).toMatchObject({ error: { status: 401 } });
    expect(line('reply-llm-echoes-key', 'reply.llm_failed')).toMatchObject({ error: { status: 401 } });
    expect(line('reply-oss-refused', 'reply.history_unavailable')).toMatchObject({ error: { code: 'InvalidAccessKeyId' } });
    expect(byName('reply-webhook-down').output).toMatch(/ECONNREFUSED/);
  });

  it('the session webhook received the answers, with the session parameter intact', () => {
    expect(sink.messages.filter((received) => received.session === SESSION).length).toBeGreaterThanOrEqual(LEVELS.length);
  });
});

describe(guarantee('Hostile input: signatures'), () => {
  it.each(LEVELS)('the built conversation bundle (LOG_LEVEL=%s) answers 401 to every forged, stale, future, non-numeric or missing signature', (level) => {
    const conversation = (runs.get(level) ?? [])[0];
    const statuses = (conversation?.results ?? []).map((result) => (result as { statusCode: number }).statusCode);
    expect(statuses.slice(ACCEPTED.length, ACCEPTED.length + REFUSED_BY_SIGNATURE.length)).toEqual(REFUSED_BY_SIGNATURE.map(() => 401));
    // The app secret has non-ASCII characters: the correctly signed messages were accepted.
    expect(statuses.slice(0, ACCEPTED.length)).toEqual(ACCEPTED.map(() => 200));
  });

  it('FC received no request at all for a refused message, and one invocation for each accepted one', () => {
    const invoked = fc.invocations.map((invocation) => (JSON.parse(invocation.payload.toString('utf8')) as { msgId: string }).msgId);
    expect(invoked.sort()).toEqual(LEVELS.flatMap((level) => ACCEPTED.map((what) => `msg-${level}-${what}`)).sort());
    expect(fc.requests).toHaveLength(invoked.length);
  });
});
