/**
 * The command line of `npm run admin`: its commands, their options and their `--help`. Parsing only;
 * local/admin.ts runs what was asked.
 */

/** The commands of `npm run admin`. */
export type AdminCommand = 'stats' | 'users' | 'history' | 'export' | 'delete';

/** What the command line asks for. */
export interface AdminArgs {
  command: AdminCommand;
  /** `--help`: print the command's help and exit 0. */
  help: boolean;
  /** `--json`: machine-readable output (stats, users). */
  json: boolean;
  /** `--days N` of stats (default 30). */
  days: number;
  /** `--user ID`: a staff id (`senderStaffId`), as DingTalk gives it. */
  user?: string;
  /** `--conversation ID` of history. */
  conversation?: string;
  /** `--yes` of delete: no confirmation asked. */
  yes: boolean;
  /** `--pictures` of export: the pictures' bytes in base64, not only their type and size. */
  pictures: boolean;
  /** `--deployed`: read only `.env` (what `s deploy` reads), not `.env.local`. */
  deployed: boolean;
}

/** A mistake on the command line: the message and the usage to print (exit 2). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

const COMMON = `  --deployed         read only .env (the deployed configuration), not .env.local
  --help             this help`;

/** The overview printed by `npm run admin` and `npm run admin -- --help`. */
export const OVERVIEW = `usage: npm run admin -- <command> [options]

Reads the bot's history store directly, with the bot's own variables (HISTORY_DIR, OSS_BUCKET with
ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, or S3_BUCKET; HISTORY_PREFIX; TZ) from the shell, .env.local and .env.

commands:
  stats [--days N] [--json]                  questions, users, conversations and tokens per model and day
  users [--json]                             every person with something stored, and how much
  history --user ID [--conversation ID]      a person's exchanges, with time and model
  export --user ID [--pictures]              everything stored about a person, as JSON lines
  delete --user ID [--yes]                   erase everything stored about a person

npm run admin -- <command> --help shows a command's options. Exit codes: 0 done, 1 failed (store,
configuration), 2 wrong arguments, 3 nothing stored for that user.`;

/** Each command's help. */
export const HELP: Record<AdminCommand, string> = {
  stats: `usage: npm run admin -- stats [--days N] [--json]

Questions, users, conversations, prompt and completion tokens over the last N days (default 30, today
included, days in TZ), in all, per model and per day, from the usage the bot records per question.
  --days N           how many days back (1 to 3660)
  --json             the figures as one JSON object (its shape is in the README, "Operating the bot")
${COMMON}`,
  users: `usage: npm run admin -- users [--json]

Every person with something in the store (history, memory, usage, pictures), by staff id where the store
shows it, with counts per kind.
  --json             one JSON object: {"v": 1, "users": [...]}
${COMMON}`,
  history: `usage: npm run admin -- history --user ID [--conversation ID]

A person's stored exchanges, oldest first per conversation: when asked, the model (when recorded), the
question and the answer (shortened).
  --user ID          the staff id (senderStaffId)
  --conversation ID  only this conversation (its conversationId)
${COMMON}`,
  export: `usage: npm run admin -- export --user ID [--pictures]

Everything stored about a person as JSON lines on stdout: exchanges (and claims in flight) in every
conversation, long-term memory, usage records, daily and per-minute limit markers, pictures, and the
settings of conversations they changed. Pictures are listed by type and size; --pictures adds their bytes
in base64.
  --user ID          the staff id (senderStaffId)
  --pictures         include the pictures' bytes (base64)
${COMMON}`,
  delete: `usage: npm run admin -- delete --user ID [--yes]

Erases everything stored about a person in every conversation: history, recent windows, claims, long-term
memory, usage records, daily and per-minute markers, pictures; their name is removed from the settings of
group conversations they changed, and the settings of conversations only they used are deleted. Prints
what it removed per kind, then lists the store again to check that nothing of theirs is left.
  --user ID          the staff id (senderStaffId)
  --yes              do not ask for confirmation
${COMMON}`,
};

const COMMANDS = Object.keys(HELP) as AdminCommand[];

/** Parses `argv` (after `npm run admin --`). Throws {@link UsageError}. An empty line or `--help` alone gives `help` with no command. */
export function parseAdminArgs(argv: readonly string[]): AdminArgs | { command: undefined; help: true } {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { command: undefined, help: true };
  if (!COMMANDS.includes(first as AdminCommand)) throw new UsageError(`unknown command ${JSON.stringify(first)}`, OVERVIEW);
  const command = first as AdminCommand;
  const usage = HELP[command];
  const args: AdminArgs = { command, help: false, json: false, days: 30, yes: false, pictures: false, deployed: false };
  const allowed: Record<AdminCommand, readonly string[]> = {
    stats: ['--days', '--json'],
    users: ['--json'],
    history: ['--user', '--conversation'],
    export: ['--user', '--pictures'],
    delete: ['--user', '--yes'],
  };
  for (let index = 0; index < rest.length; index += 1) {
    const arg = rest[index] ?? '';
    const [name = '', inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--help' || name === '-h') {
      args.help = true;
      continue;
    }
    if (name === '--deployed') {
      args.deployed = true;
      continue;
    }
    if (!allowed[command].includes(name)) throw new UsageError(`${command} does not take ${JSON.stringify(arg)}`, usage);
    const takesValue = ['--days', '--user', '--conversation'].includes(name);
    let value: string | undefined;
    if (takesValue) {
      value = inline ?? rest[index + 1];
      if (inline === undefined) index += 1;
      if (value === undefined || value.trim() === '') throw new UsageError(`${name} needs a value`, usage);
      value = value.trim();
    }
    switch (name) {
      case '--days':
        if (!/^\d+$/.test(value ?? '') || Number(value) < 1 || Number(value) > 3660) throw new UsageError('--days takes a whole number from 1 to 3660', usage);
        args.days = Number(value);
        break;
      case '--user':
        args.user = value;
        break;
      case '--conversation':
        args.conversation = value;
        break;
      case '--json':
        args.json = true;
        break;
      case '--yes':
        args.yes = true;
        break;
      case '--pictures':
        args.pictures = true;
        break;
    }
  }
  if (!args.help && ['history', 'export', 'delete'].includes(command) && args.user === undefined) throw new UsageError(`${command} needs --user ID`, usage);
  return args;
}
