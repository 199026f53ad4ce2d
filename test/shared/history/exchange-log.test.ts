import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import type { Exchange, HistoryKey } from '../../../shared/history/exchange';
import { ExchangeLog, RECENT_NAME } from '../../../shared/history/exchange-log';
import { historyFolder } from '../../../shared/history/keys';
import { StorageError } from '../../../shared/errors';
import type { ObjectStore } from '../../../shared/ports';
import { captureLogger } from '../../helpers/capture-logger';
import { guarantee } from '../../helpers/guarantee';

const PREFIX = 'history/';
const KEY: HistoryKey = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' };
const T0 = 1_732_000_000_000;

/** A store that counts and records the calls made to it. */
class CountingStore implements ObjectStore {
  readonly description = 'counting';
  calls = { list: 0, get: 0, put: 0, deleteMany: 0 };
  gets: string[] = [];

  constructor(readonly inner: MemoryObjectStore) {}

  reset(): void {
    this.calls = { list: 0, get: 0, put: 0, deleteMany: 0 };
    this.gets = [];
  }

  list(prefix: string, limit: number): Promise<string[]> {
    this.calls.list += 1;
    return this.inner.list(prefix, limit);
  }

  get(key: string): Promise<Buffer | undefined> {
    this.calls.get += 1;
    this.gets.push(key);
    return this.inner.get(key);
  }

  put(key: string, body: Buffer, options?: { ifAbsent?: boolean }): Promise<boolean> {
    this.calls.put += 1;
    return this.inner.put(key, body, options);
  }

  deleteMany(keys: readonly string[]): Promise<void> {
    this.calls.deleteMany += 1;
    return this.inner.deleteMany(keys);
  }
}

function exchange(n: number, key: HistoryKey = KEY): Exchange {
  const at = T0 + n * 60_000;
  return { id: ExchangeLog.exchangeId(at, `msg-${key.userId}-${n}`), at, user: `question ${n}`, assistant: `answer ${n}` };
}

function objectKey(item: Exchange, key: HistoryKey = KEY): string {
  return `${historyFolder(PREFIX, key)}${item.id}`;
}

const recentKey = (key: HistoryKey = KEY): string => `${historyFolder(PREFIX, key)}${RECENT_NAME}`;

function setup(): { memory: MemoryObjectStore; store: CountingStore; log: ExchangeLog; capture: ReturnType<typeof captureLogger> } {
  const memory = new MemoryObjectStore();
  const store = new CountingStore(memory);
  const capture = captureLogger();
  return { memory, store, log: new ExchangeLog(store, PREFIX, capture.logger), capture };
}

/** Saves exchanges 1..count one after the other, each with the history a reply would have loaded. */
async function saveSequentially(log: ExchangeLog, count: number, key: HistoryKey = KEY): Promise<Exchange[]> {
  const saved: Exchange[] = [];
  for (let n = 1; n <= count; n += 1) {
    const item = exchange(n, key);
    await log.save(key, item, await log.loadRecent(key, 10));
    saved.push(item);
  }
  return saved;
}

