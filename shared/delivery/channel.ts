import type { LogFields } from '../ports';

/** The ways an answer reaches DingTalk. */
export type ChannelName = 'webhook' | 'card' | 'openapi';

/**
 * Pause between the parts of a long answer: DingTalk throttles a robot beyond about 20 messages a
 * minute (errcode 130101), so parts go out no faster than that while the deadline allows.
 */
export const PART_INTERVAL_MS = 3_000;

/**
 * The pause before the next of `left` parts: {@link PART_INTERVAL_MS}, or less when the pauses would not
 * fit in the time left (the user gets every part a little fast rather than the last ones never).
 */
export function partPause(left: number, remainingMs: number): number {
  return Math.max(0, Math.min(PART_INTERVAL_MS, Math.floor(remainingMs / (left + 1))));
}

/** What a text is: an answer (saved, exactly once), a notice (help, cleared, ...) or a failure message. */
export type DeliveryKind = 'answer' | 'notice' | 'failure';

/**
 * What got through, in the channel's own terms, for the core to map to an outcome.
 * - `reached`: nothing, part (some parts of a long answer, some cards) or all of the text;
 * - `retryable`: nothing got through and trying again later can work without a duplicate;
 * - `expired`: this channel can no longer reach the user (the session webhook's lifetime is over);
 * - `misconfigured`: the operator must fix something (a permission, the card template): falling back is
 *   right, retrying is not.
 */
export interface DeliveryReport {
  channel: ChannelName;
  reached: 'none' | 'some' | 'all';
  retryable: boolean;
  expired: boolean;
  misconfigured: boolean;
  /** The failure, for the log. */
  error?: unknown;
  /** Extra facts for the run's outcome line (parts, cards, updates). */
  fields?: LogFields;
}

/** Options of a channel's waits. */
export interface ChannelCallOptions {
  /** The run's deadline for deliveries. */
  signal: AbortSignal;
  /** Milliseconds left until that deadline, for pacing that must fit in it. */
  remainingMs: () => number;
}

/** Waits `ms`, or rejects when `signal` aborts: the one wait channels pace with (injected in tests). */
export type ChannelSleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * One way of delivering a message: it owns its checks, formatting, splitting, pacing and failure report,
 * so the reply core never knows how a channel talks to DingTalk. A channel is made for one message.
 *
 * The life of a channel: `open` (show that the bot is working, where the channel can), `progress` as
 * the answer grows (a channel that cannot show progress ignores it), then `finish` with the whole text.
 */
export interface DeliveryChannel {
  readonly name: ChannelName;
  /**
   * Prepares delivery before the answer exists: a card is created in its "thinking" state. Resolves
   * undefined when the channel is ready, else with the report of why it cannot be used.
   */
  open(options: ChannelCallOptions): Promise<DeliveryReport | undefined>;
  /** The answer so far (the whole text each time). Never waits, never throws: pacing is the channel's. */
  progress(textSoFar: string): void;
  /** Delivers the whole text, completing what `open` and `progress` started. Never throws. */
  finish(text: string, kind: DeliveryKind, options: ChannelCallOptions): Promise<DeliveryReport>;
  /**
   * The ids DingTalk answered for the messages this channel made so far (a card's `carrierId`, a robot
   * send's `processQueryKey`), so that a later quote of the answer can be found. Absent or empty for the
   * session webhook, whose answer names no message.
   */
  messageIds?(): readonly string[];
}

/** A report for `channel` that reached nothing, with the flags given. */
export function nothingReached(
  channel: ChannelName,
  flags: Partial<Pick<DeliveryReport, 'retryable' | 'expired' | 'misconfigured' | 'error' | 'fields'>> = {},
): DeliveryReport {
  return { channel, reached: 'none', retryable: false, expired: false, misconfigured: false, ...flags };
}
