import fc from 'fast-check';
import { ASYNC_TASK_ID_PATTERN, asyncTaskId, type MessageIdentity } from '../../../shared/fc/async-task-id';
import { guarantee, recordCases } from '../../helpers/guarantee';

const MESSAGE: MessageIdentity = {
  msgId: 'msgOyq5mBgXvLvfyo1Dw/cT0+Q==',
  conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==',
  senderId: '$:LWCP_v1:$h4wPrDtsTHTAh2zPvSk3Cg==',
};

describe(guarantee('Exactly one answer per message'), () => {
  describe('asyncTaskId', () => {
    it('turns a DingTalk message into an id FC accepts', () => {
      expect(asyncTaskId(MESSAGE)).toMatch(ASYNC_TASK_ID_PATTERN);
    });

    it('is the same for every delivery of one message', () => {
      expect(asyncTaskId({ ...MESSAGE })).toBe(asyncTaskId(MESSAGE));
    });

    it("differs for a body that reuses another conversation's or another sender's msgId", () => {
      const ids = [
        MESSAGE,
        { ...MESSAGE, conversationId: 'cidSomewhereElse==' },
        { ...MESSAGE, senderId: 'someone-else' },
        { ...MESSAGE, msgId: 'msgAnother==' },
      ].map(asyncTaskId);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('keeps fields apart: moving characters from one field to the next gives another id', () => {
      const ids = [
        { msgId: 'ab', conversationId: 'c', senderId: 's' },
        { msgId: 'b', conversationId: 'c', senderId: 'sa' },
        { msgId: 'a","b', conversationId: 'c', senderId: 's' },
        { msgId: 'b', conversationId: 'c', senderId: 's","a' },
        { msgId: '\uD800', conversationId: 'c', senderId: 's' },
        { msgId: '\uDBFF', conversationId: 'c', senderId: 's' },
        { msgId: '\uFFFD', conversationId: 'c', senderId: 's' },
      ].map(asyncTaskId);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('gives valid and distinct ids for 20,000 generated identities', () => {
      const runs = 20_000;
      const seen = new Map<string, string>();
      const text = fc.string({ unit: 'binary', maxLength: 200 });
      fc.assert(
        fc.property(fc.record({ msgId: text, conversationId: text, senderId: text }), (identity) => {
          const id = asyncTaskId(identity);
          expect(id).toMatch(ASYNC_TASK_ID_PATTERN);
          const key = JSON.stringify(identity);
          const earlier = seen.get(id);
          if (earlier !== undefined) expect(earlier).toBe(key);
          seen.set(id, key);
        }),
        { numRuns: runs },
      );
      recordCases('Exactly one answer per message', runs);
    });
  });
});
