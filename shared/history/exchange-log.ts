import { describeError } from '../errors';
import type { Logger, ObjectStore } from '../ports';
import { MAX_REPLY_ID_LENGTH, MAX_REPLY_IDS, type ClaimOptions, type ClaimResult, type Exchange, type HistoryKey, type HistoryStore, type PictureNote, type SaveOptions } from './exchange';
import { exchangeName, historyFolder } from './keys';

/** Keys deleted per request when clearing (OSS DeleteMultipleObjects takes at most 1000). */
const DELETE_BATCH = 1000;
/** Clearing stops after this many batches; a later `\clear` finishes the rest. */
const MAX_DELETE_BATCHES = 100;
/**
 * Extra keys listed beyond the history length: room for the caller's own claim, the recent-window
 * object and a few of the user's messages still in flight (claims, not exchanges). Costs nothing: one LIST.
 */
const LIST_SLACK = 8;
/** Most keys one LIST returns (OSS and S3 return at most 1000). */
const MAX_LIST = 1000;
/**
 * The recent-window object in each user's folder. Exchange names start with a digit, so it lists after
 * every exchange and never takes a listing slot from one.
 */
export const RECENT_NAME = 'recent.json';
/** Most exchanges the recent-window object keeps (the loader's largest HISTORY_LENGTH is 100). */
const MAX_RECENT = 128;

/**
 * What a message's object holds: first its claim (`pending`), then its exchange (`answered`, or
 * `unposted` while the answer still has to be delivered). Objects written before version 2 also carry
 * the exchanges the answer was based on (`context`); they are still read, the context only as a hint.
 */
export type StoredObject =
  | { state: 'pending'; claimedAt: number; owner?: string }
  | { state: 'answered' | 'unposted'; exchange: Exchange; owner?: string; legacyContext?: Exchange[] };

/** Whether a stored value has the fields of an exchange. */
export function isExchange(value: unknown): value is Exchange {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.id === 'string' &&
    typeof record.at === 'number' &&
    typeof record.user === 'string' &&
    typeof record.assistant === 'string'
  );
}

/** The picture notes of a stored exchange, when they are well formed. */
function pictureNotes(value: unknown): PictureNote[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const notes = value.filter(
    (note): note is PictureNote =>
      typeof note === 'object' && note !== null && typeof (note as PictureNote).mediaType === 'string' && typeof (note as PictureNote).bytes === 'number',
  );
  return notes.length > 0 ? notes.map((note) => ({ mediaType: note.mediaType, bytes: note.bytes })) : undefined;
}

/** The reply ids of a stored exchange that are well formed, at most {@link MAX_REPLY_IDS}. */
function replyIds(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const ids = value.filter((id): id is string => typeof id === 'string' && id !== '' && id.length <= MAX_REPLY_ID_LENGTH).slice(0, MAX_REPLY_IDS);
  return ids.length > 0 ? ids : undefined;
}

/** Only the fields of an exchange, whatever else a stored record carries (the admin command line reads them too). */
export const exchangeOf = (value: Exchange): Exchange => {
  const pictures = pictureNotes(value.pictures);
  const ids = replyIds(value.replyIds);
  const exchange: Exchange = { id: value.id, at: value.at, user: value.user, assistant: value.assistant };
  if (pictures !== undefined) exchange.pictures = pictures;
  if (typeof value.answeredAt === 'number' && Number.isFinite(value.answeredAt)) exchange.answeredAt = value.answeredAt;
  if (typeof value.model === 'string' && value.model !== '' && value.model.length <= 200) exchange.model = value.model;
  if (ids !== undefined) exchange.replyIds = ids;
  return exchange;
};

/** A message's object (claim or exchange, versions 1 and 2), or undefined when it cannot be read. */
export function decodeStoredMessage(body: Buffer): StoredObject | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const owner = typeof value.owner === 'string' ? { owner: value.owner } : {};
    if (value.state === 'pending' && typeof value.claimedAt === 'number') return { state: 'pending', claimedAt: value.claimedAt, ...owner };
    if (!isExchange(value.exchange)) return undefined;
    const state = value.state === 'unposted' ? 'unposted' : 'answered';
    const legacy = Array.isArray(value.context) ? { legacyContext: value.context.filter(isExchange).map(exchangeOf) } : {};
    return { state, exchange: exchangeOf(value.exchange), ...owner, ...legacy };
  } catch {
    return undefined;
  }
}

