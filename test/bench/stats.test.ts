import { mean, median, percentile, round } from '../../bench/stats';

describe('bench statistics', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);

  it('takes percentiles by nearest rank, never between two samples', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([1, 2], 50)).toBe(1);
    expect(median([7])).toBe(7);
  });

  it('refuses to summarise no samples instead of reporting 0 ms', () => {
    expect(() => percentile([], 50)).toThrow('no samples');
    expect(() => mean([])).toThrow('no samples');
  });

  it('averages and rounds', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(0.0005, 3)).toBe(0.001);
  });
});
