/**
 * The usage the bot records per answered question (shared/history/usage-ledger.ts: questions, tokens,
 * model, conversation), as `npm run admin` reads and erases it.
 */
import { UsageLedger, type UsageEntry } from '../shared/history/usage-ledger';
import type { Clock } from '../shared/ports';
import type { AdminStore } from './admin-store';

/** Reads and erases usage records. */
export interface UsageSource {
  /** Every record from local day `since` (`YYYY-MM-DD`; default the oldest kept), of one person or everyone. */
  scan(options: { since?: string; userId?: string }): Promise<UsageEntry[]>;
  /** Erases a person's records (and any limit marker left); answers how many records were deleted. */
  deleteUser(userId: string): Promise<number>;
}

/** The usage ledger of the store. */
export function openUsageSource(admin: AdminStore, clock: Clock, pageSize?: number): UsageSource {
  const ledger = new UsageLedger(admin.store, admin.prefix, { clock, ...(pageSize !== undefined ? { pageSize } : {}) });
  return {
    async scan(options) {
      const entries: UsageEntry[] = [];
      for await (const entry of ledger.scan(options)) entries.push(entry);
      return entries;
    },
    async deleteUser(userId) {
      return (await ledger.deleteUser(userId)).ledgerEntries;
    },
  };
}
