/**
 * Reading the bot's stored objects for `npm run admin`: a message's object (claim or exchange, the format of
 * shared/history/exchange-log.ts, versions 1 and 2) and a recent-window object. Read-only, and lenient: an
 * object that cannot be read is reported as such rather than stopping a scan.
 */
import type { Exchange, PictureNote } from '../shared/history/exchange';

/** A message's object as the admin shows it. */
export type MessageRecord =
  | { state: 'pending'; claimedAt: number }
  | { state: 'answered' | 'unposted'; exchange: Exchange }
  | { state: 'unreadable' };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function pictureNotes(value: unknown): PictureNote[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const notes = value.filter((note): note is PictureNote => isRecord(note) && typeof note.mediaType === 'string' && typeof note.bytes === 'number');
  return notes.length > 0 ? notes.map((note) => ({ mediaType: note.mediaType, bytes: note.bytes })) : undefined;
}

/** The exchange in a stored value, with only the fields an exchange has. */
export function exchangeIn(value: unknown): Exchange | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.id !== 'string' || typeof value.at !== 'number' || typeof value.user !== 'string' || typeof value.assistant !== 'string') return undefined;
  const exchange: Exchange = { id: value.id, at: value.at, user: value.user, assistant: value.assistant };
  const pictures = pictureNotes(value.pictures);
  if (pictures !== undefined) exchange.pictures = pictures;
  if (typeof value.answeredAt === 'number' && Number.isFinite(value.answeredAt)) exchange.answeredAt = value.answeredAt;
  if (Array.isArray(value.replyIds)) {
    const ids = value.replyIds.filter((id): id is string => typeof id === 'string');
    if (ids.length > 0) exchange.replyIds = ids;
  }
  return exchange;
}

/** Decodes a message's object. */
export function decodeMessage(body: Buffer): MessageRecord {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { state: 'unreadable' };
  }
  if (!isRecord(value)) return { state: 'unreadable' };
  if (value.state === 'pending' && typeof value.claimedAt === 'number') return { state: 'pending', claimedAt: value.claimedAt };
  const exchange = exchangeIn(value.exchange);
  if (exchange === undefined) return { state: 'unreadable' };
  return { state: value.state === 'unposted' ? 'unposted' : 'answered', exchange };
}

/** The ids of the exchanges a recent-window object holds (copies of exchanges that have objects of their own). */
export function decodeRecentIds(body: Buffer): string[] {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(value) || !Array.isArray(value.recent)) return [];
    return value.recent.flatMap((item) => {
      const exchange = exchangeIn(item);
      return exchange === undefined ? [] : [exchange.id];
    });
  } catch {
    return [];
  }
}
