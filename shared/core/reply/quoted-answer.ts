/**
 * Finding the bot's own answer that a user quoted. DingTalk has no API to read a message by its id, and a
 * quote of a message the robot sent often carries no text (a card: `repliedMsg` is only `{msgType, msgId,
 * senderId, createdAt}`, dingtalk-openclaw-connector#399, QwenPaw#3747). So the answer is looked up in the
 * user's history:
 *
 * 1. By id: DingTalk's `originalProcessQueryKey` (or the quoted `msgId`) is one of the ids DingTalk answered
 *    when the answer was sent (`Exchange.replyIds`: a card's `carrierId`, a robot send's `processQueryKey`;
 *    peers match the card's `carrierId` this way, soimy/openclaw-channel-dingtalk card-service.ts).
 * 2. Else by time, and only when the quoted sender is the robot (`repliedMsg.senderId` equals the callback's
 *    `chatbotUserId`): the quoted message's `createdAt` falls between the exchange's question time (`at`, less
 *    {@link QUOTE_BEFORE_QUESTION_MS}) and the time its answer was handed to DingTalk (`answeredAt`, plus
 *    {@link QUOTE_AFTER_ANSWER_MS} for the parts of a long answer and clock skew). Of several such exchanges,
 *    the one with an end (question or answer time) nearest to `createdAt` wins: a card is made just after the
 *    question, a webhook message just after the answer.
 *
 * Limits: only this user's history in this conversation is searched, so in a group a quote of the bot's
 * answer to someone else is not found, and neither is an answer saved before `answeredAt` was recorded,
 * one cleared with `\clear`, or one older than the loaded window plus {@link QUOTE_LOOKBACK} exchanges. Two
 * answers delivered within the tolerance of each other can be confused when DingTalk gives no id. When
 * nothing matches, the model is told that the quoted text is not available, as before.
 */
import { describeError } from '../../errors';
import type { QuoteReference } from '../../dingtalk/message';
import type { DeliveryChannel } from '../../delivery/channel';
import { MAX_REPLY_ID_LENGTH, MAX_REPLY_IDS, type Exchange } from '../../history/exchange';
import type { ReplyRun } from './run';

/** How long before its question's time DingTalk may date an answer (rounding, and DingTalk's own clocks). */
export const QUOTE_BEFORE_QUESTION_MS = 2_000;

/** How long after it was handed to DingTalk an answer's message may be dated: paced parts and clock skew. */
export const QUOTE_AFTER_ANSWER_MS = 60_000;

/** Exchanges read beyond the loaded window, once, when the quoted answer is not in it. */
export const QUOTE_LOOKBACK = 20;

/** Most characters of a found answer put in front of the question; the rest is cut with a mark. */
export const QUOTED_ANSWER_MAX_CHARS = 2_000;

/** The exchange whose answer was quoted, and how it was recognised. */
export interface QuotedAnswer {
  exchange: Exchange;
  by: 'id' | 'time';
}

/** The history a run has: its loaded window (oldest first) and its own exchange id, left out of any read. */
export interface EarlierExchanges {
  loaded: Promise<readonly Exchange[]>;
  exclude: string;
}

/** Whether the time rule may be used for this quote. */
const datedFromRobot = (quote: QuoteReference): quote is QuoteReference & { createdAt: number } =>
  quote.fromRobot === true && quote.createdAt !== undefined;

