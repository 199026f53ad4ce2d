/** The figures `npm run bench` reports, in the order and with the JSON keys of issue 5, and their goals. */
export const FIGURE_KEYS = [
  'ack_p50_ms',
  'ack_p99_ms',
  'conversation_cold_ms',
  'node_bare_ms',
  'reply_overhead_p50_ms',
  'reply_overhead_p99_ms',
  'reply_cold_ms',
  'reply_peak_rss_mb',
  'oss_requests_per_message',
  'bundle_conversation_kb',
  'bundle_reply_kb',
  'prompt_tokens_p99',
  'gb_seconds_per_1000_messages',
] as const;

export type FigureKey = (typeof FIGURE_KEYS)[number];
export type Figures = Record<FigureKey, number>;

/** A goal: its text for the table and the check; `undefined` for figures that are only reported. */
export interface Goal {
  text: string;
  met?: (value: number) => boolean;
}

const atMost = (limit: number, unit: string, note = ''): Goal => ({
  text: `${['≤', String(limit), unit].filter(Boolean).join(' ')}${note}`,
  met: (value) => value <= limit,
});

/** The goals of issue 5; the prompt bound is the MAX_CONTEXT_TOKENS the 200-turn run used. */
export function goals(maxContextTokens: number): Record<FigureKey, Goal> {
  return {
    ack_p50_ms: atMost(1, 'ms'),
    ack_p99_ms: atMost(3, 'ms'),
    conversation_cold_ms: atMost(30, 'ms'),
    node_bare_ms: { text: 'baseline' },
    reply_overhead_p50_ms: atMost(8, 'ms'),
    reply_overhead_p99_ms: atMost(20, 'ms'),
    reply_cold_ms: atMost(120, 'ms'),
    reply_peak_rss_mb: atMost(90, 'MB'),
    oss_requests_per_message: atMost(4, ''),
    bundle_conversation_kb: atMost(300, 'KB'),
    bundle_reply_kb: { text: 'reported' },
    prompt_tokens_p99: atMost(maxContextTokens, '', ' (MAX_CONTEXT_TOKENS)'),
    gb_seconds_per_1000_messages: { text: 'reported' },
  };
}

/** Keys of the goals `figures` misses. */
export function missedGoals(figures: Figures, maxContextTokens: number): FigureKey[] {
  const all = goals(maxContextTokens);
  return FIGURE_KEYS.filter((key) => all[key].met !== undefined && !(all[key].met as (value: number) => boolean)(figures[key]));
}

/** The figures as a Markdown table (figure, value, goal, result), ready for the console and the README. */
export function figuresTable(figures: Figures, maxContextTokens: number): string {
  const all = goals(maxContextTokens);
  const rows = FIGURE_KEYS.map((key) => {
    const goal = all[key];
    const result = goal.met === undefined ? '—' : goal.met(figures[key]) ? 'pass' : 'FAIL';
    return `| \`${key}\` | ${figures[key]} | ${goal.text} | ${result} |`;
  });
  return ['| figure | value | goal | result |', '|---|---:|---|---|', ...rows].join('\n');
}
