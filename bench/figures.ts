import { round } from './stats';

/** The figures `npm run bench` reports, in the order and with the JSON keys of issues 5, 10, 11 and 12, and their goals. */
export const FIGURE_KEYS = [
  'ack_p50_ms',
  'ack_p99_ms',
  'conversation_cold_ms',
  'node_bare_ms',
  'reply_overhead_p50_ms',
  'reply_overhead_p99_ms',
  'memory_answer_overhead_p50_ms',
  'memory_update_calls_per_message',
  'reply_cold_ms',
  'reply_peak_rss_mb',
  'reply_cards_cold_ms',
  'reply_cards_peak_rss_mb',
  'reply_peak_rss_mb_picture',
  'oss_requests_per_message',
  'oss_requests_per_message_memory',
  'bundle_conversation_kb',
  'bundle_reply_kb',
  'prompt_tokens_p99',
  'gb_seconds_per_1000_messages',
  'thinking_visible_first_ms',
  'thinking_visible_ms',
  'first_text_card_ms',
  'first_text_card_after_token_ms',
  'first_text_webhook_ms',
  'first_text_ratio',
  'card_updates_per_answer',
  'openapi_calls_per_message',
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

const atLeast = (limit: number, unit: string, note = ''): Goal => ({
  text: `${['≥', String(limit), unit].filter(Boolean).join(' ')}${note}`,
  met: (value) => value >= limit,
});

/**
 * OSS requests the long-term memory adds to a message (issue 12), over the history's: the question reads the
 * memory's head (1 GET, in parallel with the history); after the answer, the update of the exchange leaving
 * the window reads the versions (LIST, GET), checks the newest before creating its own (LIST), creates it
 * (PUT), reads the head (GET) and prunes old versions every fourth write (1 DELETE of several: 0.25). That is
 * a message whose exchanges change no fact, as in the bench; one that changes facts also writes the head and
 * lists once more (2 more).
 */
export const MEMORY_OSS_REQUESTS = 6.25;

/**
 * Peak RSS (MB) the reply may reach with a picture at the size limit and its follow-up (issue 11): under
 * s.yaml's reply memorySize, 256 MB, with 32 MB left (more than four of the picture's 6.7 MB strings) for
 * what the bench does not show, such as longer answers.
 */
export const PICTURE_RSS_GOAL_MB = 224;

/** At most `amount` above figure `key` of the same run. */
const plus = (figures: Figures, key: FigureKey, amount: number, note: string): Goal =>
  atMost(round(figures[key] + amount, 2), '', ` (\`${key}\` + ${amount}: ${note})`);

/** At most `percent` % above figure `key` of the same run. */
const notAbove = (figures: Figures, key: FigureKey, percent: number, unit: string): Goal =>
  atMost(round(figures[key] * (1 + percent / 100), 1), unit, ` (\`${key}\` + ${percent} %)`);

/**
 * The goals of issues 5, 10, 11 and 12; the prompt bound is the MAX_CONTEXT_TOKENS the 200-turn run used, and
 * the card-configured reply is held to the webhook-only one of the same run (`figures`).
 */
export function goals(maxContextTokens: number, figures: Figures): Record<FigureKey, Goal> {
  return {
    ack_p50_ms: atMost(1, 'ms'),
    ack_p99_ms: atMost(3, 'ms'),
    conversation_cold_ms: atMost(30, 'ms'),
    node_bare_ms: { text: 'baseline' },
    reply_overhead_p50_ms: atMost(8, 'ms'),
    reply_overhead_p99_ms: atMost(20, 'ms'),
    memory_answer_overhead_p50_ms: atMost(2, 'ms', ' (memory on − off)'),
    memory_update_calls_per_message: atMost(1, ''),
    reply_cold_ms: atMost(120, 'ms'),
    reply_peak_rss_mb: atMost(90, 'MB'),
    reply_cards_cold_ms: notAbove(figures, 'reply_cold_ms', 10, 'ms'),
    reply_cards_peak_rss_mb: notAbove(figures, 'reply_peak_rss_mb', 10, 'MB'),
    reply_peak_rss_mb_picture: atMost(PICTURE_RSS_GOAL_MB, 'MB', ' (s.yaml memorySize 256 MB − 32 MB)'),
    oss_requests_per_message: atMost(7, '', ' (memory off)'),
    oss_requests_per_message_memory: plus(figures, 'oss_requests_per_message', MEMORY_OSS_REQUESTS, '1 before the answer, 5.25 after'),
    bundle_conversation_kb: atMost(300, 'KB'),
    bundle_reply_kb: { text: 'reported' },
    prompt_tokens_p99: atMost(maxContextTokens, '', ' (MAX_CONTEXT_TOKENS)'),
    gb_seconds_per_1000_messages: { text: 'reported' },
    thinking_visible_first_ms: atMost(300, 'ms', ' (fresh instance: bundle load and token fetch included)'),
    thinking_visible_ms: atMost(300, 'ms'),
    first_text_card_ms: { text: 'reported' },
    first_text_card_after_token_ms: atMost(150, 'ms'),
    first_text_webhook_ms: { text: 'reported' },
    first_text_ratio: atLeast(5, '×', ' (webhook / card)'),
    card_updates_per_answer: { text: 'reported' },
    openapi_calls_per_message: { text: 'reported' },
  };
}

/** Keys of the goals `figures` misses. */
export function missedGoals(figures: Figures, maxContextTokens: number): FigureKey[] {
  const all = goals(maxContextTokens, figures);
  return FIGURE_KEYS.filter((key) => all[key].met !== undefined && !(all[key].met as (value: number) => boolean)(figures[key]));
}

/** The figures as a Markdown table (figure, value, goal, result), ready for the console and the README. */
export function figuresTable(figures: Figures, maxContextTokens: number): string {
  const all = goals(maxContextTokens, figures);
  const rows = FIGURE_KEYS.map((key) => {
    const goal = all[key];
    const result = goal.met === undefined ? '—' : goal.met(figures[key]) ? 'pass' : 'FAIL';
    return `| \`${key}\` | ${figures[key]} | ${goal.text} | ${result} |`;
  });
  return ['| figure | value | goal | result |', '|---|---:|---|---|', ...rows].join('\n');
}
