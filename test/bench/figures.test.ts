import { FIGURE_KEYS, figuresTable, missedGoals, type Figures } from '../../bench/figures';

/** Figures that meet every goal; a test changes the one it looks at. */
function figures(overrides: Partial<Figures>): Figures {
  const all = Object.fromEntries(FIGURE_KEYS.map((key) => [key, 0])) as Figures;
  return { ...all, reply_cold_ms: 100, reply_peak_rss_mb: 80, reply_cards_cold_ms: 105, reply_cards_peak_rss_mb: 82, first_text_ratio: 11, ...overrides };
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
});
