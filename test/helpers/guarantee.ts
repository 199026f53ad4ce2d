import { appendFileSync } from 'node:fs';

/**
 * The promises the README's "Guarantees" section makes; each is a row of `npm run test:reliability`'s
 * table. A union, so a misspelt guarantee fails the typecheck instead of adding a stray row.
 */
export const GUARANTEES = [
  'Exactly one answer per message',
  'No lost history',
  'Faults: LLM',
  'Faults: storage',
  'Faults: webhook',
  'Long answers',
  'Hostile input: signatures',
  'Hostile input: bodies (fuzzed)',
  'Non-text messages',
  'Storage keys stay in their prefix',
  'Session webhook allowlist',
  'Access control and daily limit',
  'No secrets in logs',
  'History stores agree (contract)',
] as const;

/** One of the guarantees. */
export type Guarantee = (typeof GUARANTEES)[number];

/** Marks a describe title as proving a guarantee; the reliability reporter groups tests by it. */
export const GUARANTEE_TAG = '[guarantee] ';

/** The title of a `describe` block whose tests prove `name`. */
export function guarantee(name: Guarantee): string {
  return `${GUARANTEE_TAG}${name}`;
}

/** The environment variable naming the file where tests report generated case counts. */
export const CASES_FILE_VARIABLE = 'RELIABILITY_CASES_FILE';

/**
 * Reports that the current test tried `cases` generated cases (a fuzz run), so the table counts them
 * instead of 1. Without the reporter (a plain `jest` run of one file) this records nothing.
 */
export function recordCases(name: Guarantee, cases: number): void {
  const file = process.env[CASES_FILE_VARIABLE];
  if (file === undefined || file === '') return;
  const test = expect.getState().currentTestName ?? '';
  appendFileSync(file, `${JSON.stringify({ guarantee: name, test, cases })}\n`);
}
