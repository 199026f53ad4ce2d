/**
 * Milliseconds on the machine's monotonic clock (`process.hrtime`, CLOCK_MONOTONIC on Linux): one clock for
 * every process of the bench, so a time the warm driver takes and one a fake's server takes compare
 * directly, with no wall-clock step or per-process origin in between.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
