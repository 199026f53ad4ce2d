import type { AbortableSleep } from '../../../shared/util/abortable-sleep';
import { createQpsBudget } from '../../../shared/adapters/qps-budget';
import { ManualClock } from '../../helpers/ports';

describe('QPS budget', () => {
  let clock: ManualClock;
  let waits: number[];
  const sleep: AbortableSleep = async (ms, signal) => {
    waits.push(ms);
    if (signal?.aborted) throw signal.reason;
  };

  beforeEach(() => {
    clock = new ManualClock();
    waits = [];
  });

  it('lets a full second of calls through at once, then spaces the next ones in the order they asked', async () => {
    const budget = createQpsBudget({ perSecond: 20, clock, sleep });
    await Promise.all(Array.from({ length: 23 }, () => budget.take()));
    expect(waits).toEqual([50, 100, 150]);
  });

  it('refills with time, never beyond one second of calls', async () => {
    const budget = createQpsBudget({ perSecond: 4, clock, sleep });
    for (let i = 0; i < 4; i += 1) await budget.take();
    clock.advance(500);
    await budget.take();
    await budget.take();
    expect(waits).toEqual([]);
    clock.advance(60_000);
    for (let i = 0; i < 5; i += 1) await budget.take();
    expect(waits).toEqual([250]);
  });

  it('gives the slot of a wait cut short by the signal back to the callers after it', async () => {
    const controller = new AbortController();
    let abortNext = true;
    const abortingSleep: AbortableSleep = async (ms, signal) => {
      waits.push(ms);
      if (abortNext) {
        abortNext = false;
        controller.abort(new Error('deadline'));
      }
      if (signal?.aborted) throw signal.reason;
    };
    const budget = createQpsBudget({ perSecond: 1, clock, sleep: abortingSleep });
    await budget.take();
    await expect(budget.take(controller.signal)).rejects.toThrow('deadline');
    await budget.take();
    expect(waits).toEqual([1000, 1000]);
  });

  it('takes nothing when the signal has already aborted', async () => {
    const budget = createQpsBudget({ perSecond: 1, clock, sleep });
    await expect(budget.take(AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
    await budget.take();
    expect(waits).toEqual([]);
  });
});
