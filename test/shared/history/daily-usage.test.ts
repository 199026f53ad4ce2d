import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { DailyUsage, localDay } from '../../../shared/history/daily-usage';

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

  it('keeps days apart', async () => {
    const usage = new DailyUsage(new MemoryObjectStore(), 'history/');
    expect((await usage.admit('u', '2026-11-21', 1, 'm1', 1)).admitted).toBe(true);
    expect((await usage.admit('u', '2026-11-22', 2, 'm2', 1)).admitted).toBe(true);
  });
});
