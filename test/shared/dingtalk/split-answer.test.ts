import fc from 'fast-check';
import {
  MAX_PART_BYTES,
  MAX_PART_CHARS,
  MAX_PARTS,
  PARTS_CUT_NOTE,
  splitAnswer,
  type SplitAnswerOptions,
} from '../../../shared/dingtalk/split-answer';
import { guarantee, recordCases } from '../../helpers/guarantee';
import { thrown } from '../../helpers/thrown';

/** DingTalk refuses a message body over this many bytes (errcode 460101). */
const DINGTALK_BODY_LIMIT = 20_000;
/** Generated answers per property. */
const RUNS = 300;

const NUMBERING = /\n\n\((\d+)\/(\d+)\)$/;
const FENCE_LINE = /^[ \t]*(`{3,}|~{3,})/;

/** UTF-8 bytes of the text as it travels inside the JSON body. */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

function withoutNumbering(part: string): string {
  return part.replace(NUMBERING, '');
}

/** The fence lines of a part, in order; a test oracle independent of the splitter's parser. */
function fenceLines(part: string): string[] {
  return part.split('\n').filter((line) => FENCE_LINE.test(line));
}

/** Whether every opened fence is closed: generated answers only use plain ``` fences. */
function fencesBalanced(part: string): boolean {
  return fenceLines(part).length % 2 === 0;
}

/** The answer's words in order: fence lines, numbering, the cut note and all whitespace removed. */
function content(text: string): string {
  return text
    .split('\n')
    .filter((line) => !FENCE_LINE.test(line))
    .join('')
    .replace(/\s+/g, '');
}

function joined(parts: readonly string[]): string {
  return parts.map(withoutNumbering).join('\n');
}

function expectWithinBudgets(parts: readonly string[], options: SplitAnswerOptions = {}): void {
  for (const part of parts) {
    expect(part.length).toBeLessThanOrEqual(options.maxChars ?? MAX_PART_CHARS);
    expect(jsonBytes(part)).toBeLessThanOrEqual(options.maxBytes ?? MAX_PART_BYTES);
    expect(part.trim()).not.toBe('');
    // Half of a surrogate pair would reach the user as a replacement character.
    expect(part).not.toMatch(/\p{Cs}/u);
  }
}

function expectNumbered(parts: readonly string[]): void {
  parts.forEach((part, index) => {
    const match = NUMBERING.exec(part);
    expect(match?.slice(1)).toEqual([String(index + 1), String(parts.length)]);
  });
}

/** `count` prose paragraphs of about `chars` characters each, a sentence per line. */
function prose(count: number, chars: number): string {
  const sentence = 'The quick brown fox jumps over the lazy dog while the robot keeps answering.';
  const lines = Math.ceil(chars / (sentence.length + 1));
  const paragraph = (i: number) => `Paragraph ${i + 1}.\n${Array(lines).fill(sentence).join('\n')}`;
  return Array.from({ length: count }, (_, i) => paragraph(i)).join('\n\n');
}

describe(guarantee('Long answers'), () => {
  it('returns a short answer unchanged as one unnumbered part', () => {
    const answer = '# Title\n\nSome **markdown** with `code`.\n\n```ts\nconst x = 1;\n```\n';
    expect(splitAnswer(answer)).toEqual({ parts: [answer], truncated: false });
  });

  it('returns no parts for a blank answer, never an empty message', () => {
    expect(splitAnswer(' \n\n ').parts).toEqual([]);
  });

  it('keeps the defaults under DingTalk limits with room for the @mention and the JSON around the text', () => {
    expect(MAX_PART_CHARS).toBeLessThanOrEqual(3_500);
    expect(MAX_PART_BYTES).toBeLessThanOrEqual(DINGTALK_BODY_LIMIT - 2_000);
    expect(MAX_PARTS).toBeLessThanOrEqual(10);
  });

  it('splits long prose on paragraph boundaries into numbered parts within both budgets', () => {
    const answer = prose(12, 700);
    const { parts, truncated } = splitAnswer(answer);
    expect(truncated).toBe(false);
    expect(parts.length).toBeGreaterThan(1);
    expectWithinBudgets(parts);
    expectNumbered(parts);
    const wholeParagraphs = /^Paragraph \d+\.\n[^]*dog while the robot keeps answering\.$/;
    for (const part of parts) expect(withoutNumbering(part)).toMatch(wholeParagraphs);
    expect(content(joined(parts))).toBe(content(answer));
  });

  it('cuts one huge paragraph between sentences, not inside words', () => {
    const answer = 'Sentence number one is here. '.repeat(400).trim();
    const { parts } = splitAnswer(answer);
    expect(parts.length).toBeGreaterThan(1);
    expectWithinBudgets(parts);
    for (const part of parts) expect(withoutNumbering(part)).toMatch(/^Sentence[^]*here\.$/);
    expect(content(joined(parts))).toBe(content(answer));
  });

  it('keeps a code block whole when it fits in a part of its own, even if the part before it stays short', () => {
    const code = ['```python', ...Array.from({ length: 150 }, (_, i) => `print("line ${i}")`), '```'].join('\n');
    const answer = `${prose(1, 900)}\n\n${code}\n\nThat is all.`;
    expect(code.length).toBeGreaterThan(MAX_PART_CHARS / 2);
    const { parts } = splitAnswer(answer);
    expect(parts).toHaveLength(2);
    expect(withoutNumbering(parts[1] ?? '')).toBe(`${code}\n\nThat is all.`);
  });

  it('cuts a run of emoji between characters without splitting a surrogate pair', () => {
    const answer = '😀'.repeat(3_000);
    // 1,000 characters minus the numbering leaves an odd count: a naive cut would halve an emoji.
    const options = { maxChars: 1_000 };
    const { parts } = splitAnswer(answer, options);
    expect(parts.length).toBeGreaterThan(5);
    expectWithinBudgets(parts, options);
    expect(joined(parts).replace(/\s|[()/\d]/g, '')).toBe(answer);
  });

  it('closes and reopens a code block too long for one part, with its language tag', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `    value_${i} = compute(${i})  # step ${i}`);
    const answer = `Here is the script:\n\n\`\`\`python\n${lines.join('\n')}\n\`\`\`\n\nRun it with python3.`;
    const { parts, truncated } = splitAnswer(answer);
    expect(truncated).toBe(false);
    expect(parts.length).toBeGreaterThan(3);
    expectWithinBudgets(parts);
    expectNumbered(parts);
    parts.forEach((part, index) => {
      expect(fencesBalanced(part)).toBe(true);
      const body = withoutNumbering(part);
      if (index > 0) expect(body.startsWith('```python\n')).toBe(true);
      if (index < parts.length - 1) expect(body.endsWith('\n```')).toBe(true);
      // Cut between lines: every code line arrives whole, indentation included.
      for (const line of body.split('\n').filter((l) => l.includes('value_'))) expect(lines).toContain(line);
    });
    expect(content(joined(parts))).toBe(content(answer));
  });

  it('reopens a ~~~ fence the same way and closes a fence the answer never closed', () => {
    const answer = `~~~sql\n${'SELECT * FROM t WHERE id = 1;\n'.repeat(200)}`;
    const { parts } = splitAnswer(answer, { maxChars: 1_000 });
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      const fences = fenceLines(withoutNumbering(part));
      expect(fences).toEqual(['~~~sql', '~~~']);
    }
  });

  it('does not start a part with an empty block when a cut falls just before a longer closing fence', () => {
    const code = 'x'.repeat(300);
    // The part fits up to the closing fence but not with it: its six backticks are longer than the added ```.
    const { parts } = splitAnswer(`\`\`\`\n${code}\n\`\`\`\`\`\`\n\nafter the block`, { maxChars: 316 });
    expect(parts.map(withoutNumbering)).toEqual([`\`\`\`\n${code}\n\`\`\``, 'after the block']);
  });

  it('lets the byte budget bind for CJK and emoji and never splits a surrogate pair', () => {
    const answer = '这是一个很长的回答，包含中文和表情😀。'.repeat(400);
    const options = { maxChars: 3_500, maxBytes: 4_000 };
    const { parts } = splitAnswer(answer, options);
    expectWithinBudgets(parts, options);
    // 3 bytes per CJK character: the byte budget stops each part long before 3,500 characters.
    for (const part of parts) expect(part.length).toBeLessThan(1_500);
    for (const part of parts) expect(part).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(content(joined(parts))).toBe(content(answer));
  });

  it('counts 3,500 CJK characters as 10,500 bytes: within the default byte budget, cut by characters', () => {
    const answer = '字'.repeat(7_000);
    const { parts } = splitAnswer(answer, { maxParts: 20 });
    expect(jsonBytes('字'.repeat(3_500))).toBe(10_500);
    expectWithinBudgets(parts);
    expect(parts.length).toBe(3);
    expect(content(joined(parts))).toBe(answer);
  });

  it('counts JSON escapes against the byte budget', () => {
    const answer = `${'"\\'.repeat(1_500)}\n\n${'"\\'.repeat(1_500)}`;
    const options = { maxChars: 10_000, maxBytes: 4_000 };
    const { parts } = splitAnswer(answer, options);
    expect(parts.length).toBeGreaterThan(1);
    expectWithinBudgets(parts, options);
  });

  it('stops at the maximum part count and ends the last part with the bilingual cut note', () => {
    const answer = prose(40, 1_500);
    const { parts, truncated } = splitAnswer(answer);
    expect(truncated).toBe(true);
    expect(parts).toHaveLength(MAX_PARTS);
    expectWithinBudgets(parts);
    expectNumbered(parts);
    expect(withoutNumbering(parts[MAX_PARTS - 1] ?? '').endsWith(`\n\n${PARTS_CUT_NOTE}`)).toBe(true);
    expect(PARTS_CUT_NOTE).toMatch(/[\u4e00-\u9fff]/);
    expect(PARTS_CUT_NOTE).toMatch(/too long/);
    const sent = content(joined(parts)).replace(content(PARTS_CUT_NOTE), '');
    expect(content(answer).startsWith(sent)).toBe(true);
  });

  it('uses a caller-provided cut note and a single unnumbered part when only one is allowed', () => {
    const { parts, truncated } = splitAnswer(prose(5, 1_000), { maxParts: 1, cutNote: '\n\n(cut)' });
    expect(truncated).toBe(true);
    expect(parts).toHaveLength(1);
    expect(parts[0]?.endsWith('\n\n(cut)')).toBe(true);
    expect(parts[0]).not.toMatch(NUMBERING);
  });

  it('refuses budgets too small to hold the numbering and the cut note', () => {
    expect(thrown(RangeError, () => splitAnswer('x', { maxChars: 40 })).message).toMatch(/too small/);
    expect(thrown(RangeError, () => splitAnswer('x', { maxParts: 0 })).message).toMatch(/maxParts/);
  });

  describe('on random markdown-ish answers (fast-check)', () => {
    const word = fc.oneof(
      fc.constantFrom('the', 'robot', 'answer', 'DingTalk', '**bold**', '`code`', '[link](https://example.com)', '- item'),
      fc.constantFrom('钉钉', '回答', '很长的句子', '😀', '👍🏽', 'é', '"quoted"', 'back\\slash', '。', '，'),
      fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.replace(/[`~\r]/g, 'x')),
      fc.constantFrom('a'.repeat(300), '字'.repeat(500), '😀'.repeat(200)),
    );
    const separator = fc.constantFrom(' ', ' ', ' ', '. ', '\n', '\n\n', '\n\n\n', '\t');
    const paragraph = fc
      .array(fc.tuple(word, separator), { minLength: 1, maxLength: 60 })
      .map((pairs) => pairs.flat().join(''));
    const codeBlock = fc
      .tuple(
        fc.constantFrom('', 'ts', 'python', 'bash'),
        fc.array(fc.oneof(paragraph.map((p) => p.replace(/\n/g, ' ')), fc.constant('')), {
          minLength: 1,
          maxLength: 80,
        }),
        // A closing fence may be longer than the opening one.
        fc.constantFrom('```', '````', '```  '),
      )
      .map(([lang, lines, close]) => ['```' + lang, ...lines.map((line) => `  ${line}`), close].join('\n'));
    const answer = fc
      .array(fc.oneof({ weight: 3, arbitrary: paragraph }, { weight: 1, arbitrary: codeBlock }), {
        minLength: 1,
        maxLength: 25,
      })
      .map((blocks) => blocks.join('\n\n'));
    const budgets = fc.record({
      maxChars: fc.integer({ min: 300, max: 2_000 }),
      maxBytes: fc.integer({ min: 600, max: 4_000 }),
      maxParts: fc.integer({ min: 1, max: 30 }),
    });

    it('every part respects both budgets, has balanced fences, and the parts carry the whole answer in order', () => {
      let tried = 0;
      fc.assert(
        fc.property(answer, budgets, (text, options) => {
          tried += 1;
          const { parts, truncated } = splitAnswer(text, options);
          expect(parts.length).toBeGreaterThanOrEqual(1);
          expect(parts.length).toBeLessThanOrEqual(options.maxParts);
          expectWithinBudgets(parts, options);
          for (const part of parts) {
            expect(fencesBalanced(part)).toBe(true);
            // No part ends with an empty block the next one reopens, or starts with one a previous part closed.
            expect(part).not.toMatch(/^```\w*\n```+\s*$/m);
          }
          if (parts.length === 1 && !truncated) {
            expect(parts[0]).toBe(text);
            return;
          }
          if (parts.length > 1) expectNumbered(parts);
          if (truncated) {
            const sent = content(joined(parts)).replace(content(PARTS_CUT_NOTE), '');
            expect(content(text).startsWith(sent)).toBe(true);
          } else {
            expect(content(joined(parts))).toBe(content(text));
          }
        }),
        { numRuns: RUNS },
      );
      recordCases('Long answers', tried);
    });
  });
});
