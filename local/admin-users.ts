/**
 * `npm run admin -- users`: every person with something stored, by staff id where the store shows it
 * (a segment whose readable part is the whole id, a conversation setting they changed, a usage record),
 * else by the segment of their folders, with counts per kind.
 */
import { safeSegment } from '../shared/history/keys';
import { idOfSegment, type StoredKey } from './admin-layout';
import { takeInventory, type AdminIo } from './admin-inventory';
import type { AdminStore } from './admin-store';
import type { UsageSource } from './admin-usage';
import { readSettings } from './admin-settings';

/** One person in `users --json`. */
export interface UserRow {
  /** The staff id, or null when the store holds only its segment (an id that is not letters and digits). */
  user: string | null;
  /** The folder name of this person: `safeSegment(id)`. */
  segment: string;
  /** Conversations with their history or pictures. */
  conversations: number;
  /** Message objects: exchanges, and claims in flight. */
  messages: number;
  /** Long-term memory objects (versions and head). */
  memory: number;
  /** Daily-limit markers (questions counted against DAILY_MESSAGE_LIMIT). */
  dailyMarkers: number;
  /** Per-minute markers (RATE_LIMIT_PER_MINUTE). */
  minuteMarkers: number;
  /** Stored pictures. */
  pictures: number;
  /** Usage records (questions with tokens and model). */
  usage: number;
}

const emptyRow = (segment: string): UserRow => ({ user: idOfSegment(segment) ?? null, segment, conversations: 0, messages: 0, memory: 0, dailyMarkers: 0, minuteMarkers: 0, pictures: 0, usage: 0 });

/** The rows of `users`, most messages first. */
export async function listUsers(admin: AdminStore, io: AdminIo, usage: UsageSource): Promise<UserRow[]> {
  const inventory = await takeInventory(admin, io);
  const rows = new Map<string, UserRow>();
  const conversations = new Map<string, Set<string>>();
  const row = (segment: string): UserRow => {
    let found = rows.get(segment);
    if (found === undefined) {
      found = emptyRow(segment);
      rows.set(segment, found);
    }
    return found;
  };
  const seenIn = (stored: StoredKey & { user: string; conversation: string }): void => {
    const set = conversations.get(stored.user) ?? new Set<string>();
    set.add(stored.conversation);
    conversations.set(stored.user, set);
  };
  for (const stored of inventory.keys) {
    switch (stored.kind) {
      case 'message':
        row(stored.user).messages += 1;
        seenIn(stored);
        break;
      case 'recent':
        row(stored.user);
        seenIn(stored);
        break;
      case 'picture':
        row(stored.user).pictures += 1;
        seenIn(stored);
        break;
      case 'memory':
        row(stored.user).memory += 1;
        break;
      case 'daily':
        row(stored.user).dailyMarkers += 1;
        break;
      case 'minute':
        row(stored.user).minuteMarkers += 1;
        break;
      default:
        break;
    }
  }
  // Ids the store shows in full: who changed a conversation's settings, and whose usage was recorded.
  const known = new Map<string, string>();
  for (const settings of await readSettings(admin, inventory)) {
    if (settings.updatedBy !== undefined) known.set(safeSegment(settings.updatedBy), settings.updatedBy);
  }
  for (const record of await usage.scan({})) {
    known.set(safeSegment(record.userId), record.userId);
    row(safeSegment(record.userId)).usage += 1;
  }
  for (const [segment, found] of rows) {
    found.conversations = conversations.get(segment)?.size ?? 0;
    found.user = found.user ?? known.get(segment) ?? null;
  }
  return [...rows.values()].sort((a, b) => b.messages - a.messages || a.segment.localeCompare(b.segment));
}

/** The rows as a text table. */
export function renderUsers(rows: readonly UserRow[]): string {
  if (rows.length === 0) return 'Nobody has anything stored.\n';
  const header = ['user', 'conversations', 'messages', 'memory', 'usage', 'daily', 'minute', 'pictures'];
  const lines = rows.map((row) => [
    row.user ?? `(segment ${row.segment})`,
    ...[row.conversations, row.messages, row.memory, row.usage, row.dailyMarkers, row.minuteMarkers, row.pictures].map(String),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)));
  const format = (cells: readonly string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ').trimEnd();
  const unknown = rows.some((row) => row.user === null)
    ? '\nA segment is shown where the store holds no readable id (ids with characters other than letters, digits, - and _): --user needs the id itself.\n'
    : '';
  return `${[format(header), ...lines.map(format)].join('\n')}\n${rows.length} ${rows.length === 1 ? 'person' : 'people'}.\n${unknown}`;
}