describe('ExchangeLog', () => {
  it('returns saved exchanges oldest first', async () => {
    const { log } = setup();
    const saved = await saveSequentially(log, 4);
    expect(await log.loadRecent(KEY, 10)).toEqual(saved);
  });

  it('returns nothing for a user without history', async () => {
    const { log } = setup();
    expect(await log.loadRecent(KEY, 5)).toEqual([]);
  });

  it('returns only the newest `limit` exchanges', async () => {
    const { log } = setup();
    const saved = await saveSequentially(log, 5);
    expect(await log.loadRecent(KEY, 2)).toEqual(saved.slice(3));
  });

  it('reads with one LIST and one GET of the recent window', async () => {
    const { log, store } = setup();
    const saved = await saveSequentially(log, 5);
    store.reset();
    expect(await log.loadRecent(KEY, 5)).toEqual(saved);
    expect(store.calls).toEqual({ list: 1, get: 1, put: 0, deleteMany: 0 });
    expect(store.gets).toEqual([recentKey()]);
  });

  it('saves with two writes: the exchange in place of its claim, then the recent window', async () => {
    const { log, store } = setup();
    const [first] = await saveSequentially(log, 1);
    const second = exchange(2);
    store.reset();
    await log.save(KEY, second, [first as Exchange]);
    expect(store.calls).toEqual({ list: 0, get: 0, put: 2, deleteMany: 0 });
  });

  it('returns both of two concurrent saves, fetching the one the newest does not carry', async () => {
    const { log, store } = setup();
    const saved = await saveSequentially(log, 2);
    const stale = await log.loadRecent(KEY, 10);
    const third = exchange(3);
    const fourth = exchange(4);
    await Promise.all([log.save(KEY, third, stale), log.save(KEY, fourth, stale)]);
    store.reset();
    expect(await log.loadRecent(KEY, 10)).toEqual([...saved, third, fourth]);
    expect(store.calls.list).toBe(1);
    // The recent window was written last by one of the two; the other's exchange costs a GET.
    expect(store.gets).toHaveLength(2);
    expect(store.gets[0]).toBe(recentKey());
    expect([objectKey(third), objectKey(fourth)]).toContain(store.gets[1]);
  });

  it('does not return a cleared exchange that a newer object still carries in its context', async () => {
    const { log } = setup();
    await saveSequentially(log, 2);
    const staleContext = await log.loadRecent(KEY, 10);
    expect(await log.clear(KEY)).toBe(2);
    // A reply that loaded its context before the clear saves afterwards.
    const third = exchange(3);
    await log.save(KEY, third, staleContext);
    expect(await log.loadRecent(KEY, 10)).toEqual([third]);
  });

  it('keeps one object per message: saving the same exchange again replaces it, never duplicates it', async () => {
    const { log, memory } = setup();
    const first = exchange(1);
    await log.save(KEY, first, []);
    const resaved = { ...first, assistant: 'the same answer, saved again by the run that owns the claim' };
    await log.save(KEY, resaved, []);
    expect([...memory.objects.keys()].sort()).toEqual([objectKey(first), recentKey()].sort());
    expect(await log.loadRecent(KEY, 5)).toEqual([resaved]);
  });

  it('stores each exchange alone, without the context it was answered with', async () => {
    const { log, memory } = setup();
    const [first] = await saveSequentially(log, 1);
    const second = exchange(2);
    await log.save(KEY, second, [first as Exchange, second]);
    const stored = JSON.parse((memory.objects.get(objectKey(second)) ?? Buffer.from('{}')).toString('utf8')) as Record<string, unknown>;
    expect(stored).toEqual({ v: 2, state: 'answered', exchange: second });
    const recent = JSON.parse((memory.objects.get(recentKey()) ?? Buffer.from('{}')).toString('utf8')) as { recent: Exchange[] };
    expect(recent.recent).toEqual([second, first]);
  });

  it('grows storage with the history, not with history times window: 50 exchanges of 20 KB at a window of 50', async () => {
    const { log, memory } = setup();
    const size = 20_000;
    for (let n = 1; n <= 50; n += 1) {
      const item = { ...exchange(n), user: 'q'.repeat(size / 2), assistant: 'a'.repeat(size / 2) };
      await log.save(KEY, item, await log.loadRecent(KEY, 50, { exclude: item.id }));
    }
    const bytes = [...memory.objects.values()].reduce((sum, body) => sum + body.length, 0);
    // The exchanges (1 MB) plus one recent window of at most 51 of them; it was 25.6 MB with the context in each.
    expect(memory.objects.size).toBe(51);
    expect(bytes).toBeLessThan(2 * 50 * size * 1.05);
    expect(await log.loadRecent(KEY, 50)).toHaveLength(50);
  });

  it("clears only the user's own history in that conversation and answers the count", async () => {
    const { log, memory } = setup();
    const otherUser: HistoryKey = { conversationId: KEY.conversationId, userId: 'manager12345' };
    const otherConversation: HistoryKey = { conversationId: `${KEY.conversationId}x`, userId: KEY.userId };
    await saveSequentially(log, 3);
    const theirs = await saveSequentially(log, 2, otherUser);
    const elsewhere = await saveSequentially(log, 4, otherConversation);
    expect(await log.clear(KEY)).toBe(3);
    expect(await log.loadRecent(KEY, 10)).toEqual([]);
    expect(await log.loadRecent(otherUser, 10)).toEqual(theirs);
    expect(await log.loadRecent(otherConversation, 10)).toEqual(elsewhere);
    // Their exchanges and each folder's recent window.
    expect(memory.objects.size).toBe(8);
    expect(await log.clear(KEY)).toBe(0);
  });

  it('skips and logs a corrupt newest object, reading the others individually when the recent window is gone', async () => {
    const { log, memory, capture } = setup();
    const saved = await saveSequentially(log, 3);
    const corrupt = objectKey(saved[2] as Exchange);
    memory.objects.set(corrupt, Buffer.from('{"v":1,"exchange":{"id":', 'utf8'));
    memory.objects.delete(recentKey());
    expect(await log.loadRecent(KEY, 10)).toEqual(saved.slice(0, 2));
    const warning = capture.find('history.object_unreadable');
    expect(warning).toMatchObject({ level: 'warn', key: corrupt });
  });

  it('skips a corrupt older object that no newer object carries', async () => {
    const { log, memory, capture } = setup();
    const first = exchange(1);
    const second = exchange(2);
    await log.save(KEY, first, []);
    await log.save(KEY, second, []);
    memory.objects.set(objectKey(first), Buffer.from('not json at all', 'utf8'));
    expect(await log.loadRecent(KEY, 10)).toEqual([second]);
    expect(capture.events().filter((line) => line.event === 'history.object_unreadable')).toHaveLength(1);
  });

  it('skips an object whose exchange has the wrong shape', async () => {
    const { log, memory } = setup();
    const first = exchange(1);
    await log.save(KEY, first, []);
    memory.objects.set(objectKey(first), Buffer.from(JSON.stringify({ v: 1, exchange: { id: first.id, at: 'yesterday' }, context: [] })));
    memory.objects.delete(recentKey());
    expect(await log.loadRecent(KEY, 10)).toEqual([]);
  });

  it('answers [] without any store call for a limit of 0 or less', async () => {
    const { log, store } = setup();
    await saveSequentially(log, 2);
    store.reset();
    expect(await log.loadRecent(KEY, 0)).toEqual([]);
    expect(await log.loadRecent(KEY, -1)).toEqual([]);
    expect(store.calls).toEqual({ list: 0, get: 0, put: 0, deleteMany: 0 });
  });

  it('reads a recent window that cannot be parsed as missing, logs it, and finds every exchange', async () => {
    const { log, memory, capture } = setup();
    const saved = await saveSequentially(log, 3);
    memory.objects.set(recentKey(), Buffer.from('{"recent":', 'utf8'));
    expect(await log.loadRecent(KEY, 10)).toEqual(saved);
    expect(capture.find('history.object_unreadable')).toMatchObject({ key: recentKey() });
  });

  it('saves the exchange even when the recent window cannot be written, and logs it', async () => {
    const { log, memory, capture } = setup();
    const saved = await saveSequentially(log, 2);
    const put = memory.put.bind(memory);
    memory.put = async (key, body, options) => {
      if (key === recentKey()) throw new StorageError('write', 'OSS write failed: ServiceUnavailable (503)');
      return put(key, body, options);
    };
    const third = exchange(3);
    await log.save(KEY, third, saved);
    expect(capture.find('history.recent_not_saved')).toBeDefined();
    expect(await log.loadRecent(KEY, 10)).toEqual([...saved, third]);
  });

  it('reads history written before the recent window existed (each object with its context): one LIST, one GET', async () => {
    const { log, store, memory } = setup();
    const items = [1, 2, 3, 4].map((n) => exchange(n));
    items.forEach((item, n) => {
      const body = { v: 1, state: 'answered', exchange: item, context: items.slice(0, n) };
      memory.objects.set(objectKey(item), Buffer.from(JSON.stringify(body)));
    });
    store.reset();
    expect(await log.loadRecent(KEY, 3)).toEqual(items.slice(1));
    // The recent window (missing), then the newest object, which carries the others.
    expect(store.gets).toEqual([recentKey(), objectKey(items[3] as Exchange)]);
  });

  it('writes objects under the prefix and the user folder only', async () => {
    const { log, memory } = setup();
    await saveSequentially(log, 2);
    for (const key of memory.objects.keys()) expect(key.startsWith(historyFolder(PREFIX, KEY))).toBe(true);
  });
});

