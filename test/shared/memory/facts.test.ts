import { boundItems, dedupe, factKey, mergeItems, mergeStates, shorten, withinBounds } from '../../../shared/memory/facts';

const BOUNDS = { maxItems: 3, maxBytes: 60, maxFactChars: 20 };

describe('facts', () => {
  it('compares facts by their words, whatever the case and spacing', () => {
    expect(factKey('  My name is   Zhang San ')).toBe(factKey('my name is zhang san'));
    expect(dedupe(['Likes tea', ' likes  TEA ', '', '   ', 'Works on payments'])).toEqual(['Likes tea', 'Works on payments']);
  });

  it('drops the oldest facts first to stay within the count and the bytes, and shortens a fact that is too long', () => {
    expect(boundItems(['a', 'b', 'c', 'd'], BOUNDS)).toEqual({ items: ['b', 'c', 'd'], dropped: 1 });
    const long = 'x'.repeat(25);
    expect(boundItems([long], BOUNDS).items).toEqual([`${'x'.repeat(19)}…`]);
    // Three facts of 20 bytes fit 60 bytes; a fourth pushes the first out, a 2-byte-character one the next too.
    expect(boundItems(['a'.repeat(20), 'b'.repeat(20), '张'.repeat(7)], BOUNDS)).toEqual({ items: ['b'.repeat(20), '张'.repeat(7)], dropped: 1 });
    expect(withinBounds(['a', 'b', 'c'], BOUNDS)).toBe(true);
    expect(withinBounds(['a', 'b', 'c', 'd'], BOUNDS)).toBe(false);
  });

  it('shortens by characters, never splitting one', () => {
    expect(shorten('😀😀😀😀', 3)).toBe('😀😀…');
    expect(shorten('short', 10)).toBe('short');
  });

  it('merges concurrent changes: what we added is added, what we removed is removed, what they did stays', () => {
    const base = ['name Zhang San', 'team payments'];
    const ours = ['name Zhang San', 'team billing', 'likes tea'];
    const current = ['name Zhang San', 'team payments', 'release on the 15th'];
    expect(mergeItems(base, ours, current)).toEqual(['name Zhang San', 'release on the 15th', 'team billing', 'likes tea']);
  });

  it('keeps a fact another run added while ours forgot everything', () => {
    expect(mergeItems(['a', 'b'], [], ['a', 'b', 'c'])).toEqual(['c']);
  });

  it('does not bring back a fact another run forgot', () => {
    expect(mergeItems(['a', 'b'], ['a', 'b', 'c'], ['a'])).toEqual(['a', 'c']);
  });

  it('keeps the later learned time of the two and the bounds after a merge', () => {
    const merge = mergeStates(BOUNDS);
    expect(merge({ items: ['a'], learnedUntil: 5 }, { items: ['a', 'b', 'c'], learnedUntil: 9 }, { items: ['a', 'x', 'y'], learnedUntil: 7 })).toEqual({
      items: ['y', 'b', 'c'],
      learnedUntil: 9,
    });
  });
});
