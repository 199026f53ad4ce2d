import { handleReply } from '../../../../shared/core/reply/handle-reply';
import { PART_INTERVAL_MS } from '../../../../shared/delivery/channel';
import { MAX_PART_CHARS, MAX_PARTS, PARTS_CUT_NOTE } from '../../../../shared/dingtalk/split-answer';
import { WebhookError } from '../../../../shared/errors';
import type { OutgoingMessage } from '../../../../shared/ports';
import { guarantee } from '../../../helpers/guarantee';
import { replySetup } from '../../../helpers/reply-deps';

const KEY = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' };

/** A markdown answer of `paragraphs` paragraphs of about 900 characters each. */
const longAnswer = (paragraphs: number): string =>
  Array.from({ length: paragraphs }, (_, n) => `## Part ${n + 1}\n\n${`这是第 ${n + 1} 段。This paragraph is long. `.repeat(30)}`).join('\n\n');

const bytesOf = (message: OutgoingMessage | undefined): number => Buffer.byteLength(JSON.stringify(message), 'utf8');

describe(guarantee('Long answers'), () => {
  it('sends a long answer as numbered parts, in order, each within DingTalk limits, paced to its rate limit', async () => {
    const { deps, task, llm, webhook, sleeps, logs } = replySetup();
    const answer = longAnswer(12);
    llm.answer(answer);
    await expect(handleReply(task('Q'), deps)).resolves.toBe('answered');
    const texts = webhook.texts();
    expect(texts.length).toBeGreaterThan(1);
    texts.forEach((text, n) => {
      expect(text.length).toBeLessThanOrEqual(MAX_PART_CHARS);
      expect(bytesOf(webhook.sent[n]?.message)).toBeLessThan(20_000);
      expect(text.endsWith(`(${n + 1}/${texts.length})`)).toBe(true);
    });
    expect(sleeps).toEqual(Array(texts.length - 1).fill(PART_INTERVAL_MS));
    // Every paragraph arrives, in order, and no part breaks a heading off its paragraph.
    const joined = texts.join('\n');
    const positions = Array.from({ length: 12 }, (_, n) => joined.indexOf(`## Part ${n + 1}\n`));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(logs.find('reply.done')).toMatchObject({ parts: texts.length });
    // The history keeps the whole answer.
    expect((await deps.history.loadRecent(KEY, 5))[0]?.assistant).toBe(answer);
  });

  it('keeps an @mention in every part of a long answer in a group, within the limits', async () => {
    const { deps, task, llm, webhook } = replySetup();
    llm.answer(longAnswer(6));
    await handleReply(task('Q', {}, 'text-group-mention'), deps);
    expect(webhook.sent.length).toBeGreaterThan(1);
    for (const { message } of webhook.sent) {
      expect(message.msgtype).toBe('markdown');
      if (message.msgtype !== 'markdown') continue;
      expect(message.markdown.text.startsWith('@')).toBe(true);
      expect(message.markdown.text.length).toBeLessThanOrEqual(MAX_PART_CHARS);
      expect(message.at?.atUserIds).toHaveLength(1);
    }
  });

  it(`stops at ${MAX_PARTS} parts with a note that the rest was cut`, async () => {
    const { deps, task, llm, webhook, logs } = replySetup();
    llm.answer(longAnswer(60));
    await handleReply(task('Q'), deps);
    expect(webhook.sent).toHaveLength(MAX_PARTS);
    expect(webhook.texts()[MAX_PARTS - 1]).toContain(PARTS_CUT_NOTE);
    expect(logs.find('reply.done')).toMatchObject({ answerCut: true });
  });

  it('stops at the first part DingTalk refuses and does not retry once something was posted', async () => {
    const { deps, task, llm, webhook, logs } = replySetup();
    llm.answer(longAnswer(12));
    const send = webhook.send.bind(webhook);
    webhook.send = async (url, message) => {
      if (webhook.sent.length === 2) throw new WebhookError('throttled', 'DingTalk throttled the robot (errcode 130101)', { errcode: 130101, retryable: true });
      return send(url, message);
    };
    await expect(handleReply(task('Q'), deps)).resolves.toBe('delivery_failed');
    expect(webhook.sent).toHaveLength(2);
    expect(logs.find('reply.delivery_failed')).toMatchObject({ partsSent: 2 });
  });

  it('asks FC to retry when even the first part is throttled: nothing was posted', async () => {
    const { deps, task, llm, webhook } = replySetup();
    llm.answer('short answer');
    webhook.failWith = new WebhookError('throttled', 'DingTalk throttled the robot (errcode 130101)', { errcode: 130101, retryable: true });
    await expect(handleReply(task('Q'), deps)).rejects.toMatchObject({ reason: 'webhook-unreachable' });
  });
});
