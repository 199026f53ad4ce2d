/**
 * The usage ledger: what each answered question cost, per user and local day, for `\usage` and the admin
 * command line.
 *
 * Layout (every key under `<HISTORY_PREFIX>`, so the history's lifecycle rule expires it too):
 *
 *     ledger/<YYYY-MM>/<user>/<DD>-<time>-<message>~<prompt>~<completion>~<ms>~<e|p>~<model>~<conversation>~<user id>
 *
 * - `<YYYY-MM>` and `<DD>`: the question's local day (`localDay(at, TZ)`, the day its DAILY_MESSAGE_LIMIT
 *   marker counts in); `<time>`: when it was sent, 13-digit epoch ms; `<message>`: 16 hex of SHA-256 of the
 *   message id.
 * - `<user>`: 16 hex of SHA-256 of the staff id (the start of the hash in the id's `safeSegment`, as in
 *   `usage/<user>/`, so an operator can match the folders). A fixed-length hex folder keeps a store that lists
 *   without folders (OSS, S3: one flat listing of 1000 keys at most, no `start-after` in the port) cheap to
 *   split by prefix when a month holds more than one listing (see `walk`).
 * - The figures are in the name: prompt and completion tokens, the time to answer in ms, `e` when the
 *   tokens are the bot's estimate or `p` when the provider counted them; then the model, the conversation id
 *   and the staff id, each `b<base64url of UTF-8>` when short enough or `h<24 hex of SHA-256>` when not
 *   (names stay under 255 bytes, the filesystem's limit). Only `[A-Za-z0-9_~-]`: no `/`, `.` or `%`.
 * - The body is the whole record as JSON (ids and model in full), read only for a field that had to be
 *   hashed in the name.
 *
 * Writes: `record` is one create-only put per message and nothing else: no counter is read, changed and
 * written back, so concurrent runs never lose a count. FC's retry of a message writes the same key (the put
 * is refused); a retry whose figures differ writes a second key with the same `<DD>-<time>-<message>` stem,
 * and every read counts a stem once (the first in key order).
 *
 * Reads are listings only: `summarize` lists `ledger/<month>/<user>/` (one LIST per 1000 questions of that
 * person's month; past 1000 the listing is split by day and time digits, about ten LISTs more per extra
 * thousand), plus one LIST of today's `<DD>-` when today is in another month. `scan` lists each month from
 * `since` (or the oldest) to now: one LIST per 1000 entries, and up to ~16 per hex level when a month must be
 * split; it reads a body only for a hashed field. `deleteUser` lists the person's folder in every month and
 * their limit markers, and deletes them 1000 at a time.
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock, type ObjectStore } from '../ports';
import { normalizePrefix, safeSegment } from './keys';

/** What `record` is given for one answered question. */
export interface UsageRecord {
  /** The asker's staff id (`senderStaffId`). */
  userId: string;
  conversationId: string;
  /** The local day (`localDay(at, TZ)`) the question counts in, `YYYY-MM-DD`: the same as its daily-limit marker. */
  day: string;
  /** When the message was sent (epoch ms, the task's `createdAt`). */
  at: number;
  /** The message's id: one entry per message however often FC retries it. */
  messageName: string;
  promptTokens: number;
  completionTokens: number;
  /** True when the tokens are the bot's estimate because the provider reported no `usage`. */
  estimated?: boolean;
  /** The model that answered. */
  model: string;
  /** Time to answer, ms. */
  durationMs: number;
}

/** One answered question as `scan` reads it back. */
export interface UsageEntry {
  userId: string;
  conversationId: string;
  /** `YYYY-MM-DD`, local day. */
  day: string;
  /** When the message was sent (epoch ms). */
  at: number;
  /** Always 1: each entry is one question. */
  questions: number;
  promptTokens: number;
  completionTokens: number;
  estimated: boolean;
  model: string;
  durationMs: number;
}

/** Questions and tokens over a period. */
export interface UsageTotals {
  questions: number;
  promptTokens: number;
  completionTokens: number;
}

/** `summarize`'s answer: a person's day and month. */
export interface UsageSummary {
  today: UsageTotals;
  month: UsageTotals;
}

