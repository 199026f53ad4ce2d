import { describeError, InvalidTaskError, LlmRefusedError, StorageError, WebhookError } from '../errors';
import { formatReply } from '../dingtalk/outgoing';
import { checkWebhookUrl, redactWebhookUrl } from '../dingtalk/webhook-url';
import { ExchangeLog } from '../history/exchange-log';
import type { Exchange, HistoryKey, HistoryStore } from '../history/exchange';
import type { TokenCounter } from '../llm/token-counter';
import type { Clock, LlmClient, LogFields, Logger, WebhookSender } from '../ports';
import { HELP_TEXT, parseCommand } from './commands';
import { planPrompt } from './prompt';
import { parseReplyTask, truncateText, type ReplyTask } from './reply-task';
import { llmFailureMessage, USER_MESSAGES } from './user-messages';

/** DingTalk refuses a message over 20,000 bytes; this leaves room for the title, the @mention and JSON. */
export const MAX_REPLY_BYTES = 18_000;

/** Appended to an answer cut to fit DingTalk's message limit. */
export const ANSWER_CUT_NOTE = '\n\n…（回答过长，已截断 / the answer was too long for DingTalk and has been cut）';

/** The reply function's settings (from the config loader). */
export interface ReplySettings {
  systemPrompt: string;
  historyLength: number;
  maxContextTokens: number;
  webhookHosts: readonly string[];
}

/** What the reply core talks to. */
export interface ReplyDeps {
  settings: ReplySettings;
  history: HistoryStore;
  llm: LlmClient;
  webhook: WebhookSender;
  clock: Clock;
  logger: Logger;
  loadTokenCounter: () => Promise<TokenCounter>;
}

/** How a reply ended; logged as `outcome`. */
export type ReplyOutcome =
  | 'answered'
  | 'cleared'
  | 'clear_failed'
  | 'help'
  | 'unsupported'
  | 'llm_failed'
  | 'webhook_refused'
  | 'webhook_expired'
  | 'webhook_failed'
  | 'invalid_task';

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
      this.timings[`${step}Ms`] = this.deps.clock.now() - started;
    }
  }

  /** Posts to the session webhook; a failure is logged and reported as the outcome, never thrown. */
  async send(text: string, outcome: ReplyOutcome): Promise<ReplyOutcome> {
    const fitted = truncateText(text, MAX_REPLY_BYTES, ANSWER_CUT_NOTE);
    if (fitted.truncated) this.fields.answerCut = true;
    const message = formatReply(fitted.text, this.task);
    try {
      await this.timed('webhook', () => this.deps.webhook.send(this.task.sessionWebhook, message));
      return outcome;
    } catch (error) {
      this.log.error('reply.webhook_failed', { error: describeError(error), intended: outcome });
      if (error instanceof WebhookError && error.reason === 'expired') return 'webhook_expired';
      return 'webhook_failed';
    }
  }

  async chat(question: string): Promise<ReplyOutcome> {
    const { settings, history, llm } = this.deps;
    let context: Exchange[] = [];
    try {
      context = await this.timed('history', () => history.loadRecent(this.key, settings.historyLength));
    } catch (error) {
      // Better an answer without context than none: the log says the history was not read.
      this.log.warn('reply.history_unavailable', { error: describeError(error) });
      this.fields.historyUnavailable = true;
    }
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

    let answer;
    try {
      answer = await this.timed('llm', () => llm.complete(plan.messages));
    } catch (error) {
      const operatorHint =
        error instanceof LlmRefusedError && (error.reason === 'auth' || error.reason === 'model')
          ? 'check OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL'
          : undefined;
      this.log.error('reply.llm_failed', { error: describeError(error), hint: operatorHint });
      // History stays as it was: the failed exchange is not saved.
      return this.send(llmFailureMessage(error), 'llm_failed');
    }
    Object.assign(this.fields, {
      model: answer.model,
      promptTokens: answer.promptTokens,
      completionTokens: answer.completionTokens,
    });

    const exchange: Exchange = {
      id: ExchangeLog.exchangeId(this.task.createdAt, this.task.msgId),
      at: this.task.createdAt,
      user: question,
      assistant: answer.text,
    };
    try {
      await this.timed('save', () => history.save(this.key, exchange, context));
      this.fields.saved = true;
    } catch (error) {
      // The answer still goes out; the log says this exchange is missing from the history.
      this.fields.saved = false;
      this.log.error('reply.history_save_failed', {
        error: describeError(error),
        operation: error instanceof StorageError ? error.operation : 'write',
      });
    }
    if (this.log.debugEnabled) Object.assign(this.fields, { question, answer: answer.text });
    return this.send(answer.text, 'answered');
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
 * The reply function: answers one message. Loads the user's recent history, asks the LLM, saves the
 * exchange only once the LLM answered, and posts the answer to the session webhook (only to allowed
 * hosts). Every failure ends in at most one short message to the user and one log line with the cause;
 * it resolves with the outcome rather than throwing.
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
  const outcome = await reply.run();
  const level = outcome === 'answered' || outcome === 'cleared' || outcome === 'help' || outcome === 'unsupported' ? 'info' : 'warn';
  log[level]('reply.done', {
    outcome,
    conversationType: task.conversationType,
    totalMs: deps.clock.now() - started,
    queuedMs: Math.max(0, started - task.receivedAt),
    ...reply.timings,
    ...reply.fields,
  });
  return outcome;
}
