import {
  createAxiosWebhookSender,
  ERRCODE_MESSAGE_TOO_LONG,
  ERRCODE_SEND_TOO_FAST,
  ERRCODE_WEBHOOK_OVER_LIMIT,
  THROTTLE_ATTEMPTS,
  THROTTLE_DELAY_MS,
  type AxiosWebhookOptions,
} from '../../../shared/adapters/axios-webhook';
import { formatReply } from '../../../shared/dingtalk/outgoing';
import { splitAnswer } from '../../../shared/dingtalk/split-answer';
import { WebhookError } from '../../../shared/errors';
import { startWebhookSink, type WebhookSink } from '../../fakes/webhook-sink';
import { guarantee } from '../../helpers/guarantee';
import { ManualClock } from '../../helpers/ports';

/** The markdown text of each message the sink accepted. */
function acceptedTexts(sink: WebhookSink): string[] {
  return sink.messages.map((m) => (m.body as { markdown: { text: string } }).markdown.text);
}

/** A sleep that returns at once and remembers how long it was asked to wait. */
function recordingSleep(clock?: ManualClock): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms) => {
      waits.push(ms);
      clock?.advance(ms);
      return Promise.resolve();
    },
  };
}

describe('createAxiosWebhookSender (real axios against the webhook sink)', () => {
  let sink: WebhookSink;
  beforeEach(async () => {
    sink = await startWebhookSink();
  });
  afterEach(() => sink.close());

  const sender = (attempts = 2, more: Partial<AxiosWebhookOptions> = {}) =>
    createAxiosWebhookSender({ timeoutMs: 2000, attempts, retryDelayMs: 1, ...more });
  const reply = (text = 'hi') => formatReply(text, { conversationType: '1' });

  it('posts a DingTalk markdown message as JSON', async () => {
    await sender().send(sink.webhookUrl('s1'), formatReply('**hi**', { conversationType: '2', senderStaffId: 'u1' }));
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toMatchObject({ session: 's1', body: { msgtype: 'markdown', at: { atUserIds: ['u1'] } } });
  });

  describe(guarantee('Faults: webhook'), () => {
    it('reports errcode 300001 as an expired session, without retrying and without the URL in the message', async () => {
      sink.expireSession('old');
      const error = (await sender()
        .send(sink.webhookUrl('old'), reply())
        .catch((caught: unknown) => caught)) as WebhookError;
      expect(error).toMatchObject({ reason: 'expired', errcode: 300001 });
      expect(error.message).not.toContain('old');
      expect(sink.requests).toHaveLength(1);
    });

    it('retries a 5xx once and then delivers', async () => {
      sink.queue({ status: 502 });
      await sender().send(sink.webhookUrl(), reply());
      expect(sink.requests).toHaveLength(2);
      expect(sink.messages).toHaveLength(1);
    });

    it('gives up after the bounded attempts on repeated 5xx', async () => {
      sink.queue({ status: 500 }, { status: 500 }, { status: 500 });
      await expect(sender(2).send(sink.webhookUrl(), reply())).rejects.toMatchObject({ reason: 'http', status: 500 });
      expect(sink.requests).toHaveLength(2);
    });

    it('waits and posts again when DingTalk says "send too fast", then delivers once', async () => {
      const { sleep, waits } = recordingSleep();
      sink.queue({ errcode: ERRCODE_SEND_TOO_FAST, errmsg: 'send too fast, exceed 20 times per minute' });
      await sender(2, { sleep }).send(sink.webhookUrl(), reply());
      expect(waits).toEqual([THROTTLE_DELAY_MS]);
      expect(sink.requests).toHaveLength(2);
      expect(sink.messages).toHaveLength(1);
    });

    it('gives up on throttling after the bounded attempts, waiting longer each time, as reason "throttled"', async () => {
      const { sleep, waits } = recordingSleep();
      const refusal = { errcode: ERRCODE_WEBHOOK_OVER_LIMIT, errmsg: 'webhook over limit' };
      sink.queue(...Array.from({ length: THROTTLE_ATTEMPTS + 1 }, () => refusal));
      await expect(sender(2, { sleep }).send(sink.webhookUrl(), reply())).rejects.toMatchObject({
        reason: 'throttled',
        errcode: ERRCODE_WEBHOOK_OVER_LIMIT,
      });
      expect(sink.requests).toHaveLength(THROTTLE_ATTEMPTS);
      expect(waits).toEqual(Array.from({ length: THROTTLE_ATTEMPTS - 1 }, (_, i) => THROTTLE_DELAY_MS * (i + 1)));
      // Bounded: DingTalk may keep the robot throttled for minutes; the reply function must not wait them out.
      expect(waits.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(10_000);
    });

    it('rides out a robot rate limit that frees a slot within the waits', async () => {
      const clock = new ManualClock();
      await sink.close();
      sink = await startWebhookSink({ rateLimit: { messages: 2, windowMs: 5_000, now: () => clock.now() } });
      const { sleep, waits } = recordingSleep(clock);
      const webhook = sender(2, { sleep });
      for (const text of ['one', 'two', 'three']) await webhook.send(sink.webhookUrl(), reply(text));
      expect(acceptedTexts(sink)).toEqual(['one', 'two', 'three']);
      expect(sink.rejected.map((m) => m.errcode)).toEqual([ERRCODE_SEND_TOO_FAST, ERRCODE_SEND_TOO_FAST]);
      expect(waits).toEqual([THROTTLE_DELAY_MS, 2 * THROTTLE_DELAY_MS]);
    });

    it('reports a message over 20,000 bytes as reason "too-long" and never posts it again', async () => {
      const { sleep, waits } = recordingSleep();
      const error = (await sender(3, { sleep })
        .send(sink.webhookUrl(), reply('字'.repeat(7_000)))
        .catch((caught: unknown) => caught)) as WebhookError;
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toMatchObject({ reason: 'too-long', errcode: ERRCODE_MESSAGE_TOO_LONG, retryable: false });
      expect(sink.requests).toHaveLength(1);
      expect(waits).toEqual([]);
    });

    it.each([
      ['an HTML page', { rawBody: '<html><body>Welcome to nginx!</body></html>' }],
      ['plain text', { rawBody: 'OK', contentType: 'text/plain' }],
      ['an empty body', { rawBody: '' }],
      ['JSON without an errcode', { rawBody: '{"ok":true}', contentType: 'application/json' }],
      ['a JSON string', { rawBody: '"ok"', contentType: 'application/json' }],
      ['an errcode that is not a number', { rawBody: '{"errcode":"0"}', contentType: 'application/json' }],
    ])('reports an HTTP 200 answer with %s as not from DingTalk, not delivered and not retried', async (_name, item) => {
      sink.queue(item);
      const error = (await sender(3)
        .send(sink.webhookUrl('secret-session'), reply())
        .catch((caught: unknown) => caught)) as WebhookError;
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toMatchObject({ reason: 'not-dingtalk', status: 200, retryable: false });
      expect(error.message).not.toContain('secret-session');
      expect(sink.requests).toHaveLength(1);
    });

    it('reports other errcodes without retrying', async () => {
      sink.queue({ errcode: 400102, errmsg: 'robot disabled' });
      await expect(sender().send(sink.webhookUrl(), reply())).rejects.toMatchObject({ reason: 'errcode', errcode: 400102 });
      expect(sink.requests).toHaveLength(1);
    });
  });

  describe(guarantee('Long answers'), () => {
    it('delivers every part of a split answer that DingTalk would refuse whole, in order', async () => {
      const code = ['```ts', ...Array.from({ length: 300 }, (_, i) => `const value${i} = "值${i}😀";`), '```'].join('\n');
      const answer = `# 回答\n\n${'这是一段很长的解释。'.repeat(400)}\n\n${code}\n\nDone.`;
      const recipient = { conversationType: '2' as const, senderStaffId: 'staff-0001' };
      const webhook = sender();
      const whole = webhook.send(sink.webhookUrl(), formatReply(answer, recipient));
      await expect(whole).rejects.toMatchObject({ reason: 'too-long' });

      const { parts, truncated } = splitAnswer(answer);
      expect(truncated).toBe(false);
      for (const part of parts) await webhook.send(sink.webhookUrl(), formatReply(part, recipient));
      const texts = acceptedTexts(sink);
      expect(texts).toHaveLength(parts.length);
      texts.forEach((text, i) => expect(text).toMatch(new RegExp(`^@staff-0001\\n\\n[^]*\\(${i + 1}/${parts.length}\\)$`)));
    });
  });
});
