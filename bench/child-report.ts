/** What the bench's child processes (warm-driver.ts, handler-host.ts) share: loading a handler and describing what it did. */
import { readFileSync } from 'node:fs';

/** An FC handler as the bundles export it. */
export type Handler = (event: Buffer, context: Record<string, unknown>) => Promise<unknown>;

/** Requires `module` (a bundle path) and returns its `handler` export. */
export function loadHandler(module: string): Handler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(module) as { handler: Handler }).handler;
}

/**
 * Peak RSS of this process in KB: VmHWM where /proc exists. Not `process.resourceUsage().maxRSS`: on
 * Linux that keeps the peak of the forked copy of the parent from before exec (cold-runner.cjs does the same).
 */
export function peakRssKb(): number {
  try {
    return Number(/VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.resourceUsage().maxRSS);
  } catch {
    return process.resourceUsage().maxRSS;
  }
}

/** What a handler call resolved with, in one word: `statusCode` (conversation) or `outcome` (reply). */
export function outcomeOf(result: unknown): string {
  if (typeof result !== 'object' || result === null) return String(result);
  const record = result as Record<string, unknown>;
  return String(record.statusCode ?? record.outcome ?? JSON.stringify(record));
}

/** What a handler call that threw is reported as. */
export function errorOutcome(error: unknown): string {
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
