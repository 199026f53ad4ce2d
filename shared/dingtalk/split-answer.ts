/**
 * Splits a long markdown answer into messages that DingTalk both accepts and renders.
 *
 * DingTalk refuses a robot message whose body is over 20,000 bytes (errcode 460101) and stops rendering
 * markdown somewhere past about 3,500 characters, so one long LLM answer becomes several numbered parts.
 * Cuts prefer paragraph boundaries, then line boundaries, then sentences, words and finally single
 * characters (never half of a surrogate pair). A fenced code block is kept whole unless it alone is too
 * long; then each part closes the fence and the next reopens it with the same language tag, so every part
 * renders as valid markdown.
 */

/**
 * Characters per part (JavaScript string length, the UTF-16 count DingTalk's limit is reported in).
 * Default 3,500: longer markdown may stop rendering in the DingTalk client.
 */
export const MAX_PART_CHARS = 3_500;

/**
 * UTF-8 bytes per part, counted as the text travels inside the JSON body (quotes, backslashes, newlines
 * and control characters escaped). Default 16,000: DingTalk refuses bodies over 20,000 bytes, and the rest
 * is room for the title, the `@<staffId>` mention and the JSON around the text. With the default character
 * budget it only binds for text heavy in escapes; it is the limit that matters if `maxChars` is raised.
 */
export const MAX_PART_BYTES = 16_000;

/**
 * Parts per answer. Default 8: a robot may send about 20 messages a minute before DingTalk throttles it
 * (errcode 130101), and one answer should leave most of that budget to the other conversations.
 */
export const MAX_PARTS = 8;

/** Ends the last part when the answer needed more than `maxParts` parts. Bilingual like the other user texts. */
export const PARTS_CUT_NOTE =
  '…（回答过长，其余部分已省略 / the answer was too long for DingTalk; the rest has been cut）';

/** Budgets of {@link splitAnswer}; every field defaults to the constant of the same meaning. */
export interface SplitAnswerOptions {
  /** Characters per part, numbering and note included ({@link MAX_PART_CHARS}). */
  maxChars?: number;
  /** JSON-escaped UTF-8 bytes per part, numbering and note included ({@link MAX_PART_BYTES}). */
  maxBytes?: number;
  /** Parts at most ({@link MAX_PARTS}); the rest of the answer is dropped and the last part says so. */
  maxParts?: number;
  /** The note that ends the last part when the answer was cut ({@link PARTS_CUT_NOTE}). */
  cutNote?: string;
}

/** The parts of an answer, in sending order. */
export interface SplitAnswerResult {
  /** One part (the unchanged answer) when it fits; otherwise numbered parts `… (i/n)`. Empty for a blank answer. */
  parts: string[];
  /** True when the answer needed more than `maxParts` parts and its end was dropped. */
  truncated: boolean;
}

/**
 * Splits `text` into parts that each fit both budgets, numbered `(i/n)` when there is more than one.
 * A text that fits is returned unchanged as the only part. Throws `RangeError` for budgets too small to
 * hold the numbering and the cut note (a programming error, never a property of the answer).
 */
export function splitAnswer(text: string, options: SplitAnswerOptions = {}): SplitAnswerResult {
  const budget = resolveBudget(options);
  if (text.trim() === '') return { parts: [], truncated: false };
  if (fitsBudget(text, budget)) return { parts: [text], truncated: false };
  return new Splitter(text, budget).run();
}

interface Budget {
  maxChars: number;
  maxBytes: number;
  maxParts: number;
  /** `\n\n` + the cut note. */
  note: string;
  /** The widest numbering footer, reserved in every part so that `(i/n)` always fits. */
  footerReserve: string;
}

/**
 * A part may not be shorter than this share of what would fit just to cut at a nicer boundary: a third keeps
 * paragraphs whole without doubling the number of parts.
 */
const MIN_FILL = 1 / 3;

/** Longest language tag carried over when a code fence is reopened. */
const MAX_LANG_CHARS = 32;

