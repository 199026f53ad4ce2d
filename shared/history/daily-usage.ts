import type { ObjectStore } from '../ports';
import { normalizePrefix, safeSegment } from './keys';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (`YYYY-MM-DD`) of `at` in `timeZone`, e.g. Asia/Shanghai. */
export function localDay(at: number, timeZone: string): string {
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

/**
 * Counts each user's questions per day across conversations, with one create-only marker object per
 * message under `<prefix>usage/<user>/<day>/`. Markers are named by the message's time, so a listing
 * ranks the day's messages in the order they were sent: the first `limit` are admitted, whatever
 * order concurrent runs finish in, and a retried message is never counted twice. The markers sit
 * under the history prefix, so its lifecycle rule expires them too.
 */
export class DailyUsage {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
  ) {}

  /** Records message `messageName` (sent at `at`) and answers whether it is within `limit`. Throws `StorageError`. */
  async admit(userId: string, day: string, at: number, messageName: string, limit: number): Promise<Admission> {
    const folder = `${normalizePrefix(this.prefix)}usage/${safeSegment(userId)}/${day}/`;
    const marker = `${folder}${String(Math.max(0, Math.floor(at))).padStart(13, '0')}-${safeSegment(messageName)}`;
    await this.store.put(marker, Buffer.alloc(0), { ifAbsent: true });
    const firsts = await this.store.list(folder, limit + 1);
    const rank = firsts.indexOf(marker);
    return { admitted: rank !== -1 && rank < limit, used: firsts.length };
  }
}
