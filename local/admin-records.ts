/**
 * Reading the bot's stored objects for `npm run admin`: a message's object (claim or exchange, the format of
 * shared/history/exchange-log.ts, versions 1 and 2) and a recent-window object. Read-only, and lenient: an
 * object that cannot be read is reported as such rather than stopping a scan.
 */
import type { Exchange } from '../shared/history/exchange';
import { decodeStoredMessage, exchangeOf, isExchange } from '../shared/history/exchange-log';
import { isRecord } from '../shared/util/is-record';

/** A message's object as the admin shows it. */
export type MessageRecord =
  | { state: 'pending'; claimedAt: number }
  | { state: 'answered' | 'unposted'; exchange: Exchange }
  | { state: 'unreadable' };


/** The exchange in a stored value, with only the fields an exchange has (as the bot reads it). */
export function exchangeIn(value: unknown): Exchange | undefined {
  return isExchange(value) ? exchangeOf(value) : undefined;
}

/** Decodes a message's object. */
export function decodeMessage(body: Buffer): MessageRecord {
  const stored = decodeStoredMessage(body);
  if (stored === undefined) return { state: 'unreadable' };
  return stored.state === 'pending' ? { state: 'pending', claimedAt: stored.claimedAt } : { state: stored.state, exchange: stored.exchange };
}

/** The ids of the exchanges a recent-window object holds (copies of exchanges that have objects of their own). */
export function decodeRecentIds(body: Buffer): string[] {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(value) || !Array.isArray(value.recent)) return [];
    return value.recent.flatMap((item) => {
      const exchange = exchangeIn(item);
      return exchange === undefined ? [] : [exchange.id];
    });
  } catch {
    return [];
  }
}
