/** Small statistics over samples in milliseconds, for the bench's figures. */

/**
 * The `p`-th percentile (0..100) of `samples` by the nearest-rank method: the smallest sample that at
 * least p % of the samples are at or below. Nearest rank never invents a value between two samples, so a
 * p99 over 2,000 requests is the 1,980th fastest request. Throws on no samples: a figure without data
 * must not look like 0 ms.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** The median (50th percentile, nearest rank). */
export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** The arithmetic mean; cost adds up per invocation, so it is the mean, not the median, that bills. */
export function mean(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('mean of no samples');
  return samples.reduce((sum, value) => sum + value, 0) / samples.length;
}

/** Rounds to `digits` decimals, for figures that are printed and written as JSON. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
