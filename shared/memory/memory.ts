import type { Exchange } from '../history/exchange';

/**
 * One person's long-term memory across conversations: a short list of self-contained facts ("my name is
 * Zhang San", "answer me in English"), kept per user (`senderStaffId`), surviving `\clear`. Two backends
 * implement it: the history store (the default; an LLM call turns exchanges leaving the window into the
 * new list) and the Mem0 platform (MEM0_API_KEY).
 */
export interface LongTermMemory {
  /** The facts to give the model with this question (built-in: all of them; Mem0: the most relevant). */
  recall(userId: string, question: string, options?: MemoryCallOptions): Promise<string[]>;
  /** Every fact, in the order `\memory` numbers them. */
  list(userId: string, options?: MemoryCallOptions): Promise<string[]>;
  /**
   * Learns from exchanges leaving the context, each at most once: exchanges the memory already learned
   * from (by their time) are skipped, so a retry or a concurrent run does not ask twice. Resolves with what
   * happened, for the log; never throws for a model answer it cannot use (the memory stays as it was).
   */
  learn(userId: string, exchanges: readonly Exchange[], options?: MemoryCallOptions): Promise<LearnResult>;
  /** Keeps `fact` at once (an explicit "remember …"); answers the list after it. */
  remember(userId: string, fact: string, options?: MemoryCallOptions): Promise<string[]>;
  /** Removes fact `which` (1-based, as `\memory` shows them) or all of them; answers what was removed. */
  forget(userId: string, which: number | 'all', options?: MemoryCallOptions): Promise<string[]>;
}

/** Options of every memory call. */
export interface MemoryCallOptions {
  /** The run's deadline. */
  signal?: AbortSignal;
}

/** What one `learn` did. */
export interface LearnResult {
  /** Exchanges sent to the model (0 when all were learned before). */
  learned: number;
  /** Model (or Mem0) calls made: at most one per `learn`. */
  calls: number;
  /** Facts after the update (built-in), when known. */
  items?: number;
  /** Why the memory was left unchanged, when it was: `invalid-json`, `wrong-shape`, `over-bounds`, `llm-failed`, `conflict`. */
  unchanged?: string;
}
