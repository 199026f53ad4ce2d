/**
 * Warm measurements, run in a process of their own (`node warm-driver.js <job file> <result file>`): it
 * loads one handler module, then hands it each event of the job in turn and times every call with
 * `performance.now()`. Only the handler runs here: the fakes live in the bench's process, so their work
 * is not counted as the bot's. Writes a {@link WarmResult} as JSON; the bench decides which calls are
 * warm-up. Each call's start is also taken on the monotonic clock the fakes' records use, so the bench can
 * tell when, within a call, the answer reached the webhook sink.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { errorOutcome, loadHandler, outcomeOf, peakRssKb } from './child-report';
import { monotonicMs } from './clock';

/** What the bench asks the driver to run. */
export interface WarmJob {
  /** Absolute path of the module exporting `handler(event, context)`. */
  module: string;
  /** Events, base64, in the order to send them. */
  events: string[];
  context: Record<string, unknown>;
}

/** What the driver reports. */
export interface WarmResult {
  /** Milliseconds each call took, in order. */
  durations: number[];
  /** When each call started, on the bench's monotonic clock ({@link monotonicMs}), in order. */
  startedAt: number[];
  /** What each call resolved with (`statusCode` or `outcome`), or `error: ...`. */
  outcomes: string[];
  maxRssKb: number;
}

async function main(jobFile: string, resultFile: string): Promise<void> {
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as WarmJob;
  const handler = loadHandler(job.module);
  const events = job.events.map((event) => Buffer.from(event, 'base64'));
  const durations: number[] = [];
  const outcomes: string[] = [];
  const startedAt: number[] = [];
  for (const event of events) {
    startedAt.push(monotonicMs());
    const started = performance.now();
    try {
      const result = await handler(event, job.context);
      durations.push(performance.now() - started);
      outcomes.push(outcomeOf(result));
    } catch (error) {
      durations.push(performance.now() - started);
      outcomes.push(errorOutcome(error));
    }
  }
  const result: WarmResult = { durations, startedAt, outcomes, maxRssKb: peakRssKb() };
  writeFileSync(resultFile, JSON.stringify(result));
  // Keep-alive sockets of the handler's clients would keep the process alive; the job is done.
  process.exit(0);
}

void main(process.argv[2] ?? '', process.argv[3] ?? '').catch((error: unknown) => {
  process.stderr.write(`warm driver failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
