import type { UsageSummary, UsageTotals } from '../../history/usage-ledger';

/** The limits a person's `\usage` shows, when set. */
export interface UsageLimits {
  /** DAILY_MESSAGE_LIMIT and the questions counted today (answered or in flight), when a limit is set. */
  daily?: { used: number; limit: number };
  /** RATE_LIMIT_PER_MINUTE, when set. */
  perMinute?: number;
}

/** What users see when their usage cannot be read. */
export const USAGE_UNAVAILABLE_MESSAGE =
  '抱歉，暂时无法读取用量，请稍后再试。\n\nSorry, your usage cannot be read right now. Please try again later.';

const number = (value: number): string => Math.max(0, Math.round(value)).toLocaleString('en-US');

const line = (totals: UsageTotals, words: { questions: string; tokens: string; prompt: string; completion: string; separator: string }): string =>
  `${number(totals.questions)} ${words.questions}${words.separator}${number(totals.promptTokens + totals.completionTokens)} ${words.tokens}` +
  `（${words.prompt} ${number(totals.promptTokens)} + ${words.completion} ${number(totals.completionTokens)}）`;

/**
 * `\usage`: the person's questions and tokens today and this month, then their daily limit (used/limit)
 * and per-minute limit when set. Chinese first, then English, like every bot message. Tokens are the
 * provider's counts, or the bot's estimate where a provider reports none.
 */
export function usageMessage(summary: UsageSummary, limits: UsageLimits = {}): string {
  const zh = { questions: '次提问', tokens: 'tokens', prompt: '输入', completion: '输出', separator: '，' };
  const en = { questions: 'questions', tokens: 'tokens', prompt: 'prompt', completion: 'completion', separator: ', ' };
  const english = (totals: UsageTotals): string => line(totals, en).replace('（', ' (').replace('）', ')');
  const chinese = [`**你的用量**`, `- 今天：${line(summary.today, zh)}`, `- 本月：${line(summary.month, zh)}`];
  const englishLines = [`**Your usage**`, `- Today: ${english(summary.today)}`, `- This month: ${english(summary.month)}`];
  if (limits.daily !== undefined && limits.daily.limit > 0) {
    const used = Math.min(limits.daily.used, limits.daily.limit);
    chinese.push(`- 每日额度：已用 ${number(used)}/${number(limits.daily.limit)}`);
    englishLines.push(`- Daily limit: ${number(used)}/${number(limits.daily.limit)} used`);
  }
  if (limits.perMinute !== undefined && limits.perMinute > 0) {
    chinese.push(`- 每分钟最多 ${number(limits.perMinute)} 次提问`);
    englishLines.push(`- At most ${number(limits.perMinute)} questions a minute`);
  }
  return `${chinese.join('\n')}\n\n${englishLines.join('\n')}`;
}

/**
 * The message for a question over RATE_LIMIT_PER_MINUTE: how many questions a minute are allowed and in
 * how many seconds (`secondsUntilNextMinute`) to ask again. The question was not sent to the model.
 */
export function rateLimitMessage(limit: number, retryAfterSeconds: number): string {
  const seconds = Math.min(60, Math.max(1, Math.ceil(retryAfterSeconds)));
  return (
    `提问太快了：每分钟最多 ${number(limit)} 次。请 ${seconds} 秒后再试。\n\n` +
    `You are asking too fast: at most ${number(limit)} question${limit === 1 ? '' : 's'} a minute. Please try again in ${seconds} second${seconds === 1 ? '' : 's'}.`
  );
}
