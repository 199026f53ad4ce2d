import { describeError } from '../errors';
import type { Exchange } from '../history/exchange';
import { systemClock, type Clock, type LlmClient, type Logger, type ObjectStore } from '../ports';
import { boundItems, cleanFact, factKey, mergeStates, shorten, type MemoryBounds, type MemoryState } from './facts';
import type { LearnResult, LongTermMemory, MemoryCallOptions } from './memory';
import { MemoryVersions, type MemoryVersion } from './memory-versions';
import { buildUpdatePrompt, parseMemoryUpdate } from './update-prompt';

/** Options of {@link createStoredMemory}. */
export interface StoredMemoryOptions {
  /** The history store: memory lives beside the history, under `<prefix>memory/<user>/`. */
  store: ObjectStore;
  /** HISTORY_PREFIX. */
  prefix: string;
  /** The model that turns exchanges into the new list. */
  llm: LlmClient;
  /** MEMORY_MODEL; undefined: the LLM's own model (OPENAI_MODEL). */
  model?: string;
  /** MEMORY_MAX_ITEMS. Default 30. */
  maxItems?: number;
  /** Most UTF-8 bytes of all facts together. Default 4096. */
  maxBytes?: number;
  /** Most characters of one fact. Default 300. */
  maxFactChars?: number;
  /** Most bytes of exchange text one update call sends. Default 24,000 (about 6,000 to 24,000 tokens at most). */
  maxInputBytes?: number;
  /** The short waits for a concurrent version still being written (see `MemoryVersions`). Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Times the learn log line. Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
}

/** The defaults of the bounds. */
export const STORED_MEMORY_DEFAULTS = { maxItems: 30, maxBytes: 4096, maxFactChars: 300, maxInputBytes: 24_000 } as const;

/**
 * The built-in long-term memory: each person's facts as a short list in the history store (see
 * `MemoryVersions`: create-only versions, merged on conflict, so concurrent runs lose no update).
 *
 * - `recall` answers every fact (the list is small and bounded) from the head, a copy of the newest facts
 *   rewritten after each change: one GET on the question's path. Just after a concurrent change the head
 *   may lag (see `MemoryVersions`); then a question misses that change's facts until the next commit.
 * - `list` answers every fact from the versions themselves (one LIST and one GET), as `\memory` numbers
 *   them for `forget`; `learn`, `remember` and `forget` read the versions, never the head, so a head that
 *   lags never costs a change.
 * - `learn` makes at most one LLM call (`response_format: json_object`, MEMORY_MODEL) with the current list
 *   and the exchanges not learned yet, and stores the complete list the model answers. An answer that is not
 *   `{"memories": [strings]}` within the bounds, or a failed call, leaves the memory as it was (logged and
 *   reported in `unchanged`), and those exchanges are not asked about again. A conflict with a concurrent
 *   change is merged, never asked again.
 * - `remember` appends a fact at once (no LLM): a repeat changes nothing, a fact longer than the bound is
 *   shortened, and when the list is full the oldest fact is dropped to make room.
 * - `forget` removes one fact by its number, or all of them; a concurrent `learn` keeps what it added.
 *
 * Logs carry counts and reasons; fact and exchange texts only when the logger is at debug.
 */
export function createStoredMemory(options: StoredMemoryOptions): LongTermMemory {
  const bounds: MemoryBounds = {
    maxItems: options.maxItems ?? STORED_MEMORY_DEFAULTS.maxItems,
    maxBytes: options.maxBytes ?? STORED_MEMORY_DEFAULTS.maxBytes,
    maxFactChars: options.maxFactChars ?? STORED_MEMORY_DEFAULTS.maxFactChars,
  };
  const maxInputBytes = options.maxInputBytes ?? STORED_MEMORY_DEFAULTS.maxInputBytes;
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const versions = new MemoryVersions(options.store, options.prefix, { ...(logger !== undefined ? { logger } : {}), ...(options.sleep !== undefined ? { sleep: options.sleep } : {}) });
  const merge = mergeStates(bounds);

  /** Commits `ours` made from `base`; answers the stored facts after it (the base's when it gave up). */
  async function commit(userId: string, base: MemoryVersion, ours: MemoryState): Promise<{ items: string[]; conflicts: number; gaveUp: boolean }> {
    const result = await versions.commit(userId, base, ours, merge);
    if (result === undefined) return { items: base.items, conflicts: -1, gaveUp: true };
    return { items: result.version.items, conflicts: result.conflicts, gaveUp: false };
  }

  async function learn(userId: string, exchanges: readonly Exchange[], call: MemoryCallOptions = {}): Promise<LearnResult> {
    const started = clock.now();
    const base = await versions.read(userId);
    const fresh = exchanges.filter((exchange) => exchange.at > base.learnedUntil).sort((a, b) => a.at - b.at);
    if (fresh.length === 0) return { learned: 0, calls: 0, items: base.items.length };
    const prompt = buildUpdatePrompt({ items: base.items, exchanges: fresh, bounds, maxInputBytes });
    const learned = prompt.sent;
    let text: string;
    try {
      const answer = await options.llm.complete(prompt.messages, {
        responseFormat: 'json_object',
        ...(options.model !== undefined ? { model: options.model } : {}),
        ...(call.signal !== undefined ? { signal: call.signal } : {}),
      });
      text = answer.text;
    } catch (error) {
      logger?.warn('memory.learn_failed', { exchanges: learned, error: describeError(error) });
      return { learned, calls: 1, items: base.items.length, unchanged: 'llm-failed' };
    }
    const parsed = parseMemoryUpdate(text, bounds);
    if (!parsed.ok) {
      logger?.warn('memory.update_refused', {
        reason: parsed.reason,
        answerChars: text.length,
        ...(logger?.debugEnabled === true ? { answer: text.slice(0, 2000) } : {}),
      });
      return { learned, calls: 1, items: base.items.length, unchanged: parsed.reason };
    }
    const learnedUntil = Math.max(base.learnedUntil, ...fresh.map((exchange) => exchange.at));
    const stored = await commit(userId, base, { items: parsed.items, learnedUntil });
    if (stored.gaveUp) return { learned, calls: 1, items: base.items.length, unchanged: 'conflict' };
    const before = new Set(base.items.map(factKey));
    const after = new Set(stored.items.map(factKey));
    logger?.info('memory.learned', {
      exchanges: learned,
      skipped: exchanges.length - learned,
      items: stored.items.length,
      added: [...after].filter((key) => !before.has(key)).length,
      removed: [...before].filter((key) => !after.has(key)).length,
      conflicts: stored.conflicts,
      ms: clock.now() - started,
      ...(logger?.debugEnabled === true ? { memories: stored.items } : {}),
    });
    return { learned, calls: 1, items: stored.items.length };
  }

  async function remember(userId: string, raw: string): Promise<string[]> {
    const fact = shorten(cleanFact(raw), bounds.maxFactChars);
    const base = await versions.read(userId);
    if (fact === '' || base.items.some((item) => factKey(item) === factKey(fact))) return base.items;
    const { items, dropped } = boundItems([...base.items, fact], bounds);
    const stored = await commit(userId, base, { items, learnedUntil: base.learnedUntil });
    logger?.info('memory.remembered', { items: stored.items.length, dropped, conflicts: stored.conflicts, ...(logger?.debugEnabled === true ? { fact } : {}) });
    return stored.items;
  }

  async function forget(userId: string, which: number | 'all'): Promise<string[]> {
    const base = await versions.read(userId);
    const removed = which === 'all' ? base.items : Number.isInteger(which) && which >= 1 && which <= base.items.length ? [base.items[which - 1] as string] : [];
    if (removed.length === 0) return [];
    const gone = new Set(removed.map(factKey));
    const stored = await commit(userId, base, { items: base.items.filter((item) => !gone.has(factKey(item))), learnedUntil: base.learnedUntil });
    logger?.info('memory.forgot', { removed: removed.length, items: stored.items.length, conflicts: stored.conflicts });
    return removed;
  }

  return {
    recall: async (userId) => (await versions.readHead(userId)).items,
    list: async (userId) => (await versions.read(userId)).items,
    learn,
    remember: (userId, fact) => remember(userId, fact),
    forget: (userId, which) => forget(userId, which),
  };
}
