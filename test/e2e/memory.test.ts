/**
 * Long-term memory end to end through the bundles, with the history in a folder (HISTORY_DIR) and an LLM
 * fake that answers the memory update call: a fact survives `\clear`, `\memory` lists it, `\forget all`
 * removes it, "remember …" is kept at once, and the update call never delays the answer or reaches the user.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FcApiFake } from '../fakes/fc-api-fake';
import { startOpenAiFake, type OpenAiFake, type OpenAiFakeChatRequest } from '../fakes/openai-fake';
import { startWebhookSink, type WebhookSink } from '../fakes/webhook-sink';
import { captureStdout } from '../helpers/capture-logger';
import { fcContext } from '../helpers/fc-context';
import { dingtalkSample } from '../helpers/fixtures';
import { signedEvent } from '../helpers/signed-request';
import { E2E_ACCOUNT, loadBundle, startFcRunningReply, type BundleHandler } from '../helpers/load-bundle';

const SECRET = 'memory-app-secret-value-0123456789';
const API_KEY = 'sk-memory-0123456789';
const REPLY = 'dingtalk-llm-reply';

let fc: FcApiFake;
let openai: OpenAiFake;
let sink: WebhookSink;
let dir: string;
let conversation: BundleHandler;
let reply: BundleHandler;
const savedEnv = { ...process.env };
/** What the fake model returns to a memory update; a function so a test can make it fail. */
let updateAnswer: (request: OpenAiFakeChatRequest) => string = () => '{"memories": []}';
/** Times (ms) at which update calls arrived. */
const updateCalls: number[] = [];

/** The current list an update call shows the model (its user message ends with a JSON object). */
function currentList(request: OpenAiFakeChatRequest): string[] {
  const content = request.messages.at(-1)?.content ?? '';
  return (JSON.parse(content.slice(content.indexOf('{'))) as { memories: string[] }).memories;
}

/** A model that keeps the list it was shown, adding `fact` when `trigger` is in the exchanges. */
const keeping = (trigger?: string, fact?: string) => (request: OpenAiFakeChatRequest): string => {
  const items = currentList(request);
  if (trigger !== undefined && fact !== undefined && JSON.stringify(request.messages).includes(trigger) && !items.includes(fact)) items.push(fact);
  return JSON.stringify({ memories: items });
};


beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'memory-e2e-'));
  openai = await startOpenAiFake({ apiKey: API_KEY, models: ['gpt-4o-mini'] });
  openai.respondWith((request) => {
    if (request.responseFormat === 'json_object') {
      updateCalls.push(Date.now());
      return updateAnswer(request);
    }
    const system = request.messages.find((message) => message.role === 'system')?.content ?? '';
    return `answer (system: ${system.replace(/\n/g, ' | ')})`;
  });
  sink = await startWebhookSink();
  fc = await startFcRunningReply(REPLY, () => reply);
  process.env = {
    ...savedEnv,
    DINGTALK_APP_SECRET: SECRET,
    REPLY_FUNCTION_NAME: REPLY,
    FC_ENDPOINT: fc.url,
    FC_ACCOUNT_ID: E2E_ACCOUNT,
    FC_REGION: 'cn-hangzhou',
    OPENAI_API_KEY: API_KEY,
    OPENAI_BASE_URL: `${openai.url}/v1`,
    HISTORY_DIR: dir,
    HISTORY_LENGTH: '2',
    DINGTALK_WEBHOOK_HOSTS: '127.0.0.1',
  };
  conversation = loadBundle('conversation');
  reply = loadBundle('reply');
});

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([fc.close(), openai.close(), sink.close()]);
  rmSync(dir, { recursive: true, force: true });
});

let sequence = 0;

/** Sends `text` from the 1:1 sample's user, waits for the run to end, and answers the delivered text and when it arrived. */
async function say(text: string): Promise<{ answer: string; at: number }> {
  sequence += 1;
  const body = dingtalkSample('text-1to1');
  body.msgId = `msg-memory-${sequence}`;
  body.createAt = Date.now();
  body.sessionWebhookExpiredTime = Date.now() + 60 * 60 * 1000;
  body.sessionWebhook = sink.webhookUrl('memory');
  body.text = { content: text };
  const before = sink.messages.length;
  await captureStdout(() => conversation(signedEvent({ secret: SECRET, body }), fcContext({ functionName: 'dingtalk-llm-conversation' })));
  await captureStdout(() => fc.idle());
  const delivered = await sink.waitForMessages(before + 1);
  const last = delivered.at(-1);
  return { answer: (last?.body as { markdown?: { text: string } }).markdown?.text ?? '', at: last?.receivedAt ?? Number.POSITIVE_INFINITY };
}

/** The system message of the newest chat (not update) request. */
function lastSystem(): string {
  const chats = openai.requests.filter((request) => (request.body as { response_format?: unknown }).response_format === undefined);
  const messages = (chats.at(-1)?.body as { messages: Array<{ role: string; content: string }> }).messages;
  return messages.find((message) => message.role === 'system')?.content ?? '';
}

describe('long-term memory through the bundles', () => {
  it('learns a fact as its exchange leaves the window, keeps it after \\clear, lists it, and forgets it', async () => {
    updateAnswer = keeping('Zhang San', "The user's name is Zhang San");
    await say('my name is Zhang San');
    expect(updateCalls).toHaveLength(0);
    await say('I like tea');
    await say('what is the weather?');
    // HISTORY_LENGTH 2: the first exchange left the window with the third, and was learned once.
    expect(updateCalls).toHaveLength(1);

    await say('\\clear');
    await say('what is my name?');
    expect(lastSystem()).toContain("- The user's name is Zhang San");

    const listed = await say('\\memory');
    expect(listed.answer).toContain("1. The user's name is Zhang San");

    expect((await say('/forget all')).answer).toContain('forgotten everything');
    await say('and now?');
    expect(lastSystem()).not.toContain('Zhang San');
  });

  it('keeps "remember …" at once, in the same run', async () => {
    updateAnswer = keeping();
    await say('记住：我们的发布日是 15 号');
    expect(lastSystem()).toContain('- 我们的发布日是 15 号');
    expect((await say('、记忆')).answer).toContain('我们的发布日是 15 号');
  });

  it('asks for the update only after the answer was delivered, and a failed update never reaches the user', async () => {
    updateAnswer = () => 'this is not JSON';
    const calls = updateCalls.length;
    const before = sink.messages.length;
    await say('one');
    await say('two');
    const third = await say('three');
    // Each of these pushed an exchange out of the two-exchange window: one update call each.
    expect(updateCalls.length).toBe(calls + 3);
    // Every message got its own answer, nothing else was posted.
    expect(sink.messages.length - before).toBe(3);
    expect(sink.messages.slice(before).every((message) => (message.body as { markdown?: { text: string } }).markdown?.text.startsWith('answer'))).toBe(true);
    // The third message's update call came after its answer reached DingTalk.
    expect(updateCalls.at(-1) ?? 0).toBeGreaterThanOrEqual(third.at);
  });
});
