/**
 * The list of facts itself: how facts compare, how the list is kept within its bounds, and how two
 * concurrent changes of it combine. Pure functions, shared by every way the built-in memory changes.
 */

/** How large one person's memory may grow. */
export interface MemoryBounds {
  /** Most facts (MEMORY_MAX_ITEMS). */
  maxItems: number;
  /** Most UTF-8 bytes of all facts together, so the prompt part stays small whatever the facts are. */
  maxBytes: number;
  /** Most characters of one fact: a fact is a sentence, not a document. */
  maxFactChars: number;
}

/** What one person's memory holds, apart from where it is stored. */
export interface MemoryState {
  /** The facts, oldest first (the order `\memory` numbers them). */
  items: string[];
  /** The time (epoch ms) of the newest exchange learned from; older exchanges are not learned again. */
  learnedUntil: number;
}

/** The key two facts are the same by: trimmed, inner whitespace collapsed, case folded. */
export function factKey(fact: string): string {
  return fact.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** A fact as stored: trimmed, inner whitespace collapsed to single spaces. */
export function cleanFact(fact: string): string {
  return fact.trim().replace(/\s+/g, ' ');
}

/** Characters of a fact as a person counts them (code points, so an emoji is one). */
export function factChars(fact: string): number {
  return Array.from(fact).length;
}

/** UTF-8 bytes of all facts together. */
export function factBytes(items: readonly string[]): number {
  return items.reduce((sum, item) => sum + Buffer.byteLength(item, 'utf8'), 0);
}

/** `items` without empty facts and without repeats (the first of equal facts is kept). */
export function dedupe(items: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of items) {
    const fact = cleanFact(item);
    const key = factKey(fact);
    if (fact === '' || seen.has(key)) continue;
    seen.add(key);
    out.push(fact);
  }
  return out;
}

/** Whether a list is within the bounds as it is (nothing would be dropped). */
export function withinBounds(items: readonly string[], bounds: MemoryBounds): boolean {
  return items.length <= bounds.maxItems && factBytes(items) <= bounds.maxBytes && items.every((item) => factChars(item) <= bounds.maxFactChars);
}

/**
 * `items` deduplicated and cut to the bounds by dropping the oldest facts first (a fact over `maxFactChars`
 * is shortened, ending with `…`): a new fact always finds room, and what was learned longest ago goes.
 * Answers the kept facts and how many were dropped.
 */
export function boundItems(items: readonly string[], bounds: MemoryBounds): { items: string[]; dropped: number } {
  const kept = dedupe(items).map((item) => shorten(item, bounds.maxFactChars));
  let dropped = 0;
  while (kept.length > 0 && (kept.length > bounds.maxItems || factBytes(kept) > bounds.maxBytes)) {
    kept.shift();
    dropped += 1;
  }
  return { items: kept, dropped };
}

/** `fact` cut to `maxChars` characters, with `…` as the last one when it was cut. */
export function shorten(fact: string, maxChars: number): string {
  const chars = Array.from(fact);
  return chars.length <= maxChars ? fact : `${chars.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}

/**
 * A three-way merge of a change with what another run wrote meanwhile: `ours` was made from `base`, and
 * `current` is what the store holds now. The result is `current` without the facts `ours` removed from
 * `base`, plus the facts `ours` added, so neither run's change is lost: two `learn`s each adding a fact
 * keep both, a `forget` of one fact during a `learn` still forgets it, and a fact `ours` corrected
 * (removed and added in its new wording) is corrected in `current` too. Facts compare by `factKey`.
 */
export function mergeItems(base: readonly string[], ours: readonly string[], current: readonly string[]): string[] {
  const baseKeys = new Set(base.map(factKey));
  const ourKeys = new Set(ours.map(factKey));
  const removed = new Set([...baseKeys].filter((key) => !ourKeys.has(key)));
  const added = ours.filter((item) => !baseKeys.has(factKey(item)));
  return dedupe([...current.filter((item) => !removed.has(factKey(item))), ...added]);
}

/** Whether two states hold the same facts in the same order and the same learned time. */
export function sameState(a: MemoryState, b: MemoryState): boolean {
  return a.learnedUntil === b.learnedUntil && a.items.length === b.items.length && a.items.every((item, i) => item === b.items[i]);
}

/**
 * The merge of two states (see `mergeItems`), cut to the bounds; `learnedUntil` is the later of the two, so
 * an exchange either run learned is not learned again.
 */
export function mergeStates(bounds: MemoryBounds): (base: MemoryState, ours: MemoryState, current: MemoryState) => MemoryState {
  return (base, ours, current) => ({
    items: boundItems(mergeItems(base.items, ours.items, current.items), bounds).items,
    learnedUntil: Math.max(current.learnedUntil, ours.learnedUntil),
  });
}
