import { handleReply } from '../../../../shared/core/reply/handle-reply';
import { dailyLimitMessage, USER_MESSAGES } from '../../../../shared/core/user-messages';
import { StorageError } from '../../../../shared/errors';
import type { ObjectStore } from '../../../../shared/ports';
import { MemoryObjectStore } from '../../../../shared/adapters/memory-object-store';
import { DailyUsage } from '../../../../shared/history/daily-usage';
import { guarantee } from '../../../helpers/guarantee';
import { replySetup } from '../../../helpers/reply-deps';

/** 2026-11-21 15:59:00 UTC = 23:59 in Shanghai. */
const BEFORE_MIDNIGHT_SHANGHAI = Date.UTC(2026, 10, 21, 15, 59, 0);

describe(guarantee('Access control and daily limit'), () => {
  describe('ALLOWED_USERS and ALLOWED_CONVERSATIONS', () => {
    it('answers everyone when both lists are empty', async () => {
      const { deps, task } = replySetup();
      await expect(handleReply(task('Q'), deps)).resolves.toBe('answered');
    });

    it('refuses a sender not in ALLOWED_USERS politely, without calling the LLM or touching history', async () => {
      const store = new MemoryObjectStore();
      const { deps, task, llm, webhook, logs } = replySetup({ store, settings: { allowedUsers: ['someone-else'] } });
      await expect(handleReply(task('Q'), deps)).resolves.toBe('not_allowed');
      expect(llm.prompts).toHaveLength(0);
      expect(webhook.texts()).toEqual([USER_MESSAGES.notAllowed]);
      expect(store.objects.size).toBe(0);
      expect(logs.find('reply.done')).toMatchObject({ outcome: 'not_allowed', user: 'manager1234' });
    });

    it('refuses \\clear from a sender who is not allowed', async () => {
      const { deps, task } = replySetup({ settings: { allowedUsers: ['someone-else'] } });
      await expect(handleReply(task('\\clear'), deps)).resolves.toBe('not_allowed');
    });

    it('answers a sender named in ALLOWED_USERS', async () => {
      const { deps, task } = replySetup({ settings: { allowedUsers: ['other', 'manager1234'] } });
      await expect(handleReply(task('Q'), deps)).resolves.toBe('answered');
    });

    it('answers anyone in a conversation named in ALLOWED_CONVERSATIONS, and no one elsewhere', async () => {
      const { deps, task } = replySetup({ settings: { allowedConversations: ['cidAbCdEfGhIjKlMnOpQrStUvW=='] } });
      await expect(handleReply(task('Q'), deps)).resolves.toBe('answered');
      await expect(handleReply(task('Q', { conversationId: 'cid-elsewhere' }), deps)).resolves.toBe('not_allowed');
    });

    it('adds the lists up: a listed user anywhere, and anyone in a listed conversation', async () => {
      const { deps, task } = replySetup({ settings: { allowedUsers: ['manager1234'], allowedConversations: ['cid-team'] } });
      await expect(handleReply(task('Q', { conversationId: 'cid-elsewhere' }), deps)).resolves.toBe('answered');
      await expect(handleReply(task('Q', { conversationId: 'cid-team', userId: 'stranger' }), deps)).resolves.toBe('answered');
      await expect(handleReply(task('Q', { conversationId: 'cid-elsewhere', userId: 'stranger' }), deps)).resolves.toBe('not_allowed');
    });
  });

  describe('DAILY_MESSAGE_LIMIT', () => {
    it('answers the first N questions of a day and then says when the limit resets, without calling the LLM', async () => {
      const { deps, task, llm, webhook } = replySetup({ settings: { dailyMessageLimit: 2 } });
      const outcomes = [];
      for (const question of ['Q1', 'Q2', 'Q3']) outcomes.push(await handleReply(task(question), deps));
      expect(outcomes).toEqual(['answered', 'answered', 'limit_reached']);
      expect(llm.prompts).toHaveLength(2);
      expect(webhook.texts()[2]).toBe(dailyLimitMessage(2, 'Asia/Shanghai'));
      expect(webhook.texts()[2]).toContain('midnight (Asia/Shanghai)');
    });

    it('does not count help, \\clear or a redelivered message against the limit', async () => {
      const { deps, task } = replySetup({ settings: { dailyMessageLimit: 1 } });
      await handleReply(task('\\help'), deps);
      await handleReply(task('\\clear'), deps);
      const question = task('Q1');
      await expect(handleReply(question, deps)).resolves.toBe('answered');
      await expect(handleReply(question, deps)).resolves.toBe('duplicate');
      await expect(handleReply(task('Q2'), deps)).resolves.toBe('limit_reached');
    });

    it('counts per user across conversations', async () => {
      const { deps, task } = replySetup({ settings: { dailyMessageLimit: 1 } });
      await expect(handleReply(task('Q1'), deps)).resolves.toBe('answered');
      await expect(handleReply(task('Q2', { conversationId: 'cid-group' }), deps)).resolves.toBe('limit_reached');
      await expect(handleReply(task('Q3', { userId: 'colleague' }), deps)).resolves.toBe('answered');
    });

    it('resets at midnight in TZ, not in UTC', async () => {
      const { deps, task } = replySetup({ settings: { dailyMessageLimit: 1, timeZone: 'Asia/Shanghai' } });
      await expect(handleReply(task('Q1', { createdAt: BEFORE_MIDNIGHT_SHANGHAI }), deps)).resolves.toBe('answered');
      await expect(handleReply(task('Q2', { createdAt: BEFORE_MIDNIGHT_SHANGHAI + 30_000 }), deps)).resolves.toBe('limit_reached');
      // 00:01 in Shanghai is still 16:01 on the same UTC day.
      await expect(handleReply(task('Q3', { createdAt: BEFORE_MIDNIGHT_SHANGHAI + 120_000 }), deps)).resolves.toBe('answered');
    });

    it('admits exactly N of many questions sent at once, the earliest ones', async () => {
      const { deps, task } = replySetup({ settings: { dailyMessageLimit: 3 } });
      const events = Array.from({ length: 8 }, (_, n) => task(`Q${n}`));
      const outcomes = await Promise.all([...events].reverse().map((event) => handleReply(event, deps)));
      expect(outcomes.reverse()).toEqual(['answered', 'answered', 'answered', 'limit_reached', 'limit_reached', 'limit_reached', 'limit_reached', 'limit_reached']);
    });

    it('lets a question through when the count cannot be read, and logs it', async () => {
      const store = new MemoryObjectStore();
      const failingUsage: ObjectStore = {
        description: 'failing',
        list: async () => Promise.reject(new StorageError('list', 'unavailable')),
        get: (key) => store.get(key),
        put: (key, body, options) => store.put(key, body, options),
        deleteMany: (keys) => store.deleteMany(keys),
      };
      const { deps, task, logs } = replySetup({ store, settings: { dailyMessageLimit: 1 } });
      const usage = new DailyUsage(failingUsage, 'history/');
      await expect(handleReply(task('Q'), { ...deps, usage })).resolves.toBe('answered');
      expect(logs.find('reply.usage_unavailable')).toBeDefined();
    });
  });
});
