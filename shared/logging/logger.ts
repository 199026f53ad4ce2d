import type { LogFields, LogValue, Logger } from '../ports';

/** Levels in increasing severity; LOG_LEVEL picks the lowest that is written. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of `createLogger`; every field has a default. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Values that must never appear in a line (app secret, API keys, access keys, tokens). */
  secrets?: readonly (string | undefined)[];
  /** Where a line goes. Default: stdout, which FC ships to Log Service. */
  write?: (line: string) => void;
  /** Fields on every line. */
  base?: LogFields;
  /** Time of each line. Default `Date.now`. */
  now?: () => number;
}

const REDACTED = '[redacted]';
/** Secrets shorter than this are not scrubbed from text: they would match too much to be useful. */
const MIN_SECRET_LENGTH = 6;
/** DingTalk's session webhook token: anyone holding it can post into the chat. */
const SESSION_PARAM = /([?&]session=)[^&\s"]+/g;

function scrub(value: LogValue, secrets: readonly string[]): LogValue {
  if (typeof value === 'string') {
    let text = value.replace(SESSION_PARAM, `$1${REDACTED}`);
    for (const secret of secrets) if (text.includes(secret)) text = text.split(secret).join(REDACTED);
    return text;
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, LogValue> = {};
    for (const [key, item] of Object.entries(value)) out[key] = scrub(item, secrets);
    return out;
  }
  return value;
}

/**
 * A logger that writes one JSON object per line: `{time, level, event, ...fields}`. Every string is
 * scrubbed of the configured secrets and of webhook session tokens before it is written, so a careless
 * field cannot leak them.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const threshold = LOG_LEVELS.indexOf(level);
  // Each secret also URL-encoded (as it stands in a query string or a logged URL); longest first, so a
  // secret that contains another is scrubbed whole.
  const secrets = [
    ...new Set(
      (options.secrets ?? [])
        .filter((secret): secret is string => typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH)
        .flatMap((secret) => [secret, encodeURIComponent(secret)]),
    ),
  ].sort((a, b) => b.length - a.length);
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;

  const make = (base: LogFields): Logger => {
    const emit = (lineLevel: LogLevel, event: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(lineLevel) < threshold) return;
      // The line's own keys come last so no field can overwrite them.
      const record = scrub({ ...base, ...fields, time: new Date(now()).toISOString(), level: lineLevel, event }, secrets);
      write(JSON.stringify(record));
    };
    return {
      debug: (event, fields) => emit('debug', event, fields),
      info: (event, fields) => emit('info', event, fields),
      warn: (event, fields) => emit('warn', event, fields),
      error: (event, fields) => emit('error', event, fields),
      child: (fields) => make({ ...base, ...fields }),
      debugEnabled: threshold === 0,
    };
  };
  return make(options.base ?? {});
}
