import type { DingTalkFakeCard, DingTalkFakeCardUpdate } from '../fakes/dingtalk-openapi-fake';
import type { WebhookSinkMessage } from '../fakes/webhook-sink';
import { cardTimeline, firstTokenMs, streamingFigures, webhookFirstTextMs, type CardTimeline } from '../../bench/streaming-timeline';

const ANSWER = 'The answer, written token by token.';

function update(content: string, at: number, isFinalize = false): DingTalkFakeCardUpdate {
  return { key: 'content', content, isFull: true, isFinalize, isError: false, guid: `g${at}`, at, afterFinalize: false };
}

/** A card created at `createdAt` and streamed into at 1,000 and 1,500, finalized at 2,000. */
function card(overrides: Partial<DingTalkFakeCard> = {}): DingTalkFakeCard {
  return {
    outTrackId: 'dtllm-1',
    templateId: 'bench-ai-card.schema',
    openSpaceId: 'dtv1.card//IM_ROBOT.staff-1',
    spaceType: 'IM_ROBOT',
    spaceId: 'staff-1',
    delivered: true,
    createdAt: 100,
    params: { content: ANSWER },
    paramUpdates: [{ flowStatus: '2' }, { content: ANSWER, flowStatus: '3' }],
    updates: [update('The answer', 1_000), update('The answer, written', 1_500), update(ANSWER, 2_000, true)],
    contents: { content: ANSWER },
    text: ANSWER,
    finalized: true,
    error: false,
    ...overrides,
  };
}

const chunks = [{ at: 950, reasoning: 'hmm' }, { at: 960, content: 'The ' }, { at: 990, content: 'answer' }];

describe('streaming timeline', () => {
  it('reads when the card appeared, when the LLM began and when the first answer text showed, from the message reaching conversation', () => {
    expect(cardTimeline(40, [card()], chunks, ANSWER)).toEqual({ thinkingVisibleMs: 60, firstTokenMs: 920, firstTextMs: 960, updates: 5 });
    expect(firstTokenMs(0, chunks)).toBe(960);
  });

  it('skips an update that is not answer text when looking for the first text', () => {
    const withPlaceholder = card({ updates: [update('Thinking…', 500), update('The answer', 1_000), update(ANSWER, 2_000, true)] });
    expect(cardTimeline(0, [withPlaceholder], chunks, ANSWER).firstTextMs).toBe(1_000);
  });

  it('refuses a message whose card did not carry the whole answer, so a broken bundle never yields a figure', () => {
    expect(() => cardTimeline(0, [], chunks, ANSWER)).toThrow('made no card');
    expect(() => cardTimeline(0, [card(), card({ outTrackId: 'dtllm-1-2' })], chunks, ANSWER)).toThrow('2 cards');
    expect(() => cardTimeline(0, [card({ finalized: false })], chunks, ANSWER)).toThrow('unfinalized');
    expect(() => cardTimeline(0, [card({ text: 'The answer' })], chunks, ANSWER)).toThrow('10 of the answer');
    expect(() => cardTimeline(0, [card({ updates: [update('other', 5, true)] })], chunks, ANSWER)).toThrow('no streaming update');
    expect(() => cardTimeline(0, [card()], [{ at: 1, reasoning: 'only thinking' }], ANSWER)).toThrow('no answer token');
  });

  it('takes the webhook answer when its first part arrived', () => {
    const message = { receivedAt: 9_870 } as WebhookSinkMessage;
    expect(webhookFirstTextMs(70, [message, { receivedAt: 12_900 } as WebhookSinkMessage])).toBe(9_800);
    expect(() => webhookFirstTextMs(0, [])).toThrow('received no answer');
  });

  it('makes the figures: the first message on its own, warm medians, the ratio, updates and calls per message', () => {
    const timeline = (thinking: number, token: number, text: number, updates: number): CardTimeline => ({
      thinkingVisibleMs: thinking,
      firstTokenMs: token,
      firstTextMs: text,
      updates,
    });
    const cards = [timeline(250, 1_000, 1_060, 22), timeline(30, 830, 870, 21), timeline(34, 840, 900, 20), timeline(32, 835, 880, 21)];
    expect(streamingFigures(cards, [10_200, 9_900, 9_850, 9_800], 90)).toEqual({
      thinking_visible_first_ms: 250,
      thinking_visible_ms: 32,
      first_text_card_ms: 880,
      first_text_card_after_token_ms: 45,
      first_text_webhook_ms: 9_850,
      first_text_ratio: 11.19,
      card_updates_per_answer: 21,
      openapi_calls_per_message: 22.5,
    });
    expect(() => streamingFigures(cards.slice(0, 1), [1], 1)).toThrow('at least 2 messages');
  });
});
