import { describeError } from '../../errors';
import { localDay } from '../../history/daily-usage';
import { minuteWindow, secondsUntilNextMinute } from '../../history/minute-usage';
import { dailyLimitMessage } from '../user-messages';
import type { UsageCounter } from './deps';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';
import { rateLimitMessage } from './usage-messages';

/** The result of admission: answer (and how to give the question back if it fails), or the message saying why not. */
export type Admitted =
  | {
      admitted: true;
      /** Gives the question back (it got only an error message): failed questions do not count. */
      refund(): Promise<void>;
    }
  | { admitted: false; message: string; outcome: ReplyOutcome };

const nothingToRefund = async (): Promise<void> => undefined;

/** One window's counter (a day, a minute) as the run uses it. */
interface Window {
  name: 'usage' | 'rate';
  counter: UsageCounter;
  window: string;
  limit: number;
}

/** Admits the question in one window: whether it fits, and its refund; a storage failure lets it through. */
async function admitIn(run: ReplyRun, window: Window): Promise<{ admitted: boolean; refund: () => Promise<void> }> {
  const { task } = run;
  try {
    const admission = await run.report.timed(window.name, () => window.counter.admit(task.userId, window.window, task.createdAt, task.msgId, window.limit));
    run.report.set({ [window.name === 'usage' ? 'usedToday' : 'usedThisMinute']: Math.min(admission.used, window.limit) });
    const refund = async (): Promise<void> => {
      if (window.counter.refund === undefined) return;
      await window.counter.refund(task.userId, window.window, task.msgId, task.createdAt).catch((error: unknown) => {
        run.log.warn('reply.refund_failed', { error: describeError(error), window: window.window });
      });
      run.report.set({ refunded: true });
    };
    return { admitted: admission.admitted, refund: admission.admitted ? refund : nothingToRefund };
  } catch (error) {
    // Better an answer over the limit than none: the log says the count was not checked.
    run.log.warn('reply.usage_unavailable', { error: describeError(error), window: window.window, at: run.deps.clock.now() });
    return { admitted: true, refund: nothingToRefund };
  }
}

/**
 * Whether this question fits the sender's allowances: DAILY_MESSAGE_LIMIT (the day ends at midnight in TZ)
 * and RATE_LIMIT_PER_MINUTE (fixed UTC minutes). A question refused by the minute limit gives its daily
 * count back; one that later gets only an error message gives both back.
 */
export async function admit(run: ReplyRun): Promise<Admitted> {
  const { settings, usage, minuteUsage } = run.deps;
  const { task } = run;
  const refunds: Array<() => Promise<void>> = [];
  const refundAll = async (): Promise<void> => {
    await Promise.all(refunds.map((refund) => refund()));
  };
  if (settings.dailyMessageLimit > 0) {
    const day = localDay(task.createdAt, settings.timeZone);
    const daily = await admitIn(run, { name: 'usage', counter: usage, window: day, limit: settings.dailyMessageLimit });
    if (!daily.admitted) {
      return { admitted: false, message: dailyLimitMessage(settings.dailyMessageLimit, settings.timeZone), outcome: 'limit_reached' };
    }
    refunds.push(daily.refund);
  }
  const perMinute = settings.rateLimitPerMinute ?? 0;
  if (perMinute > 0 && minuteUsage !== undefined) {
    const minute = await admitIn(run, { name: 'rate', counter: minuteUsage, window: minuteWindow(task.createdAt), limit: perMinute });
    if (!minute.admitted) {
      await refundAll();
      const wait = secondsUntilNextMinute(task.createdAt, run.deps.clock.now());
      return { admitted: false, message: rateLimitMessage(perMinute, wait), outcome: 'rate_limited' };
    }
    refunds.push(minute.refund);
  }
  return { admitted: true, refund: refundAll };
}
