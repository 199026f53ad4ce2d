/**
 * Usage figures and the per-minute limit through the reply core: each answered question lands in the
 * ledger once, `\usage` sums it (under concurrency too), RATE_LIMIT_PER_MINUTE refuses what is over it
 * with when to ask again, and failed questions do not count.
 */
import { handleReply } from '../../../../shared/core/reply/handle-reply';
import { MinuteUsage } from '../../../../shared/history/minute-usage';
import { UsageLedger } from '../../../../shared/history/usage-ledger';
import { guarantee } from '../../../helpers/guarantee';
import { errors } from '../../../helpers/ports';
import { replySetup } from '../../../helpers/reply-deps';

/** The reply core with the usage ledger and the minute counter on its in-memory store. */
function setup(settings: { dailyMessageLimit?: number; rateLimitPerMinute?: number } = {}) {
  const base = replySetup({ settings });
  const ledger = new UsageLedger(base.store, 'history/');
  const deps = { ...base.deps, ledger, minuteUsage: new MinuteUsage(base.store, 'history/') };
  return { ...base, deps, ledger };
}

/** Lets a run's after-answer writes (the ledger's) land. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe(guarantee('Access control and daily limit'), () => {
  it('records each answered question once with the provider\'s tokens, and \\usage shows today and this month', async () => {
    const { deps, task, webhook, ledger, clock } = setup({ dailyMessageLimit: 10 });
    const event = task('Q1');
    await handleReply(event, { ...deps, invocation: { requestId: 'r1' } });
    await handleReply(event, { ...deps, invocation: { requestId: 'r2' } });
    await handleReply(task('Q2'), deps);
    await settle();
    const today = new Date(clock.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const summary = await ledger.summarize('manager1234', { today, month: today.slice(0, 7) });
    expect(summary.month).toEqual({ questions: 2, promptTokens: 20, completionTokens: 10 });
    expect(await handleReply(task('\\usage'), deps)).toBe('usage');
    const text = webhook.texts().at(-1) ?? '';
    expect(text).toContain('2 questions, 30 tokens (prompt 20 + completion 10)');
    expect(text).toContain('Daily limit: 2/10 used');
  });

  it('does not record a question that got only an error message', async () => {
    const { deps, task, llm, ledger, clock } = setup();
    llm.answer(errors.timeout());
    expect(await handleReply(task('Q'), deps)).toBe('llm_failed');
    const today = new Date(clock.now() + 8 * 3600_000).toISOString().slice(0, 10);
    expect((await ledger.summarize('manager1234', { today, month: today.slice(0, 7) })).month.questions).toBe(0);
  });

  it('sums 20 concurrent questions of one user exactly', async () => {
    const { deps, task, ledger, clock } = setup();
    const events = Array.from({ length: 20 }, (_, n) => task(`Q${n}`));
    const outcomes = await Promise.all(events.map((event, n) => handleReply(event, { ...deps, invocation: { requestId: `r${n}` } })));
    expect(outcomes.every((outcome) => outcome === 'answered')).toBe(true);
    const today = new Date(clock.now() + 8 * 3600_000).toISOString().slice(0, 10);
    expect((await ledger.summarize('manager1234', { today, month: today.slice(0, 7) })).today).toEqual({ questions: 20, promptTokens: 200, completionTokens: 100 });
  });

  it('refuses questions over RATE_LIMIT_PER_MINUTE with when to ask again, without asking the LLM', async () => {
    const { deps, task, llm, webhook } = setup({ rateLimitPerMinute: 2 });
    expect(await handleReply(task('Q1'), deps)).toBe('answered');
    expect(await handleReply(task('Q2'), deps)).toBe('answered');
    expect(await handleReply(task('Q3'), deps)).toBe('rate_limited');
    expect(llm.prompts).toHaveLength(2);
    expect(webhook.texts().at(-1)).toMatch(/try again in \d+ seconds?/);
  });

  it('admits exactly the limit of 20 concurrent questions in one minute', async () => {
    const { deps, task, llm } = setup({ rateLimitPerMinute: 5 });
    // Sent within one second, well inside one UTC minute.
    const events = Array.from({ length: 20 }, (_, n) => task(`Q${n}`, { createdAt: 1732000020000 + n * 10 }));
    const outcomes = await Promise.all(events.map((event, n) => handleReply(event, { ...deps, invocation: { requestId: `r${n}` } })));
    expect(outcomes.filter((outcome) => outcome === 'answered')).toHaveLength(5);
    expect(outcomes.filter((outcome) => outcome === 'rate_limited')).toHaveLength(15);
    expect(llm.prompts).toHaveLength(5);
  });

  it('does not count a failed question against the per-minute limit, nor a rate-limited one against the daily limit', async () => {
    const { deps, task, llm } = setup({ rateLimitPerMinute: 1, dailyMessageLimit: 2 });
    llm.answer(errors.timeout(), 'A');
    expect(await handleReply(task('Q1'), deps)).toBe('llm_failed');
    expect(await handleReply(task('Q2'), deps)).toBe('answered');
    expect(await handleReply(task('Q3'), deps)).toBe('rate_limited');
    // The rate-limited Q3 gave its daily count back: one more question still fits today (in a later minute).
    const later = { ...deps, settings: { ...deps.settings, rateLimitPerMinute: 0 } };
    expect(await handleReply(task('Q4'), later)).toBe('answered');
  });
});
