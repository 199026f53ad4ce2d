import { rateLimitMessage, usageMessage } from '../../../../shared/core/reply/usage-messages';

const SUMMARY = {
  today: { questions: 3, promptTokens: 1200, completionTokens: 345 },
  month: { questions: 41, promptTokens: 52_000, completionTokens: 9_100 },
};

describe('usageMessage', () => {
  it('tells questions and tokens today and this month, Chinese first then English', () => {
    const text = usageMessage(SUMMARY);
    const [chinese = '', english = ''] = text.split('\n\n');
    expect(chinese).toContain('今天：3 次提问，1,545 tokens（输入 1,200 + 输出 345）');
    expect(chinese).toContain('本月：41 次提问，61,100 tokens（输入 52,000 + 输出 9,100）');
    expect(english).toContain('Today: 3 questions, 1,545 tokens (prompt 1,200 + completion 345)');
    expect(english).toContain('This month: 41 questions, 61,100 tokens (prompt 52,000 + completion 9,100)');
    expect(text).not.toMatch(/额度|limit|每分钟|minute/);
  });

  it('adds the daily limit as used/limit and the per-minute limit when they are set', () => {
    const text = usageMessage(SUMMARY, { daily: { used: 3, limit: 50 }, perMinute: 5 });
    expect(text).toContain('每日额度：已用 3/50');
    expect(text).toContain('Daily limit: 3/50 used');
    expect(text).toContain('每分钟最多 5 次提问');
    expect(text).toContain('At most 5 questions a minute');
    expect(text.indexOf('每日额度')).toBeLessThan(text.indexOf('Daily limit'));
  });

  it('never shows more used than the limit, and leaves out limits of 0', () => {
    expect(usageMessage(SUMMARY, { daily: { used: 51, limit: 50 } })).toContain('50/50');
    expect(usageMessage(SUMMARY, { daily: { used: 0, limit: 0 }, perMinute: 0 })).toBe(usageMessage(SUMMARY));
  });
});

describe('rateLimitMessage', () => {
  it('says how many questions a minute are allowed and in how many seconds to try again, in both languages', () => {
    expect(rateLimitMessage(5, 42)).toBe(
      '提问太快了：每分钟最多 5 次。请 42 秒后再试。\n\nYou are asking too fast: at most 5 questions a minute. Please try again in 42 seconds.',
    );
    expect(rateLimitMessage(1, 1)).toContain('at most 1 question a minute. Please try again in 1 second.');
  });

  it('keeps the wait between 1 and 60 seconds', () => {
    expect(rateLimitMessage(5, 0.2)).toContain('in 1 second.');
    expect(rateLimitMessage(5, 600)).toContain('in 60 seconds.');
  });
});
