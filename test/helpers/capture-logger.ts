import { createLogger, type LogLevel } from '../../shared/logging/logger';
import type { Logger } from '../../shared/ports';

/** A real logger whose lines are kept in memory, parsed, for assertions. */
export function captureLogger(options: { level?: LogLevel; secrets?: string[] } = {}): {
  logger: Logger;
  lines: string[];
  events: () => Array<Record<string, unknown>>;
  find: (event: string) => Record<string, unknown> | undefined;
} {
  const lines: string[] = [];
  const logger = createLogger({ level: options.level ?? 'debug', secrets: options.secrets ?? [], write: (line) => lines.push(line) });
  const events = (): Array<Record<string, unknown>> => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, events, find: (event) => events().find((line) => line.event === event) };
}

/** Captures what a bundle writes to stdout (its JSON log lines) while `run` executes. */
export async function captureStdout<T>(run: () => Promise<T>): Promise<{ result: T; lines: Array<Record<string, unknown>> }> {
  const written: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    const result = await run();
    const lines = written
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { result, lines };
  } finally {
    process.stdout.write = original;
  }
}
