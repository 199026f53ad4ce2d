/**
 * What people send besides text, end to end through the bundles: pictures (alone, inside rich text, quoted)
 * are fetched through the DingTalk OpenAPI fake's download call and its loopback file link, and reach the
 * LLM fake as image parts with their bytes and media type, with VISION_MODEL; the follow-up question
 * carries the picture again; quoted text and text files reach the prompt.
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
import { loadBundle, startFcRunningReply, type BundleHandler } from '../helpers/load-bundle';

const SECRET = 'pictures-app-secret-value-0123456789';
const CLIENT_ID = 'dingpicturesclient01';
const API_KEY = 'sk-pictures-0123456789';
const BUCKET = 'pictures-history';
const REPLY = 'dingtalk-llm-reply';

interface SentMessage {
  role: string;
  content: string | Array<{ type: string; text?: string; image_url?: { url: string } }>;
}

let fc: FcApiFake;
let oss: OssFake;
let openai: OpenAiFake;
let sink: WebhookSink;
let dingtalk: DingTalkOpenApiFake;
let conversation: BundleHandler;
let reply: BundleHandler;
const savedEnv = { ...process.env };

/** A tiny valid PNG (1×1), and a JPEG header with some bytes: what the media type is read from. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082', 'hex');
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]);


beforeAll(async () => {
  oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  openai = await startOpenAiFake({ apiKey: API_KEY, models: ['gpt-4o-mini', 'qwen-vl-max'] });
  sink = await startWebhookSink();
  dingtalk = await startDingTalkOpenApiFake({ clientId: CLIENT_ID, clientSecret: SECRET });
  fc = await startFcRunningReply(REPLY, () => reply);
  process.env = {
    ...savedEnv,
    ...bundleEnv({ appSecret: SECRET, apiKey: API_KEY, replyFunctionName: REPLY, bucket: BUCKET, fcUrl: fc.url, openAiUrl: openai.url, ossUrl: oss.url }),
    DINGTALK_CLIENT_ID: CLIENT_ID,
    DINGTALK_API_BASE: dingtalk.url,
    VISION_MODEL: 'qwen-vl-max',
  };
  conversation = loadBundle('conversation');
  reply = loadBundle('reply');
});

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([fc.close(), oss.close(), openai.close(), sink.close(), dingtalk.close()]);
});

let sequence = 0;

/** A callback from the `sample`, with its own msgId, one session per test, and `changes` applied. */
function message(sample: string, changes: Record<string, unknown>): Record<string, unknown> {
  sequence += 1;
  const body = dingtalkSample(sample);
  body.msgId = `msg-pictures-${sequence}`;
  body.createAt = Date.now() + sequence;
  body.sessionWebhookExpiredTime = Date.now() + 60 * 60 * 1000;
  body.sessionWebhook = sink.webhookUrl('pictures');
  body.conversationId = `cidPictures${expect.getState().currentTestName?.length ?? 0}==`;
  return { ...body, ...changes };
}

/** Sends the callback, waits for the reply, and answers the text it delivered. */
async function ask(body: Record<string, unknown>): Promise<string> {
  const before = sink.messages.length;
  const { result } = await captureStdout(() => conversation(signedEvent({ secret: SECRET, body }), fcContext({ functionName: 'dingtalk-llm-conversation' })));
  expect(result).toMatchObject({ statusCode: 200 });
  await captureStdout(() => fc.idle());
  const delivered = await sink.waitForMessages(before + 1);
  return (delivered.at(-1)?.body as { markdown?: { text: string } }).markdown?.text ?? '';
}

/** The messages and model of the newest LLM request. */
function lastRequest(): { model: string; messages: SentMessage[] } {
  const body = openai.requests.at(-1)?.body as { model: string; messages: SentMessage[] };
  return body;
}

/** The image parts of a message's content. */
const images = (message: SentMessage | undefined): string[] =>
  Array.isArray(message?.content) ? message.content.filter((part) => part.type === 'image_url').map((part) => part.image_url?.url ?? '') : [];

