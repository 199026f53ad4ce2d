import { PART_INTERVAL_MS, partPause } from '../../../shared/delivery/channel';
import { createWebhookChannel, type WebhookDestination } from '../../../shared/delivery/webhook-channel';
import { MAX_PART_CHARS } from '../../../shared/dingtalk/split-answer';
import { WebhookError } from '../../../shared/errors';
import type { OutgoingMessage } from '../../../shared/ports';
import { ManualClock, RecordingWebhook } from '../../helpers/ports';
import { roomyCallOptions } from '../../helpers/openapi-double';

const WEBHOOK = 'https://oapi.dingtalk.com/robot/sendBySession?session=0123456789abcdef0123456789abcdef';
const NOW = Date.UTC(2026, 0, 5, 9, 0, 0);

/** An answer of `parts` paragraphs, each nearly a whole webhook part. */
const longAnswer = (parts: number): string =>
  Array.from({ length: parts }, (_, n) => `## ${n + 1}\n\n${'这是一段很长的回答。'.repeat(Math.floor((MAX_PART_CHARS - 200) / 10))}`).join('\n\n');

function setup(destination: Partial<WebhookDestination> = {}) {
  const clock = new ManualClock(NOW);
  const webhook = new RecordingWebhook();
  const sleeps: number[] = [];
  const channel = createWebhookChannel(
    { sessionWebhook: WEBHOOK, sessionWebhookExpiredTime: NOW + 60_000, conversationType: '1', senderStaffId: 'manager1234', ...destination },
    { webhook, clock, sleep: async (ms) => void sleeps.push(ms) },
  );
  return { clock, webhook, sleeps, channel };
}

describe('webhook channel', () => {
  it('posts a short answer as one markdown message to the session webhook', async () => {
    const { webhook, channel } = setup();
    await expect(channel.open(roomyCallOptions())).resolves.toBeUndefined();
    await expect(channel.finish('**42**', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', reached: 'all' });
    expect(webhook.sent).toEqual([{ url: WEBHOOK, message: { msgtype: 'markdown', markdown: { title: '42', text: '**42**' } } }]);
  });

  it('refuses to open once the session webhook has expired by its time, and posts nothing', async () => {
    const { clock, webhook, channel } = setup();
    clock.advance(60_000);
    await expect(channel.open(roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', reached: 'none', expired: true, retryable: false });
    expect(webhook.sent).toEqual([]);
  });

  it('reports expired without a post when the session expires between open and finish', async () => {
    const { clock, webhook, channel } = setup();
    await expect(channel.open(roomyCallOptions())).resolves.toBeUndefined();
    clock.advance(60_001);
    await expect(channel.finish('late answer', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'none', expired: true });
    expect(webhook.sent).toEqual([]);
  });

  it('reports DingTalk saying the session expired (errcode 300001) as expired', async () => {
    const { webhook, channel } = setup();
    webhook.failWith = new WebhookError('expired', 'the session webhook has expired (errcode 300001)', { errcode: 300001 });
    await expect(channel.finish('answer', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'none', expired: true, retryable: false });
  });

  it('reports a post that never reached DingTalk as retryable, and one that may have as not', async () => {
    const { webhook, channel } = setup();
    webhook.failWith = new WebhookError('network', 'ECONNREFUSED', { retryable: true });
    await expect(channel.finish('answer', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'none', retryable: true, expired: false });
    webhook.failWith = new WebhookError('network', 'ECONNABORTED', { retryable: false });
    await expect(channel.finish('answer', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'none', retryable: false });
  });

  it('@-mentions the asker in a group, in the text and in atUserIds', async () => {
    const { webhook, channel } = setup({ conversationType: '2' });
    await channel.finish('answer', 'answer', roomyCallOptions());
    expect(webhook.sent[0]?.message).toEqual({ msgtype: 'markdown', markdown: { title: 'answer', text: '@manager1234\n\nanswer' }, at: { atUserIds: ['manager1234'] } });
  });

  it('does not mention anyone in a 1:1 chat', async () => {
    const { webhook, channel } = setup({ conversationType: '1' });
    await channel.finish('answer', 'answer', roomyCallOptions());
    expect(webhook.sent[0]?.message.at).toBeUndefined();
  });

  it('keeps each group part within the part size, mention included', async () => {
    const { webhook, channel } = setup({ conversationType: '2' });
    await channel.finish(longAnswer(3), 'answer', roomyCallOptions());
    expect(webhook.sent.length).toBeGreaterThan(1);
    for (const text of webhook.texts()) {
      expect(text.startsWith('@manager1234\n\n')).toBe(true);
      expect(text.length).toBeLessThanOrEqual(MAX_PART_CHARS);
    }
  });

  it('paces the parts of a long answer PART_INTERVAL_MS apart when the deadline leaves room', async () => {
    const { webhook, sleeps, channel } = setup();
    const report = await channel.finish(longAnswer(3), 'answer', roomyCallOptions(120_000));
    const parts = webhook.sent.length;
    expect(parts).toBeGreaterThanOrEqual(3);
    expect(sleeps).toEqual(Array(parts - 1).fill(PART_INTERVAL_MS));
    expect(report).toMatchObject({ reached: 'all', fields: { parts } });
  });

  it('shortens the pauses when the time left would not fit them, so every part still goes out', async () => {
    const { webhook, sleeps, channel } = setup();
    await channel.finish(longAnswer(3), 'answer', roomyCallOptions(4_000));
    const parts = webhook.sent.length;
    expect(parts).toBeGreaterThanOrEqual(3);
    expect(sleeps).toHaveLength(parts - 1);
    for (const pause of sleeps) expect(pause).toBeLessThan(PART_INTERVAL_MS);
    // The pauses leave time for the posts: together they take less than the time left.
    expect(sleeps.reduce((sum, pause) => sum + pause, 0)).toBeLessThan(4_000);
  });

  it('reports the parts that got through when a later part fails, without retrying', async () => {
    const { webhook, channel } = setup();
    const send = webhook.send.bind(webhook);
    let calls = 0;
    webhook.send = async (url: string, message: OutgoingMessage): Promise<void> => {
      calls += 1;
      if (calls === 2) throw new WebhookError('network', 'ECONNREFUSED', { retryable: true });
      return send(url, message);
    };
    const report = await channel.finish(longAnswer(3), 'answer', roomyCallOptions());
    expect(report).toMatchObject({ reached: 'some', retryable: false, fields: expect.objectContaining({ partsSent: 1 }) });
  });

  it('stops pacing when the deadline aborts the pause, reporting what got through', async () => {
    const clock = new ManualClock(NOW);
    const webhook = new RecordingWebhook();
    const channel = createWebhookChannel(
      { sessionWebhook: WEBHOOK, conversationType: '1' },
      { webhook, clock, sleep: async () => Promise.reject(new Error('deadline')) },
    );
    await expect(channel.finish(longAnswer(3), 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'some' });
    expect(webhook.sent).toHaveLength(1);
  });
});

describe('partPause', () => {
  it('is PART_INTERVAL_MS with time to spare, shorter when the pauses and posts would not fit, never negative', () => {
    expect(partPause(3, 60_000)).toBe(PART_INTERVAL_MS);
    expect(partPause(3, 4_000)).toBe(1_000);
    expect(partPause(1, 0)).toBe(0);
  });
});
