/**
 * Reasoning that some models write into the answer itself: Qwen3 and the DeepSeek-R1 distills served by Ollama
 * or vLLM (without a reasoning parser) open their answer with `<think>…</think>`. DeepSeek's own API sends it
 * apart, as `reasoning_content`, which never enters the text (see `openai-body.ts`).
 */

const OPEN = '<think>';
const CLOSE = '</think>';

/** The answer without its reasoning, and whether the model is (or stopped) inside a `<think>` block. */
export interface VisibleAnswer {
  /** What the user may see, untrimmed at its end: empty while the model is still thinking. */
  text: string;
  /** True when the text so far ends inside a leading `<think>` block (or in what may become its tag). */
  thinking: boolean;
}

/**
 * The text so far without its reasoning:
 * - leading `<think>…</think>` blocks (blanks around them too) are removed, however the deltas split the tags;
 * - while the text is inside a leading block (or is a prefix of `<think>`), nothing is visible: `thinking`;
 * - a `</think>` with no `<think>` before it (a chat template that opens the block in the prompt, as recent
 *   DeepSeek-R1 templates do) ends the reasoning too: what precedes it is removed once it arrives.
 *
 * A `<think>` later in the answer (a model explaining the tag) is text, left alone.
 */
export function visibleAnswer(raw: string): VisibleAnswer {
  let rest = raw;
  let stripped = false;
  for (;;) {
    const start = rest.trimStart();
    if (start.startsWith(OPEN)) {
      const end = start.indexOf(CLOSE, OPEN.length);
      if (end === -1) return { text: '', thinking: true };
      rest = start.slice(end + CLOSE.length);
      stripped = true;
      continue;
    }
    // `<th` may be the first half of a tag split across deltas: wait for the rest.
    if (start !== '' && OPEN.startsWith(start)) return { text: '', thinking: true };
    break;
  }
  if (!stripped) {
    const close = rest.indexOf(CLOSE);
    if (close !== -1 && !rest.slice(0, close).includes(OPEN)) return { text: rest.slice(close + CLOSE.length).trimStart(), thinking: false };
  }
  return { text: stripped ? rest.trimStart() : rest, thinking: false };
}
