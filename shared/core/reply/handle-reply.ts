import { describeError, InvalidTaskError, RetryLaterError } from '../../errors';
import type { LogFields } from '../../ports';
import { parseReplyTask, type ReplyTask } from '../reply-task';
import { clearHistory } from './clear';
import { deliverNotice } from './deliver';
import type { ReplyDeps } from './deps';
import { answerOnce } from './exactly-once';
import { passGates } from './gates';
import { forgetMemory, showMemory } from './memory-step';
import { steerModel, steerSystem } from './steering';
import { showUsage } from './usage-step';
import { runReplyProbe } from './probe';
import { NORMAL_OUTCOMES, type ReplyOutcome } from './report';
import { ReplyRun } from './run';

/** A deployment probe: the store and the LLM checked, the result left for doctor, nothing posted. */
async function probe(run: ReplyRun): Promise<ReplyOutcome> {
  const { deps } = run;
  if (deps.probeStore === undefined) {
    run.log.warn('reply.probe_unsupported', {});
    return 'probe';
  }
  const result = await runReplyProbe(run.task, {
    store: deps.probeStore.store,
    prefix: deps.probeStore.prefix,
    llm: deps.llm,
    clock: deps.clock,
    logger: run.log,
    signal: run.deadline.work,
  });
  run.report.set({ probeOk: result.ok, probeSaved: result.saved });
  return 'probe';
}

/** Runs the steps of one message after its task was parsed: gates, then the command, notice or question. */
async function reply(run: ReplyRun): Promise<ReplyOutcome> {
  const decision = passGates(run);
  switch (decision.kind) {
    case 'stop':
      return decision.outcome;
    case 'notice':
      return deliverNotice(run, decision.text, decision.outcome);
    case 'clear':
      return clearHistory(run);
    case 'usage':
      return showUsage(run);
    case 'model':
      return steerModel(run, decision.name);
    case 'system':
      return steerSystem(run, decision.text, decision.reset);
    case 'memory':
      return decision.forget ? forgetMemory(run, decision.which) : showMemory(run);
    case 'probe':
      return probe(run);
    case 'chat':
      return answerOnce(run, decision.content, decision.question);
  }
}

/**
 * The reply function's core: answers one message. The gates check where the answer may go and who may
 * ask; a question is claimed so that it is answered once however often it arrives (exactly-once.ts), the
 * LLM answers within the run's deadline, and the answer is delivered through the channel chosen for the
 * message (AI card, session webhook, robot OpenAPI). Every failure ends in at most one short message to
 * the user and one `reply.done` log line with the outcome, the timings and the cause. It throws
 * `RetryLaterError` only when nothing reached the user and a retry can help, so that FC runs it again.
 */
export async function handleReply(event: unknown, deps: ReplyDeps): Promise<ReplyOutcome> {
  let task: ReplyTask;
  try {
    task = parseReplyTask(event);
  } catch (error) {
    deps.logger.error('reply.invalid_task', {
      outcome: 'invalid_task',
      error: describeError(error instanceof InvalidTaskError ? error : new InvalidTaskError('unreadable event')),
    });
    return 'invalid_task';
  }
  const run = new ReplyRun(task, deps);
  const done = (outcome: ReplyOutcome | 'retry' | 'crashed', extra: LogFields = {}): void => {
    const level = outcome === 'crashed' ? 'error' : outcome !== 'retry' && NORMAL_OUTCOMES.has(outcome) ? 'info' : 'warn';
    run.log[level]('reply.done', {
      outcome,
      conversationType: task.conversationType,
      totalMs: deps.clock.now() - run.startedAt,
      queuedMs: Math.max(0, run.startedAt - task.receivedAt),
      ...run.report.timings,
      ...run.report.fields,
      ...extra,
    });
  };
  try {
    const outcome = await reply(run);
    done(outcome);
    return outcome;
  } catch (error) {
    // RetryLaterError by design; anything else is a bug, and FC's retry takes this run's claim over.
    done(error instanceof RetryLaterError ? 'retry' : 'crashed', { error: describeError(error) });
    throw error;
  } finally {
    run.deadline.dispose();
  }
}

export type { ReplyDeps, ReplySettings, InvocationInfo, UsageCounter } from './deps';
export type { ReplyOutcome } from './report';
