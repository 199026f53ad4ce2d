import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { DailyUsage } from '../../../shared/history/daily-usage';
import { MinuteUsage, minuteWindow } from '../../../shared/history/minute-usage';
import { UsageLedger, type UsageEntry, type UsageRecord } from '../../../shared/history/usage-ledger';
import type { ObjectStore } from '../../../shared/ports';
import { ossRequests, useOssFake, withFsStore } from '../../helpers/stores';

const NOW = Date.UTC(2026, 10, 21, 4, 0);
const clock = { now: () => NOW };

function question(n: number, overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    userId: 'manager1234',
    conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==',
    day: '2026-11-21',
    at: NOW + n,
    messageName: `msg${n}`,
    promptTokens: 100 + n,
    completionTokens: 10 + n,
    model: 'qwen-plus',
    durationMs: 1500,
    ...overrides,
  };
}

async function collect(entries: AsyncIterable<UsageEntry>): Promise<UsageEntry[]> {
  const all: UsageEntry[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

/** A store that counts the requests made of it. */
function counting(store: ObjectStore): { store: ObjectStore; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    store: {
      description: store.description,
      list: (prefix, limit) => (calls.push('list'), store.list(prefix, limit)),
      get: (key) => (calls.push('get'), store.get(key)),
      put: (key, body, options) => (calls.push('put'), store.put(key, body, options)),
      deleteMany: (keys) => (calls.push('delete'), store.deleteMany(keys)),
    },
  };
}

/** Twenty answered questions of one person recorded at once, plus a retry of each: every count kept, once. */
async function twentyAtOnce(store: ObjectStore): Promise<void> {
  const ledger = new UsageLedger(store, 'history/', { clock });
  const records = Array.from({ length: 20 }, (_, n) => question(n));
  await Promise.all([...records, ...records].map((record) => ledger.record(record)));
  const sum = (pick: (record: UsageRecord) => number): number => records.reduce((total, record) => total + pick(record), 0);
  const totals = { questions: 20, promptTokens: sum((r) => r.promptTokens), completionTokens: sum((r) => r.completionTokens) };
  expect(await ledger.summarize('manager1234', { today: '2026-11-21', month: '2026-11' })).toEqual({ today: totals, month: totals });
  expect(await collect(ledger.scan({ since: '2026-11-01' }))).toHaveLength(20);
}

describe('UsageLedger', () => {
  it('writes one create-only object per question, named with its figures, under <prefix>ledger/<month>/<user>/', async () => {
    const { store, calls } = counting(new MemoryObjectStore());
    const ledger = new UsageLedger(store, '/history/', { clock });
    expect(await ledger.record(question(1, { estimated: true }))).toBe(true);
    expect(calls).toEqual(['put']);
    const [key] = await store.list('', 10);
    expect(key).toMatch(/^history\/ledger\/2026-11\/[0-9a-f]{16}\/21-\d{13}-[0-9a-f]{16}~101~11~1500~e~b[A-Za-z0-9_-]+~b[A-Za-z0-9_-]+~b[A-Za-z0-9_-]+$/);
    expect(Buffer.byteLength(key?.split('/').pop() ?? '')).toBeLessThan(255);
  });

  it('keeps ids and models that could escape the prefix or overflow a file name inside one short name segment', async () => {
    const store = new MemoryObjectStore();
    const ledger = new UsageLedger(store, 'history/', { clock });
    const long = '../'.repeat(200);
    await ledger.record(question(1, { userId: '../../etc/passwd', conversationId: long, model: `${long}%2e%2e`, messageName: long }));
    const [key = ''] = [...store.objects.keys()];
    expect(key.split('/')).toHaveLength(5);
    expect(key.split('/').pop()).toMatch(/^[A-Za-z0-9_~-]{1,254}$/);
    const [entry] = await collect(ledger.scan({ userId: '../../etc/passwd' }));
    expect(entry).toMatchObject({ userId: '../../etc/passwd', conversationId: long, model: `${long}%2e%2e` });
  });

  it('counts a message once when FC retries it, with the same figures or new ones', async () => {
    const store = new MemoryObjectStore();
    const ledger = new UsageLedger(store, 'history/', { clock });
    expect(await ledger.record(question(1))).toBe(true);
    expect(await ledger.record(question(1))).toBe(false);
    await ledger.record(question(1, { completionTokens: 999 }));
    const summary = await ledger.summarize('manager1234', { today: '2026-11-21', month: '2026-11' });
    expect(summary.month.questions).toBe(1);
    expect(await collect(ledger.scan())).toHaveLength(1);
  });

  it('sums a person’s day and month apart from other days, months and people, with listings alone', async () => {
    const memory = new MemoryObjectStore();
    const ledger = new UsageLedger(memory, 'history/', { clock });
    await ledger.record(question(1, { promptTokens: 100, completionTokens: 10 }));
    await ledger.record(question(2, { promptTokens: 200, completionTokens: 20, conversationId: 'cid-group' }));
    await ledger.record(question(3, { day: '2026-11-02', promptTokens: 1000, completionTokens: 100 }));
    await ledger.record(question(4, { day: '2026-10-31', promptTokens: 5, completionTokens: 5 }));
    await ledger.record(question(5, { userId: 'someone-else', promptTokens: 7, completionTokens: 7 }));
    const { store, calls } = counting(memory);
    const summary = await new UsageLedger(store, 'history/', { clock }).summarize('manager1234', { today: '2026-11-21', month: '2026-11' });
    expect(summary).toEqual({
      today: { questions: 2, promptTokens: 300, completionTokens: 30 },
      month: { questions: 3, promptTokens: 1300, completionTokens: 130 },
    });
    expect(calls).toEqual(['list']);
    expect(await ledger.summarize('nobody', { today: '2026-11-21', month: '2026-11' })).toEqual({
      today: { questions: 0, promptTokens: 0, completionTokens: 0 },
      month: { questions: 0, promptTokens: 0, completionTokens: 0 },
    });
  });

  it('reads today from its own month when asked about another month', async () => {
    const ledger = new UsageLedger(new MemoryObjectStore(), 'history/', { clock });
    await ledger.record(question(1, { day: '2026-12-01' }));
    await ledger.record(question(2, { day: '2026-11-30' }));
    const summary = await ledger.summarize('manager1234', { today: '2026-12-01', month: '2026-11' });
    expect(summary.today.questions).toBe(1);
    expect(summary.month.questions).toBe(1);
  });

  it('rejects malformed days and months before touching the store', async () => {
    const ledger = new UsageLedger(new MemoryObjectStore(), 'history/', { clock });
    await expect(ledger.record(question(1, { day: '2026-11-21/../x' }))).rejects.toThrow(RangeError);
    await expect(ledger.summarize('u', { today: '21.11.2026', month: '2026-11' })).rejects.toThrow(RangeError);
  });

  it('scans every person from a day on, with ids, model and figures read back from the names', async () => {
    const { store, calls } = counting(new MemoryObjectStore());
    const ledger = new UsageLedger(store, 'history/', { clock });
    await ledger.record(question(1, { day: '2026-10-31' }));
    await ledger.record(question(2, { estimated: true }));
    await ledger.record(question(3, { userId: 'ops01', model: 'qwen-max' }));
    calls.length = 0;
    const entries = await collect(ledger.scan({ since: '2026-11-01' }));
    expect(entries.map(({ userId, model, estimated, day }) => ({ userId, model, estimated, day })).sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
      { userId: 'manager1234', model: 'qwen-plus', estimated: true, day: '2026-11-21' },
      { userId: 'ops01', model: 'qwen-max', estimated: false, day: '2026-11-21' },
    ]);
    expect(entries.find((entry) => entry.userId === 'manager1234')).toEqual({
      userId: 'manager1234',
      conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==',
      day: '2026-11-21',
      at: NOW + 2,
      questions: 1,
      promptTokens: 102,
      completionTokens: 12,
      estimated: true,
      model: 'qwen-plus',
      durationMs: 1500,
    });
    expect(calls.every((call) => call === 'list')).toBe(true);
    expect(await collect(ledger.scan())).toHaveLength(3);
    expect((await collect(ledger.scan({ userId: 'ops01' }))).map((entry) => entry.userId)).toEqual(['ops01']);
  });

  describe('past one listing (page of 4 keys instead of 1000)', () => {
    async function manyQuestions(store: ObjectStore): Promise<void> {
      const writer = new UsageLedger(store, 'history/', { clock });
      const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
      let n = 0;
      for (const userId of users) {
        for (const day of ['2026-11-01', '2026-11-02', '2026-11-21']) {
          for (let i = 0; i < 7; i += 1) {
            n += 1;
            await writer.record(question(n, { userId, day, at: Date.parse(`${day}T00:00:00Z`) + i * 1111, promptTokens: 1, completionTokens: 2 }));
          }
        }
      }
      const ledger = new UsageLedger(store, 'history/', { clock, pageSize: 4 });
      expect(await ledger.summarize('carol', { today: '2026-11-21', month: '2026-11' })).toEqual({
        today: { questions: 7, promptTokens: 7, completionTokens: 14 },
        month: { questions: 21, promptTokens: 21, completionTokens: 42 },
      });
      const all = await collect(ledger.scan());
      expect(all).toHaveLength(users.length * 21);
      expect(new Set(all.map((entry) => `${entry.userId}/${entry.at}`)).size).toBe(users.length * 21);
      expect(await collect(ledger.scan({ since: '2026-11-02', userId: 'bob' }))).toHaveLength(14);
    }

    it('still sums and scans every question in the memory store (one flat listing)', async () => {
      await manyQuestions(new MemoryObjectStore());
    });

    it('still sums and scans every question in the filesystem store (one folder level per listing)', async () => {
      await withFsStore('usage-ledger', manyQuestions);
    });
  });

  describe('deleteUser', () => {
    async function erase(store: ObjectStore): Promise<string[]> {
      const ledger = new UsageLedger(store, 'history/', { clock, pageSize: 4 });
      const daily = new DailyUsage(store, 'history/');
      const minute = new MinuteUsage(store, 'history/');
      for (const userId of ['gone', 'stays']) {
        for (let n = 0; n < 6; n += 1) {
          const record = question(n, { userId, day: n < 3 ? '2026-10-30' : '2026-11-21' });
          await daily.admit(userId, record.day, record.at, record.messageName, 50);
          await minute.admit(userId, minuteWindow(record.at), record.at, record.messageName, 50);
          await ledger.record(record);
        }
      }
      const erased = await ledger.deleteUser('gone');
      expect(erased.ledgerEntries).toBe(6);
      expect(erased.limitMarkers).toBe(6 + 2 * 6); // daily markers; a slot and a marker per minute question
      expect(erased.keys).toHaveLength(erased.ledgerEntries + erased.limitMarkers);
      expect(await collect(ledger.scan({ userId: 'gone' }))).toEqual([]);
      expect((await ledger.summarize('gone', { today: '2026-11-21', month: '2026-11' })).month.questions).toBe(0);
      expect((await ledger.summarize('stays', { today: '2026-11-21', month: '2026-11' })).month.questions).toBe(3);
      expect(await collect(ledger.scan({ userId: 'stays' }))).toHaveLength(6);
      expect((await daily.admit('stays', '2026-11-21', NOW + 99, 'later', 3)).admitted).toBe(false);
      expect(await ledger.deleteUser('gone')).toEqual({ ledgerEntries: 0, limitMarkers: 0, keys: [] });
      return erased.keys;
    }

    it('removes a person’s entries in every month and their limit markers, and nothing of anyone else (memory store)', async () => {
      const store = new MemoryObjectStore();
      const removed = await erase(store);
      const left = [...store.objects.keys()];
      expect(left).toHaveLength(6 + 6 + 2 * 6); // what 'stays' has: ledger entries, daily markers, minute slots and markers
      expect(left.filter((key) => removed.includes(key))).toEqual([]);
      expect(left.every((key) => key.includes('/stays-') || !key.startsWith('history/usage/'))).toBe(true);
    });

    it('removes them from the filesystem store too', async () => {
      await withFsStore('usage-erase', erase);
    });
  });

  it('keeps all 20 concurrent questions of one person in the memory store', async () => {
    await twentyAtOnce(new MemoryObjectStore());
  });

  it('keeps all 20 concurrent questions of one person in the filesystem store', async () => {
    await withFsStore('usage-concurrent', twentyAtOnce);
  });

  describe('in OSS (real ali-oss against the OSS fake)', () => {
    const { store, oss } = useOssFake();

    it('keeps all 20 concurrent questions of one person', async () => {
      await twentyAtOnce(store());
    });

    it('costs one put to record and one list to summarize', async () => {
      const ledger = new UsageLedger(store(), 'history/', { clock });
      await ledger.record(question(1));
      oss().resetCounts();
      await ledger.record(question(2));
      await ledger.summarize('manager1234', { today: '2026-11-21', month: '2026-11' });
      expect(ossRequests(oss())).toBe(2);
    });
  });
});
