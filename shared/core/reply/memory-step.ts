import { describeError } from '../../errors';
import type { Exchange } from '../../history/exchange';
import { explicitFact } from '../../memory/explicit-remember';
import { deliverNotice } from './deliver';
import { forgotOneMessage, MEMORY_MESSAGES, memoryListMessage } from './memory-messages';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';

/**
 * The long-term memory's part in a run: what the model is told about the user, what a "remember …"
 * keeps at once, what `\memory` and `\forget` show and remove, and what the bot learns from the exchanges
 * leaving the window after the answer was delivered. A memory that cannot be reached never stops an answer.
 */

/** The user's memory for this question (with an explicit "remember …" kept first); none when off or failing. */
export async function recallMemory(run: ReplyRun, question: string): Promise<string[]> {
  const memory = run.deps.memory;
  if (memory === undefined) return [];
  const signal = run.deadline.work;
  try {
    const fact = explicitFact(question);
    if (fact !== undefined) {
      await run.report.timed('memory', () => memory.remember(run.task.userId, fact, { signal }));
      run.report.set({ remembered: true });
    }
    const facts = await run.report.timed('memory', () => memory.recall(run.task.userId, question, { signal }));
    run.report.set({ memoryItems: facts.length });
    return facts;
  } catch (error) {
    run.log.warn('reply.memory_unavailable', { error: describeError(error) });
    return [];
  }
}

/**
 * The exchanges that leave the window of the next prompt once `exchange` is saved: the oldest of
 * `context` beyond HISTORY_LENGTH − 1 (all of them, and `exchange` too, with HISTORY_LENGTH 0).
 */
export function leavingWindow(exchange: Exchange, context: readonly Exchange[], historyLength: number): Exchange[] {
  const all = [...context, exchange];
  return all.slice(0, Math.max(0, all.length - historyLength));
}

/**
 * Learns from exchanges leaving the context, after the user has the answer (the run is still billed, the
 * user no longer waits). At most one model call; a failure is logged and changes nothing.
 */
export async function learnFrom(run: ReplyRun, exchanges: readonly Exchange[]): Promise<void> {
  const memory = run.deps.memory;
  if (memory === undefined || exchanges.length === 0) return;
  try {
    const result = await run.report.timed('memoryUpdate', () => memory.learn(run.task.userId, exchanges, { signal: run.deadline.end }));
    run.report.set({ memoryLearned: result.learned, memoryCalls: result.calls, ...(result.unchanged !== undefined ? { memoryUnchanged: result.unchanged } : {}) });
  } catch (error) {
    run.log.warn('reply.memory_update_failed', { error: describeError(error) });
  }
}

/** `\memory`: the facts, numbered. */
export async function showMemory(run: ReplyRun): Promise<ReplyOutcome> {
  const memory = run.deps.memory;
  if (memory === undefined) return deliverNotice(run, MEMORY_MESSAGES.off, 'memory');
  try {
    const items = await run.report.timed('memory', () => memory.list(run.task.userId, { signal: run.deadline.work }));
    run.report.set({ memoryItems: items.length });
    return deliverNotice(run, items.length === 0 ? MEMORY_MESSAGES.empty : memoryListMessage(items), 'memory');
  } catch (error) {
    run.log.error('reply.memory_unavailable', { error: describeError(error) });
    return deliverNotice(run, MEMORY_MESSAGES.unavailable, 'memory');
  }
}

/** `\forget N` / `\forget all`: removes and confirms. */
export async function forgetMemory(run: ReplyRun, which: number | 'all' | undefined): Promise<ReplyOutcome> {
  const memory = run.deps.memory;
  if (memory === undefined) return deliverNotice(run, MEMORY_MESSAGES.off, 'memory');
  if (which === undefined) return deliverNotice(run, MEMORY_MESSAGES.forgetUsage, 'memory');
  try {
    const removed = await run.report.timed('memory', () => memory.forget(run.task.userId, which, { signal: run.deadline.work }));
    run.report.set({ forgotten: removed.length });
    return deliverNotice(run, which === 'all' ? MEMORY_MESSAGES.forgotAll : forgotOneMessage(which, removed), 'memory');
  } catch (error) {
    run.log.error('reply.memory_unavailable', { error: describeError(error) });
    return deliverNotice(run, MEMORY_MESSAGES.unavailable, 'memory');
  }
}