function resolveBudget(options: SplitAnswerOptions): Budget {
  const maxChars = options.maxChars ?? MAX_PART_CHARS;
  const maxBytes = options.maxBytes ?? MAX_PART_BYTES;
  const maxParts = options.maxParts ?? MAX_PARTS;
  const note = `\n\n${(options.cutNote ?? PARTS_CUT_NOTE).trim()}`;
  for (const [name, value] of [
    ['maxChars', maxChars],
    ['maxBytes', maxBytes],
    ['maxParts', maxParts],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`splitAnswer: ${name} must be a positive integer`);
  }
  const budget = { maxChars, maxBytes, maxParts, note, footerReserve: footer(maxParts, maxParts) };
  // Each part must keep at least half of its budget for the answer itself.
  const overhead = budget.note + budget.footerReserve;
  if (overhead.length * 2 > maxChars || jsonBytes(overhead) * 2 > maxBytes) {
    throw new RangeError('splitAnswer: the budgets are too small for the part numbering and the cut note');
  }
  return budget;
}

function footer(index: number, count: number): string {
  return `\n\n(${index}/${count})`;
}

/** UTF-8 bytes of `text` once escaped as a JSON string (without the quotes). */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

function fitsBudget(text: string, budget: Budget): boolean {
  return text.length <= budget.maxChars && jsonBytes(text) <= budget.maxBytes;
}

/** A fenced code block of the answer. */
interface Block {
  openLine: number;
  /** -1 when the answer never closes it. */
  closeLine: number;
  /** Offset of the opening fence line. */
  start: number;
  /** Offset just after the closing fence line's text (before its newline); the text's length when unclosed. */
  end: number;
  /** The opening fence with its indentation and language tag, to reopen the block in the next part. */
  reopen: string;
  /** The fence that closes it. */
  close: string;
}

/** Where the lines and code blocks of the answer are; built with or without fence detection. */
interface Layout {
  lines: string[];
  lineStarts: number[];
  lineEnds: number[];
  blockOf: (Block | undefined)[];
  blocks: Block[];
}

