import type { Clock, LogFields } from '../../ports';

/**
 * How a reply run ended; logged as `outcome` in the `reply.done` line. The names say what happened to
 * the message, not which channel carried it: `delivery_*` outcomes name the channel in the log fields.
 * `retry` is thrown (as `RetryLaterError`), never returned.
 */
export type ReplyOutcome =
  | 'answered'
  | 'duplicate'
  | 'cleared'
  | 'clear_failed'
  | 'help'
  /** `\\memory` or `\\forget` answered. */
  | 'memory'
  /** `\\model` or `\\system` answered. */
  | 'steering'
  /** `\\usage` answered. */
  | 'usage'
  | 'unsupported'
  | 'not_allowed'
  | 'limit_reached'
  /** Over RATE_LIMIT_PER_MINUTE: told when to ask again. */
  | 'rate_limited'
  | 'llm_failed'
  /** What the user sent could not be read (a picture too large, a file type the bot does not read). */
  | 'input_refused'
  | 'probe'
  /** The task's session webhook is not an allowed DingTalk URL: nothing is sent anywhere. */
  | 'destination_refused'
  /** No channel could reach the user any more (the session webhook expired and no OpenAPI fallback). */
  | 'delivery_expired'
  /** The channels failed in a way a retry cannot fix, or after part of the text got through. */
  | 'delivery_failed'
  | 'invalid_task';

/** Outcomes that are the bot working as intended (logged at info; the rest at warn). */
export const NORMAL_OUTCOMES: ReadonlySet<ReplyOutcome> = new Set<ReplyOutcome>([
  'answered',
  'duplicate',
  'cleared',
  'help',
  'memory',
  'steering',
  'usage',
  'unsupported',
  'not_allowed',
  'limit_reached',
  'rate_limited',
  'input_refused',
  'probe',
]);

/**
 * What one run measured and learned, gathered as it goes and written once as the `reply.done` line:
 * step timings (`<step>Ms`, summed when a step repeats) and facts such as `historyUsed` or `channel`.
 */
export class RunReport {
  readonly timings: Record<string, number> = {};
  readonly fields: LogFields = {};

  constructor(private readonly clock: Clock) {}

  /** Runs `work`, adding its duration to `<step>Ms`. */
  async timed<T>(step: string, work: () => Promise<T>): Promise<T> {
    const started = this.clock.now();
    try {
      return await work();
    } finally {
      this.timings[`${step}Ms`] = (this.timings[`${step}Ms`] ?? 0) + this.clock.now() - started;
    }
  }

  /** Records facts for the outcome line. */
  set(fields: LogFields): void {
    Object.assign(this.fields, fields);
  }
}
