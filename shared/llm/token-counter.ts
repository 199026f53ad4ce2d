/** Counts and cuts text in model tokens, so the prompt can be kept under MAX_CONTEXT_TOKENS. */
export interface TokenCounter {
  count(text: string): number;
  /** The longest prefix of `text` that is at most `maxTokens` tokens. */
  truncate(text: string, maxTokens: number): string;
}

/**
 * An upper bound that needs no tokenizer: every BPE token covers at least one UTF-8 byte, so a text
 * never has more tokens than bytes. When a prompt fits by this count it fits for real.
 */
export const utf8ByteBound: TokenCounter = {
  count: (text) => Buffer.byteLength(text, 'utf8'),
  truncate: (text, maxTokens) => {
    let bytes = 0;
    let end = 0;
    for (const char of text) {
      const size = Buffer.byteLength(char, 'utf8');
      if (bytes + size > maxTokens) break;
      bytes += size;
      end += char.length;
    }
    return text.slice(0, end);
  },
};

/** The tokenizer module, typed; loaded with `require` so it stays lazy both in the bundle and under Jest. */
type Tokenizer = typeof import('gpt-tokenizer/encoding/o200k_base');

/** User text may contain `<|endoftext|>` and the like: count it as text, never as a special token. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * The longest prefix of `text`, in whole characters, that `count` puts at or under `max`. Cutting by
 * characters (not by decoding a token prefix) never leaves a broken character and keeps the bound exact.
 */
export function longestPrefixWithin(text: string, max: number, count: (prefix: string) => number): string {
  if (count(text) <= max) return text;
  const chars = Array.from(text);
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (count(chars.slice(0, middle).join('')) <= max) low = middle;
    else high = middle - 1;
  }
  return chars.slice(0, low).join('');
}

let counter: TokenCounter | undefined;

/**
 * The o200k_base tokenizer (GPT-4o family), loaded once per instance and only when first needed:
 * it takes ~100 ms and tens of MB to load, which most messages never need (see `utf8ByteBound`).
 * Other model families tokenize differently; o200k is a close, conservative estimate for them.
 */
export async function loadO200kCounter(): Promise<TokenCounter> {
  if (counter !== undefined) return counter;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tokenizer = require('gpt-tokenizer/encoding/o200k_base') as Tokenizer;
  const count = (text: string): number => tokenizer.countTokens(text, AS_TEXT);
  counter = { count, truncate: (text, maxTokens) => longestPrefixWithin(text, maxTokens, count) };
  return counter;
}
