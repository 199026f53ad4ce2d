/**
 * "Remember that …" / "记住 …": a person asking the bot to keep a fact. The whole sentence still goes to
 * the model (it acknowledges); the fact is kept at once, in the same run, instead of waiting for the
 * exchange to leave the window.
 */
const PATTERNS: readonly RegExp[] = [
  /^(?:please\s+)?remember(?:\s+that)?[\s:,，：]+(.+)$/isu,
  /^(?:请|麻烦)?(?:你)?(?:帮我)?记住[\s:,，：]*(?:一下)?[\s:,，：]*(.+)$/su,
  /^(?:请|麻烦)?(?:你)?(?:帮我)?记一下[\s:,，：]*(.+)$/su,
];

/** Longest fact kept from one request (the memory's own bounds apply too). */
const MAX_FACT_CHARS = 300;

/** The fact a message asks the bot to remember, or undefined when it does not ask. */
export function explicitFact(text: string): string | undefined {
  const trimmed = text.trim();
  for (const pattern of PATTERNS) {
    const match = pattern.exec(trimmed);
    const fact = match?.[1]?.trim().replace(/[。.!！]+$/u, '');
    if (fact !== undefined && fact !== '') return Array.from(fact).slice(0, MAX_FACT_CHARS).join('');
  }
  return undefined;
}