/** The exchange among `exchanges` whose answer `quote` is, by the rules at the top of this file. */
export function matchQuotedAnswer(quote: QuoteReference, exchanges: readonly Exchange[]): QuotedAnswer | undefined {
  const newestFirst = [...exchanges].sort((a, b) => b.at - a.at);
  const ids = [quote.processQueryKey, quote.msgId].filter((id): id is string => id !== undefined);
  const byId = newestFirst.find((exchange) => exchange.replyIds?.some((id) => ids.includes(id)) === true);
  if (byId !== undefined) return { exchange: byId, by: 'id' };
  if (!datedFromRobot(quote)) return undefined;
  const createdAt = quote.createdAt;
  let best: { exchange: Exchange; distance: number } | undefined;
  for (const exchange of newestFirst) {
    const answeredAt = exchange.answeredAt;
    if (answeredAt === undefined) continue;
    if (createdAt < exchange.at - QUOTE_BEFORE_QUESTION_MS || createdAt > answeredAt + QUOTE_AFTER_ANSWER_MS) continue;
    const distance = Math.min(Math.abs(createdAt - exchange.at), Math.abs(createdAt - answeredAt));
    if (best === undefined || distance < best.distance) best = { exchange, distance };
  }
  return best === undefined ? undefined : { exchange: best.exchange, by: 'time' };
}

/**
 * Whether exchanges older than `loaded` could hold the quoted answer: not when the window is not full (the
 * history has no more), nor when the quoted message is newer than the oldest loaded question (its answer
 * would be in the window, unless an older question was answered later still).
 */
function mayBeOlder(run: ReplyRun, quote: QuoteReference, loaded: readonly Exchange[]): boolean {
  if (loaded.length < run.deps.settings.historyLength) return false;
  const oldest = loaded.reduce<number | undefined>((min, exchange) => (min === undefined || exchange.at < min ? exchange.at : min), undefined);
  return quote.createdAt === undefined || oldest === undefined || quote.createdAt < oldest;
}

/**
 * Looks the quoted answer up: in the history the run loaded, then, when it may be older, in one read of
 * the newest `historyLength` + {@link QUOTE_LOOKBACK} exchanges. A quote of someone else's message costs
 * nothing, and a history that cannot be read finds nothing.
 */
export async function findQuotedAnswer(run: ReplyRun, quote: QuoteReference, earlier: EarlierExchanges | undefined): Promise<QuotedAnswer | undefined> {
  if (earlier === undefined || quote.fromRobot === false) return undefined;
  const loaded = await earlier.loaded;
  let found = matchQuotedAnswer(quote, loaded);
  if (found === undefined && mayBeOlder(run, quote, loaded)) {
    run.report.set({ quoteLookback: true });
    try {
      const limit = run.deps.settings.historyLength + QUOTE_LOOKBACK;
      const more = await run.report.timed('quote', () => run.deps.history.loadRecent(run.key, limit, { exclude: earlier.exclude }));
      found = matchQuotedAnswer(quote, more);
    } catch (error) {
      run.log.warn('reply.quote_lookup_failed', { error: describeError(error) });
    }
  }
  run.report.set({ quotedAnswer: found?.by ?? 'not-found' });
  return found;
}

/**
 * What an exchange records of its answer's delivery, so that a quote of the answer can be found: when it was
 * handed to DingTalk (`now`) and the ids DingTalk answered for its messages so far, added to those `before`
 * had (a retry delivering an answer saved earlier), at most {@link MAX_REPLY_IDS}.
 */
export function deliveryRecord(now: number, channel: Pick<DeliveryChannel, 'messageIds'>, before?: Exchange): Pick<Exchange, 'answeredAt' | 'replyIds'> {
  const ids = [...new Set([...(before?.replyIds ?? []), ...(channel.messageIds?.() ?? [])])]
    .filter((id) => id.length <= MAX_REPLY_ID_LENGTH)
    .slice(0, MAX_REPLY_IDS);
  return { answeredAt: now, ...(ids.length > 0 ? { replyIds: ids } : {}) };
}

/** `text` cut to {@link QUOTED_ANSWER_MAX_CHARS} characters (whole code points), marked where it was cut. */
export function shortenedAnswer(text: string): string {
  const characters = Array.from(text);
  return characters.length <= QUOTED_ANSWER_MAX_CHARS ? text : `${characters.slice(0, QUOTED_ANSWER_MAX_CHARS).join('')}…`;
}
