/**
 * AI cards and OpenAPI delivery end to end, through the bundles `s deploy` ships: a signed callback goes
 * into the conversation bundle, FC's API fake runs the reply bundle, which streams the answer of the real
 * openai SDK (against the streaming LLM fake) into a card of the DingTalk OpenAPI fake, falls back to the
 * session webhook when cards fail, and sends through the robot OpenAPI when the webhook expired.
 */
import { startDingTalkOpenApiFake, DINGTALK_PATHS, type DingTalkOpenApiFake } from '../fakes/dingtalk-openapi-fake';
import type { FcApiFake } from '../fakes/fc-api-fake';
import { startOpenAiFake, type OpenAiFake } from '../fakes/openai-fake';
import { startOssFake, type OssFake } from '../fakes/oss-fake';
import { startWebhookSink, type WebhookSink } from '../fakes/webhook-sink';
import { bundleEnv } from '../helpers/bundle-env';
import { captureStdout } from '../helpers/capture-logger';
import { fcContext, STS_CREDENTIALS } from '../helpers/fc-context';
import { dingtalkSample } from '../helpers/fixtures';
import { signedEvent } from '../helpers/signed-request';
import { replySetup } from '../helpers/reply-deps';
import { createDingTalkOpenApi } from '../../shared/adapters/dingtalk-openapi';
import { handleReply } from '../../shared/core/reply/handle-reply';
import type { HistoryStore } from '../../shared/history/exchange';
import { loadBundle, startFcRunningReply, type BundleHandler } from '../helpers/load-bundle';

const SECRET = 'cards-app-secret-value-0123456789';
const CLIENT_ID = 'dingcardsclientid01';
const API_KEY = 'sk-cards-0123456789';
const BUCKET = 'cards-history';
const REPLY = 'dingtalk-llm-reply';
const TEMPLATE = 'fake-ai-card.schema';

let fc: FcApiFake;
let oss: OssFake;
let openai: OpenAiFake;
let sink: WebhookSink;
let dingtalk: DingTalkOpenApiFake;
let conversation: BundleHandler;
let reply: BundleHandler;
const savedEnv = { ...process.env };

/** A fresh deployment with `extra` variables over the documented ones pointing at the fakes. */
function deploy(extra: Record<string, string>): void {
  process.env = {
    ...savedEnv,
    ...bundleEnv({ appSecret: SECRET, apiKey: API_KEY, replyFunctionName: REPLY, bucket: BUCKET, fcUrl: fc.url, openAiUrl: openai.url, ossUrl: oss.url }),
    DINGTALK_API_BASE: dingtalk.url,
    ...extra,
  };
  conversation = loadBundle('conversation');
  reply = loadBundle('reply');
}

const CARDS = { DINGTALK_CLIENT_ID: CLIENT_ID, DINGTALK_CARD_TEMPLATE_ID: TEMPLATE, CARD_UPDATE_INTERVAL_MS: '100' };

beforeAll(async () => {
  oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  openai = await startOpenAiFake({ apiKey: API_KEY, models: ['gpt-4o-mini'] });
  sink = await startWebhookSink();
  dingtalk = await startDingTalkOpenApiFake({ clientId: CLIENT_ID, clientSecret: SECRET, templates: [TEMPLATE] });
  fc = await startFcRunningReply(REPLY, () => reply);
});

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([fc.close(), oss.close(), openai.close(), sink.close(), dingtalk.close()]);
});

let sequence = 0;

/** A DingTalk callback of `sample` asking `text`, with its own msgId and a session of its own. */
function message(text: string, sample = 'text-1to1', overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1;
  const body = dingtalkSample(sample);
  body.msgId = `msg-cards-${sequence}`;
  body.createAt = Date.now();
  body.sessionWebhookExpiredTime = Date.now() + 60 * 60 * 1000;
  body.sessionWebhook = sink.webhookUrl(`cards-${sequence}`);
  body.text = { content: text };
  return { ...body, ...overrides };
}

/** Sends a signed callback and waits until FC ran the reply (and its retries). */
async function send(body: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
  const { result } = await captureStdout(() => conversation(signedEvent({ secret: SECRET, body }), fcContext({ functionName: 'dingtalk-llm-conversation' })));
  expect(result).toMatchObject({ statusCode: 200 });
  const { lines } = await captureStdout(() => fc.idle());
  return lines;
}

/** The saved exchanges' answers in the OSS fake. */
function savedAnswers(): string[] {
  return [...oss.objects.entries()]
    .filter(([key]) => key.startsWith('history/') && key.endsWith('.json'))
    .map(([, object]) => JSON.parse(object.body.toString('utf8')) as { exchange?: { assistant?: string } })
    .map((stored) => stored.exchange?.assistant)
    .filter((answer): answer is string => typeof answer === 'string');
}

