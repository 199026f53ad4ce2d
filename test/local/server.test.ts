import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runChat } from '../../local/chat-cli';
import { startBanner, startLocalBot } from '../../local/server';
import { startOpenAiFake } from '../fakes/openai-fake';
import { captureLogger } from '../helpers/capture-logger';

const DIST = path.resolve(__dirname, '../../dist');
const savedEnv = { ...process.env };
let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'local-server-'));
  for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_MODEL', 'FORCE_MOCK_OPENAI', 'DINGTALK_APP_SECRET', 'DINGTALK_CLIENT_SECRET', 'HISTORY_DIR', 'OSS_BUCKET', 'S3_BUCKET']) {
    delete process.env[name];
  }
  process.env.LOG_LEVEL = 'error';
});

afterEach(() => {
  process.env = { ...savedEnv };
  rmSync(dataDir, { recursive: true, force: true });
});

/** One piped chat line against `url`, with the secret found the way `npm run chat` finds it. */
async function ask(url: string, text: string, env: NodeJS.ProcessEnv = { LOCAL_DATA_DIR: dataDir }): Promise<string> {
  const out = new PassThrough();
  let written = '';
  out.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
  const errors = new PassThrough();
  let failed = '';
  errors.on('data', (chunk: Buffer) => (failed += chunk.toString('utf8')));
  const code = await runChat({ argv: ['--url', url, '--timeout', '5'], env, input: Readable.from([`${text}\n`]), output: out, errors, interactive: false, color: false });
  expect(failed).toBe('');
  expect(code).toBe(0);
  return written;
}

describe('npm start (startLocalBot)', () => {
  it('generates an app secret once, saves it for the chat in another terminal, and prints it', async () => {
    const bot = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger });
    try {
      expect(bot.secret.source).toBe('generated');
      expect(statSync(path.join(dataDir, 'local-secret')).mode & 0o777).toBe(0o600);
      expect(startBanner(bot)).toContain(bot.secret.value);
      expect(await ask(bot.url, 'hello')).toContain('You asked: "hello"');
    } finally {
      await bot.close(1000);
    }
    const again = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger });
    await again.close(1000);
    expect(again.secret).toMatchObject({ source: 'file', value: bot.secret.value });
  });

  it('restores the environment it changed when it stops', async () => {
    const before = { ...process.env };
    const bot = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger });
    expect(process.env.FC_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env.DINGTALK_WEBHOOK_HOSTS).toBe('oapi.dingtalk.com,127.0.0.1');
    await bot.close(1000);
    expect(process.env).toEqual(before);
  });

  it('uses the LLM that OPENAI_* configure when a key is set, and the offline responder with FORCE_MOCK_OPENAI=1', async () => {
    const openai = await startOpenAiFake({ apiKey: 'sk-local-test-000', models: ['test-model'] });
    try {
      Object.assign(process.env, { OPENAI_API_KEY: 'sk-local-test-000', OPENAI_BASE_URL: openai.baseURL, OPENAI_MODEL: 'test-model', DINGTALK_APP_SECRET: 'configured-secret-000' });
      const bot = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger });
      try {
        expect(bot.offline).toBe(false);
        expect(bot.llm).toBe(`test-model at ${openai.baseURL}`);
        expect(startBanner(bot)).not.toContain('configured-secret-000');
        expect(await ask(bot.url, 'real model?', { DINGTALK_APP_SECRET: 'configured-secret-000' })).toContain('Echo: real model?');
      } finally {
        await bot.close(1000);
      }
      process.env.FORCE_MOCK_OPENAI = '1';
      const forced = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger });
      try {
        expect(forced.llm).toMatch(/offline responder \(FORCE_MOCK_OPENAI is set\)/);
        expect(await ask(forced.url, 'offline?', { DINGTALK_APP_SECRET: 'configured-secret-000' })).toContain('offline responder');
      } finally {
        await forced.close(1000);
      }
    } finally {
      await openai.close();
    }
  });
});
