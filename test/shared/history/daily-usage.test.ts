import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { DailyUsage, localDay } from '../../../shared/history/daily-usage';
import { guarantee } from '../../helpers/guarantee';

describe('localDay', () => {
  it('names the calendar day in the given time zone', () => {
    const at = Date.UTC(2026, 10, 21, 16, 30); // 00:30 on the 22nd in Shanghai
    expect(localDay(at, 'Asia/Shanghai')).toBe('2026-11-22');
    expect(localDay(at, 'UTC')).toBe('2026-11-21');
    expect(localDay(at, 'America/Los_Angeles')).toBe('2026-11-21');
  });
});

describe('DailyUsage', () => {
  it('writes one empty create-only marker per message under the prefix, with ids that cannot escape it', async () => {
    const store = new MemoryObjectStore();
    const usage = new DailyUsage(store, '/history/');
    await usage.admit('../../etc', '2026-11-21', 1, 'msg/../1', 5);
    const [key] = [...store.objects.keys()];
    expect(key).toMatch(/^history\/usage\/etc-[0-9a-f]{24}\/2026-11-21\/0000000000001-msg1-[0-9a-f]{24}$/);
  });

  it('counts a retried message once', async () => {
    const store = new MemoryObjectStore();
    const usage = new DailyUsage(store, 'history/');
    expect(await usage.admit('u', '2026-11-21', 1, 'm1', 1)).toEqual({ admitted: true, used: 1 });
    expect(await usage.admit('u', '2026-11-21', 1, 'm1', 1)).toEqual({ admitted: true, used: 1 });
    expect(await usage.admit('u', '2026-11-21', 2, 'm2', 1)).toEqual({ admitted: false, used: 2 });
  });

  it('tells how many questions a day has counted without counting one, at most the limit', async () => {
    const store = new MemoryObjectStore();
    const usage = new DailyUsage(store, 'history/');
    expect(await usage.used('u', '2026-11-21', 2)).toBe(0);
    await usage.admit('u', '2026-11-21', 1, 'm1', 2);
    await usage.admit('u', '2026-11-21', 2, 'm2', 2);
    expect(await usage.used('u', '2026-11-21', 2)).toBe(2);
    expect(await usage.used('u', '2026-11-21', 1)).toBe(1);
    expect(store.objects.size).toBe(2);
  });

  it('keeps days apart', async () => {
    const usage = new DailyUsage(new MemoryObjectStore(), 'history/');
    expect((await usage.admit('u', '2026-11-21', 1, 'm1', 1)).admitted).toBe(true);
    expect((await usage.admit('u', '2026-11-22', 2, 'm2', 1)).admitted).toBe(true);
  });
});

describe(guarantee('Access control and daily limit'), () => {
  const DAY = '2026-11-21';

  it('does not count questions that were refunded: two failed questions leave a limit of 2 untouched', async () => {
    const usage = new DailyUsage(new MemoryObjectStore(), 'history/');
    for (const [at, name] of [[1, 'failed-1'], [2, 'failed-2']] as const) {
      expect((await usage.admit('u', DAY, at, name, 2)).admitted).toBe(true);
      await usage.refund('u', DAY, name);
    }
    expect(await usage.admit('u', DAY, 3, 'third', 2)).toEqual({ admitted: true, used: 1 });
    expect(await usage.admit('u', DAY, 4, 'fourth', 2)).toEqual({ admitted: true, used: 2 });
    expect((await usage.admit('u', DAY, 5, 'fifth', 2)).admitted).toBe(false);
  });

  it('refunds with the time given to admit in one delete, and without it by finding the marker', async () => {
    const memory = new MemoryObjectStore();
    const usage = new DailyUsage(memory, 'history/');
    await usage.admit('u', DAY, 1, 'm1', 5);
    await usage.admit('u', DAY, 2, 'm2', 5);
    await usage.refund('u', DAY, 'm1', 1);
    await usage.refund('u', DAY, 'm2');
    expect([...memory.objects.keys()]).toEqual([]);
  });

  it('is idempotent, touches only its own message, and ignores a message never admitted', async () => {
    const memory = new MemoryObjectStore();
    const usage = new DailyUsage(memory, 'history/');
    await usage.admit('u', DAY, 1, 'kept', 5);
    await usage.admit('u', DAY, 2, 'refunded', 5);
    await usage.admit('other', DAY, 2, 'refunded', 5);
    await usage.refund('u', DAY, 'refunded');
    await usage.refund('u', DAY, 'refunded');
    await usage.refund('u', DAY, 'never-admitted');
    await usage.refund('u', '2026-11-22', 'kept');
    expect([...memory.objects.keys()].map((key) => key.split('/').slice(2).join('/')).sort()).toEqual([
      expect.stringMatching(/^other-[0-9a-f]{24}\/2026-11-21\/0000000000002-refunded-/),
      expect.stringMatching(/^u-[0-9a-f]{24}\/2026-11-21\/0000000000001-kept-/),
    ]);
  });

  it('does not let a refused question hold a place once an earlier one is refunded', async () => {
    const usage = new DailyUsage(new MemoryObjectStore(), 'history/');
    expect((await usage.admit('u', DAY, 1, 'answered', 2)).admitted).toBe(true);
    expect((await usage.admit('u', DAY, 2, 'in-flight', 2)).admitted).toBe(true);
    expect((await usage.admit('u', DAY, 3, 'refused', 2)).admitted).toBe(false);
    await usage.refund('u', DAY, 'in-flight'); // its LLM call failed
    expect((await usage.admit('u', DAY, 4, 'next', 2)).admitted).toBe(true);
  });

  it('counts only the answered questions after concurrent admissions and refunds', async () => {
    const usage = new DailyUsage(new MemoryObjectStore(), 'history/');
    const limit = 3;
    const results = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const admission = await usage.admit('u', DAY, 100 + i, `m${i}`, limit);
        // Every other admitted question fails and is refunded, concurrently with the others' admissions.
        if (admission.admitted && i % 2 === 0) await usage.refund('u', DAY, `m${i}`, 100 + i);
        return admission.admitted;
      }),
    );
    expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(limit);
    const later = await usage.admit('u', DAY, 1_000, 'later', limit);
    const kept = results.filter((admitted, i) => admitted && i % 2 !== 0).length;
    expect(later.admitted).toBe(kept < limit);
  });
});

describe('localDay for zones without daylight saving time', () => {
  it.each(['UTC', 'Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Tokyo', 'Asia/Seoul', 'Asia/Kolkata', 'Asia/Jakarta', 'Asia/Dubai'])(
    'gives the same day as Intl.DateTimeFormat in %s, around midnight and across a year',
    (timeZone) => {
      const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
      for (let at = Date.UTC(2026, 0, 1); at < Date.UTC(2027, 0, 1); at += 7 * 3_600_000 + 13 * 60_000) {
        expect(localDay(at, timeZone)).toBe(format.format(at));
      }
    },
  );
});
