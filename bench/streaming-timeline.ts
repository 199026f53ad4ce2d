/**
 * What the user saw and when, for one message of the streaming step, read from the fakes' records (all
 * epoch ms: the fakes stamp with `Date.now()`, the handler host with the same wall clock), and the
 * streaming figures of a run made from them.
 */
import type { DingTalkFakeCard } from '../test/fakes/dingtalk-openapi-fake';
import type { OpenAiFakeChunk } from '../test/fakes/openai-fake';
import type { WebhookSinkMessage } from '../test/fakes/webhook-sink';
import type { Figures } from './figures';
import { mean, median, round } from './stats';

/** A message answered in an AI card, in ms from the message reaching conversation. */
export interface CardTimeline {
  /** The card exists in its thinking state (createAndDeliver accepted). */
  thinkingVisibleMs: number;
  /** The LLM fake wrote the answer's first token. */
  firstTokenMs: number;
  /** DingTalk accepted the first streaming update carrying answer text. */
  firstTextMs: number;
  /** Streaming updates and instance updates (`PUT /v1.0/card/instances`) of the card. */
  updates: number;
}

/** When the LLM fake wrote the first token of the answer, from `receivedAt`. Throws when it wrote none. */
export function firstTokenMs(receivedAt: number, chunks: readonly OpenAiFakeChunk[]): number {
  const first = chunks.find((chunk) => chunk.content !== undefined && chunk.content !== '');
  if (first === undefined) throw new Error('the LLM fake wrote no answer token');
  return first.at - receivedAt;
}

/**
 * The timeline of a message answered in `cards` (the cards it created) with `answer`. Throws unless it
 * went as it should, so a broken bundle never yields a fast figure: one card, streamed into (an update
 * with answer text), finalized without error, showing the whole answer.
 */
export function cardTimeline(receivedAt: number, cards: readonly DingTalkFakeCard[], chunks: readonly OpenAiFakeChunk[], answer: string): CardTimeline {
  const [card, ...more] = cards;
  if (card === undefined) throw new Error('card mode: the message made no card');
  if (more.length > 0) throw new Error(`card mode: the message made ${cards.length} cards; the bench's answer must fit in one`);
  if (!card.finalized || card.error || card.text !== answer) {
    throw new Error(`card mode: the card ended ${card.finalized ? '' : 'un'}finalized, error ${String(card.error)}, with ${card.text.length} of the answer's ${answer.length} characters`);
  }
  const firstText = card.updates.find((update) => update.content !== '' && answer.startsWith(update.content));
  if (firstText === undefined) throw new Error('card mode: no streaming update carried answer text');
  return {
    thinkingVisibleMs: card.createdAt - receivedAt,
    firstTokenMs: firstTokenMs(receivedAt, chunks),
    firstTextMs: firstText.at - receivedAt,
    updates: card.updates.length + card.paramUpdates.length,
  };
}

/** When the session webhook received the answer (its first part), from `receivedAt`. Throws when it did not. */
export function webhookFirstTextMs(receivedAt: number, messages: readonly WebhookSinkMessage[]): number {
  const first = messages[0];
  if (first === undefined) throw new Error('webhook mode: the session webhook received no answer');
  return first.receivedAt - receivedAt;
}

/** The streaming figures of issue 10. */
export type StreamingFigures = Pick<
  Figures,
  | 'thinking_visible_first_ms'
  | 'thinking_visible_ms'
  | 'first_text_card_ms'
  | 'first_text_card_after_token_ms'
  | 'first_text_webhook_ms'
  | 'first_text_ratio'
  | 'card_updates_per_answer'
  | 'openapi_calls_per_message'
>;

/**
 * The figures of a run of the same number of messages in each mode, the first of each on a fresh reply
 * instance (its own figure for the thinking card) and the rest warm (medians). `openApiCalls` counts every
 * call the card messages made, token requests included, so they are amortised over the run.
 */
export function streamingFigures(card: readonly CardTimeline[], webhookMs: readonly number[], openApiCalls: number): StreamingFigures {
  if (card.length < 2 || webhookMs.length !== card.length) {
    throw new Error(`the streaming step needs at least 2 messages per mode, as many in each (card ${card.length}, webhook ${webhookMs.length})`);
  }
  const warm = card.slice(1);
  const cardMs = median(warm.map((timeline) => timeline.firstTextMs));
  const webhook = median(webhookMs.slice(1));
  return {
    thinking_visible_first_ms: round((card[0] as CardTimeline).thinkingVisibleMs, 1),
    thinking_visible_ms: round(median(warm.map((timeline) => timeline.thinkingVisibleMs)), 1),
    first_text_card_ms: round(cardMs, 1),
    first_text_card_after_token_ms: round(median(warm.map((timeline) => timeline.firstTextMs - timeline.firstTokenMs)), 1),
    first_text_webhook_ms: round(webhook, 1),
    first_text_ratio: round(webhook / cardMs, 2),
    card_updates_per_answer: round(mean(card.map((timeline) => timeline.updates)), 1),
    openapi_calls_per_message: round(openApiCalls / card.length, 2),
  };
}
