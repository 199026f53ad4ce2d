/**
 * Runs one `npm run admin` command against the configured history store: parses the line, opens the store,
 * runs the command, prints results on stdout and progress, notes and errors on stderr. Answers the exit
 * code (0 done, 1 failed, 2 wrong arguments, 3 nothing stored for that user). local/admin.ts is the entry
 * point; tests call this directly.
 */
import type { Env } from '../shared/config/load-config';
import { systemClock, type Clock } from '../shared/ports';
import { HELP, OVERVIEW, parseAdminArgs, UsageError, type AdminArgs } from './admin-args';
import { deleteUser, renderDeleteReport } from './admin-delete';
import { exportUser } from './admin-export';
import { readHistory, renderHistory } from './admin-history';
import type { AdminIo } from './admin-inventory';
import { computeStats, periodDays, renderStats } from './admin-stats';
import { AdminError, EXIT, openAdminStore, storeFailure, type AdminStore } from './admin-store';
import { openUsageSource, type UsageSource } from './admin-usage';
import { listUsers, renderUsers } from './admin-users';

/** Options of {@link runAdmin}. */
export interface RunAdminOptions {
  /** The variables (the shell's, with .env.local and .env applied by the caller). */
  env: Env;
  io: AdminIo;
  /** LOCAL_DATA_DIR, for npm start's history folder when no store is configured. */
  dataDir?: string;
  /** Size of one LIST of a bucket (tests make it small to exercise split listings). */
  page?: number;
  /** Now, for the periods of stats and the ledger's months. Default the system clock. */
  clock?: Clock;
}

async function runCommand(args: AdminArgs, admin: AdminStore, usage: UsageSource, io: AdminIo): Promise<number> {
  switch (args.command) {
    case 'stats': {
      const days = periodDays(io.now(), args.days, admin.timeZone);
      const entries = await usage.scan({ ...(days[0] !== undefined ? { since: days[0] } : {}) });
      const stats = computeStats(entries, days, admin.timeZone);
      io.out(args.json ? `${JSON.stringify(stats, null, 2)}\n` : renderStats(stats));
      return EXIT.ok;
    }
    case 'users': {
      const rows = await listUsers(admin, io, usage);
      io.out(args.json ? `${JSON.stringify({ v: 1, users: rows }, null, 2)}\n` : renderUsers(rows));
      return EXIT.ok;
    }
    case 'history': {
      const userId = args.user ?? '';
      const items = await readHistory(admin, io, usage, userId, args.conversation);
      io.out(renderHistory(items, admin.timeZone, args.conversation));
      return EXIT.ok;
    }
    case 'export': {
      const lines = await exportUser(admin, io, usage, args.user ?? '', { pictures: args.pictures });
      io.err(`exported ${lines} lines about ${JSON.stringify(args.user)} from ${admin.where}\n`);
      return EXIT.ok;
    }
    case 'delete': {
      const userId = args.user ?? '';
      const report = await deleteUser(admin, io, usage, userId, args.yes);
      io.out(renderDeleteReport(report, userId, admin.where));
      return report.left.length === 0 ? EXIT.ok : EXIT.failed;
    }
  }
}

/** Runs the command `argv` asks for; answers the exit code. Never throws. */
export async function runAdmin(argv: readonly string[], options: RunAdminOptions): Promise<number> {
  const { io } = options;
  let args: AdminArgs;
  try {
    const parsed = parseAdminArgs(argv);
    if (parsed.command === undefined) {
      io.out(`${OVERVIEW}\n`);
      return EXIT.ok;
    }
    args = parsed;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${error.usage}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  if (args.help) {
    io.out(`${HELP[args.command]}\n`);
    return EXIT.ok;
  }
  let admin: AdminStore | undefined;
  try {
    admin = openAdminStore(options.env, { ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}), ...(options.page !== undefined ? { page: options.page } : {}) });
    io.err(`store: ${admin.where}, prefix ${admin.prefix === '' ? '(none)' : admin.prefix}\n`);
    const usage = openUsageSource(admin, options.clock ?? systemClock, options.page);
    return await runCommand(args, admin, usage, io);
  } catch (error) {
    const failure = admin !== undefined ? storeFailure(error, admin) : error instanceof AdminError ? error : new AdminError(error instanceof Error ? error.message : String(error), undefined);
    io.err(`admin ${args.command}: ${failure.message}\n${failure.fix !== undefined ? `→ ${failure.fix}\n` : ''}`);
    return failure.exitCode;
  }
}