/** What `deleteUser` removed. */
export interface UsageErasure {
  /** Ledger entries removed (one per question, plus any duplicate a retry wrote). */
  ledgerEntries: number;
  /** DAILY_MESSAGE_LIMIT and RATE_LIMIT_PER_MINUTE objects removed. */
  limitMarkers: number;
  /** Every key removed. */
  keys: string[];
}

/** Options of a ledger; tests shrink the page to exercise split listings. */
export interface UsageLedgerOptions {
  /** Where "now" is, for the last month `scan` and `deleteUser` look at. */
  clock?: Clock;
  /** Keys asked of one listing: 1000 (the most OSS and S3 return). */
  pageSize?: number;
}

const PAGE_SIZE = 1000;
const MAX_COUNT = 9_999_999_999;
/** Latest time a name can carry in 13 digits (year 2286). */
const TIME_CEILING = 9_999_999_999_999;
const HEX = '0123456789abcdef';
const DIGITS = '0123456789';
/** base64url characters allowed for each id in a name before it is hashed instead. */
const MODEL_CHARS = 64;
const CONVERSATION_CHARS = 64;
const USER_CHARS = 44;
const DAY = /^(\d{4}-\d{2})-(\d{2})$/;
const MONTH = /^\d{4}-\d{2}$/;
/** `<DD>-<time>-<message>~<prompt>~<completion>~<ms>~<e|p>~<model>~<conversation>~<user>` */
const NAME = /^(\d{2})-(\d{13})-([0-9a-f]{16})~(\d{1,10})~(\d{1,10})~(\d{1,10})~([ep])~([bh][A-Za-z0-9_-]*)~([bh][A-Za-z0-9_-]*)~([bh][A-Za-z0-9_-]*)$/;

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * Each answered question's usage per user and local day, as one create-only object per message whose name
 * carries the figures, so sums need listings only. See the layout at the top of this file.
 */
