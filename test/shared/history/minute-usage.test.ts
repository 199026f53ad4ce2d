import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { MinuteUsage, minuteWindow, secondsUntilNextMinute } from '../../../shared/history/minute-usage';
import type { ObjectStore } from '../../../shared/ports';
import { useOssFake, withFsStore } from '../../helpers/stores';

const AT = Date.UTC(2026, 10, 21, 10, 5, 7, 123);
const WINDOW = minuteWindow(AT);

/** Twenty questions of one person in one minute at once, limit 5: exactly five get in, whatever the order. */
async function twentyAtOnce(store: ObjectStore): Promise<void> {
  const usage = new MinuteUsage(store, 'history/');
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => usage.admit('u', WINDOW, AT + i, `m${i}`, 5)));
  expect(results.filter((result) => result.admitted)).toHaveLength(5);
  expect(results.filter((result) => !result.admitted).every((result) => result.used === 6)).toBe(true);
  // Two admitted questions fail and are refunded: two more get in, then the minute is full again.
  const admitted = results.map((result, i) => (result.admitted ? i : -1)).filter((i) => i >= 0);
  await Promise.all(admitted.slice(0, 2).map((i) => usage.refund('u', WINDOW, `m${i}`, AT + i)));
  const again = await Promise.all(Array.from({ length: 6 }, (_, i) => usage.admit('u', WINDOW, AT + 100 + i, `late${i}`, 5)));
  expect(again.filter((result) => result.admitted)).toHaveLength(2);
  const next = minuteWindow(AT + 60_000);
  expect((await usage.admit('u', next, AT + 60_000, 'next-minute', 5)).admitted).toBe(true);
}

describe('minuteWindow and secondsUntilNextMinute', () => {
  it('names the fixed UTC minute of a time as YYYYMMDD-HHMM', () => {
    expect(minuteWindow(AT)).toBe('20261121-1005');
    expect(minuteWindow(Date.UTC(2026, 10, 21, 10, 5, 59, 999))).toBe('20261121-1005');
    expect(minuteWindow(Date.UTC(2026, 10, 21, 10, 6))).toBe('20261121-1006');
  });

  it('tells the seconds left in the minute of the question, at least 1 and at most 60', () => {
    const start = Date.UTC(2026, 10, 21, 10, 5);
    expect(secondsUntilNextMinute(start + 7_123, start + 7_123)).toBe(53);
    expect(secondsUntilNextMinute(start, start)).toBe(60);
    expect(secondsUntilNextMinute(start + 59_900, start + 59_900)).toBe(1);
    expect(secondsUntilNextMinute(start, start + 120_000)).toBe(1); // processed after its minute ended
  });
});

describe('MinuteUsage', () => {
  it('admits the first questions of a minute up to the limit and refuses the next', async () => {
    const usage = new MinuteUsage(new MemoryObjectStore(), 'history/');
    expect(await usage.admit('u', WINDOW, AT, 'm1', 2)).toEqual({ admitted: true, used: 1 });
    expect(await usage.admit('u', WINDOW, AT + 1, 'm2', 2)).toEqual({ admitted: true, used: 2 });
    expect(await usage.admit('u', WINDOW, AT + 2, 'm3', 2)).toEqual({ admitted: false, used: 3 });
  });

  it('counts a retried message once', async () => {
    const store = new MemoryObjectStore();
    const usage = new MinuteUsage(store, 'history/');
    expect((await usage.admit('u', WINDOW, AT, 'm1', 2)).admitted).toBe(true);
    expect((await usage.admit('u', WINDOW, AT, 'm1', 2)).admitted).toBe(true);
    expect((await usage.admit('u', WINDOW, AT + 1, 'm2', 2)).admitted).toBe(true);
    expect((await usage.admit('u', WINDOW, AT + 2, 'm3', 2)).admitted).toBe(false);
    expect(store.objects.size).toBe(4); // two slots and two markers
  });

  it('keeps users and minutes apart, and ids cannot escape the prefix', async () => {
    const store = new MemoryObjectStore();
    const usage = new MinuteUsage(store, '/history/');
    expect((await usage.admit('../../etc', WINDOW, AT, 'msg/../1', 1)).admitted).toBe(true);
    expect((await usage.admit('other', WINDOW, AT, 'm', 1)).admitted).toBe(true);
    expect((await usage.admit('../../etc', minuteWindow(AT + 60_000), AT + 60_000, 'm2', 1)).admitted).toBe(true);
    for (const key of store.objects.keys()) expect(key).toMatch(/^history\/rate\/[A-Za-z0-9_-]+\/\d{8}-\d{4}\/(s\d{5}|m-[A-Za-z0-9_-]+-s\d{5})$/);
  });

  it('frees a refunded question’s slot for the next question, and refunding twice or a stranger changes nothing', async () => {
    const store = new MemoryObjectStore();
    const usage = new MinuteUsage(store, 'history/');
    expect((await usage.admit('u', WINDOW, AT, 'failed', 1)).admitted).toBe(true);
    expect((await usage.admit('u', WINDOW, AT + 1, 'refused', 1)).admitted).toBe(false);
    await usage.refund('u', WINDOW, 'failed');
    await usage.refund('u', WINDOW, 'failed');
    await usage.refund('u', WINDOW, 'never-admitted');
    expect(store.objects.size).toBe(0);
    expect((await usage.admit('u', WINDOW, AT + 2, 'next', 1)).admitted).toBe(true);
  });

  it('lists only the current minute, at most 2 × limit + 2 keys, however many minutes came before', async () => {
    const store = new MemoryObjectStore();
    const usage = new MinuteUsage(store, 'history/');
    for (let minute = 0; minute < 30; minute += 1) await usage.admit('u', minuteWindow(AT + minute * 60_000), AT + minute * 60_000, `m${minute}`, 3);
    const listings: Array<{ prefix: string; limit: number }> = [];
    const list = store.list.bind(store);
    store.list = async (prefix, limit) => {
      listings.push({ prefix, limit });
      return list(prefix, limit);
    };
    await usage.admit('u', WINDOW, AT + 5, 'now', 3);
    expect(listings).toEqual([{ prefix: expect.stringMatching(/\/20261121-1005\/$/), limit: 8 }]);
  });

  it('admits exactly 5 of 20 concurrent questions in the memory store; refunds free slots; the next minute admits again', async () => {
    await twentyAtOnce(new MemoryObjectStore());
  });

  it('admits exactly 5 of 20 concurrent questions in the filesystem store', async () => {
    await withFsStore('minute-usage', twentyAtOnce);
  });

  describe('in OSS (real ali-oss against the OSS fake)', () => {
    const { store } = useOssFake();

    it('admits exactly 5 of 20 concurrent questions', async () => {
      await twentyAtOnce(store());
    });
  });
});
