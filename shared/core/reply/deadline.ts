import { DeadlineError } from '../../errors';
import type { Clock } from '../../ports';

/** Time kept back from the function timeout for logging and FC's own bookkeeping. */
export const SAFETY_MARGIN_MS = 1_500;

/**
 * Time kept back from the work (the LLM, the card's streaming) to say the last word: finalize the card or
 * post the answer or one short failure message. A fifth of the timeout, between 2 and 15 seconds (a webhook
 * post is bounded by WEBHOOK_TIMEOUT_SECONDS, 10 s by default).
 */
export function finalWordMs(timeoutMs: number): number {
  return Math.min(15_000, Math.max(2_000, Math.round(timeoutMs / 5)));
}

/** The timeout assumed when FC's context does not say (the reply function's timeout in s.yaml). */
export const DEFAULT_TIMEOUT_MS = 180_000;

/**
 * One deadline per run, from the function's timeout: every wait of the run (LLM attempts, card updates,
 * webhook posts, part pacing, throttle backoff) takes one of its signals, so the user hears back before FC
 * would kill the run.
 * - `work` aborts when only the last word may still be said (the LLM stops there);
 * - `end` aborts shortly before FC's timeout (deliveries stop there).
 * Timers are unref'd and cleared by `dispose`, so a finished run leaves nothing behind.
 */
export class Deadline {
  private readonly workController = new AbortController();
  private readonly endController = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Epoch ms at which the run must have said its last word. */
  readonly endsAt: number;
  /** Epoch ms after which no new work starts. */
  readonly workEndsAt: number;

  constructor(
    private readonly clock: Clock,
    readonly timeoutMs: number,
    startedAt: number = clock.now(),
  ) {
    this.endsAt = startedAt + timeoutMs - SAFETY_MARGIN_MS;
    this.workEndsAt = this.endsAt - finalWordMs(timeoutMs);
    this.arm(this.workController, this.workEndsAt, 'the time for the answer ran out; only the last word may still be said');
    this.arm(this.endController, this.endsAt, 'the function timeout is about to end the run');
  }

  private arm(controller: AbortController, at: number, message: string): void {
    const abort = (): void => controller.abort(new DeadlineError(message));
    const wait = at - this.clock.now();
    if (wait <= 0) {
      abort();
      return;
    }
    const timer = setTimeout(abort, wait);
    timer.unref();
    this.timers.push(timer);
  }

  /** Aborts when the work must stop (the LLM call, streaming). */
  get work(): AbortSignal {
    return this.workController.signal;
  }

  /** Aborts shortly before FC's timeout (deliveries). */
  get end(): AbortSignal {
    return this.endController.signal;
  }

  /** Milliseconds left until `end`. */
  remaining(): number {
    return Math.max(0, this.endsAt - this.clock.now());
  }

  /** Clears the timers; the signals stay as they are. */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }
}
