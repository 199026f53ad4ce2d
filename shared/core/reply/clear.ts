import { describeError } from '../../errors';
import { USER_MESSAGES } from '../user-messages';
import { deliverNotice } from './deliver';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';

/** `\clear`: deletes this user's history (and kept pictures) in this conversation and confirms, or says it could not. */
export async function clearHistory(run: ReplyRun): Promise<ReplyOutcome> {
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
  return deliverNotice(run, USER_MESSAGES.cleared, 'cleared');
}
