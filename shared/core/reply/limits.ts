import { describeError } from '../../errors';
import { localDay } from '../../history/daily-usage';
import type { ReplyRun } from './run';

/** The result of admission: whether to answer, and how to give the question back if it fails. */
export interface Admitted {
  admitted: boolean;
  /** Gives the question back (it got only an error message): failed questions do not count. */
  refund(): Promise<void>;
}

const nothingToRefund = async (): Promise<void> => undefined;

/**
 * Whether this question fits the sender's daily allowance (DAILY_MESSAGE_LIMIT). A storage failure lets
 * it through: better an answer over the limit than none, and the log says the count was not checked.
 */
export async function admit(run: ReplyRun): Promise<Admitted> {
  const { settings, usage, clock } = run.deps;
  if (settings.dailyMessageLimit <= 0) return { admitted: true, refund: nothingToRefund };
  const { task } = run;
  const day = localDay(task.createdAt, settings.timeZone);
  try {
    const admission = await run.report.timed('usage', () => usage.admit(task.userId, day, task.createdAt, task.msgId, settings.dailyMessageLimit));
    run.report.set({ usedToday: Math.min(admission.used, settings.dailyMessageLimit) });
    const refund = async (): Promise<void> => {
      if (usage.refund === undefined) return;
      await usage.refund(task.userId, day, task.msgId, task.createdAt).catch((error: unknown) => {
        run.log.warn('reply.refund_failed', { error: describeError(error), day });
      });
      run.report.set({ refunded: true });
    };
    return { admitted: admission.admitted, refund: admission.admitted ? refund : nothingToRefund };
  } catch (error) {
    run.log.warn('reply.usage_unavailable', { error: describeError(error), day, at: clock.now() });
    return { admitted: true, refund: nothingToRefund };
  }
}