export class UsageLedger {
  private readonly clock: Clock;
  private readonly pageSize: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    options: UsageLedgerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.pageSize = Math.max(2, Math.floor(options.pageSize ?? PAGE_SIZE));
  }

  /**
   * Records one answered question: one create-only put. Answers false when this message was already
   * recorded with the same figures (a retry). Throws `StorageError`, or `RangeError` for a day that is not
   * `YYYY-MM-DD`.
   */
  async record(entry: UsageRecord): Promise<boolean> {
    const day = DAY.exec(entry.day);
    if (day === null) throw new RangeError(`usage day must be YYYY-MM-DD (got ${JSON.stringify(entry.day.slice(0, 20))})`);
    const [, month = '', dd = ''] = day;
    const fields = [
      count(entry.promptTokens),
      count(entry.completionTokens),
      count(entry.durationMs),
      entry.estimated === true ? 'e' : 'p',
      encodeField(entry.model, MODEL_CHARS),
      encodeField(entry.conversationId, CONVERSATION_CHARS),
      encodeField(entry.userId, USER_CHARS),
    ];
    const stem = `${dd}-${String(Number.isFinite(entry.at) ? Math.min(TIME_CEILING, Math.max(0, Math.floor(entry.at))) : 0).padStart(13, '0')}-${sha256Hex(entry.messageName).slice(0, 16)}`;
    const key = `${this.userFolder(month, entry.userId)}${stem}~${fields.join('~')}`;
    const body: Required<UsageRecord> & { v: 1 } = {
      v: 1,
      userId: entry.userId,
      conversationId: entry.conversationId,
      day: entry.day,
      at: entry.at,
      messageName: entry.messageName,
      promptTokens: count(entry.promptTokens),
      completionTokens: count(entry.completionTokens),
      estimated: entry.estimated === true,
      model: entry.model,
      durationMs: count(entry.durationMs),
    };
    return this.store.put(key, Buffer.from(JSON.stringify(body), 'utf8'), { ifAbsent: true });
  }

  /**
   * A person's questions and tokens on day `today` (`YYYY-MM-DD`) and in `month` (`YYYY-MM`), summed from
   * listings alone: one LIST per 1000 questions of the month (one more when today is not in `month`).
   * Throws `StorageError`, or `RangeError` for a malformed day or month.
   */
  async summarize(userId: string, period: { today: string; month: string }): Promise<UsageSummary> {
    const today = DAY.exec(period.today);
    if (today === null || !MONTH.test(period.month)) {
      throw new RangeError(`usage period must be YYYY-MM-DD and YYYY-MM (got ${JSON.stringify(period).slice(0, 60)})`);
    }
    const [, todayMonth = '', todayDd = ''] = today;
    const user = encodeField(userId, USER_CHARS);
    const totals: UsageSummary = { today: zero(), month: zero() };
    const seen = new Set<string>();
    const folder = this.userFolder(period.month, userId);
    for await (const key of this.walk(folder, folder, dayGrammar)) {
      const parsed = parseName(key.slice(folder.length));
      if (parsed === undefined || parsed.user !== user || !firstOf(seen, `${period.month}/${parsed.stem}`)) continue;
      add(totals.month, parsed);
      if (period.month === todayMonth && parsed.dd === todayDd) add(totals.today, parsed);
    }
    if (todayMonth !== period.month) {
      const todayFolder = this.userFolder(todayMonth, userId);
      for await (const key of this.walk(todayFolder, `${todayFolder}${todayDd}-`, dayGrammar)) {
        const parsed = parseName(key.slice(todayFolder.length));
        if (parsed === undefined || parsed.user !== user || !firstOf(seen, `${todayMonth}/${parsed.stem}`)) continue;
        add(totals.today, parsed);
      }
    }
    return totals;
  }

  /**
   * Every recorded question from day `since` (default: the oldest month kept) to now, of one person
   * (`userId`) or of everyone, month by month in key order (within a month, by user folder then time), each
   * message once. Throws `StorageError`.
   */
  async *scan(options: { since?: string; userId?: string } = {}): AsyncIterable<UsageEntry> {
    const since = options.since;
    if (since !== undefined && DAY.exec(since) === null) throw new RangeError(`since must be YYYY-MM-DD (got ${JSON.stringify(since.slice(0, 20))})`);
    const user = options.userId === undefined ? undefined : encodeField(options.userId, USER_CHARS);
    const first = since?.slice(0, 7) ?? (await this.oldestMonth());
    if (first === undefined) return;
    for (const month of monthsFrom(first, this.lastMonth())) {
      const seen = new Set<string>();
      const folder = options.userId === undefined ? this.monthFolder(month) : this.userFolder(month, options.userId);
      const grammar = options.userId === undefined ? monthGrammar : dayGrammar;
      for await (const key of this.entryKeys(folder, grammar)) {
        const rest = key.slice(this.monthFolder(month).length);
        const parsed = parseName(rest.slice(rest.indexOf('/') + 1));
        if (parsed === undefined || (user !== undefined && parsed.user !== user)) continue;
        const day = `${month}-${parsed.dd}`;
        if (since !== undefined && day < since) continue;
        if (!firstOf(seen, `${rest.slice(0, rest.indexOf('/'))}/${parsed.stem}`)) continue;
        yield await this.entry(key, day, parsed);
      }
    }
  }

  /**
   * Erases everything this module keeps about a person: their ledger entries in every month, and their
   * DAILY_MESSAGE_LIMIT (`usage/`) and RATE_LIMIT_PER_MINUTE (`rate/`) objects. Answers what it removed.
   * Throws `StorageError`.
   */
  async deleteUser(userId: string): Promise<UsageErasure> {
    const user = encodeField(userId, USER_CHARS);
    const ledgerKeys: string[] = [];
    const first = await this.oldestMonth();
    if (first !== undefined) {
      for (const month of monthsFrom(first, this.lastMonth())) {
        const folder = this.userFolder(month, userId);
        for await (const key of this.walk(folder, folder, dayGrammar)) {
          if (parseName(key.slice(folder.length))?.user === user) ledgerKeys.push(key);
        }
      }
    }
    for (let start = 0; start < ledgerKeys.length; start += PAGE_SIZE) await this.store.deleteMany(ledgerKeys.slice(start, start + PAGE_SIZE));
    const root = normalizePrefix(this.prefix);
    const markerKeys = [
      ...(await this.deleteWindows(`${root}usage/${safeSegment(userId)}/`)),
      ...(await this.deleteWindows(`${root}rate/${safeSegment(userId)}/`)),
    ];
    return { ledgerEntries: ledgerKeys.length, limitMarkers: markerKeys.length, keys: [...ledgerKeys, ...markerKeys] };
  }

  private root(): string {
    return `${normalizePrefix(this.prefix)}ledger/`;
  }

  private monthFolder(month: string): string {
    return `${this.root()}${month}/`;
  }

  private userFolder(month: string, userId: string): string {
    return `${this.monthFolder(month)}${sha256Hex(userId).slice(0, 16)}/`;
  }

  /** The oldest month with an entry: the first key of the ledger in byte order. */
  private async oldestMonth(): Promise<string | undefined> {
    const [first] = await this.store.list(this.root(), 1);
    const month = first?.slice(this.root().length).split('/')[0];
    return month !== undefined && MONTH.test(month) ? month : undefined;
  }

  /** The month of a day after now in UTC: no time zone is more than 14 hours ahead. */
  private lastMonth(): string {
    return new Date(this.clock.now() + 86_400_000).toISOString().slice(0, 7);
  }

  /**
   * Entry keys under a month or user folder. A store that lists one folder level (the filesystem) answers a
   * month with user folders: each is walked in turn.
   */
  private async *entryKeys(folder: string, grammar: Grammar): AsyncIterable<string> {
    for await (const key of this.walk(folder, folder, grammar)) {
      if (grammar === monthGrammar && !key.slice(folder.length).includes('/')) {
        const userFolder = `${key}/`;
        yield* this.walk(userFolder, userFolder, dayGrammar);
      } else {
        yield key;
      }
    }
  }

  /**
   * Every key under `listPrefix` (inside `folder`), in byte order, with listings of at most `pageSize`.
   * A full listing proves complete every key that sorts below its last one; what may follow is listed by
   * the prefixes one character longer (`grammar`: the characters a name may have at that position), from
   * the last key's character on. Splitting stops at the end of the time digits: one millisecond of one
   * person never holds a full listing.
   */
  private async *walk(folder: string, listPrefix: string, grammar: Grammar): AsyncIterable<string> {
    const keys = await this.store.list(listPrefix, this.pageSize);
    const chars = grammar(listPrefix.length - folder.length);
    const last = keys[keys.length - 1];
    if (keys.length < this.pageSize || chars === '' || last === undefined) {
      yield* keys;
      return;
    }
    const pivot = last.charAt(listPrefix.length);
    for (const key of keys) if (key.charAt(listPrefix.length) < pivot) yield key;
    for (const char of chars) if (char >= pivot) yield* this.walk(folder, `${listPrefix}${char}`, grammar);
  }

  /** Deletes every object under `<namespace>/<user>/` (windows of limit markers); answers the keys. */
  private async deleteWindows(folder: string): Promise<string[]> {
    const removed: string[] = [];
    const windows = new Set<string>();
    for (;;) {
      const keys = await this.store.list(folder, this.pageSize);
      // A store that lists one level answers window folders; the others answer the markers themselves.
      const leaves = keys.filter((key) => key.slice(folder.length).includes('/'));
      const fresh = keys.filter((key) => !key.slice(folder.length).includes('/') && !windows.has(key));
      if (leaves.length === 0 && fresh.length === 0) return removed;
      if (leaves.length > 0) {
        await this.store.deleteMany(leaves);
        removed.push(...leaves);
      }
      for (const window of fresh) {
        windows.add(window);
        for (;;) {
          const markers = await this.store.list(`${window}/`, this.pageSize);
          if (markers.length === 0) break;
          await this.store.deleteMany(markers);
          removed.push(...markers);
        }
      }
    }
  }

  private async entry(key: string, day: string, parsed: ParsedName): Promise<UsageEntry> {
    let model = decodeField(parsed.model);
    let conversationId = decodeField(parsed.conversation);
    let userId = decodeField(parsed.user);
    if (model === undefined || conversationId === undefined || userId === undefined) {
      const body = await this.readBody(key);
      model ??= body?.model ?? parsed.model;
      conversationId ??= body?.conversationId ?? parsed.conversation;
      userId ??= body?.userId ?? parsed.user;
    }
    return {
      userId,
      conversationId,
      day,
      at: parsed.at,
      questions: 1,
      promptTokens: parsed.promptTokens,
      completionTokens: parsed.completionTokens,
      estimated: parsed.estimated,
      model,
      durationMs: parsed.durationMs,
    };
  }

  private async readBody(key: string): Promise<Partial<Record<'model' | 'conversationId' | 'userId', string>> | undefined> {
    const bytes = await this.store.get(key);
    if (bytes === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(bytes.toString('utf8'));
      if (typeof value !== 'object' || value === null) return undefined;
      const record = value as Record<string, unknown>;
      const text = (field: string): string | undefined => (typeof record[field] === 'string' ? record[field] : undefined);
      return { model: text('model'), conversationId: text('conversationId'), userId: text('userId') };
    } catch {
      return undefined;
    }
  }
}

