import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIGURE_KEYS, figuresTable, MEMORY_OSS_REQUESTS, missedGoals, PICTURE_RSS_GOAL_MB, type Figures } from '../../bench/figures';
import { readFunctionSizing } from '../../bench/s-yaml-sizing';

/** Figures that meet every goal; a test changes the one it looks at. */
function figures(overrides: Partial<Figures>): Figures {
  const all = Object.fromEntries(FIGURE_KEYS.map((key) => [key, 0])) as Figures;
  return { ...all, oss_requests_per_message: 5, oss_requests_per_message_memory: 5 + MEMORY_OSS_REQUESTS, reply_cold_ms: 100, reply_peak_rss_mb: 80, reply_cards_cold_ms: 105, reply_cards_peak_rss_mb: 82, first_text_ratio: 11, ...overrides };
}

describe('bench goals', () => {
  it('holds the card-configured reply to the webhook-only one of the same run, plus 10 %', () => {
    expect(missedGoals(figures({}), 2000)).toEqual([]);
    expect(missedGoals(figures({ reply_cards_cold_ms: 110 }), 2000)).toEqual([]);
    expect(missedGoals(figures({ reply_cards_cold_ms: 110.2, reply_cards_peak_rss_mb: 88.1 }), 2000)).toEqual(['reply_cards_cold_ms', 'reply_cards_peak_rss_mb']);
    expect(figuresTable(figures({}), 2000)).toContain('| `reply_cards_cold_ms` | 105 | ≤ 110 ms (`reply_cold_ms` + 10 %) | pass |');
  });

  it('wants answer text in a card at least 5 times sooner than through the webhook', () => {
    expect(missedGoals(figures({ first_text_ratio: 4.9 }), 2000)).toEqual(['first_text_ratio']);
    expect(figuresTable(figures({}), 2000)).toContain('| `first_text_ratio` | 11 | ≥ 5 × (webhook / card) | pass |');
  });

  it('holds the long-term memory to 2 ms on the answer path, one update call per message, and its OSS requests over the same run\'s history', () => {
    expect(missedGoals(figures({ memory_answer_overhead_p50_ms: 2, memory_update_calls_per_message: 1 }), 2000)).toEqual([]);
    expect(missedGoals(figures({ memory_answer_overhead_p50_ms: 2.1, memory_update_calls_per_message: 1.02, oss_requests_per_message_memory: 11.5 }), 2000)).toEqual([
      'memory_answer_overhead_p50_ms',
      'memory_update_calls_per_message',
      'oss_requests_per_message_memory',
    ]);
    expect(figuresTable(figures({ oss_requests_per_message: 6, oss_requests_per_message_memory: 12.25 }), 2000)).toContain(
      '| `oss_requests_per_message_memory` | 12.25 | ≤ 12.25 (`oss_requests_per_message` + 6.25: 1 before the answer, 5.25 after) | pass |',
    );
  });

  it('holds the reply with a 5 MB picture (the limit) and its follow-up under the memory s.yaml gives it, with a margin', () => {
    const { memoryMb } = readFunctionSizing(path.join(__dirname, '../../s.yaml'), ['reply']).reply as { memoryMb: number };
    expect(PICTURE_RSS_GOAL_MB).toBeLessThanOrEqual(memoryMb - 32);
    expect(readFileSync(path.join(__dirname, '../../s.yaml'), 'utf8')).toContain('reply_peak_rss_mb_picture');
    expect(missedGoals(figures({ reply_peak_rss_mb_picture: PICTURE_RSS_GOAL_MB }), 2000)).toEqual([]);
    expect(missedGoals(figures({ reply_peak_rss_mb_picture: PICTURE_RSS_GOAL_MB + 0.1 }), 2000)).toEqual(['reply_peak_rss_mb_picture']);
  });
});
