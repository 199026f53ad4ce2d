import { createAxiosWebhookSender } from '../../../shared/adapters/axios-webhook';
import { formatReply } from '../../../shared/dingtalk/outgoing';
import { WebhookError } from '../../../shared/errors';
import { startWebhookSink, type WebhookSink } from '../../fakes/webhook-sink';

describe('createAxiosWebhookSender (real axios against the webhook sink)', () => {
  let sink: WebhookSink;
  beforeEach(async () => {
    sink = await startWebhookSink();
  });
  afterEach(() => sink.close());

  const sender = (attempts = 2) => createAxiosWebhookSender({ timeoutMs: 2000, attempts, retryDelayMs: 1 });

  it('posts a DingTalk markdown message as JSON', async () => {
    await sender().send(sink.webhookUrl('s1'), formatReply('**hi**', { conversationType: '2', senderStaffId: 'u1' }));
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toMatchObject({ session: 's1', body: { msgtype: 'markdown', at: { atUserIds: ['u1'] } } });
  });

  it('reports errcode 300001 as an expired session, without retrying and without the URL in the message', async () => {
    sink.expireSession('old');
    const error = (await sender()
      .send(sink.webhookUrl('old'), formatReply('hi', { conversationType: '1' }))
      .catch((caught: unknown) => caught)) as WebhookError;
    expect(error).toMatchObject({ reason: 'expired', errcode: 300001 });
    expect(error.message).not.toContain('old');
    expect(sink.requests).toHaveLength(1);
  });

  it('retries a 5xx once and then delivers', async () => {
    sink.queue({ status: 502 });
    await sender().send(sink.webhookUrl(), formatReply('hi', { conversationType: '1' }));
    expect(sink.requests).toHaveLength(2);
    expect(sink.messages).toHaveLength(1);
  });

  it('gives up after the bounded attempts on repeated 5xx', async () => {
    sink.queue({ status: 500 }, { status: 500 }, { status: 500 });
    await expect(sender(2).send(sink.webhookUrl(), formatReply('hi', { conversationType: '1' }))).rejects.toMatchObject({
      reason: 'http',
      status: 500,
    });
    expect(sink.requests).toHaveLength(2);
  });

  it('reports other errcodes (e.g. sending too fast) without retrying', async () => {
    sink.queue({ errcode: 130101, errmsg: 'send too fast' });
    await expect(sender().send(sink.webhookUrl(), formatReply('hi', { conversationType: '1' }))).rejects.toMatchObject({
      reason: 'errcode',
      errcode: 130101,
    });
    expect(sink.requests).toHaveLength(1);
  });
});
