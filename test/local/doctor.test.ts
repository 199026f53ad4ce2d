import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deployedEnvironment, renderDoctorTable, runDoctor, type DoctorRow } from '../../local/doctor-checks';
import { listen } from '../../local/http-util';
import { startDingTalkOpenApiFake } from '../fakes/dingtalk-openapi-fake';
import { startOpenAiFake, type OpenAiFake } from '../fakes/openai-fake';
import { startOssFake, type OssFake } from '../fakes/oss-fake';

const S_YAML = readFileSync(path.resolve(__dirname, '../../s.yaml'), 'utf8');
const SECRET = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz';
const API_KEY = 'sk-doctor-test-0123456789';
const KEY = { accessKeyId: 'LTAIdoctortest0000', accessKeySecret: 'doctor-test-secret-00000000000' };

let openai: OpenAiFake;
let oss: OssFake;

beforeAll(async () => {
  openai = await startOpenAiFake({ apiKey: API_KEY, models: ['gpt-4o-mini'] });
  oss = await startOssFake({ bucket: 'doctor-history', region: 'oss-cn-hangzhou', credentials: [KEY] });
});
afterAll(async () => {
  await Promise.all([openai.close(), oss.close()]);
});

/** A configuration that passes every check, against the fakes. */
const good = (): Record<string, string> => ({
  DINGTALK_APP_SECRET: SECRET,
  OPENAI_API_KEY: API_KEY,
  OPENAI_BASE_URL: openai.baseURL,
  OSS_BUCKET: 'doctor-history',
  OSS_REGION: 'cn-hangzhou',
  OSS_ENDPOINT: oss.url,
  ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
  FC_ROLE_ARN: 'acs:ram::1234567890123456:role/dingtalk-llm-role',
});

const row = (rows: DoctorRow[], check: string): DoctorRow => {
  const found = rows.find((candidate) => candidate.check === check);
  if (found === undefined) throw new Error(`no row ${check}`);
  return found;
};

