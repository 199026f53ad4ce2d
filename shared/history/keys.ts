import { createHash } from 'node:crypto';
import type { HistoryKey } from './exchange';

/** Characters of an id kept readable in a key, so operators can find a user's folder by eye. */
const READABLE_CHARS = 24;

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * A storage-safe path segment for an untrusted id: a readable part (only `[A-Za-z0-9_-]`) plus a hash of
 * the whole id. It never contains `/`, `.` or `%`, so no id can escape its prefix, and distinct ids never
 * share a segment (the hash covers the id exactly).
 */
export function safeSegment(id: string): string {
  const readable = id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, READABLE_CHARS);
  const hash = sha256Hex(id).slice(0, 24);
  return readable === '' ? hash : `${readable}-${hash}`;
}

/**
 * HISTORY_PREFIX normalised: no leading slash, exactly one trailing slash, no `.`/`..` segments. A
 * backslash counts as a separator too, so a Windows-style prefix neither escapes nor makes the
 * filesystem store refuse every key.
 */
export function normalizePrefix(prefix: string): string {
  const segments = prefix.split(/[/\\]/).filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
  return segments.length === 0 ? '' : `${segments.join('/')}/`;
}

/** The folder of one user's history in one conversation: `<prefix><conversation>/<user>/`. */
export function historyFolder(prefix: string, key: HistoryKey): string {
  return `${normalizePrefix(prefix)}${safeSegment(key.conversationId)}/${safeSegment(key.userId)}/`;
}

/** Upper end of the times an exchange name can encode (year 2286), so names keep a fixed width. */
const TIME_CEILING = 9_999_999_999_999;

/**
 * The object name of one exchange: `<inverted time>-<message hash>.json`. Inverting the time makes an
 * ascending listing return the newest first, so reading the recent history is one bounded LIST.
 */
export function exchangeName(at: number, messageId: string): string {
  const inverted = String(TIME_CEILING - Math.min(Math.max(0, Math.floor(at)), TIME_CEILING)).padStart(13, '0');
  return `${inverted}-${sha256Hex(messageId).slice(0, 16)}.json`;
}
