import type { ObjectStore } from '../ports';
import type { Admission } from './daily-usage';
import { normalizePrefix, safeSegment } from './keys';

/** A minute in milliseconds. */
const MINUTE_MS = 60_000;

/** Digits of a slot number: RATE_LIMIT_PER_MINUTE is at most 10,000. */
const SLOT_DIGITS = 5;

/**
 * The fixed UTC minute `at` falls in, as a folder name: `YYYYMMDD-HHMM` (e.g. `20261121-1005` for
 * 10:05:00.000 to 10:05:59.999 UTC). Fixed windows rather than a sliding one: a window is one folder, so
 * admission lists only that minute's objects and a finished minute is never read again. The cost is the
 * usual one of fixed windows: up to twice the limit across a minute boundary.
 */
export function minuteWindow(at: number): string {
  const iso = new Date(Math.max(0, Math.floor(at))).toISOString(); // 2026-11-21T10:05:07.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/**
 * Whole seconds from `now` until the minute of a question sent at `at` is over, so a refused person can be
 * told when to try again: at least 1, at most 60.
 */
export function secondsUntilNextMinute(at: number, now: number): number {
  const end = (Math.floor(Math.max(0, at) / MINUTE_MS) + 1) * MINUTE_MS;
  return Math.min(60, Math.max(1, Math.ceil((end - now) / 1000)));
}

/**
 * RATE_LIMIT_PER_MINUTE: each user's questions per fixed UTC minute (`minuteWindow`), across conversations.
 *
 * Layout, under `<prefix>rate/<user>/<YYYYMMDD-HHMM>/`:
 * - `s00000` … `s<limit - 1>`: the minute's slots. A question is admitted by creating a free slot with a
 *   create-only write (its body is the message's name); the store lets exactly one writer create each key,
 *   so however many runs race, at most `limit` questions hold a slot. (Ranking markers by send time, as
 *   DAILY_MESSAGE_LIMIT does, can admit one more when a message sent earlier is written later than a
 *   later one was listed; slots cannot.)
 * - `m-<message>-<slot>`: which slot a message holds, written after the slot, so that FC's retry of the
 *   same message finds its slot in the listing and is not counted twice, and a refund knows what to free.
 *
 * Only questions that get an answer count: `refund` deletes the message's slot and marker, and the next
 * question takes the freed slot. Cost per question: one list of at most `2 × limit + 2` keys and, when
 * admitted, two puts (one more put per slot lost to a concurrent run); refused: the list alone. A finished
 * minute is never listed again; its objects (empty or a message name) are removed by the bucket's
 * lifecycle rule on the history prefix (a rule on `<HISTORY_PREFIX>rate/` of one day keeps them few) or by
 * `UsageLedger.deleteUser`.
 *
 * What it does not promise: a run that dies between creating its slot and its marker leaves the slot held
 * for the rest of that minute (its retry takes another one).
 */
export class MinuteUsage {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
  ) {}

  /**
   * Admits message `messageName` in `window` (`minuteWindow(at)`) when one of the minute's `limit` slots is
   * free, or when it already holds one (a retry). `used` counts the slots held, this one included
   * (`limit + 1` when refused, like `DailyUsage`). `at` is accepted for the same shape as `DailyUsage`.
   * Throws `StorageError`.
   */
  async admit(userId: string, window: string, at: number, messageName: string, limit: number): Promise<Admission> {
    void at;
    if (limit <= 0) return { admitted: false, used: 1 };
    const folder = this.folder(userId, window);
    const markerStart = `${folder}m-${safeSegment(messageName)}-`;
    for (;;) {
      const keys = await this.store.list(folder, 2 * limit + 2);
      const taken = new Set(keys.map((key) => slotOf(key.slice(folder.length))).filter((slot): slot is number => slot !== undefined));
      if (keys.some((key) => key.startsWith(markerStart))) return { admitted: true, used: Math.min(taken.size, limit) };
      const free = Array.from({ length: limit }, (_, slot) => slot).filter((slot) => !taken.has(slot));
      if (free.length === 0) return { admitted: false, used: limit + 1 };
      for (const slot of free) {
        if (await this.store.put(`${folder}${slotName(slot)}`, Buffer.from(messageName, 'utf8'), { ifAbsent: true })) {
          await this.store.put(`${markerStart}${slotName(slot)}`, Buffer.alloc(0));
          return { admitted: true, used: Math.min(taken.size + 1, limit) };
        }
        taken.add(slot);
      }
      // Every slot the listing showed free was taken meanwhile; list again (a refund may have freed one).
    }
  }

  /**
   * Gives message `messageName`'s slot in `window` back (its question got no answer), so the next question
   * of that minute can have it. Idempotent; a message that holds no slot changes nothing. One list and one
   * delete; `at` is accepted for the same shape as `DailyUsage.refund`. Throws `StorageError`.
   */
  async refund(userId: string, window: string, messageName: string, at?: number): Promise<void> {
    void at;
    const folder = this.folder(userId, window);
    const markerStart = `${folder}m-${safeSegment(messageName)}-`;
    const markers = (await this.store.list(markerStart, 10)).filter((key) => /^s\d+$/.test(key.slice(markerStart.length)));
    if (markers.length === 0) return;
    // The slot first, in the same request: a marker without its slot frees nothing and fools no one.
    await this.store.deleteMany([...markers.map((marker) => `${folder}${marker.slice(markerStart.length)}`), ...markers]);
  }

  /** `<prefix>rate/<user>/`: every minute of one user (for erasure). */
  userFolder(userId: string): string {
    return `${normalizePrefix(this.prefix)}rate/${safeSegment(userId)}/`;
  }

  private folder(userId: string, window: string): string {
    return `${this.userFolder(userId)}${window}/`;
  }
}

function slotName(slot: number): string {
  return `s${String(slot).padStart(SLOT_DIGITS, '0')}`;
}

function slotOf(name: string): number | undefined {
  return /^s\d+$/.test(name) ? Number(name.slice(1)) : undefined;
}
