import { describeError, InvalidTaskError, LlmRefusedError, RetryLaterError, StorageError, WebhookError } from '../errors';
import { formatReply } from '../dingtalk/outgoing';
import { MAX_PART_CHARS, splitAnswer } from '../dingtalk/split-answer';
import { checkWebhookUrl, redactWebhookUrl } from '../dingtalk/webhook-url';
import { localDay, type Admission } from '../history/daily-usage';
import { ExchangeLog } from '../history/exchange-log';
import type { ClaimResult, Exchange, HistoryKey, HistoryStore } from '../history/exchange';
import type { TokenCounter } from '../llm/token-counter';
import type { Clock, LlmAnswer, LlmClient, LogFields, Logger, WebhookSender } from '../ports';
import { isAllowed } from './access';
import { HELP_TEXT, parseCommand } from './commands';
import { planPrompt } from './prompt';
import { parseReplyTask, type ReplyTask } from './reply-task';
import { dailyLimitMessage, llmFailureMessage, USER_MESSAGES } from './user-messages';

/**
 * Pause between the parts of a long answer: DingTalk throttles a robot beyond about 20 messages a
 * minute (errcode 130101), so parts go out no faster than that.
 */
export const PART_INTERVAL_MS = 3_000;

/** How long a claim may be held before another run may take it over, when FC does not say (its timeout). */
export const DEFAULT_CLAIM_LEASE_MS = 180_000;

/** The reply function's settings (from the config loader). */
export interface ReplySettings {
  systemPrompt: string;
  historyLength: number;
  maxContextTokens: number;
  webhookHosts: readonly string[];
  /** Staff ids allowed; empty means everyone. */
  allowedUsers: readonly string[];
  /** Conversation ids allowed; empty means every conversation. */
  allowedConversations: readonly string[];
  /** Questions per user per day; 0 means unlimited. */
  dailyMessageLimit: number;
  /** IANA time zone of the daily reset. */
  timeZone: string;
}

/** Counts questions per user and day (see `shared/history/daily-usage.ts`). */
export interface UsageCounter {
  admit(userId: string, day: string, at: number, messageName: string, limit: number): Promise<Admission>;
}

/** What FC says about the current invocation. */
export interface InvocationInfo {
  /** FC's requestId: the same for FC's retries of one async invocation. */
  requestId?: string;
  /** The function timeout, which bounds how long a claim can belong to a live run. */
  timeoutMs?: number;
}

/** What the reply core talks to. */
export interface ReplyDeps {
  settings: ReplySettings;
  history: HistoryStore;
  usage: UsageCounter;
  llm: LlmClient;
  webhook: WebhookSender;
  clock: Clock;
  logger: Logger;
  loadTokenCounter: () => Promise<TokenCounter>;
  invocation?: InvocationInfo;
  /** Waits between the parts of a long answer. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

const timerSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How a reply ended; logged as `outcome`. `retry` is thrown (as `RetryLaterError`), never returned. */
export type ReplyOutcome =
  | 'answered'
  | 'duplicate'
  | 'cleared'
  | 'clear_failed'
  | 'help'
  | 'unsupported'
  | 'not_allowed'
  | 'limit_reached'
  | 'llm_failed'
  | 'webhook_refused'
  | 'webhook_expired'
  | 'webhook_failed'
  | 'invalid_task';

/** Outcomes that are the bot working as intended (logged at info; the rest at warn). */
const NORMAL_OUTCOMES: ReadonlySet<ReplyOutcome> = new Set<ReplyOutcome>([
  'answered',
  'duplicate',
  'cleared',
  'help',
  'unsupported',
  'not_allowed',
  'limit_reached',
]);

/** Times in ms of each step, for the outcome log line. */
type Timings = Record<string, number>;

class Reply {
  readonly timings: Timings = {};
  readonly fields: LogFields = {};

  constructor(
    readonly task: ReplyTask,
    readonly deps: ReplyDeps,
    readonly log: Logger,
  ) {}

