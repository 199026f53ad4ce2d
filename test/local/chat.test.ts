/**
 * The terminal chat against the local server, end to end: `startLocalBot` serves the dist/ bundles
 * (built by `npm test`), the real fc2 client invokes the reply bundle through the local FC endpoint,
 * the offline responder answers, and the chat's own webhook receives the reply.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { runChat } from '../../local/chat-cli';
import { listen, sendJson } from '../../local/http-util';
import { startLocalBot, startBanner, type LocalBot } from '../../local/server';
import { captureLogger } from '../helpers/capture-logger';

const DIST = path.resolve(__dirname, '../../dist');
const SECRET = 'chat-test-secret-0123456789';
const savedEnv = { ...process.env };

interface ChatRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the chat as with piped stdin: one message per line. */
async function chat(lines: string[], argv: string[] = [], env: NodeJS.ProcessEnv = { DINGTALK_APP_SECRET: SECRET }): Promise<ChatRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (chunk: Buffer) => chunks.out.push(chunk));
  err.on('data', (chunk: Buffer) => chunks.err.push(chunk));
  const code = await runChat({
    argv: ['--url', bot.url, '--timeout', '5', ...argv],
    env: { ...env },
    input: Readable.from(lines.map((line) => `${line}\n`)),
    output: out,
    errors: err,
    interactive: false,
    color: false,
  });
  return { code, out: Buffer.concat(chunks.out).toString('utf8'), err: Buffer.concat(chunks.err).toString('utf8') };
}

/** The answers in a transcript, one string each. */
const answers = (out: string): string[] => out.split(/^bot › /m).slice(1);

let bot: LocalBot;
let dataDir: string;
const log = captureLogger();

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'local-chat-'));
  for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OSS_BUCKET', 'S3_BUCKET', 'HISTORY_DIR', 'DINGTALK_WEBHOOK_HOSTS']) delete process.env[name];
  process.env.DINGTALK_APP_SECRET = SECRET;
  process.env.LOG_LEVEL = 'error';
  bot = await startLocalBot({ env: process.env, distDir: DIST, dataDir, port: 0, logger: log.logger });
});

afterAll(async () => {
  await bot.close(1000);
  process.env = savedEnv;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run chat against npm start', () => {
  it('answers two piped lines in order, the second aware of the first, and exits 0', async () => {
    const run = await chat(['hi', 'what did I say?'], ['--user', 'zhang']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const [first, second] = answers(run.out);
    expect(first).toContain('offline responder');
    expect(first).toContain('I saw no earlier messages');
    expect(second).toContain('I saw 1 earlier exchange');
    expect(second).toContain('"hi"');
    expect(run.out.indexOf('you › what did I say?')).toBeGreaterThan(run.out.indexOf('You asked: "hi"'));
    expect(readdirSync(path.join(dataDir, 'history'))).toHaveLength(1);
  });

  it('passes \\clear through to the bot, which empties the history', async () => {
    await chat(['one', 'two'], ['--user', 'clearer']);
    const run = await chat(['\\clear', 'anything left?'], ['--user', 'clearer']);
    const [cleared, after] = answers(run.out);
    expect(cleared).toMatch(/cleared/);
    expect(after).toContain('I saw no earlier messages');
  });

  it('keeps histories apart per --user', async () => {
    await chat(['I am wang'], ['--user', 'wang']);
    const other = await chat(['who am I?'], ['--user', 'li']);
    expect(answers(other.out)[0]).toContain('I saw no earlier messages');
  });

  it('sends group messages with a leading space and an @ mention, and the answer @-mentions the asker', async () => {
    const run = await chat(['hello group'], ['--group', '--user', 'zhao']);
    expect(run.code).toBe(0);
    expect(answers(run.out)[0]).toMatch(/^@zhao/);
    expect(answers(run.out)[0]).toContain('You asked: "hello group"');
  });

  it('says the signature was refused when its secret differs from the server’s', async () => {
    const run = await chat(['hi'], [], { DINGTALK_APP_SECRET: 'another-secret-000000' });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/refused the signature \(401\).*DINGTALK_APP_SECRET/s);
  });

  it('says the server is not running when nothing listens at the URL', async () => {
    const closed = await listen(async () => undefined);
    await closed.close();
    const run = await chat(['hi'], ['--url', closed.url]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/No bot answers at .*npm start/);
  });

  it('gives up with a clear message when no reply arrives within --timeout', async () => {
    const silent = await listen(async (_req, res) => sendJson(res, 200, {}));
    try {
      const run = await chat(['hi'], ['--url', `${silent.url}/`, '--timeout', '0.2']);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/No reply within 0.2 s/);
    } finally {
      await silent.close();
    }
  });

  it('answers a GET on the receiving URL with the health document, as the deployed trigger does', async () => {
    const response = await fetch(bot.url);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ name: 'dingtalk-llm-conversation', secretConfigured: true, replyTargetConfigured: true });
  });

  it('prints a start banner with the URL, the history folder, the offline LLM and how to chat, without the real secret', () => {
    const banner = startBanner(bot);
    expect(banner).toContain(bot.url);
    expect(banner).toContain(path.join(dataDir, 'history'));
    expect(banner).toMatch(/offline responder .*not an LLM/);
    expect(banner).toContain('npm run chat');
    expect(banner).not.toContain(SECRET);
    expect(banner).toContain('"chat…"');
  });

  it('runs as a program: the bundled chat reads piped stdin and prints only the conversation', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'chat-cwd-'));
    try {
      const child = execFile(process.execPath, [path.join(DIST, 'local', 'chat.js'), '--url', bot.url], {
        cwd,
        env: { PATH: process.env.PATH ?? '', DINGTALK_APP_SECRET: SECRET },
        timeout: 10_000,
      });
      child.stdin?.end('hi there\n');
      const done = promisify((callback: (error: Error | null, code?: number) => void) => child.on('exit', (code) => callback(null, code ?? -1)))();
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      expect(await done).toBe(0);
      expect(stdout.startsWith('you › hi there\nbot › ')).toBe(true);
      expect(stdout).toContain('You asked: "hi there"');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