const FENCE_OPEN = /^([ \t]*)(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^[ \t]*(`{3,}|~{3,})[ \t]*$/;

function layoutOf(text: string, withFences: boolean): Layout {
  const lines = text.split('\n');
  const lineStarts: number[] = [];
  const lineEnds: number[] = [];
  const blockOf: (Block | undefined)[] = [];
  const blocks: Block[] = [];
  let offset = 0;
  let open: (Block & { fence: string }) | undefined;
  lines.forEach((line, index) => {
    lineStarts.push(offset);
    lineEnds.push(offset + line.length);
    offset += line.length + 1;
    if (open) {
      blockOf.push(open);
      const closing = FENCE_CLOSE.exec(line)?.[1];
      if (closing !== undefined && closing[0] === open.fence[0] && closing.length >= open.fence.length) {
        open.closeLine = index;
        open.end = lineEnds[index] ?? text.length;
        open = undefined;
      }
      return;
    }
    const opening = withFences ? FENCE_OPEN.exec(line) : null;
    const [, indent = '', fence = '', info = ''] = opening ?? [];
    // A backtick fence's info string cannot contain a backtick (that line is inline code instead).
    if (opening && !(fence.startsWith('`') && info.includes('`'))) {
      const lang = (info.trim().split(/\s+/)[0] ?? '').slice(0, MAX_LANG_CHARS);
      open = {
        openLine: index,
        closeLine: -1,
        start: lineStarts[index] ?? 0,
        end: text.length,
        reopen: `${indent}${fence}${lang}`,
        close: `${indent}${fence}`,
        fence,
      };
      blocks.push(open);
      blockOf.push(open);
      return;
    }
    blockOf.push(undefined);
  });
  return { lines, lineStarts, lineEnds, blockOf, blocks };
}

/** How one attempt at a part cuts: its layout, which blocks it may cut through, and its ranked cut points. */
interface Plan {
  layout: Layout;
  splittable: Set<Block>;
  /** Cut offsets by preference (paragraph, line, code line, sentence, word), each ascending. */
  classes: number[][];
}

const SENTENCE_END = /(?:[.!?;]+["'\u201d\u2019)\]\uff09]*[ \t]+|[\u3002\uff01\uff1f\uff1b\u2026]+["'\u201d\u2019)\uff09]*[ \t]*)(?=\S)/g;
const WORD_END = /(?:[ \t]+|[\uff0c\u3001])(?=\S)/g;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Index of the last element ≤ `value` in an ascending array, or -1. */
function lastAtMost(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? Infinity) <= value) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

class Splitter {
  private readonly fenced: Layout;
  private readonly plans: Plan[];

  constructor(
    private readonly text: string,
    private readonly budget: Budget,
  ) {
    this.fenced = layoutOf(text, true);
    const fitsAlone = (block: Block) =>
      this.fits(this.fenced, block.start, block.closeLine === -1 ? text.length : block.end, false);
    const tooLong = new Set(this.fenced.blocks.filter((block) => !fitsAlone(block)));
    // Tried in order for each part: keep short blocks whole; then cut any block; then ignore fences.
    this.plans = [
      this.plan(this.fenced, tooLong),
      this.plan(this.fenced, new Set(this.fenced.blocks)),
      this.plan(layoutOf(text, false), new Set()),
    ];
  }

  run(): SplitAnswerResult {
    const { text, budget } = this;
    const bodies: string[] = [];
    let truncated = false;
    let start = this.nextStart(this.fenced, 0);
    while (start < text.length) {
      if (this.fits(this.fenced, start, text.length, false)) {
        bodies.push(this.body(this.fenced, start, text.length));
        break;
      }
      const last = bodies.length === budget.maxParts - 1;
      const { layout, end } = this.chooseEnd(start, last);
      if (last) {
        bodies.push(this.body(layout, start, end) + budget.note);
        truncated = true;
        break;
      }
      bodies.push(this.body(layout, start, end));
      start = this.nextStart(this.fenced, end);
    }
    const parts = bodies.length === 1 ? bodies : bodies.map((body, i) => body + footer(i + 1, bodies.length));
    return { parts, truncated };
  }

  private plan(layout: Layout, splittable: Set<Block>): Plan {
    const { lines, lineStarts, blockOf } = layout;
    const paragraph: number[] = [];
    const line: number[] = [];
    const codeLine: number[] = [];
    const sentence: number[] = [];
    const word: number[] = [];
    const collect = (pattern: RegExp, lineText: string, offset: number, into: number[]) => {
      for (const match of lineText.matchAll(pattern)) into.push(offset + match.index + match[0].length);
    };
    lines.forEach((lineText, index) => {
      const offset = lineStarts[index] ?? 0;
      const block = blockOf[index];
      const previous = index > 0 ? blockOf[index - 1] : undefined;
      const blank = lineText.trim() === '';
      const isOpener = block?.openLine === index;
      if (index > 0 && !blank && (block === undefined || isOpener)) {
        line.push(offset);
        const previousBlank = previous === undefined && (lines[index - 1] ?? '').trim() === '';
        const afterBlock = previous !== undefined && previous.closeLine === index - 1;
        if (previousBlank || isOpener || afterBlock) paragraph.push(offset);
      }
      if (block === undefined) {
        collect(SENTENCE_END, lineText, offset, sentence);
        collect(WORD_END, lineText, offset, word);
      } else if (splittable.has(block) && !isOpener && block.closeLine !== index) {
        if (index >= block.openLine + 2) codeLine.push(offset);
        collect(WORD_END, lineText, offset, word);
      } else if (splittable.has(block) && block.closeLine === index && index >= block.openLine + 2) {
        codeLine.push(offset);
      }
    });
    return { layout, splittable, classes: [paragraph, line, codeLine, sentence, word] };
  }

  /** Where the part after a cut at `cut` starts: past blank lines, and past a closing fence already closed. */
  private nextStart(layout: Layout, cut: number): number {
    const { text } = this;
    let start = cut;
    for (;;) {
      const blankLines = /\s*\n/y;
      blankLines.lastIndex = start;
      if (blankLines.exec(text)) start = blankLines.lastIndex;
      const lineIndex = lastAtMost(layout.lineStarts, start);
      if (start !== layout.lineStarts[lineIndex]) {
        const spaces = /[ \t]*/y;
        spaces.lastIndex = start;
        spaces.exec(text);
        start = spaces.lastIndex;
      }
      const block = layout.blockOf[lineIndex];
      if (block?.closeLine === lineIndex && start === layout.lineStarts[lineIndex] && start > block.start) {
        start = Math.min(text.length, block.end + 1);
        continue;
      }
      return text.slice(start).trim() === '' ? text.length : start;
    }
  }

  /** The block whose inside `offset` is, for a part starting there (it must reopen the fence). */
  private openAt(layout: Layout, offset: number): Block | undefined {
    const block = layout.blockOf[lastAtMost(layout.lineStarts, offset)];
    return block && offset > block.start && offset < block.end ? block : undefined;
  }

  /** The block a part ending at `offset` leaves open (it must close the fence). */
  private openBefore(layout: Layout, offset: number): Block | undefined {
    const block = layout.blockOf[lastAtMost(layout.lineStarts, offset)];
    return block && offset > block.start && (offset < block.end || block.closeLine === -1) ? block : undefined;
  }

  /** The part text for [start, end): reopened fence, the answer's text, closing fence; no note, no numbering. */
  private body(layout: Layout, start: number, end: number): string {
    const reopen = this.openAt(layout, start);
    const close = this.openBefore(layout, end);
    return `${reopen ? `${reopen.reopen}\n` : ''}${this.text.slice(start, end).trimEnd()}${close ? `\n${close.close}` : ''}`;
  }

  private fits(layout: Layout, start: number, end: number, withNote: boolean): boolean {
    const full = this.body(layout, start, end) + (withNote ? this.budget.note : '') + this.budget.footerReserve;
    return fitsBudget(full, this.budget);
  }

  /** Whether [start, end) is a part worth sending: not blank, not ending in an empty block, within budget. */
  private usable(layout: Layout, start: number, end: number, withNote: boolean): boolean {
    if (end <= start || this.text.slice(start, end).trim() === '') return false;
    const open = this.openBefore(layout, end);
    if (open && open.start >= start && this.blankSinceOpener(layout, open, end)) return false;
    return this.fits(layout, start, end, withNote);
  }

  /** Whether nothing but whitespace follows the block's opening fence up to `offset`. */
  private blankSinceOpener(layout: Layout, block: Block, offset: number): boolean {
    return this.text.slice(layout.lineEnds[block.openLine] ?? block.start, offset).trim() === '';
  }

  /** Moves a cut back to the nearest offset the plan allows: not in a pair, a fence line, or a block kept whole. */
  private snap(plan: Plan, offset: number): number {
    const { text } = this;
    const { lineStarts, lineEnds, blockOf } = plan.layout;
    if (offset >= text.length) return text.length;
    let cut = offset;
    if (cut > 0 && isLowSurrogate(text.charCodeAt(cut)) && isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
    const lineIndex = lastAtMost(lineStarts, cut);
    const block = blockOf[lineIndex];
    if (block === undefined || cut <= block.start || (cut === block.end && block.closeLine !== -1)) return cut;
    if (!plan.splittable.has(block)) return block.start;
    const lineStart = lineStarts[lineIndex] ?? 0;
    if (lineIndex === block.openLine || this.blankSinceOpener(plan.layout, block, cut)) return block.start;
    if (lineIndex === block.closeLine && cut < (lineEnds[lineIndex] ?? 0)) return lineStart;
    return cut;
  }

  /** The end of the part starting at `start`: the best-ranked cut that fits and fills enough of the part. */
  private chooseEnd(start: number, withNote: boolean): { layout: Layout; end: number } {
    for (const plan of this.plans) {
      const { layout } = plan;
      // The furthest end that fits, ignoring where cuts are allowed (fitting grows with the end).
      let lo = start;
      let hi = this.text.length;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (this.fits(layout, start, mid, withNote)) lo = mid;
        else hi = mid - 1;
      }
      const furthest = lo;
      if (furthest <= start) continue;
      const minEnd = start + MIN_FILL * (furthest - start);
      for (const cuts of plan.classes) {
        for (let i = lastAtMost(cuts, furthest), tries = 0; i >= 0 && tries < 8; i -= 1, tries += 1) {
          const cut = cuts[i] ?? 0;
          if (cut < minEnd) break;
          if (this.usable(layout, start, cut, withNote)) return { layout, end: cut };
        }
      }
      for (let cut = this.snap(plan, furthest), tries = 0; cut > start && tries < 64; tries += 1) {
        if (this.usable(layout, start, cut, withNote)) return { layout, end: cut };
        cut = this.snap(plan, cut - 1);
      }
    }
    // Unreachable with validated budgets: one code point always fits when fences are ignored.
    throw new Error('splitAnswer: no cut fits the budget');
  }
}
