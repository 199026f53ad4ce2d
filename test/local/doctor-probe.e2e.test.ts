/**
 * `npm run doctor -- --url` end to end against `npm start`: the local bot serves the conversation bundle,
 * its local FC endpoint runs the reply bundle, and doctor reads the probe's result from the history
 * folder. Nothing reaches DingTalk, no history is created, no limit is counted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { probeDeployment } from '../../local/doctor-probe';
import { startLocalBot } from '../../local/server';
import { systemClock } from '../../shared/ports';
import { startOpenAiFake, type OpenAiFake } from '../fakes/openai-fake';
import { captureLogger } from '../helpers/capture-logger';

const DIST = path.resolve(__dirname, '../../dist');
const API_KEY = 'sk-doctor-e2e-000000';
const savedEnv = { ...process.env };
let dataDir: string;
let openai: OpenAiFake;

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

beforeAll(async () => {
  openai = await startOpenAiFake({ apiKey: API_KEY, models: ['gpt-4o-mini'] });
});
afterAll(() => openai.close());

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'doctor-probe-'));
  for (const name of ['DINGTALK_APP_SECRET', 'DINGTALK_CLIENT_SECRET', 'HISTORY_DIR', 'OSS_BUCKET', 'S3_BUCKET', 'FORCE_MOCK_OPENAI', 'DAILY_MESSAGE_LIMIT']) delete process.env[name];
  Object.assign(process.env, { LOG_LEVEL: 'error', OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: openai.baseURL, OPENAI_MODEL: 'gpt-4o-mini', DAILY_MESSAGE_LIMIT: '1' });
});
afterEach(() => {
  process.env = { ...savedEnv };
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run doctor -- --url against npm start', () => {
  it('proves the whole path: signature, FC invocation, reply with store and LLM; no history, no usage, nothing posted', async () => {
    const bot = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger });
    try {
      const report = await probeDeployment({ url: bot.url, env: {}, dataDir, clock: systemClock, timeoutMs: 20_000, pollMs: 50 });
      await bot.idle();
      expect(report.rows.map((row) => [row.check, row.status])).toEqual([
        ['signature', 'pass'],
        ['invocation', 'pass'],
        ['reply ran', 'pass'],
        ['store', 'pass'],
        ['LLM', 'pass'],
      ]);
      expect(report).toMatchObject({ ok: true, signer: 'fc2' });
      // The LLM got the tiny prompt only; the history folder is left empty (the result was read and deleted).
      expect(openai.requests.map((request) => (request.body as { messages?: unknown[] }).messages?.length)).toEqual([1]);
      expect(files(path.join(dataDir, 'history'))).toEqual([]);
    } finally {
      await bot.close(1000);
    }
  });

  it('exits 0 from the command line when the probe comes back, and 1 naming the signature with a wrong secret', async () => {
    const bot = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger });
    try {
      const run = promisify(execFile);
      const env = { LOCAL_DATA_DIR: dataDir, LOCAL_ENV_FILES: 'none' };
      const ok = await run(process.execPath, [path.join(DIST, 'local', 'doctor.js'), '--url', bot.url, '--timeout', '20'], { env });
      expect(ok.stdout).toMatch(/PASS {2}LLM/);
      expect(ok.stdout).toMatch(/All checks passed\./);
      const wrong = await run(process.execPath, [path.join(DIST, 'local', 'doctor.js'), '--url', bot.url], { env: { ...env, DINGTALK_APP_SECRET: 'not-the-local-secret-000000' } }).catch((error: { code: number; stdout: string }) => error);
      expect(wrong).toMatchObject({ code: 1, stdout: expect.stringMatching(/FAIL {2}signature/) });
    } finally {
      await bot.close(1000);
    }
  });
});
