import type { ObjectStore } from '../ports';
import { normalizePrefix, safeSegment } from './keys';

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Zones without daylight saving time (none since 1991 for China) and their offset in minutes: their day is
 * plain arithmetic. The first Intl.DateTimeFormat with a time zone costs a cold start ~18 ms and ~9 MB (ICU's
 * zone data), and every answered question computes its day for the usage ledger.
 */
const FIXED_OFFSET_MINUTES: Readonly<Record<string, number>> = {
  UTC: 0,
  'Etc/UTC': 0,
  'Asia/Shanghai': 480,
  'Asia/Chongqing': 480,
  'Asia/Hong_Kong': 480,
  'Asia/Macau': 480,
  'Asia/Taipei': 480,
  'Asia/Singapore': 480,
  'Asia/Kuala_Lumpur': 480,
  'Asia/Manila': 480,
  'Asia/Tokyo': 540,
  'Asia/Seoul': 540,
  'Asia/Kolkata': 330,
  'Asia/Jakarta': 420,
  'Asia/Bangkok': 420,
  'Asia/Ho_Chi_Minh': 420,
  'Asia/Dubai': 240,
};

/** The calendar day (`YYYY-MM-DD`) of `at` in `timeZone`, e.g. Asia/Shanghai. */
export function localDay(at: number, timeZone: string): string {
  const offset = FIXED_OFFSET_MINUTES[timeZone];
  if (offset !== undefined) return new Date(at + offset * 60_000).toISOString().slice(0, 10);
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, format);
  }
  return format.format(at);
}

/** Whether a message fits in its sender's daily allowance. */
export interface Admission {
  admitted: boolean;
  /** Messages counted for the day so far, this one included (at most `limit + 1`). */
  used: number;
}

/** Markers listed when `refund` looks for one message's marker without its time (OSS lists at most 1000 a request). */
const REFUND_LIST_LIMIT = 1000;

/**
 * Counts each user's questions per day across conversations, with one create-only marker object per
 * message under `<prefix>usage/<user>/<day>/`. Markers are named by the message's time, so a listing
 * ranks the day's messages in the order they were sent: the first `limit` are admitted, whatever
 * order concurrent runs finish in, and a retried message is never counted twice. Only questions that
 * get an answer count: a refused message takes its marker back at once, and a question whose LLM call
 * failed is refunded (`refund`). The markers sit under the history prefix, so its lifecycle rule expires
 * them too.
 */
export class DailyUsage {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
  ) {}

  /**
   * Records message `messageName` (sent at `at`) and answers whether it is within `limit`. A refused
   * message's marker is removed again, so it never holds a place another question could use after a
   * refund. Throws `StorageError`.
   */
  async admit(userId: string, day: string, at: number, messageName: string, limit: number): Promise<Admission> {
    const folder = this.folder(userId, day);
    const marker = this.marker(folder, at, messageName);
    await this.store.put(marker, Buffer.alloc(0), { ifAbsent: true });
    const firsts = await this.store.list(folder, limit + 1);
    const rank = firsts.indexOf(marker);
    const admitted = rank !== -1 && rank < limit;
    // Only this message writes or deletes its marker; removing a refused one lowers no admitted rank.
    if (!admitted) await this.store.deleteMany([marker]);
    return { admitted, used: firsts.length };
  }

  /**
   * Undoes message `messageName`'s admission (its question got no answer, e.g. the LLM failed), so it
   * does not count against the day's limit. Deletes only this message's own marker: concurrent
   * admissions of other messages stay as they are, and a later question ranks as if this one had never
   * been asked. Idempotent: refunding twice, or a message never admitted, changes nothing. With `at`
   * (the time given to `admit`) it is one delete; without, it finds the marker among the day's first
   * 1000 (one list more). Throws `StorageError`.
   */
  async refund(userId: string, day: string, messageName: string, at?: number): Promise<void> {
    const folder = this.folder(userId, day);
    if (at !== undefined) {
      await this.store.deleteMany([this.marker(folder, at, messageName)]);
      return;
    }
    const suffix = `-${safeSegment(messageName)}`;
    const markers = (await this.store.list(folder, REFUND_LIST_LIMIT)).filter((key) => key.endsWith(suffix));
    if (markers.length > 0) await this.store.deleteMany(markers);
  }

  /**
   * The questions counted on `day` so far (answered or in flight), at most `limit`, for `\usage`'s
   * "used/limit": one list of at most `limit + 1` keys, nothing written. Throws `StorageError`.
   */
  async used(userId: string, day: string, limit: number): Promise<number> {
    return Math.min(limit, (await this.store.list(this.folder(userId, day), limit + 1)).length);
  }

  private folder(userId: string, day: string): string {
    return `${normalizePrefix(this.prefix)}usage/${safeSegment(userId)}/${day}/`;
  }

  private marker(folder: string, at: number, messageName: string): string {
    return `${folder}${String(Math.max(0, Math.floor(at))).padStart(13, '0')}-${safeSegment(messageName)}`;
  }
}
