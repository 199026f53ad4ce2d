/**
 * Characters one AI card shows. Cards are reported to stop rendering around 3,000 CJK characters, so a
 * longer answer continues in a next card; 2,800 leaves room for the continuation label.
 */
export const CARD_MAX_CHARS = 2_800;

/** Where to cut `text` (longer than `max`): a paragraph, else a line, a sentence, a space; never half a surrogate pair. */
function cutPoint(text: string, max: number): number {
  const window = text.slice(0, max);
  const floor = Math.floor(max / 2);
  for (const pattern of [/\n\n/g, /\n/g, /[\u3002\uff01\uff1f.!?]\s?/g, /\s/g]) {
    let best = -1;
    for (const match of window.matchAll(pattern)) {
      const end = match.index + match[0].length;
      if (end >= floor && end <= max) best = end;
    }
    if (best > 0) return best;
  }
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

/**
 * The cards an answer needs: each at most `max` characters, continuation cards labelled `(2)`, `(3)`, ...
 * A card's text depends only on the beginning of the answer, so while the answer streams a full card never
 * changes again and can be finalized at once.
 */
export function cardSegments(text: string, max: number = CARD_MAX_CHARS): string[] {
  const segments: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = cutPoint(rest, max);
    segments.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  // Whitespace left after a cut is no card: an empty "(2)" card would be created, and stay when the answer ends there.
  if (rest !== '' || segments.length === 0) segments.push(rest);
  return segments.map((segment, index) => (index === 0 ? segment : `_(${index + 1})_\n\n${segment}`));
}