/** The characters a key may have at a position of a name, relative to the folder walked; '' stops splitting. */
type Grammar = (position: number) => string;

/** Under a user's month folder: `<DD>-<13-digit time>`. */
const dayGrammar: Grammar = (position) => (position === 2 ? '-' : position < 16 ? DIGITS : '');

/** Under a month folder: `<16 hex user>/` then the user's names. */
const monthGrammar: Grammar = (position) => (position < 16 ? HEX : position === 16 ? '/' : dayGrammar(position - 17));

interface ParsedName {
  stem: string;
  dd: string;
  at: number;
  promptTokens: number;
  completionTokens: number;
  durationMs: number;
  estimated: boolean;
  model: string;
  conversation: string;
  user: string;
}

function parseName(name: string): ParsedName | undefined {
  const match = NAME.exec(name);
  if (match === null) return undefined;
  const [, dd = '', time = '', message = '', prompt = '', completion = '', ms = '', flag = '', model = '', conversation = '', user = ''] = match;
  return {
    stem: `${dd}-${time}-${message}`,
    dd,
    at: Number(time),
    promptTokens: Number(prompt),
    completionTokens: Number(completion),
    durationMs: Number(ms),
    estimated: flag === 'e',
    model,
    conversation,
    user,
  };
}

/** An id or model in a name: `b<base64url>` when at most `maxChars` long, else `h<24 hex of SHA-256>`. */
function encodeField(value: string, maxChars: number): string {
  const encoded = Buffer.from(value, 'utf8').toString('base64url');
  return encoded.length <= maxChars ? `b${encoded}` : `h${sha256Hex(value).slice(0, 24)}`;
}

function decodeField(field: string): string | undefined {
  return field.startsWith('b') ? Buffer.from(field.slice(1), 'base64url').toString('utf8') : undefined;
}

/** A whole number in [0, 9 999 999 999]: what a name can carry. */
function count(value: number): number {
  return Number.isFinite(value) ? Math.min(MAX_COUNT, Math.max(0, Math.round(value))) : 0;
}

function zero(): UsageTotals {
  return { questions: 0, promptTokens: 0, completionTokens: 0 };
}

function add(totals: UsageTotals, parsed: ParsedName): void {
  totals.questions += 1;
  totals.promptTokens += parsed.promptTokens;
  totals.completionTokens += parsed.completionTokens;
}

/** Whether `value` is new to `seen` (and adds it). */
function firstOf(seen: Set<string>, value: string): boolean {
  if (seen.has(value)) return false;
  seen.add(value);
  return true;
}

/** `YYYY-MM` months from `first` to `last`, inclusive (none when `first` is later). */
function monthsFrom(first: string, last: string): string[] {
  const months: string[] = [];
  let [year = 0, month = 1] = first.split('-').map(Number);
  for (let current = first; current <= last && months.length < 1200; ) {
    months.push(current);
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
    current = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
  }
  return months;
}
