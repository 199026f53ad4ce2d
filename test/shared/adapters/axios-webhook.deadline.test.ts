import { createAxiosWebhookSender, THROTTLE_DELAY_MS } from '../../../shared/adapters/axios-webhook';
import { formatReply } from '../../../shared/dingtalk/outgoing';
import { WebhookError } from '../../../shared/errors';
import { startWebhookSink, type WebhookSink } from '../../fakes/webhook-sink';
import { guarantee } from '../../helpers/guarantee';

const reply = formatReply('hi', { conversationType: '1' });

/** Resolves once the sink has seen `count` requests. */
async function requestsArrived(sink: WebhookSink, count: number): Promise<void> {
  while (sink.requests.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe(guarantee('Faults: webhook'), () => {
  describe("createAxiosWebhookSender and the run's deadline", () => {
    let sink: WebhookSink;
    beforeEach(async () => {
      sink = await startWebhookSink();
    });
    afterEach(() => sink.close());

    it('posts nothing, and says a retry is safe, when the deadline has already passed', async () => {
      const deadline = new AbortController();
      deadline.abort();
      const error = (await createAxiosWebhookSender({ timeoutMs: 60_000 })
        .send(sink.webhookUrl(), reply, { signal: deadline.signal })
        .catch((caught: unknown) => caught)) as WebhookError;
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toMatchObject({ reason: 'deadline', retryable: true });
      expect(sink.requests).toHaveLength(0);
    });

    it('cuts a request in flight short at the deadline and says it may have been posted', async () => {
      // DingTalk takes a minute to answer; the request timeout is longer still, the deadline comes first.
      sink.queue({ delayMs: 60_000 });
      const deadline = new AbortController();
      const sending = createAxiosWebhookSender({ timeoutMs: 120_000 })
        .send(sink.webhookUrl(), reply, { signal: deadline.signal })
        .catch((caught: unknown) => caught);
      await requestsArrived(sink, 1);
      deadline.abort();
      const error = (await sending) as WebhookError;
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toMatchObject({ reason: 'deadline', retryable: false });
    });

    it('ends a throttle wait at the deadline without posting again, and says a retry is safe', async () => {
      sink.queue({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
      const deadline = new AbortController();
      const sending = createAxiosWebhookSender({ timeoutMs: 10_000, throttleDelayMs: 600_000 })
        .send(sink.webhookUrl(), reply, { signal: deadline.signal })
        .catch((caught: unknown) => caught);
      await requestsArrived(sink, 1);
      deadline.abort();
      const error = (await sending) as WebhookError;
      expect(error).toMatchObject({ reason: 'deadline', retryable: true });
      expect(sink.requests).toHaveLength(1);
      expect(sink.messages).toHaveLength(0);
    });

    it('ends the wait before a retry of a 5xx at the deadline', async () => {
      sink.queue({ status: 502 });
      const deadline = new AbortController();
      const sending = createAxiosWebhookSender({ timeoutMs: 10_000, attempts: 3, retryDelayMs: 600_000 })
        .send(sink.webhookUrl(), reply, { signal: deadline.signal })
        .catch((caught: unknown) => caught);
      await requestsArrived(sink, 1);
      deadline.abort();
      expect(await sending).toMatchObject({ reason: 'deadline', retryable: true });
      expect(sink.requests).toHaveLength(1);
    });

    it('hands the signal to an injected sleep, so a test clock can honour it too', async () => {
      sink.queue({ errcode: 130101 });
      const deadline = new AbortController();
      const signals: Array<AbortSignal | undefined> = [];
      const sleep = (_ms: number, signal?: AbortSignal): Promise<void> => {
        signals.push(signal);
        deadline.abort();
        return Promise.resolve();
      };
      const error = await createAxiosWebhookSender({ timeoutMs: 10_000, sleep })
        .send(sink.webhookUrl(), reply, { signal: deadline.signal })
        .catch((caught: unknown) => caught);
      expect(signals).toEqual([deadline.signal]);
      expect(error).toMatchObject({ reason: 'deadline', retryable: true });
      expect(sink.requests).toHaveLength(1);
    });

    it('still waits and delivers without a signal', async () => {
      sink.queue({ errcode: 130101 });
      const waits: number[] = [];
      await createAxiosWebhookSender({ timeoutMs: 10_000, sleep: (ms) => (waits.push(ms), Promise.resolve()) }).send(sink.webhookUrl(), reply);
      expect(waits).toEqual([THROTTLE_DELAY_MS]);
      expect(sink.messages).toHaveLength(1);
    });
  });
});
