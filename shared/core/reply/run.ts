import { abortableSleep } from '../../util/abortable-sleep';
import type { HistoryKey } from '../../history/exchange';
import type { Logger } from '../../ports';
import type { ReplyTask } from '../reply-task';
import { Deadline, DEFAULT_TIMEOUT_MS } from './deadline';
import type { ReplyDeps } from './deps';
import { RunReport } from './report';

/** Configuration problems logged by this instance when the deps do not bring their own set. */
const instanceHints = new Set<string>();

/**
 * One run of the reply function for one message: the task, the instance's deps, the run's logger (with
 * msgId and user), its report and its deadline. Every step takes it, so no step reaches for globals.
 */
export class ReplyRun {
  readonly log: Logger;
  readonly report: RunReport;
  readonly deadline: Deadline;
  readonly key: HistoryKey;
  readonly sleep: NonNullable<ReplyDeps['sleep']>;
  readonly configHints: Set<string>;
  readonly startedAt: number;

  constructor(
    readonly task: ReplyTask,
    readonly deps: ReplyDeps,
  ) {
    this.startedAt = deps.clock.now();
    this.log = deps.logger.child({ msgId: task.msgId, user: task.userId });
    this.report = new RunReport(deps.clock);
    this.deadline = new Deadline(deps.clock, deps.invocation?.timeoutMs ?? DEFAULT_TIMEOUT_MS, this.startedAt);
    this.key = { conversationId: task.conversationId, userId: task.userId };
    this.sleep = deps.sleep ?? abortableSleep;
    this.configHints = deps.configHints ?? instanceHints;
  }

  /** Logs a configuration problem once per instance (at error), and only counts it afterwards. */
  configProblem(hint: string, fields: Record<string, string | number | boolean | string[] | undefined>): void {
    if (this.configHints.has(hint)) return;
    this.configHints.add(hint);
    this.log.error('reply.misconfigured_channel', { hint, ...fields });
  }
}
