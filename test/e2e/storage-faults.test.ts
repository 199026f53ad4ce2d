import { createOssObjectStore } from '../../shared/adapters/oss-object-store';
import { handleReply } from '../../shared/core/reply/handle-reply';
import { startOssFake, type OssFake } from '../fakes/oss-fake';
import { STS_CREDENTIALS } from '../helpers/fc-context';
import { guarantee } from '../helpers/guarantee';
import { replySetup } from '../helpers/reply-deps';

const BUCKET = 'dingtalk-llm-history';
const KEY = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' };

describe(guarantee('Faults: storage'), () => {
  describe('OSS (real ali-oss against the OSS fake)', () => {
    let oss: OssFake;
    beforeEach(async () => {
      oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
    });
    afterEach(() => oss.close());

    const setup = () =>
      replySetup({
        store: createOssObjectStore({ bucket: BUCKET, region: 'cn-hangzhou', endpoint: oss.url, internal: false, credentials: () => STS_CREDENTIALS }),
      });

    it('answers without history while OSS is unavailable, says so in the log, and leaves history consistent', async () => {
      const { deps, task, llm, webhook, logs } = setup();
      llm.answer('A1', 'A2', 'A3');
      await handleReply(task('Q1'), deps);
      oss.setUnavailable(true);
      await expect(handleReply(task('Q2'), deps)).resolves.toBe('answered');
      expect(llm.prompts[1]).toEqual([{ role: 'user', content: 'Q2' }]);
      expect(logs.find('reply.history_unavailable')).toMatchObject({ msgId: 'msg-2', error: { kind: 'storage' } });
      expect(logs.events().filter((line) => line.event === 'reply.done')[1]).toMatchObject({ saved: false, historyUnavailable: true });
      oss.setUnavailable(false);
      await handleReply(task('Q3'), deps);
      expect(webhook.texts()).toEqual(['A1', 'A2', 'A3']);
      expect((await deps.history.loadRecent(KEY, 5)).map((exchange) => exchange.user)).toEqual(['Q1', 'Q3']);
    });

    it('still posts the answer when only the save fails, and the log says the exchange was not saved', async () => {
      const { deps, task, webhook, logs } = setup();
      // The claim (a PUT) succeeds; the next PUT, the save, fails.
      const event = task('Q1');
      const original = deps.history.save.bind(deps.history);
      deps.history.save = async (...args) => {
        oss.failNext('PutObject', 503, 'ServiceUnavailable');
        return original(...args);
      };
      await expect(handleReply(event, deps)).resolves.toBe('answered');
      expect(webhook.sent).toHaveLength(1);
      expect(logs.find('reply.history_save_failed')).toMatchObject({ msgId: 'msg-1', error: { kind: 'storage', status: 503 } });
    });
  });
});
