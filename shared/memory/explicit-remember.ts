/**
 * "Remember that …" / "记住 …": a person asking the bot to keep a fact. The whole sentence still goes to
 * the model (it acknowledges); the fact is kept at once, in the same run, instead of waiting for the
 * exchange to leave the window.
 */
// The Chinese forms are written as escapes (请 麻烦 你 帮我 记住 一下 记一下, and the full-width ，：) so the
// bundle stays ASCII: V8 keeps a source with any other character as two bytes a character.
const PATTERNS: readonly RegExp[] = [
  /^(?:please\s+)?remember(?:\s+that)?[\s:,\uff0c\uff1a]+(.+)$/isu,
  /^(?:\u8bf7|\u9ebb\u70e6)?(?:\u4f60)?(?:\u5e2e\u6211)?\u8bb0\u4f4f[\s:,\uff0c\uff1a]*(?:\u4e00\u4e0b)?[\s:,\uff0c\uff1a]*(.+)$/su,
  /^(?:\u8bf7|\u9ebb\u70e6)?(?:\u4f60)?(?:\u5e2e\u6211)?\u8bb0\u4e00\u4e0b[\s:,\uff0c\uff1a]*(.+)$/su,
];

/** Longest fact kept from one request (the memory's own bounds apply too). */
const MAX_FACT_CHARS = 300;

/** The fact a message asks the bot to remember, or undefined when it does not ask. */
export function explicitFact(text: string): string | undefined {
  const trimmed = text.trim();
  for (const pattern of PATTERNS) {
    const match = pattern.exec(trimmed);
    const fact = match?.[1]?.trim().replace(/[\u3002.!\uff01]+$/u, '');
    if (fact !== undefined && fact !== '') return Array.from(fact).slice(0, MAX_FACT_CHARS).join('');
  }
  return undefined;
}
