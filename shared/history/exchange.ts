/** One question and its answer, the unit history is kept in. */
export interface Exchange {
  /** Unique per message; the exchange object's name. */
  id: string;
  /** When the question was asked (epoch ms): orders history. */
  at: number;
  user: string;
  assistant: string;
  /**
   * The pictures the question carried (their bytes live in the picture store while this is the user's
   * newest exchange with pictures; see `shared/history/pictures.ts`).
   */
  pictures?: PictureNote[];
  /** The model that answered (the provider's name for it), for `npm run admin -- history`. */
  model?: string;
  /**
   * When the answer was handed to DingTalk (epoch ms, this function's clock): just before its delivery, or
   * after it for an answer delivered by a later retry. With `at` it brackets the time DingTalk gives a
   * quoted answer of the bot's (`shared/core/reply/quoted-answer.ts`). Absent on exchanges saved before it.
   */
  answeredAt?: number;
  /**
   * Ids DingTalk returned for the answer's messages (a card's `carrierId`, a robot send's `processQueryKey`)
   * as far as they were known when it was saved; a quote of the answer may name one (`originalProcessQueryKey`).
   * At most {@link MAX_REPLY_IDS}; none for the session webhook, which answers no id.
   */
  replyIds?: string[];
}

/** Most ids an exchange keeps of its answer's messages. */
export const MAX_REPLY_IDS = 8;

/** Longest id kept (DingTalk's are well under 100 characters). */
export const MAX_REPLY_ID_LENGTH = 256;

/** What history records of a picture: its type and size, never its bytes. */
export interface PictureNote {
  mediaType: string;
  bytes: number;
}

/** Whose history: one per conversation and sender, never per nickname. */
export interface HistoryKey {
  conversationId: string;
  userId: string;
}

/** What a run learns when it claims its message before calling the LLM. */
export type ClaimResult =
  /** This run owns the message: it is the first, or it took over from a run that died. */
  | { kind: 'claimed'; tookOver: boolean }
  /** Another run for the same message holds a fresh claim and may still be working. */
  | { kind: 'busy'; claimedAt: number }
  /** Another invocation already answered this message and posted the answer. */
  | { kind: 'answered'; exchange: Exchange }
  /**
   * A run saved the answer but did not post it (it could not reach DingTalk, or it was this same
   * invocation and died before posting): post it now, without asking the LLM again. `context` is the
   * history as the recent window has it now (re-read, not stored with the exchange), oldest first.
   */
  | { kind: 'unposted'; exchange: Exchange; context: Exchange[] };

/** Who claims, and when a claim counts as abandoned. */
export interface ClaimOptions {
  /** Now (epoch ms). */
  at: number;
  /** The invocation's id (FC's requestId): a retry of the same invocation takes its own claim over. */
  owner?: string;
  /** A claim older than this belongs to a run that cannot still be alive (the function timeout). */
  leaseMs: number;
}

/** How an exchange is saved. */
export interface SaveOptions {
  /** `false` records that the answer still has to be delivered. Default: posted (about to be). */
  posted?: boolean;
  /** The invocation saving it, so that FC's retry of that invocation knows the answer is still owed. */
  owner?: string;
}

/** Loads, appends to and clears one user's history in one conversation, and claims messages. */
export interface HistoryStore {
  /**
   * The newest `limit` answered exchanges, oldest first, leaving out `exclude` (the caller's own
   * claim) and claims still in flight. Throws `StorageError`.
   */
  loadRecent(key: HistoryKey, limit: number, options?: { exclude?: string }): Promise<Exchange[]>;
  /**
   * Claims message `exchangeId` with a create-only write, so that one message gets one LLM call and
   * one answer however often it is delivered or retried. Throws `StorageError`.
   */
  claim(key: HistoryKey, exchangeId: string, options: ClaimOptions): Promise<ClaimResult>;
  /** Gives a claim up (the run posted an apology instead of an answer), so a redelivery may try again. */
  release(key: HistoryKey, exchangeId: string): Promise<void>;
  /**
   * Saves one exchange in place of its claim. `context` is what the answer was based on (from
   * `loadRecent`); with the new exchange it becomes the recent window that makes the next read cheap
   * (it is not stored with the exchange). Saving the same exchange twice keeps one copy.
   */
  save(key: HistoryKey, exchange: Exchange, context: readonly Exchange[], options?: SaveOptions): Promise<void>;
  /** Deletes the history; answers how many messages' objects (exchanges and claims) were deleted. */
  clear(key: HistoryKey): Promise<number>;
}
