import { handleReply } from '../../shared/core/reply/handle-reply';
import type { ObjectStore } from '../../shared/ports';
import { guarantee } from '../helpers/guarantee';
import { replySetup } from '../helpers/reply-deps';
import { ossRequests, useOssFake, withFsStore } from '../helpers/stores';

const MESSAGES = 20;
const HISTORY_LENGTH = 5;

/**
 * Sends MESSAGES questions from one user at once, as FC would run them on separate instances, then
 * one more: every exchange must be stored, and the last prompt must carry the newest HISTORY_LENGTH.
 */
async function concurrentMessages(store: ObjectStore): Promise<void> {
  const { deps, task, llm } = replySetup({ store, settings: { historyLength: HISTORY_LENGTH } });
  const events = Array.from({ length: MESSAGES }, (_, n) => task(`Q${n + 1}`));
  llm.answer(...events.map((_, n) => `A${n + 1}`));
  const outcomes = await Promise.all(events.map((event, n) => handleReply(event, { ...deps, invocation: { requestId: `req-${n}` } })));
  expect(outcomes).toEqual(Array(MESSAGES).fill('answered'));

  const key = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' };
  const all = await deps.history.loadRecent(key, 100);
  expect(all).toHaveLength(MESSAGES);
  expect(all.map((exchange) => exchange.user)).toEqual(events.map((_, n) => `Q${n + 1}`));

  llm.answer('last');
  await handleReply(task('next'), deps);
  const prompt = llm.prompts[MESSAGES]?.map((message) => message.content) ?? [];
  const newest = all.slice(-HISTORY_LENGTH).flatMap((exchange) => [exchange.user, exchange.assistant]);
  expect(prompt).toEqual([...newest, 'next']);
}

describe(guarantee('No lost history'), () => {
  it(`keeps all ${MESSAGES} exchanges of concurrent messages from one user in the filesystem store`, async () => {
    await withFsStore('concurrent-history', concurrentMessages);
  });

  describe('in OSS (real ali-oss against the OSS fake)', () => {
    const { store, oss } = useOssFake();

    it(`keeps all ${MESSAGES} exchanges of concurrent messages from one user`, async () => {
      await concurrentMessages(store());
    });

    it('costs at most 5 OSS requests for an ordinary message with history: claim, list and the recent window read together, save, the window written', async () => {
      const { deps, task, llm } = replySetup({ store: store() });
      llm.answer('A1', 'A2', 'A3');
      await handleReply(task('Q1'), deps);
      await handleReply(task('Q2'), deps);
      oss().resetCounts();
      await handleReply(task('Q3'), deps);
      expect(ossRequests(oss())).toBe(5);
      expect(llm.prompts[2]?.map((message) => message.content)).toEqual(['Q1', 'A1', 'Q2', 'A2', 'Q3']);
    });
  });
});