describe('pictures through the OpenAPI download', () => {
  it('sends a picture message to VISION_MODEL as an image part with its bytes and media type, and the follow-up question carries it again', async () => {
    dingtalk.addFile('dc-png-1', PNG, 'application/octet-stream');
    openai.queue({ text: 'It is a tiny picture.' });
    expect(await ask(message('picture', { content: { downloadCode: 'dc-png-1' } }))).toBe('It is a tiny picture.');
    const first = lastRequest();
    expect(first.model).toBe('qwen-vl-max');
    expect(images(first.messages.at(-1))).toEqual([`data:image/png;base64,${PNG.toString('base64')}`]);
    expect(dingtalk.callsTo(DINGTALK_PATHS.download).at(-1)?.body).toEqual({ downloadCode: 'dc-png-1', robotCode: CLIENT_ID });

    openai.queue({ text: 'Still the same picture.' });
    await ask(message('text-1to1', { text: { content: 'What colour is it?' } }));
    const followUp = lastRequest();
    expect(followUp.model).toBe('qwen-vl-max');
    const userTurns = followUp.messages.filter((item) => item.role === 'user');
    expect(images(userTurns[0])).toEqual([`data:image/png;base64,${PNG.toString('base64')}`]);
    expect(userTurns.at(-1)?.content).toBe('What colour is it?');
  });

  it('keeps the text and pictures of a rich-text message in order', async () => {
    dingtalk.addFile('downloadCodeExample111111111111', JPEG, 'image/jpeg');
    openai.queue({ text: 'A JPEG.' });
    await ask(message('rich-text', {}));
    const asked = lastRequest().messages.at(-1);
    expect(Array.isArray(asked?.content) && asked.content[0]).toEqual({ type: 'text', text: '这张图里是什么？\n[picture 1]\n请简要说明' });
    expect(images(asked)).toEqual([`data:image/jpeg;base64,${JPEG.toString('base64')}`]);
  });

  it('tells the user when a picture is over the 5 MB limit, and asks the LLM nothing', async () => {
    dingtalk.addFile('dc-huge', Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024)]), 'image/png');
    const requests = openai.requests.length;
    expect(await ask(message('picture', { content: { downloadCode: 'dc-huge' } }))).toContain('5 MB');
    expect(openai.requests.length).toBe(requests);
  });

  it('tells the user when the download link cannot be had, and asks the LLM nothing', async () => {
    const requests = openai.requests.length;
    expect(await ask(message('picture', { content: { downloadCode: 'dc-unknown' } }))).toContain('could not be downloaded');
    expect(openai.requests.length).toBe(requests);
  });
});

describe('quotes and files', () => {
  it('puts a quoted text in front of the question', async () => {
    openai.queue({ text: 'It means the release moved.' });
    await ask(message('more/text-reply-quote', {}));
    const asked = lastRequest().messages.at(-1)?.content;
    expect(asked).toContain('> 部署窗口改到周五 22:00，灰度 10%。');
    expect(asked).toContain('这是什么意思？');
  });

  it('finds a quoted answer of the bot\'s own in the history, where DingTalk gives only its id, sender and time', async () => {
    openai.queue({ text: 'The window is Friday 22:00, 10% canary.' });
    await ask(message('more/text-reply-quote', { text: { content: 'When is the deploy window?' } }));
    const deliveredAt = sink.messages.at(-1)?.receivedAt ?? Date.now();
    openai.queue({ text: 'It means a tenth of the traffic first.' });
    const body = message('more/text-reply-quote', {});
    body.text = {
      content: '10% 是什么意思？',
      isReplyMsg: true,
      repliedMsg: { msgType: 'interactiveCard', msgId: 'msgBotAnswer0000000000000==', senderId: body.chatbotUserId, createdAt: deliveredAt },
    };
    await ask(body);
    expect(lastRequest().messages.at(-1)?.content).toBe(
      '[引用 / Quoted message: your earlier answer]\n> The window is Friday 22:00, 10% canary.\n\n10% 是什么意思？',
    );
  });

  it('puts a text file into the prompt fenced, with its name', async () => {
    dingtalk.addFile('downloadCodeExample333333333333', Buffer.from('ERROR 1\nERROR 2\n'), 'text/plain');
    openai.queue({ text: 'Two errors.' });
    await ask(message('more/file', {}));
    const asked = lastRequest().messages.at(-1)?.content;
    expect(asked).toContain('[File: error-log.txt]\n```txt\nERROR 1\nERROR 2\n\n```');
  });

  it('answers a file type it does not read with the list of those it does', async () => {
    const requests = openai.requests.length;
    const answer = await ask(message('more/file', { content: { downloadCode: 'dc-pdf', fileName: '季度报告.pdf' } }));
    expect(answer).toContain('.md');
    expect(answer).toContain('季度报告.pdf');
    expect(openai.requests.length).toBe(requests);
  });
});

describe('reasoning models', () => {
  /** Every object the history store holds for the bot, as text. */
  const stored = (): string => [...oss.objects.values()].map((object) => object.body.toString('utf8')).join('\n');

  it.each<[string, { reasoning?: string; think?: string }]>([
    ['DeepSeek reasoning_content', { reasoning: 'PRIVATE-CHAIN-OF-THOUGHT-1' }],
    ['a <think> block (Qwen3, R1 distills)', { think: 'PRIVATE-CHAIN-OF-THOUGHT-2' }],
  ])('never shows or saves %s', async (_name, thoughts) => {
    openai.queue({ text: 'Only the answer.', ...thoughts });
    expect(await ask(message('text-1to1', { text: { content: 'Think first, then answer.' } }))).toBe('Only the answer.');
    expect(stored()).not.toContain('PRIVATE-CHAIN-OF-THOUGHT');
    expect(stored()).toContain('Only the answer.');
  });
});
