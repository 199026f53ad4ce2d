/**
 * `npm run admin -- history --user ID [--conversation ID]`: a person's stored exchanges per conversation,
 * oldest first, with when they were asked and the model that answered (from the usage records, when one
 * matches the exchange's time).
 */
import { safeSegment } from '../shared/history/keys';
import type { Exchange } from '../shared/history/exchange';
import { idOfSegment } from './admin-layout';
import { keysOfUser, takeInventory, type AdminIo } from './admin-inventory';
import { decodeMessage, type MessageRecord } from './admin-records';
import { AdminError, EXIT, type AdminStore } from './admin-store';
import type { UsageEntry } from '../shared/history/usage-ledger';
import type { UsageSource } from './admin-usage';

/** One message of a person in one conversation. */
export interface HistoryItem {
  /** The conversation's segment. */
  conversation: string;
  key: string;
  record: MessageRecord;
  /** The model of the answer, when a usage record matches it. */
  model?: string;
}

/** Reads at most this many objects at once. */
const PARALLEL_READS = 8;

/** `at` in `timeZone` as `YYYY-MM-DD HH:mm:ss`. */
export function localTime(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(at);
}

/** Reads `keys` with at most {@link PARALLEL_READS} requests at once; a missing object reads as undefined. */
export async function readAll(admin: AdminStore, keys: readonly string[]): Promise<(Buffer | undefined)[]> {
  const bodies: (Buffer | undefined)[] = new Array<Buffer | undefined>(keys.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const index = next;
      next += 1;
      bodies[index] = await admin.store.get(keys[index] ?? '');
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, keys.length) }, worker));
  return bodies;
}

/** Where an exchange's model is looked up: its conversation's segment and the question's time. */
export const exchangeSlot = (conversation: string, at: number): string => `${conversation}|${at}`;

/** The model of each exchange by {@link exchangeSlot} (a usage record carries the question's time and conversation). */
export function modelsByExchange(records: readonly UsageEntry[]): Map<string, string> {
  return new Map(records.map((record) => [exchangeSlot(safeSegment(record.conversationId), record.at), record.model]));
}

/** A person's messages (in `conversationId` only, when given), oldest first per conversation. */
export async function readHistory(admin: AdminStore, io: AdminIo, usage: UsageSource, userId: string, conversationId?: string): Promise<HistoryItem[]> {
  const inventory = await takeInventory(admin, io);
  const conversation = conversationId !== undefined ? safeSegment(conversationId) : undefined;
  const messages = keysOfUser(inventory, userId).flatMap((stored) => (stored.kind === 'message' && (conversation === undefined || stored.conversation === conversation) ? [stored] : []));
  const records = await usage.scan({ userId });
  if (messages.length === 0 && keysOfUser(inventory, userId).length === 0 && records.length === 0) {
    throw new AdminError(`nothing is stored for user ${JSON.stringify(userId)}`, 'check the id: npm run admin -- users lists everyone (staff ids, senderStaffId)', EXIT.unknownUser);
  }
  const bodies = await readAll(admin, messages.map((stored) => stored.key));
  const models = modelsByExchange(records);
  const items = messages.map((stored, index): HistoryItem => {
    const body = bodies[index];
    const record: MessageRecord = body === undefined ? { state: 'unreadable' } : decodeMessage(body);
    const model =
      record.state === 'answered' || record.state === 'unposted'
        ? (record.exchange.model ?? models.get(exchangeSlot(stored.conversation, record.exchange.at)))
        : undefined;
    return { conversation: stored.conversation, key: stored.key, record, ...(model !== undefined ? { model } : {}) };
  });
  const time = (item: HistoryItem): number => (item.record.state === 'pending' ? item.record.claimedAt : item.record.state === 'unreadable' ? 0 : item.record.exchange.at);
  return items.sort((a, b) => a.conversation.localeCompare(b.conversation) || time(a) - time(b));
}

/** A text shortened to one line of at most `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('')}…`;
}

function exchangeLine(exchange: Exchange, model: string | undefined, timeZone: string): string {
  const pictures = exchange.pictures !== undefined ? ` [${exchange.pictures.length} picture${exchange.pictures.length === 1 ? '' : 's'}]` : '';
  return `  ${localTime(exchange.at, timeZone)}  ${model ?? '(model not recorded)'}\n    Q: ${oneLine(exchange.user, 100)}${pictures}\n    A: ${oneLine(exchange.assistant, 100)}`;
}

/** The items as text: a heading per conversation, then each exchange. */
export function renderHistory(items: readonly HistoryItem[], timeZone: string, conversationId?: string): string {
  if (items.length === 0) return conversationId !== undefined ? 'No exchange stored in this conversation.\n' : 'No exchange stored.\n';
  const lines: string[] = [];
  let current = '';
  for (const item of items) {
    if (item.conversation !== current) {
      current = item.conversation;
      const count = items.filter((other) => other.conversation === current).length;
      const name = conversationId ?? idOfSegment(current) ?? `(segment ${current})`;
      lines.push(`${lines.length > 0 ? '\n' : ''}conversation ${name}: ${count} message${count === 1 ? '' : 's'} (times in ${timeZone})`);
    }
    const record = item.record;
    if (record.state === 'pending') lines.push(`  ${localTime(record.claimedAt, timeZone)}  (a question being answered)`);
    else if (record.state === 'unreadable') lines.push(`  (an object that cannot be read: ${item.key})`);
    else lines.push(`${exchangeLine(record.exchange, item.model, timeZone)}${record.state === 'unposted' ? '\n    (saved, not delivered yet)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
