import { DingTalkApiError } from '../errors';
import type { DingTalkOpenApi, OpenSpace } from '../dingtalk/openapi';
import type { Clock } from '../ports';
import { nothingReached, type ChannelCallOptions, type DeliveryChannel, type DeliveryKind, type DeliveryReport } from './channel';
import { cardSegments, CARD_MAX_CHARS } from './card-segments';

/** What the card shows before the model has written anything. Bilingual like every bot message. */
export const THINKING_TEXT = '思考中… / Thinking…';

/**
 * `flowStatus` of DingTalk's AI card templates (official SDK `AICardStatus`): the template shows
 * "processing" until the answer streams, then "finished" or "failed".
 */
export const FLOW_STATUS = { processing: '1', inputting: '2', finished: '3', failed: '5' } as const;

/** How cards are made (from DINGTALK_CARD_TEMPLATE_ID, DINGTALK_CARD_CONTENT_KEY, CARD_UPDATE_INTERVAL_MS). */
export interface CardSettings {
  templateId: string;
  contentKey: string;
  /** Minimum gap between two streaming updates of one card. */
  updateIntervalMs: number;
  /** Characters per card before the answer continues in a next card. Default {@link CARD_MAX_CHARS}. */
  maxChars?: number;
}

/** Which card(s) one message streams into. */
export interface CardTarget {
  /** Derived from the message: FC's retry of the same message addresses the same cards. */
  outTrackId: string;
  space: OpenSpace;
  /**
   * A retry of a run that may have created the card already: DingTalk refusing the create then means the
   * card exists, and streaming into it continues it instead of making a second one.
   */
  resumed: boolean;
}

/** What the card channel uses. */
export interface CardChannelDeps {
  openApi: DingTalkOpenApi;
  clock: Clock;
}

/** One card of the answer: the first, or a continuation of a long answer. */
interface CardState {
  outTrackId: string;
  created: boolean;
  /** The template was told the answer is being written (`flowStatus` inputting). */
  writing: boolean;
  finalized: boolean;
  /** The text DingTalk last accepted for it. */
  shown: string;
}

/** The report for a failed card call: configuration problems and retryable failures told apart. */
function failed(error: unknown, fields: Record<string, number | boolean>): DeliveryReport {
  const failure = error instanceof DingTalkApiError ? error : undefined;
  return nothingReached('card', { retryable: failure?.retryable ?? false, misconfigured: failure?.isConfiguration ?? false, error, fields });
}

/**
 * An AI card that shows the answer as it is written: created in its "thinking" state as soon as the
 * message is claimed, then updated with the whole text so far at most once per `updateIntervalMs` (one
 * update in flight at a time, always the newest text), then finalized. An answer longer than a card can
 * render continues in numbered cards. The final text always goes out, whatever happened to the progress
 * updates; if it cannot, the report says nothing got through, so the next channel delivers the whole answer
 * (better twice than lost).
 */
