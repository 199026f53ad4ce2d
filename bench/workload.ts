import { dingtalkMessage, dingtalkPictureMessage, fillerText, signedMessageEvent, type Sender } from './messages';
import { BENCH } from './services';

/** How many of each thing one run does; `--quick` shrinks everything for the smoke test. */
export interface Plan {
  ackWarmup: number;
  ackRequests: number;
  replyWarmup: number;
  replyMessages: number;
  coldRounds: number;
  /** Exchanges in the history before the reply figures are taken (issue 5: 20 of 2 KB each). */
  historyExchanges: number;
  /** Bytes of one question; the LLM fake answers as many, so an exchange weighs twice this. */
  questionBytes: number;
  turns: number;
  /** MAX_CONTEXT_TOKENS of the long conversation. */
  turnsMaxContextTokens: number;
  /** Messages per delivery mode (card, webhook) of the streaming step: the first on a fresh reply instance, the rest warm. */
  streamMessages: number;
  /** Tokens of each streamed answer (issue 10: 300, after the first token's 800 ms, 30 ms apart). */
  streamTokens: number;
  /** Messages of the one-user conversation whose memory update calls are counted (issue 12: 50). */
  memoryMessages: number;
  /** Fresh reply processes answering the picture at the size limit (5 MB) and its follow-up (issue 11); the figure is their highest peak. */
  pictureRuns: number;
}

/** The repetitions of a full run: enough for stable percentiles on a 2-core machine in about two minutes. */
export const FULL_PLAN: Plan = {
  ackWarmup: 200,
  ackRequests: 2000,
  replyWarmup: 50,
  replyMessages: 500,
  coldRounds: 15,
  historyExchanges: 20,
  questionBytes: 1024,
  turns: 200,
  turnsMaxContextTokens: 2000,
  streamMessages: 6,
  streamTokens: 300,
  memoryMessages: 50,
  pictureRuns: 3,
};

/** `--quick`: the same steps with few repetitions; its figures are for the smoke test, not for goals. */
export const QUICK_PLAN: Plan = {
  ...FULL_PLAN,
  ackWarmup: 20,
  ackRequests: 200,
  replyWarmup: 5,
  replyMessages: 40,
  coldRounds: 3,
  turns: 50,
  // Each streamed answer takes 0.8 s + tokens × 30 ms: a short one keeps the smoke test short.
  streamMessages: 3,
  streamTokens: 40,
  memoryMessages: 20,
  pictureRuns: 1,
};

/** A text of `bytes` UTF-8 bytes or one character more (mixed English and Chinese). */
export function textOfBytes(bytes: number, seed: number): string {
  let chars = Math.max(1, Math.floor(bytes / 3));
  let text = fillerText(chars, seed);
  while (Buffer.byteLength(text, 'utf8') < bytes) text = fillerText((chars += 1), seed);
  return text;
}

/** Deterministic pseudo-random numbers (a linear congruential generator), so every run sends the same texts. */
export function numbers(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Signed DingTalk callbacks for each part of a run. Every message has its own msgId and a later
 * createAt than the one before, as real messages do, so the history orders them like a chat.
 */
export class Workload {
  private sent = 0;
  private readonly firstAt = Date.now() - 24 * 60 * 60 * 1000;

  constructor(private readonly webhook: string) {}

  /** A user in a 1:1 chat with the bot; `webhook` gives them a session webhook of their own. */
  sender(name: string, webhook = this.webhook): Sender {
    return { conversationId: `cid-bench-${name}`, staffId: `staff-${name}`, webhook };
  }

  /** One signed callback from `sender` carrying `text`. */
  event(sender: Sender, text: string): Buffer {
    this.sent += 1;
    const message = dingtalkMessage(sender, text, `msg-bench-${this.sent}`, this.firstAt + this.sent * 1000);
    return signedMessageEvent(BENCH.secret, message);
  }

  /** One picture callback from `sender`, the picture fetched with `downloadCode`. */
  picture(sender: Sender, downloadCode: string): Buffer {
    this.sent += 1;
    const message = dingtalkPictureMessage(sender, downloadCode, `msg-bench-${this.sent}`, this.firstAt + this.sent * 1000);
    return signedMessageEvent(BENCH.secret, message);
  }

  /** One callback from `sender` per text, in order. */
  texts(sender: Sender, texts: readonly string[]): Buffer[] {
    return texts.map((text) => this.event(sender, text));
  }

  /** `count` callbacks of `bytes`-byte questions from `sender`. */
  questions(sender: Sender, count: number, bytes: number): Buffer[] {
    return Array.from({ length: count }, (_, i) => this.event(sender, textOfBytes(bytes, this.sent + i)));
  }

  /** `count` callbacks of random length (10 to 3,000 characters), for the long conversation. */
  randomQuestions(sender: Sender, count: number): Buffer[] {
    const next = numbers(20240501);
    return Array.from({ length: count }, (_, i) => this.event(sender, fillerText(10 + Math.floor(next() * 2990), i)));
  }
}
