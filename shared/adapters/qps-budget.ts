import type { Clock } from '../ports';
import { abortableSleep, type AbortableSleep } from '../util/abortable-sleep';

/**
 * A per-instance budget of calls per second (a token bucket), so that many cards streaming at once from one
 * instance stay under DingTalk's per-app QPS limit instead of collecting 403 `QpsLimit` answers.
 */
export interface QpsBudget {
  /**
   * Takes one call from the budget, waiting for it when the budget is spent. Callers are served in the order
   * they asked. Rejects with the signal's reason when `signal` aborts during the wait (the call is given back).
   */
  take(signal?: AbortSignal): Promise<void>;
}

/** Options of {@link createQpsBudget}. */
export interface QpsBudgetOptions {
  /** Calls per second, also the burst allowed after a quiet second. */
  perSecond: number;
  clock: Clock;
  sleep?: AbortableSleep;
}

/**
 * A token bucket refilled continuously at `perSecond`, holding at most `perSecond` calls. A call that finds it
 * empty reserves the next call to come (the count goes below zero) and waits until then, so concurrent callers
 * queue in order without a timer per token.
 */
export function createQpsBudget(options: QpsBudgetOptions): QpsBudget {
  const rate = Math.max(1, options.perSecond);
  const sleep = options.sleep ?? abortableSleep;
  let available = rate;
  let refilledAt = options.clock.now();

  const refill = (): void => {
    const now = options.clock.now();
    available = Math.min(rate, available + ((now - refilledAt) * rate) / 1000);
    refilledAt = now;
  };

  return {
    async take(signal) {
      if (signal?.aborted) throw signal.reason;
      refill();
      available -= 1;
      if (available >= 0) return;
      const waitMs = Math.ceil((-available * 1000) / rate);
      try {
        await sleep(waitMs, signal);
      } catch (error) {
        available += 1;
        throw error;
      }
    },
  };
}
