/**
 * End to end through the two bundles `s deploy` ships (dist/), with the real SDK clients talking to the
 * loopback fakes: a signed DingTalk callback goes in, FC's API fake runs the reply bundle, the answer
 * lands in the webhook sink and the exchange in the OSS fake.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FcApiFake } from '../fakes/fc-api-fake';
import { startOpenAiFake, type OpenAiFake } from '../fakes/openai-fake';
import { startOssFake, type OssFake } from '../fakes/oss-fake';
import { startWebhookSink, type WebhookSink } from '../fakes/webhook-sink';
import { bundleEnv } from '../helpers/bundle-env';
import { captureStdout } from '../helpers/capture-logger';
import { fcContext, STS_CREDENTIALS } from '../helpers/fc-context';
import { dingtalkSample } from '../helpers/fixtures';
import { guarantee } from '../helpers/guarantee';
import { signedEvent } from '../helpers/signed-request';
import { DIST, loadBundle, startFcRunningReply, type BundleHandler } from '../helpers/load-bundle';

const SECRET = 'e2e-app-secret-value-0123456789';
const API_KEY = 'sk-e2e-0123456789';
const BUCKET = 'e2e-history';
const REPLY = 'dingtalk-llm-reply';

interface HttpResult {
  statusCode: number;
  body: string;
}

let fc: FcApiFake;
let oss: OssFake;
let openai: OpenAiFake;
let sink: WebhookSink;
let conversation: BundleHandler;
let reply: BundleHandler;
const savedEnv = { ...process.env };

function env(): Record<string, string> {
  return {
    ...bundleEnv({ appSecret: SECRET, apiKey: API_KEY, replyFunctionName: REPLY, bucket: BUCKET, fcUrl: fc.url, openAiUrl: openai.url, ossUrl: oss.url }),
    SYSTEM_PROMPT: 'You are a helpful assistant.',
  };
}

beforeAll(async () => {
  oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  openai = await startOpenAiFake({ apiKey: API_KEY, models: ['gpt-4o-mini'] });
  sink = await startWebhookSink();
  fc = await startFcRunningReply(REPLY, () => reply);
  Object.assign(process.env, env());
  conversation = loadBundle('conversation');
  reply = loadBundle('reply');
});

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([fc.close(), oss.close(), openai.close(), sink.close()]);
});

function message(text: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body = dingtalkSample('text-1to1');
  body.msgId = `msg-${Math.random().toString(36).slice(2)}`;
  body.createAt = Date.now();
  body.sessionWebhookExpiredTime = Date.now() + 60 * 60 * 1000;
  body.sessionWebhook = sink.webhookUrl('e2e-session');
  body.text = { content: text };
  return { ...body, ...overrides };
}

async function send(event: Buffer): Promise<HttpResult> {
  const { result } = await captureStdout(() => conversation(event, fcContext({ functionName: 'dingtalk-llm-conversation' })));
  return result as HttpResult;
}

async function chat(text: string): Promise<{ status: number; answer: string }> {
  const before = sink.messages.length;
  const response = await send(signedEvent({ secret: SECRET, body: message(text) }));
  await captureStdout(() => fc.idle());
  const delivered = await sink.waitForMessages(before + 1);
  const last = delivered[delivered.length - 1]?.body as { markdown?: { text: string } };
  return { status: response.statusCode, answer: last.markdown?.text ?? '' };
}

/** The messages of the newest chat completion request the LLM fake received. */
const lastPrompt = (): Array<{ role: string; content: string }> =>
  ((openai.requests[openai.requests.length - 1]?.body as { messages?: Array<{ role: string; content: string }> }) ?? {}).messages ?? [];

/** The exchange objects of history (recent windows, the usage ledger, memory and settings aside). */
const historyObjects = (): string[] => [...oss.objects.keys()].filter((key) => key.startsWith('history/') && /\/\d{13}-[0-9a-f]{16}\.json$/.test(key));