  get key(): HistoryKey {
    return { conversationId: this.task.conversationId, userId: this.task.userId };
  }

  async timed<T>(step: string, work: () => Promise<T>): Promise<T> {
    const started = this.deps.clock.now();
    try {
      return await work();
    } finally {
      this.timings[`${step}Ms`] = (this.timings[`${step}Ms`] ?? 0) + this.deps.clock.now() - started;
    }
  }

  /**
   * Posts to the session webhook, a long answer in numbered parts (in order, paced to DingTalk's rate
   * limit, stopping at the first failure). A failure is logged and reported as the outcome; only when
   * nothing reached the user and a retry can help (DingTalk unreachable or throttling) does it throw
   * `RetryLaterError`.
   */
  async send(text: string, outcome: ReplyOutcome): Promise<ReplyOutcome> {
    const staffId = this.task.conversationType === '2' ? this.task.senderStaffId : undefined;
    const mention = staffId !== undefined ? `@${staffId}\n\n` : '';
    const { parts, truncated } = splitAnswer(text, { maxChars: MAX_PART_CHARS - mention.length });
    if (truncated) this.fields.answerCut = true;
    if (parts.length > 1) this.fields.parts = parts.length;
    const sleep = this.deps.sleep ?? timerSleep;
    let sent = 0;
    try {
      for (const part of parts) {
        if (sent > 0) await sleep(PART_INTERVAL_MS);
        await this.timed('webhook', () => this.deps.webhook.send(this.task.sessionWebhook, formatReply(part, this.task)));
        sent += 1;
      }
      return outcome;
    } catch (error) {
      if (sent === 0 && error instanceof WebhookError && error.retryable) {
        throw new RetryLaterError('webhook-unreachable', `the answer could not be posted: ${error.message}`, { cause: error });
      }
      this.log.error('reply.webhook_failed', { error: describeError(error), intended: outcome, partsSent: sent, parts: parts.length });
      if (error instanceof WebhookError && error.reason === 'expired') return 'webhook_expired';
      return 'webhook_failed';
    }
  }

  /** Whether this question fits the sender's daily allowance; a storage failure lets it through. */
  async withinDailyLimit(): Promise<boolean> {
    const { settings, usage, clock } = this.deps;
    if (settings.dailyMessageLimit <= 0) return true;
    const day = localDay(this.task.createdAt, settings.timeZone);
    try {
      const admission = await this.timed('usage', () =>
        usage.admit(this.task.userId, day, this.task.createdAt, this.task.msgId, settings.dailyMessageLimit),
      );
      this.fields.usedToday = Math.min(admission.used, settings.dailyMessageLimit);
      return admission.admitted;
    } catch (error) {
      // Better an answer over the limit than none: the log says the count was not checked.
      this.log.warn('reply.usage_unavailable', { error: describeError(error), day, at: clock.now() });
      return true;
    }
  }

  /** Claims the message; a store that cannot be reached lets the run go on unguarded. */
  async claim(exchangeId: string): Promise<ClaimResult> {
    const { history, clock, invocation } = this.deps;
    try {
      return await this.timed('claim', () =>
        history.claim(this.key, exchangeId, {
          at: clock.now(),
          ...(invocation?.requestId !== undefined ? { owner: invocation.requestId } : {}),
          leaseMs: invocation?.timeoutMs ?? DEFAULT_CLAIM_LEASE_MS,
        }),
      );
    } catch (error) {
      this.log.warn('reply.claim_unavailable', { error: describeError(error) });
      this.fields.claimed = false;
      return { kind: 'claimed', tookOver: false };
    }
  }

  /** The user's recent exchanges without this message; a store that cannot be read gives none. */
  async loadContext(exchangeId: string): Promise<Exchange[]> {
    const { history, settings } = this.deps;
    try {
      return await this.timed('history', () => history.loadRecent(this.key, settings.historyLength, { exclude: exchangeId }));
    } catch (error) {
      // Better an answer without context than none: the log says the history was not read.
      this.log.warn('reply.history_unavailable', { error: describeError(error) });
      this.fields.historyUnavailable = true;
      return [];
    }
  }

