import { describeError } from '../../errors';
import { localDay } from '../../history/daily-usage';
import { utf8ByteBound } from '../../llm/token-counter';
import type { LlmAnswer } from '../../ports';
import { deliverNotice } from './deliver';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';
import { USAGE_UNAVAILABLE_MESSAGE, usageMessage } from './usage-messages';

/**
 * Records what an answered question cost (one create-only object in the usage ledger): the provider's token
 * counts, or the bot's estimate where it gave none (the prompt as planned, the answer's UTF-8 bytes as an
 * upper bound). Made beside the save; a failure is logged and never reaches the user.
 */
export async function recordUsage(run: ReplyRun, answer: LlmAnswer, promptTokensEstimate: number): Promise<void> {
  const ledger = run.deps.ledger;
  if (ledger === undefined) return;
  const { task, deps } = run;
  try {
    const estimated = answer.promptTokens === undefined || answer.completionTokens === undefined;
    await run.report.timed('ledger', () =>
      ledger.record({
        userId: task.userId,
        conversationId: task.conversationId,
        day: localDay(task.createdAt, deps.settings.timeZone),
        at: task.createdAt,
        messageName: task.msgId,
        promptTokens: answer.promptTokens ?? promptTokensEstimate,
        completionTokens: answer.completionTokens ?? utf8ByteBound.count(answer.text),
        ...(estimated ? { estimated: true } : {}),
        model: answer.model,
        durationMs: Math.max(0, deps.clock.now() - task.receivedAt),
      }),
    );
  } catch (error) {
    run.log.warn('reply.usage_not_recorded', { error: describeError(error) });
  }
}

/** `\usage`: the person's questions and tokens today and this month, and their limits when set. */
export async function showUsage(run: ReplyRun): Promise<ReplyOutcome> {
  const { deps, task } = run;
  const ledger = deps.ledger;
  if (ledger === undefined) return deliverNotice(run, USAGE_UNAVAILABLE_MESSAGE, 'usage');
  try {
    const today = localDay(deps.clock.now(), deps.settings.timeZone);
    const limit = deps.settings.dailyMessageLimit;
    const [summary, used] = await run.report.timed('ledger', () =>
      Promise.all([
        ledger.summarize(task.userId, { today, month: today.slice(0, 7) }),
        limit > 0 && deps.usage.used !== undefined ? deps.usage.used(task.userId, today, limit) : Promise.resolve(undefined),
      ]),
    );
    const perMinute = deps.settings.rateLimitPerMinute ?? 0;
    return deliverNotice(
      run,
      usageMessage(summary, {
        ...(used !== undefined ? { daily: { used, limit } } : {}),
        ...(perMinute > 0 ? { perMinute } : {}),
      }),
      'usage',
    );
  } catch (error) {
    run.log.error('reply.usage_unavailable', { error: describeError(error) });
    return deliverNotice(run, USAGE_UNAVAILABLE_MESSAGE, 'usage');
  }
}