const encode = (object: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify(object), 'utf8');

const nameOf = (key: string): string => key.slice(key.lastIndexOf('/') + 1);

/** Exchange and claim objects are named `<13 digits>-<hash>.json` (see `exchangeName`). */
const isMessageKey = (key: string): boolean => /^\d{13}-/.test(nameOf(key));

/** Newest first, then by id, as the listing orders the objects. */
const newestFirst = (a: Exchange, b: Exchange): number => b.at - a.at || a.id.localeCompare(b.id);

/**
 * History as an append-only log of immutable objects, one per message, under the user's folder, plus
 * one recent-window object that only makes reads cheap.
 *
 * No message's object is ever read, changed and written back by two runs: it is created once
 * (create-only) as its claim and only its owner replaces it with the exchange, so concurrent messages
 * from one user cannot overwrite each other and a listing is the truth about which exchanges exist.
 * Each object holds its own exchange only, so storage grows with the history, not with the history
 * times the window.
 *
 * After each save the saving run also writes `recent.json`: the exchanges its answer was based on
 * plus the new one. An ordinary read is one LIST and one GET of that object, in parallel; the listing
 * decides which exchanges exist (one cleared by `\clear`, or released, is left out even if the recent
 * object still has it), and any listed object the recent object does not have (saved concurrently, or
 * a claim in flight) costs a GET of its own. Claims never take an exchange's place: the read keeps
 * going down the listing until it has `limit` answered exchanges. Claims live with the history, so
 * they expire with it (lifecycle rules) and `\clear` removes them.
 */
