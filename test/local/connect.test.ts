/**
 * `npm run connect` end to end: a robot message from the Stream gateway fake goes through the local
 * pipeline of `npm start` (the built conversation and reply bundles, the local FC endpoint, history in the
 * data folder, the offline responder) and is answered into its session webhook (a loopback sink); the
 * callback is acknowledged once the conversation function took it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { connectBanner, connectCredentials, describeRobotMessage, runConnect, startConnect, type Connected } from '../../local/connect-cli';
import type { StreamCredentials } from '../../local/connect-stream';
import { dingtalkTextMessage } from '../../local/dingtalk-payload';
import { robotMessageText } from '../../local/robot-message';
import { startDingTalkStreamFake, type DingTalkStreamFake } from '../fakes/dingtalk-stream-fake';
import { startWebhookSink, type WebhookSink } from '../fakes/webhook-sink';
import { captureLogger } from '../helpers/capture-logger';

const DIST = path.resolve(__dirname, '../../dist');
const CLIENT_ID = 'dingconnecttest00001';
const CLIENT_SECRET = 'connect-test-client-secret-000000000000';
const savedEnv = { ...process.env };
let dataDir: string;
let fake: DingTalkStreamFake;
let sink: WebhookSink;

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'local-connect-'));
  for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_MODEL', 'FORCE_MOCK_OPENAI', 'DINGTALK_CLIENT_SECRET', 'HISTORY_DIR', 'OSS_BUCKET', 'S3_BUCKET']) {
    delete process.env[name];
  }
  process.env.LOG_LEVEL = 'error';
  fake = await startDingTalkStreamFake({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  sink = await startWebhookSink();
  Object.assign(process.env, { DINGTALK_CLIENT_ID: CLIENT_ID, DINGTALK_APP_SECRET: CLIENT_SECRET, DINGTALK_API_BASE: fake.url });
});

afterEach(async () => {
  process.env = { ...savedEnv };
  await Promise.all([fake.close(), sink.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A robot message as DingTalk sends it, answering into the sink's session `session`. */
const robotMessage = (text: string, options: { user?: string; group?: boolean; session?: string } = {}): Record<string, unknown> =>
  dingtalkTextMessage({ text, user: options.user ?? 'zhangsan', group: options.group ?? false, sessionWebhook: sink.webhookUrl(options.session ?? 's1'), now: Date.now() });

async function connect(lines: string[]): Promise<Connected> {
  const credentials = connectCredentials(process.env) as StreamCredentials;
  return startConnect({ env: process.env, distDir: DIST, dataDir, port: 0, logger: captureLogger().logger, credentials, print: (line) => lines.push(line), reconnectDelayMs: () => 0 });
}