describe('the deployed bundles, end to end', () => {
  it('answers, saves the exchange, carries it into the next prompt, and forgets it on \\clear', async () => {
    const first = await chat('hi, I am Zhang San');
    expect(first.status).toBe(200);
    expect(first.answer).toContain('hi, I am Zhang San');
    expect(historyObjects()).toHaveLength(1);

    await chat('what did I say?');
    expect(lastPrompt().map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(lastPrompt()[1]?.content).toBe('hi, I am Zhang San');
    expect(historyObjects()).toHaveLength(2);

    const cleared = await chat('\\clear');
    expect(cleared.answer).toMatch(/cleared/);
    expect(historyObjects()).toHaveLength(0);

    const llmCalls = openai.requests.length;
    await chat('do you remember me?');
    expect(openai.requests).toHaveLength(llmCalls + 1);
    expect(lastPrompt().map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('loads the tokenizer shipped beside the reply bundle when a prompt may not fit MAX_CONTEXT_TOKENS', async () => {
    // 39,000 bytes (under the 40 KB a reply task carries) that the tokenizer counts as 26,000 tokens.
    const long = 'x7 '.repeat(13000);
    // A short answer: echoing the ~24,000-character question would be split into paced webhook messages.
    openai.respondWith(() => 'noted');
    const { answer } = await chat(long).finally(() => openai.respondWith(null));
    expect(answer.length).toBeGreaterThan(0);
    const prompt = lastPrompt();
    const question = prompt[prompt.length - 1]?.content ?? '';
    // MAX_CONTEXT_TOKENS defaults to 16000: the question was cut by the real tokenizer (2 tokens per 3 characters);
    // cutting by bytes would have kept fewer than 16,000 characters.
    expect(question.length).toBeLessThan(long.length);
    expect(long.startsWith(question)).toBe(true);
    expect(question.length).toBeGreaterThan(20000);
  });

  it('answers a GET with the health document', async () => {
    const response = await send(signedEvent({ secret: SECRET, body: '', method: 'GET' }));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ secretConfigured: true, replyTargetConfigured: true, version: expect.any(String) });
    expect(response.body).not.toContain(SECRET);
  });

  it.each([
    ['a bad sign', { sign: 'x'.repeat(44) }, 401],
    ['a stale timestamp', { timestamp: Date.now() - 2 * 60 * 60 * 1000 }, 401],
    ['missing headers', { omit: ['timestamp', 'sign'] }, 401],
    ['invalid JSON', { body: '{"msgId": ' }, 400],
  ])('refuses %s and invokes nothing', async (_name, options, status) => {
    const invocations = fc.invocations.length;
    const response = await send(signedEvent({ secret: SECRET, body: message('hi'), ...options }));
    expect(response.statusCode).toBe(status);
    expect(fc.invocations).toHaveLength(invocations);
  });
});

describe(guarantee('Exactly one answer per message'), () => {
  it('answers a message DingTalk delivers twice once: FC refuses the second task, one LLM call, one answer', async () => {
    const event = signedEvent({ secret: SECRET, body: message('delivered twice') });
    const [messages, llmCalls, invocations] = [sink.messages.length, openai.requests.length, fc.invocations.length];
    expect((await send(event)).statusCode).toBe(200);
    expect((await send(event)).statusCode).toBe(200);
    await captureStdout(() => fc.idle());
    expect(fc.invocations).toHaveLength(invocations + 1);
    expect(fc.requests[fc.requests.length - 1]?.status).toBe(409);
    expect(openai.requests).toHaveLength(llmCalls + 1);
    expect(sink.messages).toHaveLength(messages + 1);
  });

  it("posts the saved answer on FC's retry when DingTalk's webhook fails, without a second LLM call", async () => {
    const [messages, llmCalls] = [sink.messages.length, openai.requests.length];
    // Both of the webhook client's attempts fail, so the reply throws and FC runs it again.
    sink.queue({ status: 503 }, { status: 503 });
    const { status, answer } = await chat('the webhook is down for a moment');
    expect(status).toBe(200);
    expect(answer).toContain('the webhook is down for a moment');
    expect(fc.invocations[fc.invocations.length - 1]?.attempts).toBe(2);
    expect(openai.requests).toHaveLength(llmCalls + 1);
    expect(sink.messages).toHaveLength(messages + 1);
  });
});

describe('the bundles in a plain node process, with only the documented variables', () => {
  const run = promisify(execFile);
  const script = (bundle: string, event: string, context: unknown) => `
    const { handler } = require(${JSON.stringify(path.join(DIST, bundle, 'index.js'))});
    handler(Buffer.from(${JSON.stringify(event)}, 'base64'), ${JSON.stringify(context)})
      .then((result) => process.stderr.write('RESULT ' + JSON.stringify(result) + '\\n'))
      .catch((error) => { process.stderr.write('ERROR ' + error.message + '\\n'); process.exitCode = 1; });`;
  const resultOf = (stderr: string): Record<string, unknown> => {
    const line = stderr.split('\n').find((candidate) => candidate.startsWith('RESULT '));
    return JSON.parse((line ?? 'RESULT null').slice('RESULT '.length)) as Record<string, unknown>;
  };
  const plainEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? '', ...env() });

  it('the conversation bundle acknowledges a signed event and invokes the reply function', async () => {
    const invocations = fc.invocations.length;
    const event = signedEvent({ secret: SECRET, body: message('from a plain process') }).toString('base64');
    const { stdout, stderr } = await run(process.execPath, ['-e', script('conversation', event, fcContext())], { env: plainEnv() });
    await captureStdout(() => fc.idle());
    expect(resultOf(stderr)).toMatchObject({ statusCode: 200 });
    expect(fc.invocations).toHaveLength(invocations + 1);
    expect(JSON.parse(stdout.trim().split('\n').pop() ?? '{}')).toMatchObject({ event: 'conversation.accepted', outcome: 'invoked' });
  });

  it('the reply bundle answers a task through OSS, the LLM and the webhook', async () => {
    const before = sink.messages.length;
    // The FC fake already ran the in-process reply for the last invocation: send it as a new message.
    const task = JSON.parse(fc.invocations[fc.invocations.length - 1]?.payload.toString('utf8') ?? '{}') as Record<string, unknown>;
    const payload = Buffer.from(JSON.stringify({ ...task, msgId: 'msg-plain-process' })).toString('base64');
    const { stdout, stderr } = await run(process.execPath, ['-e', script('reply', payload, fcContext())], { env: plainEnv() });
    expect(resultOf(stderr)).toEqual({ outcome: 'answered' });
    expect(sink.messages.length).toBeGreaterThan(before);
    const done = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.event === 'reply.done');
    expect(done).toMatchObject({ outcome: 'answered', saved: true });
    expect(stdout).not.toContain(API_KEY);
    expect(stdout).not.toContain(STS_CREDENTIALS.securityToken);
  });
});
