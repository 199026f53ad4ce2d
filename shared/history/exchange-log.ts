import type { Logger, ObjectStore } from '../ports';
import type { Exchange, HistoryKey, HistoryStore } from './exchange';
import { exchangeName, historyFolder } from './keys';

/** Keys deleted per request when clearing (OSS DeleteMultipleObjects takes at most 1000). */
const DELETE_BATCH = 1000;
/** Clearing stops after this many batches; a later `\clear` finishes the rest. */
const MAX_DELETE_BATCHES = 100;

/** What an exchange object holds: the exchange and the exchanges its answer was based on. */
interface ExchangeObject {
  v: 1;
  exchange: Exchange;
  context: Exchange[];
}

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

function decode(body: Buffer): ExchangeObject | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as Partial<ExchangeObject>;
    if (!isExchange(value.exchange)) return undefined;
    const context = Array.isArray(value.context) ? value.context.filter(isExchange) : [];
    return { v: 1, exchange: value.exchange, context };
  } catch {
    return undefined;
  }
}

const nameOf = (key: string): string => key.slice(key.lastIndexOf('/') + 1);

/**
 * History as an append-only log of immutable objects, one per exchange, under the user's folder.
 * Objects are never rewritten, so concurrent messages from one user cannot overwrite each other, and a
 * listing is the truth about which exchanges exist. Each object also carries the exchanges its answer
 * was based on, so an ordinary read is one LIST plus one GET of the newest object; only exchanges that
 * the newest object does not carry (written concurrently) cost a GET of their own.
 */
export class ExchangeLog implements HistoryStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly logger?: Logger,
  ) {}

  async loadRecent(key: HistoryKey, limit: number): Promise<Exchange[]> {
    if (limit <= 0) return [];
    const keys = await this.store.list(historyFolder(this.prefix, key), limit);
    if (keys.length === 0) return [];
    const [newestKey, ...olderKeys] = keys as [string, ...string[]];
    const newest = await this.read(newestKey);
    const known = new Map<string, Exchange>();
    if (newest !== undefined) {
      for (const exchange of [newest.exchange, ...newest.context]) known.set(exchange.id, exchange);
    }
    const missing = olderKeys.filter((older) => !known.has(nameOf(older)));
    const fetched = await Promise.all(missing.map((older) => this.read(older)));
    for (const object of fetched) if (object !== undefined) known.set(object.exchange.id, object.exchange);
    // The listing decides which exchanges exist (a cleared one may linger in an older object's context).
    return keys
      .map((listed) => known.get(nameOf(listed)))
      .filter((exchange): exchange is Exchange => exchange !== undefined)
      .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  }

  async save(key: HistoryKey, exchange: Exchange, context: readonly Exchange[]): Promise<void> {
    const object: ExchangeObject = { v: 1, exchange, context: context.filter((item) => item.id !== exchange.id) };
    const objectKey = `${historyFolder(this.prefix, key)}${exchange.id}`;
    // Create-only: a retried save of the same exchange keeps the first copy instead of duplicating it.
    await this.store.put(objectKey, Buffer.from(JSON.stringify(object), 'utf8'), { ifAbsent: true });
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

  private async read(key: string): Promise<ExchangeObject | undefined> {
    const body = await this.store.get(key);
    if (body === undefined) return undefined;
    const object = decode(body);
    if (object === undefined) {
      this.logger?.warn('history.object_unreadable', { key });
      return undefined;
    }
    return object;
  }
}
