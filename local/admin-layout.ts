/**
 * What each key under HISTORY_PREFIX is, from its path alone (the layouts of shared/history/keys.ts,
 * exchange-log.ts, daily-usage.ts, minute-usage.ts, usage-ledger.ts, pictures.ts, conversation-settings.ts, shared/memory/memory-versions.ts
 * and shared/core/reply/probe.ts). Ids appear in keys only as `safeSegment(id)`, so a stored object names
 * its user and conversation by segment: `npm run admin` finds a person by computing theirs.
 */
import { createHash } from 'node:crypto';
import { safeSegment } from '../shared/history/keys';

/** A key's place in the layout. `user` and `conversation` are segments (`safeSegment(id)`), not ids. */
export type StoredKey =
  /** A message's object: its claim, then its exchange (`<conversation>/<user>/<inverted time>-<hash>.json`). */
  | { kind: 'message'; key: string; conversation: string; user: string; name: string }
  /** The recent-window object of one user in one conversation (`<conversation>/<user>/recent.json`). */
  | { kind: 'recent'; key: string; conversation: string; user: string }
  /** A daily-limit marker (`usage/<user>/<day>/<time>-<message>`): one answered question that day. */
  | { kind: 'daily'; key: string; user: string; day: string }
  /** A per-minute rate-limit marker (`rate/<user>/<YYYYMMDD-HHMM>/<time>-<message>`). */
  | { kind: 'minute'; key: string; user: string; window: string }
  /** A usage-ledger entry (`ledger/<YYYY-MM>/<16 hex of the staff id's SHA-256>/<figures>`, shared/history/usage-ledger.ts). */
  | { kind: 'ledger'; key: string; month: string; userHash: string }
  /** A version or the head of a person's long-term memory (`memory/<user>/…`). */
  | { kind: 'memory'; key: string; user: string }
  /** A picture of a user's newest exchange with pictures (`pictures/<conversation>/<user>/<exchange>.<n>`). */
  | { kind: 'picture'; key: string; conversation: string; user: string; exchangeId: string }
  /** A conversation's `\model` and `\system` (`settings/<conversation>.json`). */
  | { kind: 'settings'; key: string; conversation: string }
  /** A deployment probe's objects (`probes/…`, `doctor-probe/…`): no person's data. */
  | { kind: 'probe'; key: string }
  /** Anything else under the prefix. */
  | { kind: 'other'; key: string };

/** The kinds of {@link StoredKey}. */
export type StoredKind = StoredKey['kind'];

/** `safeSegment`'s shape: an optional readable part and a dash, then 24 hex digits of the id's hash. */
const SEGMENT = /^(?:([A-Za-z0-9_-]{1,24})-)?([0-9a-f]{24})$/;

/** Whether a path segment can be a `safeSegment` (a conversation's or a user's folder). */
export const isSegment = (name: string): boolean => SEGMENT.test(name);

/**
 * The id a segment was made from, when its readable part is the whole id (staff ids usually are: letters
 * and digits, at most 24), checked against the hash; otherwise undefined (the id is not in the key).
 */
export function idOfSegment(segment: string): string | undefined {
  const match = SEGMENT.exec(segment);
  if (match === null) return undefined;
  const candidate = match[1] ?? '';
  if (candidate === '') return undefined;
  const hash = createHash('sha256').update(candidate, 'utf8').digest('hex').slice(0, 24);
  return hash === match[2] && safeSegment(candidate) === segment ? candidate : undefined;
}

/** The layout's folders directly under the prefix; a conversation's segment is never one of these names. */
const RESERVED = new Set(['ledger', 'usage', 'rate', 'memory', 'pictures', 'settings', 'probes', 'doctor-probe']);

/** Where `key` (under `prefix`, normalised with one trailing slash) sits in the layout. */
export function classify(prefix: string, key: string): StoredKey {
  if (!key.startsWith(prefix)) return { kind: 'other', key };
  const parts = key.slice(prefix.length).split('/');
  const [top = '', second = '', third = '', fourth = ''] = parts;
  if (top === 'probes' || top === 'doctor-probe') return { kind: 'probe', key };
  if (top === 'usage' && parts.length === 4 && isSegment(second) && /^\d{4}-\d{2}-\d{2}$/.test(third) && fourth !== '') {
    return { kind: 'daily', key, user: second, day: third };
  }
  if (top === 'rate' && parts.length === 4 && isSegment(second) && /^\d{8}-\d{4}$/.test(third) && fourth !== '') {
    return { kind: 'minute', key, user: second, window: third };
  }
  if (top === 'ledger' && parts.length === 4 && /^\d{4}-\d{2}$/.test(second) && /^[0-9a-f]{16}$/.test(third) && fourth !== '') {
    return { kind: 'ledger', key, month: second, userHash: third };
  }
  if (top === 'memory' && parts.length === 3 && isSegment(second) && third !== '') return { kind: 'memory', key, user: second };
  if (top === 'pictures' && parts.length === 4 && isSegment(second) && isSegment(third) && fourth.includes('.')) {
    return { kind: 'picture', key, conversation: second, user: third, exchangeId: fourth.slice(0, fourth.lastIndexOf('.')) };
  }
  if (top === 'settings' && parts.length === 2 && second.endsWith('.json') && isSegment(second.slice(0, -'.json'.length))) {
    return { kind: 'settings', key, conversation: second.slice(0, -'.json'.length) };
  }
  if (!RESERVED.has(top) && parts.length === 3 && isSegment(top) && isSegment(second)) {
    if (third === 'recent.json') return { kind: 'recent', key, conversation: top, user: second };
    if (/^\d{13}-[0-9a-f]+\.json$/.test(third)) return { kind: 'message', key, conversation: top, user: second, name: third };
  }
  return { kind: 'other', key };
}

/** The ledger's folder of a person: 16 hex of the SHA-256 of their staff id. */
export const ledgerUserHash = (userId: string): string => createHash('sha256').update(userId, 'utf8').digest('hex').slice(0, 16);

/** Whether a classified key belongs to the person with this id. */
export function belongsTo(stored: StoredKey, userId: string): boolean {
  if (stored.kind === 'ledger') return stored.userHash === ledgerUserHash(userId);
  return 'user' in stored && stored.user === safeSegment(userId);
}