describe('npm run connect (startConnect)', () => {
  it('answers a robot message from the Stream gateway through the local pipeline, acknowledges it, and keeps history in the data folder', async () => {
    const lines: string[] = [];
    const connected = await connect(lines);
    try {
      expect(fake.opens[0]?.body).toMatchObject({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, subscriptions: [{ type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' }] });
      const ack = await fake.deliver(robotMessage('hello from DingTalk'));
      expect(ack).toMatchObject({ code: 200, message: 'OK', data: { response: null } });
      const [answer] = await sink.waitForMessages(1);
      expect(answer?.session).toBe('s1');
      expect(robotMessageText(answer?.body)).toContain('You asked: "hello from DingTalk"');
      expect(lines).toEqual([expect.stringMatching(/1:1 from zhangsan, text of 19 characters → accepted$/)]);
      // The message text is not printed unless LOG_LEVEL=debug.
      expect(lines.join('\n')).not.toContain('hello from DingTalk');

      await connected.bot.idle();
      await fake.deliver(robotMessage('what did I say?', { session: 's2' }));
      const [, second] = await sink.waitForMessages(2);
      expect(robotMessageText(second?.body)).toContain('hello from DingTalk');
      expect(fake.invalidFrames).toEqual([]);
    } finally {
      await connected.stop(1000);
    }
    expect(fake.connections[0]?.open).toBe(false);
  });

  it('answers group messages after DingTalk asks it to reconnect', async () => {
    const lines: string[] = [];
    const connected = await connect(lines);
    try {
      fake.disconnect();
      await fake.waitForConnections(2);
      expect(await fake.deliver(robotMessage('in the group', { group: true }))).toMatchObject({ code: 200, connection: 2 });
      const [answer] = await sink.waitForMessages(1);
      expect(robotMessageText(answer?.body)).toContain('You asked: "in the group"');
      expect(lines).toContainEqual(expect.stringMatching(/DingTalk asked to reconnect \(persistent connection is timeout\)$/));
      expect(lines).toContainEqual(expect.stringMatching(/ reconnected to DingTalk$/));
      expect(lines.some((line) => /group "Local test group" from zhangsan, text of \d+ characters → accepted$/.test(line))).toBe(true);
    } finally {
      await connected.stop(1000);
    }
  });

  it('answers a message the gateway delivers twice (a lost acknowledgement) once', async () => {
    const connected = await connect([]);
    try {
      const message = robotMessage('only once');
      expect(await fake.deliver(message)).toMatchObject({ code: 200 });
      await connected.bot.idle();
      expect(await fake.deliver(message)).toMatchObject({ code: 200 });
      await connected.bot.idle();
      expect(sink.messages).toHaveLength(1);
    } finally {
      await connected.stop(1000);
    }
  });

  it('acknowledges a callback the conversation function refuses with 400 and says why', async () => {
    const lines: string[] = [];
    const connected = await connect(lines);
    try {
      const ack = await fake.deliver({ msgtype: 'text', text: { content: 'no sender, no webhook' } });
      expect(ack.code).toBe(400);
      expect(ack.message).not.toBe('');
      expect(lines[0]).toMatch(/→ refused by the conversation function \(400: .+\)$/);
      await connected.bot.idle();
      expect(sink.requests).toEqual([]);
    } finally {
      await connected.stop(1000);
    }
  });
});

describe('npm run connect (runConnect)', () => {
  function streams(): { output: PassThrough; errors: PassThrough; written: () => string; failed: () => string } {
    const output = new PassThrough();
    const errors = new PassThrough();
    let written = '';
    let failed = '';
    output.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
    errors.on('data', (chunk: Buffer) => (failed += chunk.toString('utf8')));
    return { output, errors, written: () => written, failed: () => failed };
  }

  it('runs until stopped: the banner says how to deploy, a message is answered, Ctrl-C closes the connection for good', async () => {
    Object.assign(process.env, { PORT: '0', LOCAL_DATA_DIR: dataDir });
    const io = streams();
    let stop: () => void = () => undefined;
    const stopRequested = new Promise<void>((resolve) => (stop = resolve));
    const running = runConnect({ argv: [], env: process.env, output: io.output, errors: io.errors, distDir: DIST, stopRequested, reconnectDelayMs: () => 0 });
    await fake.waitForConnections(1);
    expect(await fake.deliver(robotMessage('via runConnect'))).toMatchObject({ code: 200 });
    await sink.waitForMessages(1);
    stop();
    expect(await running).toBe(0);
    expect(io.written()).toContain(`Client ID ${CLIENT_ID}, connected`);
    expect(io.written()).toContain('switch the robot to HTTP mode');
    expect(io.written()).not.toContain(CLIENT_SECRET);
    expect(io.failed()).toContain('Stopping');
    expect(fake.connections.map((connection) => connection.open)).toEqual([false]);
    expect(fake.opens).toHaveLength(1);
  });

  it('says which credentials are missing and where to put them', async () => {
    delete process.env.DINGTALK_CLIENT_ID;
    const io = streams();
    const code = await runConnect({ argv: [], env: process.env, output: io.output, errors: io.errors, distDir: DIST, stopRequested: new Promise(() => undefined) });
    expect(code).toBe(2);
    expect(io.failed()).toContain('DINGTALK_CLIENT_ID (the Client ID) is not set');
    expect(io.failed()).toContain('.env.local');
    expect(fake.opens).toEqual([]);
  });

  it('stops with a friendly error when DingTalk refuses the secret, and leaves the environment as it was', async () => {
    Object.assign(process.env, { PORT: '0', LOCAL_DATA_DIR: dataDir, DINGTALK_APP_SECRET: 'not-the-secret' });
    const before = { ...process.env };
    const io = streams();
    const code = await runConnect({ argv: [], env: process.env, output: io.output, errors: io.errors, distDir: DIST, stopRequested: new Promise(() => undefined) });
    expect(code).toBe(1);
    expect(io.failed()).toContain('DingTalk refused the Client ID and Client Secret');
    expect(io.failed()).not.toContain('not-the-secret');
    expect(fake.opens.map((open) => open.status)).toEqual([401]);
    expect(process.env).toEqual(before);
  });
});

describe('message lines', () => {
  it('name the sender and the conversation, and show the text only when asked', () => {
    const data = JSON.stringify(robotMessage('a secret plan', { group: true }));
    expect(describeRobotMessage(data, false)).toBe('group "Local test group" from zhangsan, text of 13 characters');
    expect(describeRobotMessage(data, true)).toBe('group "Local test group" from zhangsan, "a secret plan"');
    expect(describeRobotMessage('{"msgtype":"picture","senderNick":"Li"}', false)).toBe('1:1 from Li, picture');
    expect(describeRobotMessage('not json', false)).toBe('a message that is not JSON');
  });

  it('the banner tells to switch the robot to HTTP mode when deploying', () => {
    const banner = connectBanner({ bot: { url: 'http://127.0.0.1:9000/', history: 'folder .data/history', llm: 'offline' } } as unknown as Connected, 'dingabc');
    expect(banner).toMatch(/switch the robot to HTTP mode and paste the conversation function's URL/);
    expect(banner).toContain('Stream mode');
  });
});
