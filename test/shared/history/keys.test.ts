import { exchangeName, historyFolder, normalizePrefix, safeSegment } from '../../../shared/history/keys';

const SAFE = /^[A-Za-z0-9_-]+$/;

describe('safeSegment', () => {
  const hostile = ['', '../', '..', '.', '/', '%2F', '%2F..%2F', 'a\u0000b', 'a\\b', '用户😀', 'manager1234', '$:LWCP_v1:$senderIdExample00000000000', 'x'.repeat(10_000)];

  it.each(hostile.map((id) => [JSON.stringify(id).slice(0, 40), id]))('gives only [A-Za-z0-9_-] for %s', (_label, id) => {
    expect(safeSegment(id)).toMatch(SAFE);
  });

  it('gives distinct segments for ids that differ only in stripped characters', () => {
    const ids = ['a/b', 'ab', 'a.b', 'a%2Fb', 'a\u0000b', 'a b', 'a😀b', 'a\\b'];
    const segments = ids.map(safeSegment);
    expect(new Set(segments).size).toBe(ids.length);
  });

  it('gives distinct segments for the empty id and an id of stripped characters only', () => {
    expect(new Set(['', '../', '.', '/', '😀'].map(safeSegment)).size).toBe(5);
  });

  it('is stable', () => {
    expect(safeSegment('manager1234')).toBe(safeSegment('manager1234'));
    expect(safeSegment('用户😀')).toBe(safeSegment('用户😀'));
  });

  it('keeps a readable part of the id', () => {
    expect(safeSegment('manager1234').startsWith('manager1234-')).toBe(true);
  });

  it('bounds the length for a 10,000-character id', () => {
    expect(safeSegment('x'.repeat(10_000)).length).toBeLessThanOrEqual(64);
    expect(safeSegment('x'.repeat(10_000))).not.toBe(safeSegment('x'.repeat(9_999)));
  });

  it('never yields a path-like segment', () => {
    for (const id of hostile) {
      const segment = safeSegment(id);
      expect(segment).not.toBe('');
      expect(segment).not.toContain('/');
      expect(segment).not.toContain('.');
      expect(segment).not.toContain('%');
    }
  });
});

describe('normalizePrefix', () => {
  it.each([
    ['/history', 'history/'],
    ['history', 'history/'],
    ['history/', 'history/'],
    ['//history//', 'history/'],
    ['a/../b/', 'a/b/'],
    ['./a/./b', 'a/b/'],
    ['../../etc', 'etc/'],
    ['', ''],
    ['/', ''],
    ['..', ''],
  ])('normalises %j to %j', (prefix, expected) => {
    expect(normalizePrefix(prefix)).toBe(expected);
  });
});

describe('historyFolder', () => {
  it('is <prefix><conversation segment>/<user segment>/', () => {
    const key = { conversationId: 'cidAbC==', userId: 'manager1234' };
    expect(historyFolder('/history', key)).toBe(`history/${safeSegment('cidAbC==')}/${safeSegment('manager1234')}/`);
    expect(historyFolder('', key)).toBe(`${safeSegment('cidAbC==')}/${safeSegment('manager1234')}/`);
  });

  it('keeps hostile ids inside the prefix', () => {
    const folder = historyFolder('history/', { conversationId: '../../etc', userId: '/abs/path' });
    expect(folder.startsWith('history/')).toBe(true);
    expect(folder.split('/')).toHaveLength(4);
    expect(folder.split('/').slice(1, 3).every((segment) => SAFE.test(segment))).toBe(true);
  });

  it('separates users whose ids would otherwise collide', () => {
    const a = historyFolder('h/', { conversationId: 'c', userId: 'a/b' });
    const b = historyFolder('h/', { conversationId: 'c', userId: 'ab' });
    expect(a).not.toBe(b);
    expect(a.startsWith(b)).toBe(false);
    expect(b.startsWith(a)).toBe(false);
  });
});

describe('exchangeName', () => {
  it('sorts newer times before older ones lexicographically', () => {
    const times = [0, 1, 999, 1_000, 1_577_262_236_757, 1_732_000_000_000, 1_732_000_000_001, 4_102_444_800_000];
    const names = times.map((at) => exchangeName(at, 'msg'));
    const byBytes = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(byBytes).toEqual([...names].reverse());
  });

  it('has a fixed width whatever the time and message id', () => {
    const lengths = new Set(
      [0, 5, 1_732_000_000_000, 9_999_999_999_999, 99_999_999_999_999, -5].flatMap((at) =>
        ['m', 'msgW1eLk8wQ7a1X2b3C4d5E6f7G==', 'x'.repeat(5000)].map((id) => exchangeName(at, id).length),
      ),
    );
    expect([...lengths]).toEqual([35]);
  });

  it('is a safe object name ending in .json', () => {
    expect(exchangeName(1_732_000_000_000, '../../etc/passwd')).toMatch(/^\d{13}-[0-9a-f]{16}\.json$/);
  });

  it('differs for two messages at the same time, and is stable', () => {
    expect(exchangeName(1_732_000_000_000, 'a')).not.toBe(exchangeName(1_732_000_000_000, 'b'));
    expect(exchangeName(1_732_000_000_000, 'a')).toBe(exchangeName(1_732_000_000_000, 'a'));
  });
});
