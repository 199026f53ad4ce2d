import { MAX_RETRY_AFTER_MS, retryDelayMs } from '../../../shared/adapters/openai-retry';

const headers = (values: Record<string, string>): Headers => new Headers(values);

describe('retryDelayMs', () => {
  it('backs off exponentially from 500 ms up to 8 s, with up to 25 % jitter taken off', () => {
    expect([0, 1, 2, 3, 4, 5].map((retry) => retryDelayMs(retry, undefined, () => 0))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(retryDelayMs(0, undefined, () => 1)).toBe(375);
  });

  it('prefers retry-after-ms, then Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryDelayMs(0, headers({ 'retry-after-ms': '120', 'retry-after': '9' }))).toBe(120);
    expect(retryDelayMs(0, headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryDelayMs(0, headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), Math.random, now)).toBe(3000);
    expect(retryDelayMs(0, headers({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), Math.random, now)).toBe(0);
  });

  it('gives up (undefined) when the provider asks for more than a minute, and ignores an unreadable header', () => {
    expect(retryDelayMs(0, headers({ 'retry-after': String(MAX_RETRY_AFTER_MS / 1000 + 1) }))).toBeUndefined();
    expect(retryDelayMs(1, headers({ 'retry-after': 'soon' }), () => 0)).toBe(1000);
  });
});