export class ExchangeLog implements HistoryStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly logger?: Logger,
  ) {}

  async loadRecent(key: HistoryKey, limit: number, options: { exclude?: string } = {}): Promise<Exchange[]> {
    if (limit <= 0) return [];
    const folder = historyFolder(this.prefix, key);
    let listLimit = Math.min(MAX_LIST, limit + LIST_SLACK);
    const [firstListing, recent] = await Promise.all([this.store.list(folder, listLimit), this.readRecent(folder)]);
    const known = new Map<string, Exchange>(recent.map((exchange) => [exchange.id, exchange]));
    // A folder written before the recent object existed: the newest exchange carries the others.
    let hintsWanted = recent.length === 0;
    const found: Exchange[] = [];
    let listed = firstListing;
    let after = '';
    for (;;) {
      const keys = listed.filter((listedKey) => isMessageKey(listedKey) && nameOf(listedKey) !== options.exclude && listedKey > after);
      let cursor = 0;
      while (found.length < limit && cursor < keys.length) {
        // Enough keys to fill the window if every unknown one is an exchange; known ones cost nothing.
        const batch = keys.slice(cursor, cursor + (hintsWanted ? 1 : limit - found.length));
        cursor += batch.length;
        after = batch[batch.length - 1] ?? after;
        const objects = await Promise.all(batch.map((batchKey) => known.get(nameOf(batchKey)) ?? this.readExchange(batchKey, known)));
        for (const exchange of objects) if (exchange !== undefined && found.length < limit) found.push(exchange);
        hintsWanted = false;
      }
      // Done, or the folder has nothing beyond this listing, or it is all claims as far as a LIST reaches.
      if (found.length >= limit || listed.length < listLimit || listLimit >= MAX_LIST) break;
      listLimit = Math.min(MAX_LIST, listLimit * 4);
      listed = await this.store.list(folder, listLimit);
    }
    return found.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  }

  async claim(key: HistoryKey, exchangeId: string, options: ClaimOptions): Promise<ClaimResult> {
    const objectKey = this.objectKey(key, exchangeId);
    const claim = encode({ v: 2, state: 'pending', claimedAt: options.at, ...(options.owner !== undefined ? { owner: options.owner } : {}) });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (await this.store.put(objectKey, claim, { ifAbsent: true })) return { kind: 'claimed', tookOver: false };
      const body = await this.store.get(objectKey);
      // Released between our write and our read: claim again.
      if (body === undefined) continue;
      const existing = decodeStoredMessage(body);
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
          const context = existing.legacyContext ?? (await this.recentContext(key, existing.exchange.id));
          return { kind: 'unposted', exchange: existing.exchange, context };
        }
        return { kind: 'answered', exchange: existing.exchange };
      } else if (!sameInvocation && options.at - existing.claimedAt < options.leaseMs) {
        return { kind: 'busy', claimedAt: existing.claimedAt };
      }
      // The claim's run is gone (a retry of the same invocation, an expired lease, or an unreadable
      // claim): take it over. Only runs for this one message ever write this key.
      await this.store.put(objectKey, claim);
      return { kind: 'claimed', tookOver: true };
    }
    return { kind: 'busy', claimedAt: options.at };
  }

  async release(key: HistoryKey, exchangeId: string): Promise<void> {
    await this.store.deleteMany([this.objectKey(key, exchangeId)]);
  }

  async save(key: HistoryKey, exchange: Exchange, context: readonly Exchange[], options: SaveOptions = {}): Promise<void> {
    const object = {
      v: 2,
      state: options.posted === false ? 'unposted' : 'answered',
      exchange: exchangeOf(exchange),
      ...(options.owner !== undefined ? { owner: options.owner } : {}),
    };
    // Replaces this message's own claim; no other message writes this key.
    await this.store.put(this.objectKey(key, exchange.id), encode(object));
    // Marking an answer unposted changes nothing a reader of the history sees.
    if (options.posted === false) return;
    // Then the recent window, after the exchange exists: a reader never finds an answer here that the
    // history does not have. Only a cache: a failure costs later reads a few GETs, nothing else.
    const recent = new Map<string, Exchange>();
    for (const item of [exchange, ...context]) if (!recent.has(item.id)) recent.set(item.id, exchangeOf(item));
    const window = [...recent.values()].sort(newestFirst).slice(0, MAX_RECENT);
    const folder = historyFolder(this.prefix, key);
    await this.store.put(`${folder}${RECENT_NAME}`, encode({ v: 2, recent: window })).catch((error: unknown) => {
      this.logger?.warn('history.recent_not_saved', { error: describeError(error) });
    });
  }

  async clear(key: HistoryKey): Promise<number> {
    const folder = historyFolder(this.prefix, key);
    let deleted = 0;
    for (let batch = 0; batch < MAX_DELETE_BATCHES; batch += 1) {
      const keys = await this.store.list(folder, DELETE_BATCH);
      if (keys.length === 0) break;
      await this.store.deleteMany(keys);
      deleted += keys.filter(isMessageKey).length;
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

  /** The recent-window object's exchanges, newest first; none when it is missing or unreadable. */
  private async readRecent(folder: string): Promise<Exchange[]> {
    const key = `${folder}${RECENT_NAME}`;
    const body = await this.store.get(key);
    if (body === undefined) return [];
    try {
      const value = JSON.parse(body.toString('utf8')) as { recent?: unknown };
      if (Array.isArray(value.recent)) return value.recent.filter(isExchange).map(exchangeOf);
    } catch {
      // Reported below; the listing still finds every exchange.
    }
    this.logger?.warn('history.object_unreadable', { key });
    return [];
  }

  /** The exchanges of the recent window other than `exchangeId`: the context of an answer saved earlier. */
  private async recentContext(key: HistoryKey, exchangeId: string): Promise<Exchange[]> {
    const recent = await this.readRecent(historyFolder(this.prefix, key)).catch(() => []);
    return recent.filter((item) => item.id !== exchangeId).reverse();
  }

  /**
   * One listed object's exchange, or undefined for a claim (or an unreadable object). An object written
   * before version 2 carries older exchanges: they are remembered so that they cost no GET.
   */
  private async readExchange(key: string, known: Map<string, Exchange>): Promise<Exchange | undefined> {
    const body = await this.store.get(key);
    if (body === undefined) return undefined;
    const object = decodeStoredMessage(body);
    if (object === undefined) {
      this.logger?.warn('history.object_unreadable', { key });
      return undefined;
    }
    if (object.state === 'pending') return undefined;
    for (const item of object.legacyContext ?? []) if (!known.has(item.id)) known.set(item.id, item);
    return object.exchange;
  }
}
