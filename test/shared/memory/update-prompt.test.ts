import type { Exchange } from '../../../shared/history/exchange';
import { buildUpdatePrompt, parseMemoryUpdate, updateInstruction } from '../../../shared/memory/update-prompt';

const BOUNDS = { maxItems: 3, maxBytes: 100, maxFactChars: 40 };

const exchange = (at: number, user: string, assistant = 'ok'): Exchange => ({ id: `e${at}`, at, user, assistant });

/** The JSON the update prompt's user message carries. */
function payload(content: unknown): { memories: string[]; exchanges: Array<{ date: string; user: string; assistant: string }> } {
  const text = String(content);
  return JSON.parse(text.slice(text.indexOf('\n') + 1)) as { memories: string[]; exchanges: Array<{ date: string; user: string; assistant: string }> };
}

describe('updateInstruction', () => {
  it('says "JSON" (OpenAI needs it for json_object), asks for the complete list, forbids secrets and names the bounds', () => {
    const text = updateInstruction(BOUNDS);
    expect(text).toMatch(/JSON object \{"memories": \[/);
    expect(text).toMatch(/complete new list/);
    expect(text).toMatch(/never store secrets: passwords, API keys/);
    expect(text).toMatch(/At most 3 facts, each at most 40 characters/);
  });
});

describe('buildUpdatePrompt', () => {
  it('sends the current list and the exchanges with their dates as JSON after the instruction', () => {
    const at = Date.UTC(2026, 10, 21, 9);
    const prompt = buildUpdatePrompt({ items: ['Likes tea'], exchanges: [exchange(at, 'my name is Zhang San', 'Hello Zhang San')], bounds: BOUNDS, maxInputBytes: 10_000 });
    expect(prompt.sent).toBe(1);
    expect(prompt.messages[0]).toEqual({ role: 'system', content: updateInstruction(BOUNDS) });
    expect(payload(prompt.messages[1]?.content)).toEqual({
      memories: ['Likes tea'],
      exchanges: [{ date: '2026-11-21', user: 'my name is Zhang San', assistant: 'Hello Zhang San' }],
    });
  });

  it('cuts each exchange to its share of the budget, the question keeping more than the answer', () => {
    const prompt = buildUpdatePrompt({ items: [], exchanges: [exchange(1, 'q'.repeat(5000), 'a'.repeat(5000)), exchange(2, 'short', 'a'.repeat(5000))], bounds: BOUNDS, maxInputBytes: 3000 });
    const [first, second] = payload(prompt.messages[1]?.content).exchanges;
    expect(Buffer.byteLength(`${first?.user ?? ''}${first?.assistant ?? ''}`)).toBeLessThanOrEqual(1500);
    expect(first?.user.length).toBeGreaterThan(first?.assistant.length ?? 0);
    expect(first?.user.endsWith('…')).toBe(true);
    // A short question leaves its share to the answer.
    expect(second?.user).toBe('short');
    expect(Buffer.byteLength(second?.assistant ?? '')).toBeGreaterThan(1000);
  });

  it('leaves the oldest exchanges out when there are too many for a useful share each', () => {
    const many = Array.from({ length: 30 }, (_, i) => exchange(i + 1, `question ${i + 1}`));
    const prompt = buildUpdatePrompt({ items: [], exchanges: many, bounds: BOUNDS, maxInputBytes: 4000 });
    expect(prompt.sent).toBe(10);
    expect(payload(prompt.messages[1]?.content).exchanges.map((item) => item.user)).toEqual(many.slice(-10).map((item) => item.user));
  });
});

describe('parseMemoryUpdate', () => {
  it('reads the complete new list, without blank facts and repeats', () => {
    expect(parseMemoryUpdate('{"memories": ["Name: Zhang San", " ", "name: zhang san", "Team: payments"]}', BOUNDS)).toEqual({
      ok: true,
      items: ['Name: Zhang San', 'Team: payments'],
    });
    expect(parseMemoryUpdate('{"memories": []}', BOUNDS)).toEqual({ ok: true, items: [] });
  });

  it('accepts the object inside a Markdown code fence', () => {
    expect(parseMemoryUpdate('```json\n{"memories": ["Likes tea"]}\n```', BOUNDS)).toEqual({ ok: true, items: ['Likes tea'] });
  });

  it.each([
    ['not JSON', 'Sure! Here is the list: Likes tea', 'invalid-json'],
    ['cut-off JSON', '{"memories": ["Likes', 'invalid-json'],
    ['an array', '["Likes tea"]', 'wrong-shape'],
    ['another key', '{"facts": ["Likes tea"]}', 'wrong-shape'],
    ['a string list', '{"memories": "Likes tea"}', 'wrong-shape'],
    ['non-strings', '{"memories": ["Likes tea", 42]}', 'wrong-shape'],
    ['objects', '{"memories": [{"fact": "Likes tea"}]}', 'wrong-shape'],
    ['null', 'null', 'wrong-shape'],
    ['too many facts', '{"memories": ["a", "b", "c", "d"]}', 'over-bounds'],
    ['a fact too long', `{"memories": ["${'x'.repeat(41)}"]}`, 'over-bounds'],
    ['too many bytes', `{"memories": ["${'张'.repeat(13)}", "${'李'.repeat(13)}", "${'王'.repeat(13)}"]}`, 'over-bounds'],
  ])('refuses %s', (_what, text, reason) => {
    expect(parseMemoryUpdate(text, BOUNDS)).toEqual({ ok: false, reason });
  });
});
