/** One question and its answer, the unit history is kept in. */
export interface Exchange {
  /** Unique per message; the exchange object's name. */
  id: string;
  /** When the question was asked (epoch ms): orders history. */
  at: number;
  user: string;
  assistant: string;
}

/** Whose history: one per conversation and sender, never per nickname. */
export interface HistoryKey {
  conversationId: string;
  userId: string;
}

/** Loads, appends to and clears one user's history in one conversation. */
export interface HistoryStore {
  /** The newest `limit` exchanges, oldest first. Throws `StorageError`. */
  loadRecent(key: HistoryKey, limit: number): Promise<Exchange[]>;
  /**
   * Saves one exchange. `context` is what the answer was based on (from `loadRecent`); a store may keep
   * it alongside to make the next read cheaper. Saving the same exchange id twice keeps one copy.
   */
  save(key: HistoryKey, exchange: Exchange, context: readonly Exchange[]): Promise<void>;
  /** Deletes the history; answers how many exchanges were deleted. */
  clear(key: HistoryKey): Promise<number>;
}