export function createCardChannel(target: CardTarget, settings: CardSettings, deps: CardChannelDeps): DeliveryChannel {
  const maxChars = settings.maxChars ?? CARD_MAX_CHARS;
  const cards: CardState[] = [];
  let signal: AbortSignal | undefined;
  let latest = '';
  let pushed = '';
  let lastPushAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let broken: unknown;
  let finishing = false;
  let updates = 0;
  let reused = false;
  /** What DingTalk answered for the cards created (their `carrierId`s). */
  const ids: string[] = [];

  const card = (index: number): CardState => {
    let state = cards[index];
    if (state === undefined) {
      state = {
        outTrackId: index === 0 ? target.outTrackId : `${target.outTrackId}-${index + 1}`,
        created: false,
        writing: false,
        finalized: false,
        shown: '',
      };
      cards[index] = state;
    }
    return state;
  };

  const create = async (state: CardState, content: string): Promise<void> => {
    try {
      const delivered = await deps.openApi.createAndDeliverCard(
        {
          templateId: settings.templateId,
          outTrackId: state.outTrackId,
          cardData: { [settings.contentKey]: content, flowStatus: FLOW_STATUS.processing },
          space: target.space,
        },
        { signal },
      );
      if (delivered !== undefined) ids.push(...delivered);
    } catch (error) {
      // A retry's create of a card its first run made is refused: the card is there, continue it.
      if (!(target.resumed && error instanceof DingTalkApiError && error.reason === 'rejected')) throw error;
      reused = true;
    }
    state.created = true;
    state.shown = content;
  };

  const show = async (state: CardState, content: string, finalize: boolean, isError = false): Promise<void> => {
    if (!state.created) await create(state, content);
    // A finalized card changes only when the text started again (the LLM retried inside its call): it must
    // end showing the answer, not the abandoned attempt.
    if (content === state.shown && (state.finalized || !finalize)) return;
    if (!state.writing) {
      // Templates show the streamed markdown in their "inputting" state (the official SDK's ai_start).
      state.writing = true;
      updates += 1;
      await deps.openApi.updateCard(state.outTrackId, { flowStatus: FLOW_STATUS.inputting }, { signal });
    }
    updates += 1;
    await deps.openApi.streamCard(
      { outTrackId: state.outTrackId, key: settings.contentKey, content, isFinalize: finalize, isError },
      { signal },
    );
    state.shown = content;
    state.finalized = finalize;
  };

  /** Shows `text` across the cards it needs: full cards are finalized, the last one stays open unless `final`. */
  const render = async (text: string, final: boolean): Promise<void> => {
    const segments = cardSegments(text, maxChars);
    for (const [index, segment] of segments.entries()) {
      const last = index === segments.length - 1;
      await show(card(index), segment, final || !last);
    }
  };

  const flush = (): void => {
    timer = undefined;
    if (broken !== undefined || finishing || latest === pushed) return;
    const text = latest;
    lastPushAt = deps.clock.now();
    inFlight = render(text, false)
      .then(() => {
        pushed = text;
      })
      .catch((error: unknown) => {
        // Progress is best effort: the final text still goes out in `finish`.
        broken = error;
      })
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
  };

  function schedule(): void {
    if (inFlight !== undefined || timer !== undefined || finishing || broken !== undefined || latest === pushed) return;
    const wait = lastPushAt + settings.updateIntervalMs - deps.clock.now();
    if (wait <= 0) {
      flush();
      return;
    }
    timer = setTimeout(flush, wait);
    timer.unref();
  }

  const fields = (): Record<string, number | boolean> => ({
    cards: cards.filter((state) => state.created).length,
    cardUpdates: updates,
    ...(reused ? { cardReused: true } : {}),
  });

  return {
    name: 'card',
    messageIds: () => [...ids],
    async open(options: ChannelCallOptions) {
      signal = options.signal;
      try {
        await create(card(0), THINKING_TEXT);
        return undefined;
      } catch (error) {
        return failed(error, fields());
      }
    },
    progress(textSoFar: string) {
      if (textSoFar === '') return;
      latest = textSoFar;
      schedule();
    },
    async finish(text: string, kind: DeliveryKind, options: ChannelCallOptions): Promise<DeliveryReport> {
      finishing = true;
      signal = options.signal;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight;
      try {
        if (kind === 'failure') {
          const state = cards.find((candidate) => !candidate.finalized) ?? card(cards.length);
          await show(state, text, true, true);
          await deps.openApi.updateCard(state.outTrackId, { flowStatus: FLOW_STATUS.failed }, { signal }).catch(() => undefined);
        } else {
          await render(text, true);
          // The finished state (the official SDK's ai_finish), all cards at once; the text is already final, so a
          // failure here is cosmetic.
          updates += cards.length;
          await Promise.all(
            cards.map((state) =>
              deps.openApi
                .updateCard(state.outTrackId, { [settings.contentKey]: state.shown, flowStatus: FLOW_STATUS.finished }, { signal })
                .catch(() => undefined),
            ),
          );
        }
        return { channel: 'card', reached: 'all', retryable: false, expired: false, misconfigured: false, fields: fields() };
      } catch (error) {
        return failed(error, { ...fields(), ...(broken !== undefined ? { progressFailed: true } : {}) });
      }
    },
  };
}