describe('npm run doctor', () => {
  it('passes every check for a good configuration, leaving no probe object behind', async () => {
    const rows = await runDoctor({ env: good(), sYaml: S_YAML });
    expect(rows.map((r) => [r.check, r.status])).toEqual([
      ['values', 'info'],
      ['conversation variables', 'pass'],
      ['reply variables', 'pass'],
      ['app secret format', 'pass'],
      ['LLM answers', 'pass'],
      ['history store', 'pass'],
      ['webhook host allowlist', 'pass'],
      ['FC_ROLE_ARN', 'pass'],
      ['reply time budget', 'pass'],
      ['s.yaml variables', 'pass'],
    ]);
    expect(openai.requests.at(-1)?.body).toMatchObject({ max_tokens: 1 });
    expect([...oss.objects.keys()]).toEqual([]);
    expect(oss.requests.map((request) => request.operation)).toEqual(['PutObject', 'GetObject', 'DeleteMultipleObjects', 'GetObject']);
    expect(renderDoctorTable(rows)).toMatch(/All checks passed\.\n$/);
  });

  it('reports a bad API key as refused, with what to do', async () => {
    const llm = row(await runDoctor({ env: { ...good(), OPENAI_API_KEY: 'sk-wrong-key-000000' }, sYaml: S_YAML }), 'LLM answers');
    expect(llm).toMatchObject({ status: 'fail', detail: expect.stringMatching(/refused the API key \(401\)/), fix: expect.stringMatching(/OPENAI_API_KEY/) });
  });

  it('reports an unknown model (404)', async () => {
    const llm = row(await runDoctor({ env: { ...good(), OPENAI_MODEL: 'no-such-model' }, sYaml: S_YAML }), 'LLM answers');
    expect(llm).toMatchObject({ status: 'fail', detail: expect.stringMatching(/unknown model or path \(404\)/), fix: expect.stringMatching(/OPENAI_MODEL/) });
  });

  it('reports an unreachable LLM host', async () => {
    const closed = await listen(async () => undefined);
    await closed.close();
    const llm = row(await runDoctor({ env: { ...good(), OPENAI_BASE_URL: `${closed.url}/v1` }, sYaml: S_YAML }), 'LLM answers');
    expect(llm).toMatchObject({ status: 'fail', detail: `127.0.0.1:${closed.port} could not be reached (ECONNREFUSED)`, fix: expect.stringMatching(/OPENAI_BASE_URL/) });
  });

  it.each([
    ['an HTML page', { raw: '<!doctype html><html><body>Welcome to nginx!</body></html>', contentType: 'text/html' }],
    ['invalid JSON', { raw: '{"choices": [', contentType: 'application/json' }],
  ])('fails an LLM URL that answers %s with 200: not an OpenAI-compatible API, naming the host', async (_what, answer) => {
    openai.queue(answer);
    const llm = row(await runDoctor({ env: good(), sYaml: S_YAML }), 'LLM answers');
    expect(llm).toMatchObject({ status: 'fail', detail: expect.stringContaining('this URL is not an OpenAI-compatible API'), fix: expect.stringMatching(/OPENAI_BASE_URL/) });
    expect(llm.detail).toContain(new URL(openai.baseURL).host);
  });

  it('advises on quota and billing when the LLM answers 429', async () => {
    openai.queue({ status: 429, body: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota', param: null } } });
    const llm = row(await runDoctor({ env: good(), sYaml: S_YAML }), 'LLM answers');
    expect(llm).toMatchObject({ status: 'fail', detail: expect.stringMatching(/429.*insufficient_quota/), fix: expect.stringMatching(/quota or billing/) });
  });

  it('checks the LLM alone with --llm, whatever else is missing', async () => {
    const rows = await runDoctor({ env: { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: openai.baseURL }, sYaml: S_YAML, only: 'llm' });
    expect(rows.map((r) => [r.check, r.status])).toEqual([
      ['LLM variables', 'pass'],
      ['LLM answers', 'pass'],
    ]);
    expect(rows[0]?.detail).toContain(`OPENAI_BASE_URL="${openai.baseURL}"`);
    expect(rows[0]?.detail).not.toContain(API_KEY);
    const missing = await runDoctor({ env: {}, sYaml: S_YAML, only: 'llm' });
    expect(missing[0]).toMatchObject({ check: 'LLM variables', status: 'fail', detail: expect.stringMatching(/OPENAI_API_KEY is required/) });
    expect(missing[0]?.detail).not.toMatch(/OSS_BUCKET|HISTORY_DIR/);
  });

  it('shows non-secret values in clear and secrets as 4 characters at most', async () => {
    const values = row(await runDoctor({ env: { ...good(), OSS_BUCKET: 'doctor-histroy' }, sYaml: S_YAML }), 'values');
    expect(values.detail).toContain('OSS_BUCKET="doctor-histroy"');
    expect(values.detail).toContain('FC_ROLE_ARN="acs:ram::1234567890123456:role/dingtalk-llm-role"');
    expect(values.detail).toContain('OPENAI_API_KEY="sk-d…" (25 characters)');
    expect(values.detail).not.toContain(API_KEY);
    expect(values.detail).not.toContain(SECRET);
    expect(values.detail).not.toContain(KEY.accessKeySecret);
  });

  it('reports a missing bucket', async () => {
    const history = row(await runDoctor({ env: { ...good(), OSS_BUCKET: 'no-such-bucket' }, sYaml: S_YAML }), 'history store');
    expect(history).toMatchObject({ status: 'fail', detail: expect.stringMatching(/NoSuchBucket/), fix: expect.stringMatching(/create the bucket/) });
  });

  it('says an OSS bucket cannot be checked without an access key, instead of a bare StorageError', async () => {
    const { ALIBABA_CLOUD_ACCESS_KEY_ID: _id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: _secret, ...env } = good();
    void [_id, _secret];
    const history = row(await runDoctor({ env, sYaml: S_YAML }), 'history store');
    expect(history).toMatchObject({ status: 'fail', detail: expect.stringMatching(/no access key to test with/), fix: expect.stringMatching(/ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/) });
    expect(history.detail).not.toMatch(/StorageError/);
  });

  it('names the endpoint, region and connection error when the OSS endpoint cannot be reached', async () => {
    const closed = await listen(async () => undefined);
    await closed.close();
    const history = row(await runDoctor({ env: { ...good(), OSS_ENDPOINT: closed.url }, sYaml: S_YAML }), 'history store');
    expect(history).toMatchObject({ status: 'fail', fix: expect.stringMatching(/OSS_REGION/) });
    expect(history.detail).toContain(`OSS bucket doctor-history (region cn-hangzhou, endpoint ${closed.url})`);
    expect(history.detail).toMatch(/could not be reached \(ECONNREFUSED\)/);
  });

  it("checks FC_ROLE_ARN's form", async () => {
    expect(row(await runDoctor({ env: { ...good(), FC_ROLE_ARN: 'dingtalk-llm-role' }, sYaml: S_YAML }), 'FC_ROLE_ARN')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/acs:ram::<account id>:role/) });
    expect(row(await runDoctor({ env: { ...good(), FC_ROLE_ARN: '' }, sYaml: S_YAML }), 'FC_ROLE_ARN')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not set/) });
  });

  it("fails a time budget the reply function's timeout cannot hold (100 s × 6 attempts against 180 s)", async () => {
    const budget = row(await runDoctor({ env: { ...good(), LLM_TIMEOUT_SECONDS: '100', LLM_MAX_RETRIES: '5' }, sYaml: S_YAML }), 'reply time budget');
    expect(budget).toMatchObject({ status: 'fail', detail: expect.stringMatching(/6 × 100 s.*timeout of 180 s/), fix: expect.stringMatching(/LLM_TIMEOUT_SECONDS or LLM_MAX_RETRIES/) });
  });

  it('asks DingTalk for a token with DINGTALK_CLIENT_ID, and lists the card permissions with a template', async () => {
    const dingtalk = await startDingTalkOpenApiFake({ clientId: 'dingdoctorclient', clientSecret: SECRET });
    try {
      const env = { ...good(), DINGTALK_CLIENT_ID: 'dingdoctorclient', DINGTALK_API_BASE: dingtalk.url, DINGTALK_CARD_TEMPLATE_ID: 'fake-ai-card.schema' };
      const rows = await runDoctor({ env, sYaml: S_YAML });
      expect(row(rows, 'DingTalk OpenAPI')).toMatchObject({ status: 'pass' });
      expect(row(rows, 'card permissions')).toMatchObject({ status: 'info', detail: expect.stringMatching(/Card\.Streaming\.Write, Card\.Instance\.Write, qyapi_robot_sendmsg/) });
      const wrong = await runDoctor({ env: { ...env, DINGTALK_CLIENT_ID: 'dingotherclient' }, sYaml: S_YAML });
      expect(row(wrong, 'DingTalk OpenAPI')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/Client ID and Client Secret of the same app/) });
    } finally {
      await dingtalk.close();
    }
  });

  it('probes a history folder too', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'doctor-'));
    try {
      const env = { ...good(), HISTORY_DIR: dir };
      expect(row(await runDoctor({ env, sYaml: S_YAML }), 'history store')).toMatchObject({ status: 'pass' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists missing and malformed variables, skips the probes, and never prints a secret beyond 4 characters', async () => {
    const env = { ...good(), OPENAI_API_KEY: '', DINGTALK_APP_SECRET: 'short secret with spaces', OSS_REGION: 'Hangzhou!' };
    const rows = await runDoctor({ env, sYaml: S_YAML });
    expect(row(rows, 'reply variables')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/OPENAI_API_KEY is required[\s\S]*OSS_REGION must be a region id/) });
    expect(row(rows, 'app secret format')).toMatchObject({ status: 'fail', detail: expect.stringContaining('"shor…" (24 characters)') });
    expect(row(rows, 'LLM answers').status).toBe('skip');
    const table = renderDoctorTable(rows);
    expect(table).not.toContain('short secret');
    expect(table).not.toContain(KEY.accessKeySecret);
    expect(table).toMatch(/2 checks failed\.\n$/);
    expect(table).toContain('INFO  values');
  });

  it('fails the allowlist when it lacks DingTalk or names another host', async () => {
    expect(row(await runDoctor({ env: { ...good(), DINGTALK_WEBHOOK_HOSTS: 'oapi.dingtalk.com,evil.example' }, sYaml: S_YAML }), 'webhook host allowlist')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/evil\.example is not DingTalk/),
    });
    expect(row(await runDoctor({ env: { ...good(), DINGTALK_WEBHOOK_HOSTS: 'api.dingtalk.com' }, sYaml: S_YAML }), 'webhook host allowlist').status).toBe('fail');
  });

  it('finds an s.yaml that passes a variable no function reads, or forgets one', async () => {
    const extra = S_YAML.replace("        LOG_LEVEL: ${env('LOG_LEVEL', 'info')}\n", "        LOG_LEVEL: ${env('LOG_LEVEL', 'info')}\n        UNKNOWN_THING: ${env('UNKNOWN_THING', '')}\n");
    expect(row(await runDoctor({ env: good(), sYaml: extra }), 's.yaml variables')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/passes UNKNOWN_THING/) });
    const missing = S_YAML.replace(/^\s*OPENAI_MODEL: .*\n/m, '');
    expect(row(await runDoctor({ env: good(), sYaml: missing }), 's.yaml variables')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/reply: s\.yaml does not pass OPENAI_MODEL/) });
  });

  it("completes the environment with s.yaml's defaults, as a deploy would", () => {
    const env = deployedEnvironment({ OPENAI_MODEL: '' }, S_YAML);
    expect(env).toMatchObject({ REPLY_FUNCTION_NAME: 'dingtalk-llm-reply', OPENAI_MODEL: 'gpt-4o-mini', FC_REGION: 'cn-hangzhou' });
    expect(env.OSS_BUCKET).toBeUndefined();
  });
});
