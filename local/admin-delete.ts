/**
 * `npm run admin -- delete --user ID [--yes]`: erases everything stored about a person, then lists the
 * store again to check that nothing of theirs is left.
 *
 * What goes: every object in their folders (history messages and claims, recent windows, long-term memory,
 * pictures, daily and per-minute markers) in every conversation, their usage records, and with MEM0_API_KEY
 * their memories in the Mem0 platform. Conversation
 * settings name who changed them last: a conversation where nobody else has anything stored (their 1:1 chat)
 * loses its settings; a group keeps its model and prompt without their name.
 */
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import { safeSegment } from '../shared/history/keys';
import type { StoredKey } from './admin-layout';
import { keysOfUser, takeInventory, type AdminIo } from './admin-inventory';
import { readSettings, type StoredSettings } from './admin-settings';
import { AdminError, EXIT, type AdminStore } from './admin-store';
import type { UsageSource } from './admin-usage';

/** Keys deleted per request (OSS DeleteMultipleObjects takes at most 1000). */
const DELETE_BATCH = 1000;

/** What was removed, per kind, as printed (and answered to tests). */
export interface DeleteReport {
  removed: {
    messages: number;
    recentWindows: number;
    memory: number;
    pictures: number;
    dailyMarkers: number;
    minuteMarkers: number;
    usageRecords: number;
    settingsDeleted: number;
    settingsUnnamed: number;
    /** Facts erased in the Mem0 platform (MEM0_API_KEY). */
    mem0Memories: number;
  };
  /** Keys of theirs still there after the erase (written meanwhile, or a failed delete). */
  left: string[];
}

const LABELS: Record<keyof DeleteReport['removed'], string> = {
  messages: 'history messages (exchanges and claims)',
  recentWindows: 'recent-window objects',
  memory: 'long-term memory objects',
  pictures: 'pictures',
  dailyMarkers: 'daily-limit markers',
  minuteMarkers: 'per-minute markers',
  usageRecords: 'usage records',
  settingsDeleted: 'conversation settings deleted (only they used it)',
  settingsUnnamed: 'conversation settings with their name removed',
  mem0Memories: 'long-term memories in Mem0',
};

function tally(keys: readonly StoredKey[]): Omit<DeleteReport['removed'], 'settingsDeleted' | 'settingsUnnamed' | 'mem0Memories'> {
  const count = (kind: StoredKey['kind']): number => keys.filter((stored) => stored.kind === kind).length;
  return {
    messages: count('message'),
    recentWindows: count('recent'),
    memory: count('memory'),
    pictures: count('picture'),
    dailyMarkers: count('daily'),
    minuteMarkers: count('minute'),
    usageRecords: count('ledger'),
  };
}

/** The plan or the result, one line per kind that has any. */
export function renderCounts(removed: Partial<DeleteReport['removed']>): string {
  const lines = (Object.keys(LABELS) as (keyof DeleteReport['removed'])[]).flatMap((kind) => {
    const count = removed[kind] ?? 0;
    return count > 0 ? [`  ${String(count).padStart(6)}  ${LABELS[kind]}`] : [];
  });
  return lines.length > 0 ? `${lines.join('\n')}\n` : '       nothing\n';
}

/** Removes the folders an erase emptied in a HISTORY_DIR store, up to the prefix (a folder's name shows part of an id). */
async function removeEmptyFolders(admin: AdminStore, keys: readonly string[]): Promise<void> {
  if (admin.dir === undefined) return;
  const root = path.resolve(admin.dir);
  const top = admin.prefix.split('/').filter((part) => part !== '').length;
  const folders = new Set<string>();
  for (const key of keys) {
    const parts = key.split('/');
    for (let depth = parts.length - 1; depth > top; depth -= 1) folders.add(parts.slice(0, depth).join('/'));
  }
  // Deepest first, so a parent is tried after its children; a folder that is not empty stays.
  for (const folder of [...folders].sort((a, b) => b.split('/').length - a.split('/').length)) {
    await rmdir(path.join(root, ...folder.split('/'))).catch(() => undefined);
  }
}

/** What happens to each conversation's settings they changed. */
function settingsPlan(settings: readonly StoredSettings[], keys: readonly StoredKey[], segment: string): { remove: StoredSettings[]; unname: StoredSettings[] } {
  const others = new Set(keys.flatMap((stored) => ('conversation' in stored && 'user' in stored && stored.user !== segment ? [stored.conversation] : [])));
  return { remove: settings.filter((item) => !others.has(item.conversation)), unname: settings.filter((item) => others.has(item.conversation)) };
}

