/**
 * The local tools in a test run ignore the developer's `.env` and `.env.local`: with a bogus value for
 * every documented variable in both files in the working directory (as in a developer's clone), the
 * local bot and the chat behave exactly as in a clean one. Before the files were turned off in tests,
 * the chat signed with the `.env`'s DINGTALK_APP_SECRET and the bot answered 401.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runChat } from '../../local/chat-cli';
import { startLocalBot } from '../../local/server';
import { captureLogger } from '../helpers/capture-logger';
import { hostileEnvFile } from '../helpers/hostile-env';

const DIST = path.resolve(__dirname, '../../dist');
const savedCwd = process.cwd();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hermetic-local-'));
  writeFileSync(path.join(dir, '.env'), hostileEnvFile());
  writeFileSync(path.join(dir, '.env.local'), hostileEnvFile());
  process.chdir(dir);
  process.env.LOG_LEVEL = 'error';
});

afterEach(() => {
  process.chdir(savedCwd);
  delete process.env.LOG_LEVEL;
  rmSync(dir, { recursive: true, force: true });
});

it('npm start and npm run chat answer with the generated secret and the offline responder despite a hostile .env and .env.local', async () => {
  const dataDir = path.join(dir, 'data');
  const bot = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger });
  try {
    expect(bot.secret.source).toBe('generated');
    expect(bot.offline).toBe(true);
    const out = new PassThrough();
    let written = '';
    out.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
    const errors = new PassThrough();
    let failed = '';
    errors.on('data', (chunk: Buffer) => (failed += chunk.toString('utf8')));
    const code = await runChat({ argv: ['--url', bot.url, '--timeout', '5'], env: { LOCAL_DATA_DIR: dataDir }, input: Readable.from(['hello\n']), output: out, errors, interactive: false, color: false });
    expect(failed).toBe('');
    expect(code).toBe(0);
    expect(written).toContain('You asked: "hello"');
  } finally {
    await bot.close(1000);
  }
});
