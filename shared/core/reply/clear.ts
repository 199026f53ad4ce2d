import { describeError } from '../../errors';
import { USER_MESSAGES } from '../user-messages';
import type { Exchange } from '../../history/exchange';
import { deliverNotice } from './deliver';
import { learnFrom } from './memory-step';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';

/**
 * `\clear`: deletes this user's history (and kept pictures) in this conversation and confirms, or says it
 * could not. It starts a new conversation; the long-term memory stays, and first learns from what the
 * window still held.
 */
export async function clearHistory(run: ReplyRun): Promise<ReplyOutcome> {
  // What the window still holds is learned before it is deleted (after the confirmation: nobody waits).
  let leaving: Exchange[] = [];
  if (run.deps.memory !== undefined) {
    try {
      leaving = await run.report.timed('history', () => run.deps.history.loadRecent(run.key, Math.max(1, run.deps.settings.historyLength)));
    } catch (error) {
      run.log.warn('reply.history_unavailable', { error: describeError(error) });
    }
  }
  try {
    const pictures = run.deps.pictures;
    const [deleted, picturesDeleted] = await run.report.timed('history', () =>
      Promise.all([run.deps.history.clear(run.key), pictures !== undefined ? pictures.clear(run.key) : Promise.resolve(0)]),
    );
    run.report.set({ deleted, ...(picturesDeleted > 0 ? { picturesDeleted } : {}) });
  } catch (error) {
    run.log.error('reply.clear_failed', { error: describeError(error) });
    return deliverNotice(run, USER_MESSAGES.clearFailed, 'clear_failed');
  }
  const outcome = await deliverNotice(run, USER_MESSAGES.cleared, 'cleared');
  await learnFrom(run, leaving);
  return outcome;
}