/**
 * Erases everything stored about `userId`. Asks first (through `io.confirm`) unless `yes`. Throws
 * AdminError: exit 3 when nothing is stored, exit 1 when not confirmed.
 */
export async function deleteUser(admin: AdminStore, io: AdminIo, usage: UsageSource, userId: string, yes: boolean): Promise<DeleteReport> {
  const inventory = await takeInventory(admin, io);
  const mine = keysOfUser(inventory, userId);
  const changed = (await readSettings(admin, inventory)).filter((item) => item.updatedBy === userId);
  const inMem0 = admin.mem0 !== undefined ? (await admin.mem0.list(userId)).length : 0;
  if (mine.length === 0 && changed.length === 0 && inMem0 === 0) {
    throw new AdminError(`nothing is stored for user ${JSON.stringify(userId)}`, 'check the id: npm run admin -- users lists everyone (staff ids, senderStaffId)', EXIT.unknownUser);
  }
  const plan = settingsPlan(changed, inventory.keys, safeSegment(userId));
  const planned = { ...tally(mine), settingsDeleted: plan.remove.length, settingsUnnamed: plan.unname.length, mem0Memories: inMem0 };
  if (!yes) {
    io.err(`This erases, in ${admin.where}, everything stored about ${JSON.stringify(userId)}:\n${renderCounts(planned)}`);
    if (!(await io.confirm('Erase it? [y/N] '))) throw new AdminError('not confirmed: nothing was deleted', 'answer y, or pass --yes');
  }

  const keys = mine.map((stored) => stored.key);
  for (let start = 0; start < keys.length; start += DELETE_BATCH) {
    await admin.store.deleteMany(keys.slice(start, start + DELETE_BATCH));
    if (keys.length > DELETE_BATCH) io.err(`deleted ${Math.min(keys.length, start + DELETE_BATCH)} of ${keys.length} objects…\n`);
  }
  // The ledger's own erase, after ours: it finds what a listing made while the bot wrote may have missed.
  const usageRecords = (await usage.deleteUser(userId)) + tally(mine).usageRecords;
  if (plan.remove.length > 0) await admin.store.deleteMany(plan.remove.map((item) => item.key));
  for (const item of plan.unname) {
    // The bot's format (shared/history/conversation-settings.ts) without who changed it and when.
    const kept = { v: 1, ...(item.model !== undefined ? { model: item.model } : {}), ...(item.system !== undefined ? { system: item.system } : {}) };
    await admin.store.put(item.key, Buffer.from(JSON.stringify(kept), 'utf8'));
  }
  await removeEmptyFolders(admin, [...keys, ...plan.remove.map((item) => item.key)]);
  const mem0Memories = admin.mem0 !== undefined && inMem0 > 0 ? (await admin.mem0.forget(userId, 'all')).length : 0;

  // The check: the whole store listed again.
  const after = await takeInventory(admin, io);
  const stillNamed = (await readSettings(admin, after)).filter((item) => item.updatedBy === userId).map((item) => item.key);
  const stillCounted = (await usage.scan({ userId })).map((record) => `usage record of ${new Date(record.at).toISOString()}`);
  const stillInMem0 = admin.mem0 !== undefined ? (await admin.mem0.list(userId)).map((fact, index) => `Mem0 memory ${index + 1}: ${fact.length} characters`) : [];
  return {
    removed: { ...tally(mine), usageRecords, settingsDeleted: plan.remove.length, settingsUnnamed: plan.unname.length, mem0Memories },
    left: [...keysOfUser(after, userId).map((stored) => stored.key), ...stillNamed, ...stillCounted, ...stillInMem0],
  };
}

/** The report as text. */
export function renderDeleteReport(report: DeleteReport, userId: string, where: string): string {
  const head = `Removed for ${JSON.stringify(userId)}:\n${renderCounts(report.removed)}`;
  if (report.left.length === 0) return `${head}Checked: nothing stored about ${JSON.stringify(userId)} is left in ${where}.\n`;
  const shown = report.left.slice(0, 20).map((key) => `  ${key}`);
  return (
    `${head}Still there after the erase (${report.left.length}; written while it ran? Block the person with ALLOWED_USERS and run delete again):\n` +
    `${shown.join('\n')}${report.left.length > shown.length ? '\n  …' : ''}\n`
  );
}
