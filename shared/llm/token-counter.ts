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

let loading: Promise<TokenCounter> | undefined;

/**
 * The o200k_base tokenizer (GPT-4o family), loaded once per instance and only when first needed:
 * it takes ~100 ms and tens of MB to load, which most messages never need (see `utf8ByteBound`).
 * Other model families tokenize differently; o200k is a close, conservative estimate for them.
 */
export function loadO200kCounter(): Promise<TokenCounter> {
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then((tokenizer) => ({
    count: (text: string) => tokenizer.countTokens(text),
    truncate: (text: string, maxTokens: number) => {
      const tokens = tokenizer.encode(text);
      if (tokens.length <= maxTokens) return text;
      // A cut can split a multi-byte character; drop the replacement character it leaves behind.
      return tokenizer.decode(tokens.slice(0, Math.max(0, maxTokens))).replace(/\uFFFD+$/u, '');
    },
  }));
  return loading;
}
