import type { Logger, ObjectStore } from '../ports';
import type { ClaimOptions, ClaimResult, Exchange, HistoryKey, HistoryStore, SaveOptions } from './exchange';
import { exchangeName, historyFolder } from './keys';

/** Keys deleted per request when clearing (OSS DeleteMultipleObjects takes at most 1000). */
const DELETE_BATCH = 1000;
/** Clearing stops after this many batches; a later `\clear` finishes the rest. */
const MAX_DELETE_BATCHES = 100;
/**
 * Extra keys listed beyond the history length: room for the caller's own claim and a few of the
 * user's messages still in flight, which are claims rather than exchanges. Costs nothing: one LIST.
 */
const LIST_SLACK = 4;

/**
 * What an object in a user's folder holds. A message's object is first its claim (`pending`), then
 * its exchange with the exchanges the answer was based on (`answered`, or `unposted` while the answer
 * still has to be delivered). Version-1 objects without `state` are answered exchanges.
 */
type StoredObject =
  | { state: 'pending'; claimedAt: number; owner?: string }
  | { state: 'answered' | 'unposted'; exchange: Exchange; context: Exchange[]; owner?: string };

function isExchange(value: unknown): value is Exchange {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.id === 'string' &&
    typeof record.at === 'number' &&
    typeof record.user === 'string' &&
    typeof record.assistant === 'string'
  );
}

function decode(body: Buffer): StoredObject | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (value.state === 'pending' && typeof value.claimedAt === 'number') {
      return typeof value.owner === 'string'
        ? { state: 'pending', claimedAt: value.claimedAt, owner: value.owner }
        : { state: 'pending', claimedAt: value.claimedAt };
    }
    if (!isExchange(value.exchange)) return undefined;
    const context = Array.isArray(value.context) ? value.context.filter(isExchange) : [];
    const state = value.state === 'unposted' ? 'unposted' : 'answered';
    return typeof value.owner === 'string'
      ? { state, exchange: value.exchange, context, owner: value.owner }
      : { state, exchange: value.exchange, context };
  } catch {
    return undefined;
  }
}

const encode = (object: StoredObject & { v?: 1 }): Buffer => Buffer.from(JSON.stringify({ v: 1, ...object }), 'utf8');

const nameOf = (key: string): string => key.slice(key.lastIndexOf('/') + 1);

/**
 * History as an append-only log of immutable objects, one per message, under the user's folder.
 * No object is ever read, changed and written back by two runs: a message's object is created once
 * (create-only) as its claim and only its owner replaces it with the exchange, so concurrent messages
 * from one user cannot overwrite each other and a listing is the truth about which exchanges exist.
 * Each exchange also carries the exchanges its answer was based on, so an ordinary read is one LIST
 * plus one GET of the newest object; only exchanges that object does not carry (written concurrently)
 * cost a GET of their own. Claims live with the history, so they expire with it (lifecycle rules) and
 * `\clear` removes them.
 */
