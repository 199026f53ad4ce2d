import { Deadline, finalWordMs, SAFETY_MARGIN_MS } from '../../../../shared/core/reply/deadline';
import { DeadlineError } from '../../../../shared/errors';
import { systemClock } from '../../../../shared/ports';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

// Fake timers move both the deadline's timers and systemClock (Date.now) only when a test says.
beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('finalWordMs', () => {
  it('keeps a fifth of the timeout for the last word, at least 2 s and at most 15 s', () => {
    expect(finalWordMs(60_000)).toBe(12_000);
    expect(finalWordMs(4_000)).toBe(2_000);
    expect(finalWordMs(1_000)).toBe(2_000);
    expect(finalWordMs(180_000)).toBe(15_000);
    expect(finalWordMs(600_000)).toBe(15_000);
  });
});

describe('Deadline', () => {
  it('aborts work when only the last word is left, and the end shortly before the function timeout', () => {
    const deadline = new Deadline(systemClock, 60_000);
    expect(deadline.endsAt).toBe(T0 + 60_000 - SAFETY_MARGIN_MS);
    expect(deadline.workEndsAt).toBe(deadline.endsAt - 12_000);
    jest.advanceTimersByTime(deadline.workEndsAt - T0 - 1);
    expect(deadline.work.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(deadline.work.aborted).toBe(true);
    expect(deadline.work.reason).toBeInstanceOf(DeadlineError);
    expect(deadline.end.aborted).toBe(false);
    jest.advanceTimersByTime(deadline.endsAt - Date.now() - 1);
    expect(deadline.end.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(deadline.end.aborted).toBe(true);
    expect(deadline.end.reason).toBeInstanceOf(DeadlineError);
    deadline.dispose();
  });

  it('aborts work before the end for every timeout, however short', () => {
    for (const timeoutMs of [1_000, 3_000, 4_000, 10_000, 180_000, 900_000]) {
      const deadline = new Deadline(systemClock, timeoutMs);
      expect(deadline.workEndsAt).toBeLessThan(deadline.endsAt);
      expect(deadline.endsAt).toBeLessThan(T0 + timeoutMs);
      deadline.dispose();
    }
  });

  it('counts from when the run started, so time spent before (queued, cold start) is not given twice', () => {
    const deadline = new Deadline(systemClock, 10_000, T0 - 9_000);
    expect(deadline.work.aborted).toBe(true);
    expect(deadline.end.aborted).toBe(true);
    expect(deadline.remaining()).toBe(0);
    deadline.dispose();
  });

  it('says how long is left until the end, never less than zero', () => {
    const deadline = new Deadline(systemClock, 10_000);
    expect(deadline.remaining()).toBe(10_000 - SAFETY_MARGIN_MS);
    jest.advanceTimersByTime(3_000);
    expect(deadline.remaining()).toBe(7_000 - SAFETY_MARGIN_MS);
    jest.advanceTimersByTime(60_000);
    expect(deadline.remaining()).toBe(0);
    deadline.dispose();
  });

  it('clears its timers on dispose: nothing is left pending, and the signals stay as they were', () => {
    const deadline = new Deadline(systemClock, 60_000);
    expect(jest.getTimerCount()).toBe(2);
    deadline.dispose();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(120_000);
    expect(deadline.work.aborted).toBe(false);
    expect(deadline.end.aborted).toBe(false);
  });

  it('keeps an aborted work signal aborted after dispose', () => {
    const deadline = new Deadline(systemClock, 10_000);
    jest.advanceTimersByTime(deadline.workEndsAt - T0);
    deadline.dispose();
    expect(deadline.work.aborted).toBe(true);
    expect(deadline.end.aborted).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not keep the process alive with its timers', () => {
    jest.useRealTimers();
    const deadline = new Deadline(systemClock, 60_000);
    const timers = (deadline as unknown as { timers: NodeJS.Timeout[] }).timers;
    expect(timers).toHaveLength(2);
    for (const timer of timers) expect(timer.hasRef()).toBe(false);
    deadline.dispose();
  });
});