  /** Saves the exchange; a failure is logged and the answer still goes out. */
  async save(exchange: Exchange, context: readonly Exchange[], posted?: boolean): Promise<boolean> {
    try {
      const owner = this.deps.invocation?.requestId;
      await this.timed('save', () =>
        this.deps.history.save(this.key, exchange, context, {
          ...(posted === false ? { posted: false } : {}),
          ...(owner !== undefined ? { owner } : {}),
        }),
      );
      return true;
    } catch (error) {
      this.log.error('reply.history_save_failed', {
        error: describeError(error),
        operation: error instanceof StorageError ? error.operation : 'write',
        posted: posted !== false,
      });
      return false;
    }
  }

  /**
   * Posts a saved answer. If DingTalk cannot be reached, the exchange is marked unposted before FC is
   * asked to retry, so the retry posts it without asking the LLM again.
   */
  async deliver(exchange: Exchange, context: readonly Exchange[], saved: boolean): Promise<ReplyOutcome> {
    try {
      return await this.send(exchange.assistant, 'answered');
    } catch (error) {
      if (error instanceof RetryLaterError && saved) this.fields.markedUnposted = await this.save(exchange, context, false);
      throw error;
    }
  }

  async chat(question: string): Promise<ReplyOutcome> {
    const { settings, history, llm, clock } = this.deps;
    if (!(await this.withinDailyLimit())) {
      return this.send(dailyLimitMessage(settings.dailyMessageLimit, settings.timeZone), 'limit_reached');
    }

    const exchangeId = ExchangeLog.exchangeId(this.task.createdAt, this.task.msgId);
    // The history read does not depend on the claim: both go out together, saving a round trip.
    const recent = this.loadContext(exchangeId);
    const claim = await this.claim(exchangeId);
    switch (claim.kind) {
      case 'answered':
        // A run before this one answered: one message gets one answer.
        return 'duplicate';
      case 'busy':
        throw new RetryLaterError('claim-busy', `another run has held this message since ${new Date(claim.claimedAt).toISOString()}`);
      case 'unposted': {
        // A run before this one saved the answer but could not post it: post it, no second LLM call.
        this.fields.resumed = true;
        const outcome = await this.deliver(claim.exchange, claim.context, true);
        if (outcome === 'answered') await this.save(claim.exchange, claim.context);
        return outcome;
      }
      case 'claimed':
        if (claim.tookOver) this.fields.tookOver = true;
    }

    const context = await recent;
    const plan = await this.timed('prompt', () =>
      planPrompt(
        {
          systemPrompt: settings.systemPrompt,
          history: context,
          question,
          maxExchanges: settings.historyLength,
          maxTokens: settings.maxContextTokens,
        },
        this.deps.loadTokenCounter,
      ),
    );
    Object.assign(this.fields, {
      historyLoaded: context.length,
      historyUsed: plan.exchangesUsed,
      droppedForTokens: plan.droppedForTokens,
      questionTruncated: plan.questionTruncated,
      promptTokensEstimate: plan.tokens,
    });

    let answer: LlmAnswer;
    try {
      answer = await this.timed('llm', () => llm.complete(plan.messages));
    } catch (error) {
      const operatorHint =
        error instanceof LlmRefusedError && (error.reason === 'auth' || error.reason === 'model')
          ? 'check OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL'
          : undefined;
      this.log.error('reply.llm_failed', { error: describeError(error), hint: operatorHint });
      // History stays as it was, and the claim is given up so that asking again is a fresh start.
      await history.release(this.key, exchangeId).catch((releaseError: unknown) => {
        this.log.warn('reply.release_failed', { error: describeError(releaseError) });
      });
      return this.send(llmFailureMessage(error), 'llm_failed');
    }
    Object.assign(this.fields, {
      model: answer.model,
      promptTokens: answer.promptTokens,
      completionTokens: answer.completionTokens,
    });

    const exchange: Exchange = { id: exchangeId, at: this.task.createdAt, user: question, assistant: answer.text };
    const saved = await this.save(exchange, context);
    this.fields.saved = saved;
    if (this.log.debugEnabled) Object.assign(this.fields, { question, answer: answer.text });
    this.fields.answeredAfterMs = clock.now() - this.task.receivedAt;
    return this.deliver(exchange, context, saved);
  }