const LONG_ANSWER = Array.from({ length: 60 }, (_, n) => `word${n}`).join(' ');

describe('with DINGTALK_CLIENT_ID and a card template', () => {
  beforeAll(() => deploy(CARDS));

  it('streams the answer into one card: thinking first, text while the LLM still writes, then the final text, finalized', async () => {
    openai.queue({ text: LONG_ANSWER, pace: { firstTokenDelayMs: 200, tokenDelayMs: 20 } });
    const before = sink.messages.length;
    await send(message('Tell me a long story'));
    const cards = [...dingtalk.cards.values()];
    const card = cards[cards.length - 1];
    expect(card).toBeDefined();
    if (card === undefined) return;
    expect(card).toMatchObject({ templateId: TEMPLATE, spaceType: 'IM_ROBOT', spaceId: 'manager1234', finalized: true, error: false });
    expect(card.params.content).toBeDefined();
    // Created in its thinking state, before any answer text existed.
    const create = dingtalk.callsTo(DINGTALK_PATHS.createAndDeliver).at(-1);
    expect(JSON.stringify(create?.body)).toContain('Thinking');
    // The first update with answer text came while the LLM was still writing.
    const request = openai.requests[openai.requests.length - 1];
    const lastChunkAt = request?.chunks?.at(-1)?.at ?? 0;
    const firstText = card.updates.find((update) => update.content.startsWith('word0'));
    expect(firstText).toBeDefined();
    expect(firstText?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(lastChunkAt);
    expect(card.updates.filter((update) => update.isFinalize)).toHaveLength(1);
    // The final text is the answer, and the answer saved in history.
    expect(card.text).toBe(LONG_ANSWER);
    expect(savedAnswers()).toContain(LONG_ANSWER);
    // No webhook message: the card carried it.
    expect(sink.messages.length).toBe(before);
  });

  it('keeps a reasoning model\'s <think> block out of every card update: the card shows "thinking" until the answer starts', async () => {
    openai.queue({ text: 'The visible answer.', think: 'PRIVATE-REASONING-IN-CARD', pace: { tokenDelayMs: 5 } });
    await send(message('Think, then answer'));
    const card = [...dingtalk.cards.values()].at(-1);
    expect(card?.text).toBe('The visible answer.');
    expect(JSON.stringify(card?.updates)).not.toContain('PRIVATE-REASONING');
    expect(JSON.stringify(card?.params)).not.toContain('PRIVATE-REASONING');
  });

  it('sends a group answer as a card to the group, @-mentioning the asker', async () => {
    openai.queue({ text: 'group answer' });
    await send(message('hello group', 'text-group-mention', { text: { content: ' hello group' } }));
    const card = [...dingtalk.cards.values()].at(-1);
    expect(card).toMatchObject({ spaceType: 'IM_GROUP', text: 'group answer', finalized: true });
    expect(Object.keys(card?.atUserIds ?? {})).toHaveLength(1);
  });

  it('falls back to the session webhook when the app lacks the card permission, and answers in full', async () => {
    dingtalk.fail(DINGTALK_PATHS.createAndDeliver, { kind: 'missing-scope', scopes: ['Card.Instance.Write'] });
    openai.queue({ text: 'answer through the webhook' });
    const before = sink.messages.length;
    const lines = await send(message('Q'));
    const delivered = await sink.waitForMessages(before + 1);
    expect((delivered.at(-1)?.body as { markdown?: { text: string } }).markdown?.text).toBe('answer through the webhook');
    // The operator is told what to grant, once.
    const hints = lines.filter((line) => line.event === 'reply.misconfigured_channel');
    expect(hints).toHaveLength(1);
    expect(hints[0]?.fix).toContain('Card.Instance.Write');
    expect(lines.find((line) => line.event === 'reply.done')).toMatchObject({ outcome: 'answered', channel: 'webhook', cardFailed: true });
  });

  it('falls back to the session webhook when the template is unpublished', async () => {
    dingtalk.fail(DINGTALK_PATHS.createAndDeliver, { kind: 'template-unpublished' });
    openai.queue({ text: 'still answered' });
    const before = sink.messages.length;
    await send(message('Q'));
    const delivered = await sink.waitForMessages(before + 1);
    expect((delivered.at(-1)?.body as { markdown?: { text: string } }).markdown?.text).toBe('still answered');
  });

  it('keeps the final text when DingTalk throttles the streaming updates', async () => {
    dingtalk.fail(DINGTALK_PATHS.streaming, { kind: 'qps-limit' }, 2);
    openai.queue({ text: 'throttled but whole', pace: { tokenDelayMs: 10 } });
    await send(message('Q'));
    expect([...dingtalk.cards.values()].at(-1)).toMatchObject({ text: 'throttled but whole', finalized: true });
  });
});

describe('with DINGTALK_CLIENT_ID and no card template', () => {
  beforeAll(() => deploy({ DINGTALK_CLIENT_ID: CLIENT_ID }));

  it('answers through the webhook as before, and makes no card', async () => {
    openai.queue({ text: 'plain answer' });
    const cardsBefore = dingtalk.cards.size;
    const before = sink.messages.length;
    await send(message('Q'));
    const delivered = await sink.waitForMessages(before + 1);
    expect((delivered.at(-1)?.body as { markdown?: { text: string } }).markdown?.text).toBe('plain answer');
    expect(dingtalk.cards.size).toBe(cardsBefore);
  });

  it('delivers through the robot OpenAPI (batchSend) when the session webhook expired, in 1:1', async () => {
    openai.queue({ text: 'late but delivered' });
    const before = dingtalk.messages.length;
    await send(message('Q', 'text-1to1', { sessionWebhookExpiredTime: Date.now() - 1000 }));
    expect(dingtalk.messages.slice(before)).toEqual([
      expect.objectContaining({ kind: 'robot', userIds: ['manager1234'], msgKey: 'sampleMarkdown', msgParam: expect.objectContaining({ text: 'late but delivered' }) }),
    ]);
  });

  it('delivers through groupMessages/send when a group webhook answers errcode 300001', async () => {
    openai.queue({ text: 'group, late' });
    const body = message('Q', 'text-group-mention', { text: { content: ' Q' } });
    sink.expireSession(`cards-${sequence}`);
    const before = dingtalk.messages.length;
    await send(body);
    expect(dingtalk.messages.slice(before)).toEqual([
      expect.objectContaining({ kind: 'group', openConversationId: body.conversationId, msgKey: 'sampleMarkdown' }),
    ]);
    expect(JSON.stringify(dingtalk.messages.at(-1)?.msgParam)).toContain('group, late');
  });
});

describe('without DINGTALK_CLIENT_ID', () => {
  beforeAll(() => deploy({}));

  it('answers through the session webhook only, and never calls the OpenAPI', async () => {
    openai.queue({ text: 'as before' });
    const calls = dingtalk.calls.length;
    const before = sink.messages.length;
    await send(message('Q'));
    const delivered = await sink.waitForMessages(before + 1);
    expect((delivered.at(-1)?.body as { markdown?: { text: string } }).markdown?.text).toBe('as before');
    expect(dingtalk.calls.length).toBe(calls);
  });

  it('answers nothing and asks the LLM nothing when the session webhook expired', async () => {
    const requests = openai.requests.length;
    await send(message('Q', 'text-1to1', { sessionWebhookExpiredTime: Date.now() - 1000 }));
    expect(openai.requests.length).toBe(requests);
  });
});

describe('a retry after the run died mid-stream (the real OpenAPI client, the core)', () => {
  it('finishes the same card: one card, regenerated into, finalized with the answer that was saved', async () => {
    const { deps, task, llm, webhook } = replySetup({
      settings: { card: { templateId: TEMPLATE, contentKey: 'content', updateIntervalMs: 10 } },
    });
    const openApi = createDingTalkOpenApi({ clientId: CLIENT_ID, clientSecret: SECRET, apiBase: dingtalk.url });
    const event = task('Q');
    llm.answer('first words of an answer that never got saved', 'the answer');
    const cardsBefore = dingtalk.cards.size;
    // The first run streams into the card, then its instance dies before the save.
    const history = deps.history;
    const dying: HistoryStore = {
      loadRecent: (...args) => history.loadRecent(...args),
      claim: (...args) => history.claim(...args),
      release: (...args) => history.release(...args),
      save: () => new Promise<void>(() => undefined),
      clear: (...args) => history.clear(...args),
    };
    void handleReply(event, { ...deps, openApi, history: dying, invocation: { requestId: 'req-1', timeoutMs: 60_000 } });
    await dingtalk.waitUntil(() => [...dingtalk.cards.values()].some((card) => card.text.startsWith('first words')), 'the first run streamed');
    // FC retries the same invocation.
    await expect(handleReply(event, { ...deps, openApi, invocation: { requestId: 'req-1', timeoutMs: 60_000 } })).resolves.toBe('answered');
    expect(dingtalk.cards.size).toBe(cardsBefore + 1);
    expect([...dingtalk.cards.values()].at(-1)).toMatchObject({ text: 'the answer', finalized: true });
    expect(webhook.sent).toHaveLength(0);
    expect(await deps.history.loadRecent({ conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' }, 5)).toEqual([
      expect.objectContaining({ assistant: 'the answer' }),
    ]);
  });
});