export class ExchangeLog implements HistoryStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly logger?: Logger,
  ) {}

  async loadRecent(key: HistoryKey, limit: number, options: { exclude?: string } = {}): Promise<Exchange[]> {
    if (limit <= 0) return [];
    const listed = await this.store.list(historyFolder(this.prefix, key), limit + LIST_SLACK);
    const keys = listed.filter((listedKey) => nameOf(listedKey) !== options.exclude);
    const known = new Map<string, Exchange>();
    // Newest first: claims in flight are skipped until the newest exchange, which carries its context.
    let start = 0;
    for (; start < keys.length; start += 1) {
      const object = await this.read(keys[start] as string);
      if (object !== undefined && object.state !== 'pending') {
        for (const exchange of [object.exchange, ...object.context]) known.set(exchange.id, exchange);
        break;
      }
    }
    const window = keys.slice(start, start + limit);
    const missing = window.filter((older) => !known.has(nameOf(older)));
    const fetched = await Promise.all(missing.map((older) => this.read(older)));
    for (const object of fetched) if (object !== undefined && object.state !== 'pending') known.set(object.exchange.id, object.exchange);
    // The listing decides which exchanges exist (a cleared one may linger in an older object's context).
    return window
      .map((listedKey) => known.get(nameOf(listedKey)))
      .filter((exchange): exchange is Exchange => exchange !== undefined)
      .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  }

  async claim(key: HistoryKey, exchangeId: string, options: ClaimOptions): Promise<ClaimResult> {
    const objectKey = this.objectKey(key, exchangeId);
    const claim: StoredObject = options.owner !== undefined
      ? { state: 'pending', claimedAt: options.at, owner: options.owner }
      : { state: 'pending', claimedAt: options.at };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (await this.store.put(objectKey, encode(claim), { ifAbsent: true })) return { kind: 'claimed', tookOver: false };
      const body = await this.store.get(objectKey);
      // Released between our write and our read: claim again.
      if (body === undefined) continue;
      const existing = decode(body);
      const sameInvocation = options.owner !== undefined && existing?.owner === options.owner;
      if (existing === undefined) {
        // A store whose create-only write shows the object before its content (a filesystem without
        // hard links): a claim that cannot be read yet is being written, busy until its lease runs out.
        // Elsewhere writes are whole, so an unreadable claim is damaged and taken over.
        const modifiedAt = await this.store.lastModified?.(objectKey);
        if (modifiedAt !== undefined && options.at - modifiedAt < options.leaseMs) {
          return { kind: 'busy', claimedAt: Math.min(modifiedAt, options.at) };
        }
        this.logger?.warn('history.claim_unreadable', { key: objectKey });
      } else if (existing.state !== 'pending') {
        // FC retries only failed runs, and a run never fails after posting: when the run that saved
        // this answer was this very invocation, its post did not happen, so the answer is still owed.
        if (existing.state === 'unposted' || sameInvocation) {
          return { kind: 'unposted', exchange: existing.exchange, context: existing.context };
        }
        return { kind: 'answered', exchange: existing.exchange };
      } else if (!sameInvocation && options.at - existing.claimedAt < options.leaseMs) {
        return { kind: 'busy', claimedAt: existing.claimedAt };
      }
      // The claim's run is gone (a retry of the same invocation, an expired lease, or an unreadable
      // claim): take it over. Only runs for this one message ever write this key.
      await this.store.put(objectKey, encode(claim));
      return { kind: 'claimed', tookOver: true };
    }
    return { kind: 'busy', claimedAt: options.at };
  }

  async release(key: HistoryKey, exchangeId: string): Promise<void> {
    await this.store.deleteMany([this.objectKey(key, exchangeId)]);
  }

  async save(key: HistoryKey, exchange: Exchange, context: readonly Exchange[], options: SaveOptions = {}): Promise<void> {
    const object: StoredObject = {
      state: options.posted === false ? 'unposted' : 'answered',
      exchange,
      context: context.filter((item) => item.id !== exchange.id),
    };
    if (options.owner !== undefined) object.owner = options.owner;
    // Replaces this message's own claim; no other message writes this key.
    await this.store.put(this.objectKey(key, exchange.id), encode(object));
  }

  async clear(key: HistoryKey): Promise<number> {
    const folder = historyFolder(this.prefix, key);
    let deleted = 0;
    for (let batch = 0; batch < MAX_DELETE_BATCHES; batch += 1) {
      const keys = await this.store.list(folder, DELETE_BATCH);
      if (keys.length === 0) break;
      await this.store.deleteMany(keys);
      deleted += keys.length;
    }
    return deleted;
  }

  /** The exchange id for a new exchange; also its object name, so a listing names the exchanges. */
  static exchangeId(at: number, messageId: string): string {
    return exchangeName(at, messageId);
  }

  private objectKey(key: HistoryKey, exchangeId: string): string {
    return `${historyFolder(this.prefix, key)}${exchangeId}`;
  }

  private async read(key: string): Promise<StoredObject | undefined> {
    const body = await this.store.get(key);
    if (body === undefined) return undefined;
    const object = decode(body);
    if (object === undefined) this.logger?.warn('history.object_unreadable', { key });
    return object;
  }
}