  async run(): Promise<ReplyOutcome> {
    const { task, deps } = this;
    const refusal = checkWebhookUrl(task.sessionWebhook, deps.settings.webhookHosts);
    if (refusal !== undefined) {
      this.log.warn('reply.webhook_refused', {
        reason: refusal,
        url: redactWebhookUrl(task.sessionWebhook),
        allowed: [...deps.settings.webhookHosts],
      });
      return 'webhook_refused';
    }
    if (task.sessionWebhookExpiredTime !== undefined && task.sessionWebhookExpiredTime <= deps.clock.now()) {
      this.log.warn('reply.webhook_expired', { expiredAt: task.sessionWebhookExpiredTime });
      return 'webhook_expired';
    }
    if (!isAllowed(task, deps.settings)) {
      this.fields.conversationId = task.conversationId;
      return this.send(USER_MESSAGES.notAllowed, 'not_allowed');
    }
    if (task.content.kind === 'unsupported') {
      this.fields.msgtype = task.content.msgtype;
      return this.send(USER_MESSAGES.unsupported, 'unsupported');
    }
    const command = parseCommand(task.content.text);
    switch (command.kind) {
      case 'clear': {
        try {
          const deleted = await this.timed('history', () => deps.history.clear(this.key));
          this.fields.deleted = deleted;
        } catch (error) {
          this.log.error('reply.clear_failed', { error: describeError(error) });
          return this.send(USER_MESSAGES.clearFailed, 'clear_failed');
        }
        return this.send(USER_MESSAGES.cleared, 'cleared');
      }
      case 'help':
      case 'empty':
      case 'unknown':
        this.fields.command = command.kind === 'unknown' ? command.name : command.kind;
        return this.send(HELP_TEXT, 'help');
      case 'chat':
        return this.chat(command.text);
    }
  }
}

/**
 * The reply function: answers one message. Checks where the answer may go and who may ask, claims
 * the message so that it is answered once however often it arrives, loads the user's recent history,
 * asks the LLM, saves the exchange once the LLM answered, and posts the answer to the session webhook.
 * Every failure ends in at most one short message to the user and one log line with the cause, and
 * resolves with the outcome. It throws `RetryLaterError` only when nothing reached the user and a
 * retry can help, so that FC runs it again; it never throws after posting.
 */
export async function handleReply(event: unknown, deps: ReplyDeps): Promise<ReplyOutcome> {
  const started = deps.clock.now();
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
  const log = deps.logger.child({ msgId: task.msgId, user: task.userId });
  const reply = new Reply(task, deps, log);
  const done = (outcome: ReplyOutcome | 'retry' | 'crashed', extra: LogFields = {}): void => {
    const level = outcome === 'crashed' ? 'error' : outcome !== 'retry' && NORMAL_OUTCOMES.has(outcome) ? 'info' : 'warn';
    log[level]('reply.done', {
      outcome,
      conversationType: task.conversationType,
      totalMs: deps.clock.now() - started,
      queuedMs: Math.max(0, started - task.receivedAt),
      ...reply.timings,
      ...reply.fields,
      ...extra,
    });
  };
  try {
    const outcome = await reply.run();
    done(outcome);
    return outcome;
  } catch (error) {
    // RetryLaterError by design; anything else is a bug, and FC's retry takes this run's claim over.
    done(error instanceof RetryLaterError ? 'retry' : 'crashed', { error: describeError(error) });
    throw error;
  }
}
