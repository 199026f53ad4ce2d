import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import type { Exchange, HistoryKey } from '../../../shared/history/exchange';
import { ExchangeLog } from '../../../shared/history/exchange-log';
import { historyFolder } from '../../../shared/history/keys';
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

  it('reads with one list and one get when the newest object carries the others', async () => {
    const { log, store } = setup();
    const saved = await saveSequentially(log, 5);
    store.reset();
    expect(await log.loadRecent(KEY, 5)).toEqual(saved);
    expect(store.calls).toEqual({ list: 1, get: 1, put: 0, deleteMany: 0 });
    expect(store.gets).toEqual([objectKey(saved[4] as Exchange)]);
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
    expect(store.gets).toEqual([objectKey(fourth), objectKey(third)]);
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
    expect([...memory.objects.keys()]).toEqual([objectKey(first)]);
    expect(await log.loadRecent(KEY, 5)).toEqual([resaved]);
  });

  it('does not store the exchange itself in its own context', async () => {
    const { log, memory } = setup();
    const first = exchange(1);
    await log.save(KEY, first, [first]);
    const stored = JSON.parse((memory.objects.get(objectKey(first)) ?? Buffer.from('{}')).toString('utf8')) as { context: Exchange[] };
    expect(stored.context).toEqual([]);
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
    expect(memory.objects.size).toBe(6);
    expect(await log.clear(KEY)).toBe(0);
  });

  it('skips and logs a corrupt newest object, reading the others individually', async () => {
    const { log, memory, capture } = setup();
    const saved = await saveSequentially(log, 3);
    const corrupt = objectKey(saved[2] as Exchange);
    memory.objects.set(corrupt, Buffer.from('{"v":1,"exchange":{"id":', 'utf8'));
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
    it('leaves out its own claim and claims in flight, and still reads with one LIST and one GET of the newest exchange', async () => {
      const { log, store } = setup();
      const saved = await saveSequentially(log, 3);
      const inFlight = exchange(4);
      const own = exchange(5);
      await log.claim(KEY, inFlight.id, { at: T0, leaseMs: 1000 });
      await log.claim(KEY, own.id, { at: T0, leaseMs: 1000 });
      store.reset();
      expect(await log.loadRecent(KEY, 5, { exclude: own.id })).toEqual(saved);
      // LIST, the in-flight claim (newest but one), then the newest exchange, which carries the rest.
      expect(store.calls).toEqual({ list: 1, get: 2, put: 0, deleteMany: 0 });
    });

    it('still returns the newest `limit` exchanges when claims take listing slots', async () => {
      const { log } = setup();
      const saved = await saveSequentially(log, 6);
      for (const n of [7, 8, 9]) await log.claim(KEY, exchange(n).id, { at: T0, leaseMs: 1000 });
      expect(await log.loadRecent(KEY, 3)).toEqual(saved.slice(3));
    });
  });
});
