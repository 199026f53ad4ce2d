/**
 * `npm run admin -- export --user ID [--pictures]`: everything stored about a person, as JSON lines on
 * stdout (one object per line, each with a `type`; the shapes are in the README, "Operating the bot").
 */
import { pictureMediaType } from '../shared/media/media-type';
import { MemoryVersions } from '../shared/memory/memory-versions';
import { safeSegment } from '../shared/history/keys';
import { countKinds, keysOfUser, takeInventory, type AdminIo } from './admin-inventory';
import { exchangeSlot, modelsByExchange, readAll } from './admin-history';
import { decodeMessage, decodeRecentIds } from './admin-records';
import { readSettings } from './admin-settings';
import { AdminError, EXIT, type AdminStore } from './admin-store';
import type { UsageSource } from './admin-usage';

/** Options of {@link exportUser}. */
export interface ExportOptions {
  /** Include each picture's bytes in base64. */
  pictures: boolean;
}

const iso = (at: number): string => new Date(at).toISOString();

/** Writes the person's data as JSON lines through `io.out`; answers how many lines. Throws AdminError (exit 3) when nothing is stored. */
export async function exportUser(admin: AdminStore, io: AdminIo, usage: UsageSource, userId: string, options: ExportOptions): Promise<number> {
  const inventory = await takeInventory(admin, io);
  const mine = keysOfUser(inventory, userId);
  const records = await usage.scan({ userId });
  const settings = (await readSettings(admin, inventory)).filter((item) => item.updatedBy === userId);
  if (mine.length === 0 && records.length === 0 && settings.length === 0) {
    throw new AdminError(`nothing is stored for user ${JSON.stringify(userId)}`, 'check the id: npm run admin -- users lists everyone (staff ids, senderStaffId)', EXIT.unknownUser);
  }
  let lines = 0;
  const line = (value: Record<string, unknown>): void => {
    io.out(`${JSON.stringify(value)}\n`);
    lines += 1;
  };
  line({ type: 'person', v: 1, userId, segment: safeSegment(userId), exportedAt: iso(io.now()), store: admin.where });

  const models = modelsByExchange(records);
  const messages = mine.flatMap((stored) => (stored.kind === 'message' ? [stored] : []));
  const bodies = await readAll(admin, messages.map((stored) => stored.key));
  messages.forEach((stored, index) => {
    const body = bodies[index];
    const record = body === undefined ? undefined : decodeMessage(body);
    if (record === undefined) return;
    if (record.state === 'pending') line({ type: 'claim', conversation: stored.conversation, key: stored.key, claimedAt: iso(record.claimedAt) });
    else if (record.state === 'unreadable') line({ type: 'unreadable', conversation: stored.conversation, key: stored.key });
    else {
      const { exchange } = record;
      const model = models.get(exchangeSlot(stored.conversation, exchange.at));
      line({
        type: 'exchange',
        conversation: stored.conversation,
        key: stored.key,
        state: record.state,
        id: exchange.id,
        at: iso(exchange.at),
        question: exchange.user,
        answer: exchange.assistant,
        ...(exchange.answeredAt !== undefined ? { answeredAt: iso(exchange.answeredAt) } : {}),
        ...(exchange.pictures !== undefined ? { pictures: exchange.pictures } : {}),
        ...(exchange.replyIds !== undefined ? { replyIds: exchange.replyIds } : {}),
        ...(model !== undefined ? { model } : {}),
      });
    }
  });

  for (const stored of mine) {
    if (stored.kind !== 'recent') continue;
    const body = await admin.store.get(stored.key);
    if (body !== undefined) line({ type: 'recent-window', conversation: stored.conversation, key: stored.key, exchangeIds: decodeRecentIds(body) });
  }

  if (mine.some((stored) => stored.kind === 'memory')) {
    const memory = await new MemoryVersions(admin.store, admin.prefix).read(userId);
    line({ type: 'memory', facts: memory.items, version: memory.seq, objects: mine.filter((stored) => stored.kind === 'memory').length });
  }

  for (const record of records) {
    line({
      type: 'usage',
      at: iso(record.at),
      day: record.day,
      conversationId: record.conversationId,
      model: record.model,
      questions: record.questions,
      promptTokens: record.promptTokens,
      completionTokens: record.completionTokens,
      estimated: record.estimated,
      durationMs: record.durationMs,
    });
  }

  for (const stored of mine) {
    if (stored.kind === 'ledger') continue;
    if (stored.kind === 'daily') line({ type: 'daily-marker', day: stored.day, key: stored.key });
    else if (stored.kind === 'minute') line({ type: 'minute-marker', window: stored.window, key: stored.key });
  }

  for (const stored of mine) {
    if (stored.kind !== 'picture') continue;
    const bytes = await admin.store.get(stored.key);
    if (bytes === undefined) continue;
    line({
      type: 'picture',
      conversation: stored.conversation,
      exchangeId: stored.exchangeId,
      key: stored.key,
      mediaType: pictureMediaType(bytes) ?? 'application/octet-stream',
      bytes: bytes.length,
      ...(options.pictures ? { base64: bytes.toString('base64') } : {}),
    });
  }

  for (const item of settings) {
    line({
      type: 'settings',
      conversation: item.conversation,
      key: item.key,
      ...(item.model !== undefined ? { model: item.model } : {}),
      ...(item.system !== undefined ? { system: item.system } : {}),
      ...(item.updatedAt !== undefined ? { updatedAt: iso(item.updatedAt) } : {}),
    });
  }

  line({ type: 'summary', objects: countKinds(mine), usageRecords: records.length, settingsChanged: settings.length });
  return lines;
}
