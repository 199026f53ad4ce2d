/** Checks that fail a bench run when a handler did not do the real work, so a broken bundle never yields a fast figure. */

/** Throws unless every call of `result` answered `expected` (`statusCode` or `outcome`). */
export function expectOutcomes(what: string, result: { outcomes: readonly string[] }, expected: string): void {
  const wrong = result.outcomes.filter((outcome) => outcome !== expected);
  if (wrong.length > 0) throw new Error(`${what}: expected every call to answer ${expected}, got ${wrong.slice(0, 3).join(', ')}`);
}

/** Throws unless `values` holds `count` items. */
export function expectCount(what: string, values: readonly unknown[], count: number): void {
  if (values.length !== count) throw new Error(`${what}: expected ${count}, recorded ${values.length}`);
}