describe(guarantee('Exactly one answer per message'), () => {
  describe('ExchangeLog.claim', () => {
    const LEASE = 180_000;
    const claimOf = (_item: Exchange, at: number, owner?: string) => ({ at, leaseMs: LEASE, ...(owner !== undefined ? { owner } : {}) });

    it('claims a new message with one create-only write', async () => {
      const { log, store } = setup();
      const item = exchange(1);
      expect(await log.claim(KEY, item.id, claimOf(item, T0, 'req-1'))).toEqual({ kind: 'claimed', tookOver: false });
      expect(store.calls).toEqual({ list: 0, get: 0, put: 1, deleteMany: 0 });
    });

    it('answers busy to a second claim while the first is fresh and belongs to another invocation', async () => {
      const { log } = setup();
      const item = exchange(1);
      await log.claim(KEY, item.id, claimOf(item, T0, 'req-1'));
      expect(await log.claim(KEY, item.id, claimOf(item, T0 + 5_000, 'req-2'))).toEqual({ kind: 'busy', claimedAt: T0 });
    });

    it('lets a retry of the same invocation take its own claim over at once', async () => {
      const { log } = setup();
      const item = exchange(1);
      await log.claim(KEY, item.id, claimOf(item, T0, 'req-1'));
      expect(await log.claim(KEY, item.id, claimOf(item, T0 + 1_000, 'req-1'))).toEqual({ kind: 'claimed', tookOver: true });
    });

    it('takes over a claim older than the lease: its run cannot still be alive', async () => {
      const { log } = setup();
      const item = exchange(1);
      await log.claim(KEY, item.id, claimOf(item, T0, 'req-1'));
      expect(await log.claim(KEY, item.id, claimOf(item, T0 + LEASE, 'req-2'))).toEqual({ kind: 'claimed', tookOver: true });
      expect(await log.claim(KEY, item.id, claimOf(item, T0 + LEASE + 1, 'req-3'))).toEqual({ kind: 'busy', claimedAt: T0 + LEASE });
    });

    it('reports an answered message as answered, and a saved but unposted one with its context', async () => {
      const { log } = setup();
      const [first] = await saveSequentially(log, 1);
      const second = exchange(2);
      await log.claim(KEY, second.id, claimOf(second, T0));
      await log.save(KEY, second, [first as Exchange], { posted: false });
      expect(await log.claim(KEY, (first as Exchange).id, claimOf(first as Exchange, T0))).toEqual({ kind: 'answered', exchange: first });
      expect(await log.claim(KEY, second.id, claimOf(second, T0))).toEqual({ kind: 'unposted', exchange: second, context: [first] });
    });

    it("treats its own invocation's saved answer as still owed: FC retried it, so it never posted", async () => {
      const { log } = setup();
      const item = exchange(1);
      await log.claim(KEY, item.id, claimOf(item, T0, 'req-1'));
      await log.save(KEY, item, [], { owner: 'req-1' });
      expect(await log.claim(KEY, item.id, claimOf(item, T0 + 1, 'req-1'))).toEqual({ kind: 'unposted', exchange: item, context: [] });
      expect(await log.claim(KEY, item.id, claimOf(item, T0 + 1, 'req-2'))).toEqual({ kind: 'answered', exchange: item });
    });

    it('gives exactly one of 20 concurrent claims of one message the claim', async () => {
      const { log } = setup();
      const item = exchange(1);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, n) => log.claim(KEY, item.id, claimOf(item, T0, `req-${n}`))),
      );
      expect(results.filter((result) => result.kind === 'claimed')).toHaveLength(1);
      expect(results.filter((result) => result.kind === 'busy')).toHaveLength(19);
    });

    it('claims again after a release', async () => {
      const { log } = setup();
      const item = exchange(1);
      await log.claim(KEY, item.id, claimOf(item, T0, 'req-1'));
      await log.release(KEY, item.id);
      expect(await log.claim(KEY, item.id, claimOf(item, T0 + 1, 'req-2'))).toEqual({ kind: 'claimed', tookOver: false });
    });

    it('takes over an unreadable claim and logs it', async () => {
      const { log, memory, capture } = setup();
      const item = exchange(1);
      await memory.put(objectKey(item), Buffer.from('{not json'));
      expect(await log.claim(KEY, item.id, claimOf(item, T0))).toEqual({ kind: 'claimed', tookOver: true });
      expect(capture.find('history.claim_unreadable')).toBeDefined();
    });
  });

  describe('ExchangeLog.loadRecent with claims in the folder', () => {
    it('leaves out its own claim and claims in flight, reading the recent window and the claim in flight', async () => {
      const { log, store } = setup();
      const saved = await saveSequentially(log, 3);
      const inFlight = exchange(4);
      const own = exchange(5);
      await log.claim(KEY, inFlight.id, { at: T0, leaseMs: 1000 });
      await log.claim(KEY, own.id, { at: T0, leaseMs: 1000 });
      store.reset();
      expect(await log.loadRecent(KEY, 5, { exclude: own.id })).toEqual(saved);
      // LIST, the recent window, and the in-flight claim (the recent window cannot say it is not an exchange).
      expect(store.calls).toEqual({ list: 1, get: 2, put: 0, deleteMany: 0 });
    });

    it('gives each of a burst of 8 messages after 5 exchanges all 5 exchanges, whatever the others are doing', async () => {
      const { log } = setup();
      const saved = await saveSequentially(log, 5);
      const burst = [6, 7, 8, 9, 10, 11, 12, 13].map((n) => exchange(n));
      await Promise.all(burst.map((item) => log.claim(KEY, item.id, { at: T0, leaseMs: 1000 })));
      const carried = await Promise.all(burst.map(async (item) => (await log.loadRecent(KEY, 5, { exclude: item.id })).length));
      expect(carried).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
      expect(await log.loadRecent(KEY, 5, { exclude: (burst[0] as Exchange).id })).toEqual(saved);
    });

    it('lists further when more claims are in flight than the listing has room for', async () => {
      const { log, store } = setup();
      const saved = await saveSequentially(log, 5);
      for (let n = 6; n <= 45; n += 1) await log.claim(KEY, exchange(n).id, { at: T0, leaseMs: 1000 });
      store.reset();
      expect(await log.loadRecent(KEY, 5)).toEqual(saved);
      expect(store.calls.list).toBe(2);
    });

    it('counts a burst answered in any order: later prompts carry the newest answered exchanges', async () => {
      const { log } = setup();
      await saveSequentially(log, 2);
      const burst = [3, 4, 5, 6].map((n) => exchange(n));
      await Promise.all(burst.map((item) => log.claim(KEY, item.id, { at: T0, leaseMs: 1000 })));
      // The two newest answer first, from the history before the burst.
      const before = await log.loadRecent(KEY, 3, { exclude: (burst[3] as Exchange).id });
      await log.save(KEY, burst[3] as Exchange, before);
      await log.save(KEY, burst[2] as Exchange, before);
      const loaded = await log.loadRecent(KEY, 3, { exclude: (burst[0] as Exchange).id });
      expect(loaded.map((item) => item.user)).toEqual(['question 2', 'question 5', 'question 6']);
    });

    it('still returns the newest `limit` exchanges when claims take listing slots', async () => {
      const { log } = setup();
      const saved = await saveSequentially(log, 6);
      for (const n of [7, 8, 9]) await log.claim(KEY, exchange(n).id, { at: T0, leaseMs: 1000 });
      expect(await log.loadRecent(KEY, 3)).toEqual(saved.slice(3));
    });
  });
});
