import { LlmUnavailableError } from '../errors';

/** First wait before a retry; each next one doubles, up to {@link MAX_BACKOFF_MS} (the SDK's own schedule). */
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8000;
/** A provider asking to wait longer than this (a spent quota, not a burst) is not retried. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Whether another attempt may succeed: timeouts, broken connections, 429 and 5xx. Never refusals, never `deadline`. */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof LlmUnavailableError &&
    (error.reason === 'timeout' || error.reason === 'network' || error.reason === 'rate-limit' || error.reason === 'server')
  );
}

/**
 * How long to wait before retry number `retry` (0 for the first): the provider's `retry-after-ms` or
 * `Retry-After` (seconds or an HTTP date) when it sent one, else exponential backoff with up to 25 % jitter.
 * Undefined when the provider asks for more than {@link MAX_RETRY_AFTER_MS}: retrying within a run is pointless.
 */
export function retryDelayMs(retry: number, headers?: Headers, random: () => number = Math.random, now: number = Date.now()): number | undefined {
  let asked: number | undefined;
  const ms = headers?.get('retry-after-ms');
  if (ms) {
    const value = parseFloat(ms);
    if (!Number.isNaN(value)) asked = value;
  }
  const after = headers?.get('retry-after');
  if (asked === undefined && after) {
    const seconds = parseFloat(after);
    asked = Number.isNaN(seconds) ? Date.parse(after) - now : seconds * 1000;
    if (Number.isNaN(asked)) asked = undefined;
  }
  if (asked !== undefined) return asked > MAX_RETRY_AFTER_MS ? undefined : Math.max(0, asked);
  const backoff = Math.min(INITIAL_BACKOFF_MS * 2 ** retry, MAX_BACKOFF_MS);
  return backoff * (1 - random() * 0.25);
}

/**
 * The time limit of one attempt: aborts {@link signal} when `ms` pass without {@link progress} (for a whole
 * answer, nobody calls it: the limit covers the whole attempt), or at once when the caller's signal aborts.
 */
export class AttemptTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** True once the time limit (not the caller) aborted the attempt. */
  timedOut = false;
  /** The attempt's signal: the caller's and the time limit's. */
  readonly signal: AbortSignal;

  constructor(
    private readonly ms: number,
    caller?: AbortSignal,
  ) {
    this.signal = caller ? AbortSignal.any([caller, this.controller.signal]) : this.controller.signal;
    this.progress();
  }

  /** Restarts the limit: the model made progress. */
  progress(): void {
    if (this.timedOut) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`no progress within ${this.ms} ms`));
    }, this.ms);
  }

  /** Stops the timer (the attempt is over). */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
