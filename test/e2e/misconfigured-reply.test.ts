/**
 * A reply function deployed without a required variable: the operator reads why in the log, and the user
 * is told the bot is not configured yet (one short message to the task's session webhook) instead of
 * silence. Through the reply bundle with the variables as deployed.
 */
import { encodeReplyTask, toReplyTask } from '../../shared/core/reply-task';
import { USER_MESSAGES } from '../../shared/core/user-messages';
import { parseIncomingMessage } from '../../shared/dingtalk/message';
import { startWebhookSink, type WebhookSink } from '../fakes/webhook-sink';
import { captureStdout } from '../helpers/capture-logger';
import { fcContext } from '../helpers/fc-context';
import { dingtalkSample } from '../helpers/fixtures';
import { loadBundle, type BundleHandler } from '../helpers/load-bundle';

type Handler = BundleHandler;

let sink: WebhookSink;
const savedEnv = { ...process.env };

const loadReply = (): Handler => loadBundle('reply');

/** The task conversation would send for a 1:1 message whose session webhook is `webhook`. */
function task(webhook: string): Buffer {
  const body = dingtalkSample('text-1to1');
  body.sessionWebhook = webhook;
  body.sessionWebhookExpiredTime = Date.now() + 60_000;
  return Buffer.from(encodeReplyTask(toReplyTask(parseIncomingMessage(body), Date.now())));
}

beforeAll(async () => {
  sink = await startWebhookSink();
});

afterAll(async () => {
  process.env = savedEnv;
  await sink.close();
});

describe('the reply bundle without OPENAI_API_KEY and a history store', () => {
  it('logs what is missing and tells the user once that the bot is not configured yet', async () => {
    process.env = { ...savedEnv, DINGTALK_WEBHOOK_HOSTS: '127.0.0.1' };
    const reply = loadReply();
    const before = sink.messages.length;
    const { result, lines } = await captureStdout(() => reply(task(sink.webhookUrl('misconfigured')), fcContext({ functionName: 'dingtalk-llm-reply' })));
    expect(result).toEqual({ outcome: 'misconfigured' });
    const logged = lines.find((line) => line.event === 'reply.misconfigured');
    expect(JSON.stringify(logged)).toContain('OPENAI_API_KEY is required');
    expect(logged).toMatchObject({ userTold: true });
    const delivered = await sink.waitForMessages(before + 1);
    expect((delivered.at(-1)?.body as { markdown?: { text: string } }).markdown?.text).toBe(USER_MESSAGES.misconfigured);
  });

  it('posts nothing when the task names a webhook outside the allowed hosts', async () => {
    process.env = { ...savedEnv };
    const reply = loadReply();
    const before = sink.requests.length;
    const { lines } = await captureStdout(() => reply(task(sink.webhookUrl('elsewhere')), fcContext({ functionName: 'dingtalk-llm-reply' })));
    expect(lines.find((line) => line.event === 'reply.misconfigured')).toMatchObject({ userTold: false });
    expect(sink.requests.length).toBe(before);
  });
});
