/**
 * One listing of everything under HISTORY_PREFIX, classified (admin-layout.ts): what `users`, `history`,
 * `export` and `delete` start from. Progress goes to stderr while a large bucket is walked.
 */
import { belongsTo, classify, type StoredKey } from './admin-layout';
import type { AdminStore } from './admin-store';

/** Where the commands write: stdout for results, stderr for progress and notes. */
export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no question (delete); answers false when nobody can answer (no terminal). */
  confirm(question: string): Promise<boolean>;
  /** Now (epoch ms). */
  now(): number;
}

/** Every classified key under the prefix. */
export interface Inventory {
  keys: StoredKey[];
}

/** Reports progress at most once a second, and a last line when a scan was long enough to report at all. */
export function progressReporter(io: AdminIo, what: string): { tick(found: number): void; done(found: number): void } {
  const started = io.now();
  let last = started;
  let reported = false;
  return {
    tick(found) {
      const now = io.now();
      if (now - last < 1000) return;
      last = now;
      reported = true;
      io.err(`${what}: ${found} objects so far…\n`);
    },
    done(found) {
      if (reported) io.err(`${what}: ${found} objects in ${((io.now() - started) / 1000).toFixed(1)} s\n`);
    },
  };
}

/** Lists and classifies every key under `admin.prefix` (or under `under`, a folder inside it). */
export async function takeInventory(admin: AdminStore, io: AdminIo, under = ''): Promise<Inventory> {
  const progress = progressReporter(io, `listing ${admin.where}`);
  const keys = await admin.walker.keys(`${admin.prefix}${under}`, (found) => progress.tick(found));
  progress.done(keys.length);
  return { keys: keys.map((key) => classify(admin.prefix, key)) };
}

/** The keys of one person (by their id), whatever the kind. */
export function keysOfUser(inventory: Inventory, userId: string): StoredKey[] {
  return inventory.keys.filter((stored) => belongsTo(stored, userId));
}

/** How many keys of each kind. */
export function countKinds(keys: readonly StoredKey[]): Partial<Record<StoredKey['kind'], number>> {
  const counts: Partial<Record<StoredKey['kind'], number>> = {};
  for (const stored of keys) counts[stored.kind] = (counts[stored.kind] ?? 0) + 1;
  return counts;
}
