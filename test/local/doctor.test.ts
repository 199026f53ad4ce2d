import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deployedEnvironment, renderDoctorTable, runDoctor, type DoctorRow } from '../../local/doctor-checks';
import { listen } from '../../local/http-util';
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
      ['conversation variables', 'pass'],
      ['reply variables', 'pass'],
      ['app secret format', 'pass'],
      ['LLM answers', 'pass'],
      ['history store', 'pass'],
      ['webhook host allowlist', 'pass'],
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
    expect(llm).toMatchObject({ status: 'fail', detail: `127.0.0.1:${closed.port} could not be reached`, fix: expect.stringMatching(/OPENAI_BASE_URL/) });
  });

  it('reports a missing bucket', async () => {
    const history = row(await runDoctor({ env: { ...good(), OSS_BUCKET: 'no-such-bucket' }, sYaml: S_YAML }), 'history store');
    expect(history).toMatchObject({ status: 'fail', detail: expect.stringMatching(/NoSuchBucket/), fix: expect.stringMatching(/create the bucket/) });
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
