import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { loadO200kCounter, utf8ByteBound } from '../../../shared/llm/token-counter';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const SAMPLES = [
  'Hello, world!',
  '你好，世界！请介绍一下你自己。',
  '混合 English 和中文 text，with numbers 12345 and symbols ### ---',
  '😀👍🏽👨‍👩‍👧‍👦🚀🇨🇳 emoji and 表情',
  '日本語のテキストと한국어 텍스트',
  '  leading spaces\n\nnew lines\ttabs   ',
  '```ts\nconst x: number = 42; // 注释\n```',
  'a'.repeat(1000),
  '',
];

describe('utf8ByteBound', () => {
  it.each(SAMPLES)('never counts fewer tokens than o200k for %j', (text) => {
    expect(utf8ByteBound.count(text)).toBeGreaterThanOrEqual(countTokens(text));
  });

  it('counts UTF-8 bytes', () => {
    expect(utf8ByteBound.count('aé中😀')).toBe(1 + 2 + 3 + 4);
  });

  it.each(SAMPLES.filter((text) => text !== ''))('truncates %j to a prefix within the limit, on a character boundary', (text) => {
    for (let limit = 0; limit <= Buffer.byteLength(text, 'utf8') + 1; limit += 1) {
      const cut = utf8ByteBound.truncate(text, limit);
      expect(utf8ByteBound.count(cut)).toBeLessThanOrEqual(limit);
      expect(text.startsWith(cut)).toBe(true);
      expect(cut).not.toMatch(LONE_SURROGATE);
      if (cut.length < text.length) {
        const next = String.fromCodePoint(text.codePointAt(cut.length) ?? 0);
        expect(utf8ByteBound.count(cut + next)).toBeGreaterThan(limit);
      }
    }
  });

  it('keeps a text that fits whole', () => {
    expect(utf8ByteBound.truncate('你好', 6)).toBe('你好');
    expect(utf8ByteBound.truncate('你好', 5)).toBe('你');
  });
});

describe('loadO200kCounter', () => {
  it('returns the same instance twice', async () => {
    const [first, second] = await Promise.all([loadO200kCounter(), loadO200kCounter()]);
    const third = await loadO200kCounter();
    expect(first).toBe(second);
    expect(first).toBe(third);
  });

  it('counts like o200k', async () => {
    const counter = await loadO200kCounter();
    for (const text of SAMPLES) expect(counter.count(text)).toBe(countTokens(text));
  });

  it('counts and truncates text that contains special-token markup like any other text', async () => {
    const counter = await loadO200kCounter();
    const text = 'What does <|endoftext|> mean in a prompt? And <|im_start|>?';
    expect(counter.count(text)).toBeGreaterThan(5);
    expect(counter.count(text)).toBeLessThanOrEqual(utf8ByteBound.count(text));
    expect(text.startsWith(counter.truncate(text, 5))).toBe(true);
  });

  it('truncates to a prefix within the limit, on a character boundary', async () => {
    const counter = await loadO200kCounter();
    for (const text of SAMPLES.filter((sample) => sample !== '')) {
      const total = counter.count(text);
      for (let limit = 0; limit <= total; limit += 1) {
        const cut = counter.truncate(text, limit);
        expect(counter.count(cut)).toBeLessThanOrEqual(limit);
        expect(text.startsWith(cut)).toBe(true);
        expect(cut).not.toMatch(LONE_SURROGATE);
      }
    }
  });
});
