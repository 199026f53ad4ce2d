import fc from 'fast-check';
import { CARD_MAX_CHARS, cardSegments } from '../../../shared/delivery/card-segments';

/** The continuation label of card `n` (2, 3, ...). */
const label = (n: number): string => `_(${n})_\n\n`;

/** A segment without its continuation label. */
function body(segment: string, index: number): string {
  if (index === 0) return segment;
  expect(segment.startsWith(label(index + 1))).toBe(true);
  return segment.slice(label(index + 1).length);
}

/** True when `text` holds a lone surrogate (half of a pair). */
function hasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

/** Text made of words, sentences, lines and paragraphs, with CJK and astral characters. */
const richText = fc
  .array(
    fc.oneof(
      fc.constantFrom('word', '字', '😀', 'a', 'bc', '中文', '𝄞', ' ', '\n', '\n\n', '. ', '。', '!', '? ', '  ', '\t'),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
    ),
    { maxLength: 80 },
  )
  .map((pieces) => pieces.join(''));

describe('cardSegments', () => {
  it('keeps an answer that fits one card as that one card, unchanged', () => {
    const text = `# Title\n\n${'答'.repeat(CARD_MAX_CHARS - 20)}\n`;
    expect(cardSegments(text)).toEqual([text]);
    expect(cardSegments('short')).toEqual(['short']);
  });

  it('cuts a long answer at a paragraph rather than at a line, sentence or space', () => {
    const first = `${'a'.repeat(30)}\n\n${'b'.repeat(10)}.\nccc dd`;
    expect(cardSegments(`${first}${'e'.repeat(40)}`, 60)[0]).toBe('a'.repeat(30));
  });

  it('cuts at a line when no paragraph ends in the second half of the card', () => {
    const text = `${'a'.repeat(32)}\n${'b'.repeat(10)}. ccc ${'d'.repeat(30)}`;
    expect(cardSegments(text, 60)[0]).toBe('a'.repeat(32));
  });

  it('cuts after a sentence when no line ends in the second half of the card', () => {
    const text = `${'a'.repeat(20)} ${'b'.repeat(15)}。${'c'.repeat(5)} ${'d'.repeat(40)}`;
    expect(cardSegments(text, 60)[0]).toBe(`${'a'.repeat(20)} ${'b'.repeat(15)}。`);
  });

  it('cuts at a space when the card holds no sentence end in its second half', () => {
    const text = `${'a'.repeat(40)} ${'b'.repeat(10)} ${'c'.repeat(30)}`;
    expect(cardSegments(text, 60)[0]).toBe(`${'a'.repeat(40)} ${'b'.repeat(10)}`);
  });

  it('ignores a separator in the first half of the card, so no card is left nearly empty', () => {
    const text = `ab\n\n${'x'.repeat(100)}`;
    expect(cardSegments(text, 60)[0]).toBe(`ab\n\n${'x'.repeat(56)}`);
  });

  it('never cuts a surrogate pair in half', () => {
    // 59 is odd: a hard cut at 59 would fall between the halves of the 30th emoji.
    const segments = cardSegments('😀'.repeat(100), 59);
    expect(segments.length).toBeGreaterThan(1);
    for (const segment of segments) expect(hasLoneSurrogate(segment)).toBe(false);
    expect(segments.map(body).join('')).toBe('😀'.repeat(100));
  });

  it('labels continuation cards (2), (3), ... and leaves the first card unlabelled', () => {
    const segments = cardSegments(Array.from({ length: 6 }, (_, n) => `paragraph ${n} ${'x'.repeat(30)}`).join('\n\n'), 60);
    expect(segments.length).toBeGreaterThanOrEqual(3);
    expect(segments[0]?.startsWith('paragraph 0')).toBe(true);
    segments.slice(1).forEach((segment, n) => expect(segment.startsWith(label(n + 2))).toBe(true));
  });

  it('makes no card of the whitespace left after a cut (no empty continuation card)', () => {
    expect(cardSegments(`${'a'.repeat(60)}\n\n`, 60)).toEqual(['a'.repeat(60)]);
    expect(cardSegments(`${'a'.repeat(58)}\n\n \n`, 60)).toEqual(['a'.repeat(58)]);
  });

  it('keeps every card within the budget (plus its label), loses no character but the whitespace at cuts, and splits no surrogate pair', () => {
    fc.assert(
      fc.property(richText, fc.integer({ min: 8, max: 80 }), (text, max) => {
        const segments = cardSegments(text, max);
        segments.forEach((segment, index) => {
          const content = body(segment, index);
          expect(content.length).toBeLessThanOrEqual(max);
          expect(hasLoneSurrogate(content)).toBe(false);
          if (index > 0) expect(content.trim()).not.toBe('');
        });
        const squeeze = (value: string): string => value.replace(/\s+/g, '');
        expect(squeeze(segments.map(body).join(''))).toBe(squeeze(text));
      }),
      { numRuns: 400 },
    );
  });

  it('keeps a card unchanged once a next card exists, however the answer grows', () => {
    fc.assert(
      fc.property(richText, fc.array(richText, { minLength: 1, maxLength: 4 }), fc.integer({ min: 8, max: 80 }), (start, growth, max) => {
        let text = start;
        let before = cardSegments(text, max);
        for (const more of growth) {
          text += more;
          const after = cardSegments(text, max);
          expect(after.length).toBeGreaterThanOrEqual(before.length);
          // Every card but the last (the one still being written) is final.
          expect(after.slice(0, before.length - 1)).toEqual(before.slice(0, -1));
          before = after;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('keeps the first card unchanged once a second card exists, for answers streamed character by character', () => {
    fc.assert(
      fc.property(richText, fc.integer({ min: 8, max: 40 }), (text, max) => {
        let first: string | undefined;
        for (let end = 1; end <= text.length; end += 1) {
          const segments = cardSegments(text.slice(0, end), max);
          if (segments.length < 2) continue;
          first ??= segments[0];
          expect(segments[0]).toBe(first);
        }
      }),
      { numRuns: 150 },
    );
  });
});
