/**
 * scripts/build.mjs writes dist/reply/o200k_base.js itself (the ranks as one JSON string, which loads
 * faster than the package's array literal). The reply cuts prompts with it, so it must count exactly
 * like gpt-tokenizer's own o200k_base module. `npm test` builds dist/ first.
 */
import fc from 'fast-check';
import path from 'node:path';
import { countTokens, encode } from 'gpt-tokenizer/encoding/o200k_base';

const TOKENIZER_FILE = path.resolve(__dirname, '../../dist/reply/o200k_base.js');

interface ShippedTokenizer {
  countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
  encode(text: string, options?: { disallowedSpecial?: Set<string> }): number[];
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const shipped = (): ShippedTokenizer => require(TOKENIZER_FILE) as ShippedTokenizer;
const AS_TEXT = { disallowedSpecial: new Set<string>() };

const SAMPLES = [
  'Hello, world!',
  '请帮我把这段话翻译成英文，并保持正式的语气。The deployment failed after 45 seconds.',
  '😀👍🏽👨‍👩‍👧‍👦🚀🇨🇳 emoji, 日本語のテキストと한국어 텍스트, ελληνικά, עברית, हिन्दी',
  '```ts\nconst x: number = 42; // 注释\n```\r\n\t  trailing   ',
  'What does <|endoftext|> mean? And <|im_start|>?',
  'x7 '.repeat(300),
  '\uD800 a lone surrogate, \uFFFD and \u0000',
];

describe('the tokenizer file beside the reply bundle', () => {
  it('counts and encodes every sample exactly like gpt-tokenizer o200k_base', () => {
    const tokenizer = shipped();
    for (const text of SAMPLES) {
      expect(tokenizer.countTokens(text, AS_TEXT)).toBe(countTokens(text, AS_TEXT));
      expect(tokenizer.encode(text, AS_TEXT)).toEqual(encode(text, AS_TEXT));
    }
  });

  it('counts random Unicode text exactly like gpt-tokenizer o200k_base', () => {
    const tokenizer = shipped();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 50 }), (words, raw) => {
        for (const text of [words, raw, `${words} ${raw}`]) expect(tokenizer.countTokens(text, AS_TEXT)).toBe(countTokens(text, AS_TEXT));
      }),
      { numRuns: 300 },
    );
  });
});
