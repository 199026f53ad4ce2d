import fc from 'fast-check';
import { ASYNC_TASK_ID_PATTERN, asyncTaskId } from '../../../shared/fc/async-task-id';
import { guarantee, recordCases } from '../../helpers/guarantee';

describe(guarantee('Exactly one answer per message'), () => {
  describe('asyncTaskId', () => {
    it('turns a DingTalk msgId into an id FC accepts', () => {
      const id = asyncTaskId('msgOyq5mBgXvLvfyo1Dw/cT0+Q==');
      expect(id).toMatch(ASYNC_TASK_ID_PATTERN);
      expect(Buffer.from(id.slice(1), 'base64url').toString('utf16le')).toBe('msgOyq5mBgXvLvfyo1Dw/cT0+Q==');
    });

    it('is the same for every delivery of one message', () => {
      expect(asyncTaskId('msg-1')).toBe(asyncTaskId('msg-1'));
    });

    it('keeps ids that differ only in characters FC forbids apart', () => {
      const ids = ['a/b', 'a+b', 'a_b', 'a-b', 'a=b', 'a b', 'ab', 'a\u0000b', '中文', '\uD800', '\uDBFF', 'x'.repeat(47), 'x'.repeat(48), 'x'.repeat(1024)].map(asyncTaskId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(ASYNC_TASK_ID_PATTERN);
    });

    it('gives valid and distinct ids for 20,000 generated msgIds', () => {
      const runs = 20_000;
      const seen = new Map<string, string>();
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (msgId) => {
          const id = asyncTaskId(msgId);
          expect(id).toMatch(ASYNC_TASK_ID_PATTERN);
          const earlier = seen.get(id);
          if (earlier !== undefined) expect(earlier).toBe(msgId);
          seen.set(id, msgId);
        }),
        { numRuns: runs },
      );
      recordCases('Exactly one answer per message', runs);
    });
  });
});
