import { performance } from 'node:perf_hooks';
import { handleReply, type ReplyDeps } from '../../../../shared/core/reply/handle-reply';
import { parseReplyTask } from '../../../../shared/core/reply-task';
import { USER_MESSAGES } from '../../../../shared/core/user-messages';
import { FLOW_STATUS } from '../../../../shared/delivery/card-channel';
import { cardTrackId } from '../../../../shared/delivery/channels-for';
import { DeadlineError, LlmUnavailableError, RetryLaterError, WebhookError } from '../../../../shared/errors';
import { localDay } from '../../../../shared/history/daily-usage';
import type { ChatMessage, LlmAnswer, LlmCallOptions, LlmClient, OutgoingMessage, WebhookSender } from '../../../../shared/ports';
import { OpenApiDouble } from '../../../helpers/openapi-double';
import { replySetup, type ReplySetupOptions } from '../../../helpers/reply-deps';

/** The function timeout of these runs: short, so the deadline is reached in well under a second of work. */
const TIMEOUT_MS = 4_000;

/**
 * An LLM that never answers but honours its signal, as the openai adapter does: when the run's deadline
 * aborts the call, it fails with reason `deadline`.
 */
class SilentLlm implements LlmClient {
  readonly calls: Array<{ streamed: boolean; abortedWith?: unknown }> = [];

  complete(_messages: readonly ChatMessage[], options?: LlmCallOptions): Promise<LlmAnswer> {
    return this.wait(false, options?.signal);
  }

  stream(_messages: readonly ChatMessage[], options: LlmCallOptions): Promise<LlmAnswer> {
    return this.wait(true, options.signal);
  }

  private wait(streamed: boolean, signal: AbortSignal | undefined): Promise<LlmAnswer> {
    const call: { streamed: boolean; abortedWith?: unknown } = { streamed };
    this.calls.push(call);
    return new Promise<LlmAnswer>((_resolve, reject) => {
      if (signal === undefined) return; // No deadline: it hangs, as the bug this guards against did.
      const abort = (): void => {
        call.abortedWith = signal.reason;
        reject(new LlmUnavailableError('deadline', 'the run ran out of time waiting for the LLM', undefined, { cause: signal.reason }));
      };
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
    });
  }
}

/** A session webhook that records each post with the real time it left and whether the run's end had come. */
class TimedWebhook implements WebhookSender {
  readonly posts: Array<{ text: string; atMs: number; endAborted: boolean }> = [];
  constructor(
    private readonly startedAt: number,
    private readonly behaviour: (signal: AbortSignal | undefined) => Promise<void> = async () => undefined,
  ) {}
  async send(_url: string, message: OutgoingMessage, options?: { signal?: AbortSignal }): Promise<void> {
    const text = message.msgtype === 'markdown' ? message.markdown.text : message.text.content;
    this.posts.push({ text, atMs: performance.now() - this.startedAt, endAborted: options?.signal?.aborted ?? false });
    await this.behaviour(options?.signal);
  }
}

/** A webhook post that hangs until the run's signal ends it, as the axios sender does (a request in flight). */
const hangsUntilAborted = (signal: AbortSignal | undefined): Promise<void> =>
  new Promise<void>((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(new WebhookError('deadline', "the run's deadline ended the post in flight", { retryable: false })), {
      once: true,
    });
  });

function setup(options: ReplySetupOptions = {}) {
  const base = replySetup(options);
  const llm = new SilentLlm();
  const run = (event: string, extra: Partial<ReplyDeps> = {}, requestId = 'req-1'): Promise<unknown> =>
    handleReply(event, { ...base.deps, llm, ...extra, invocation: { requestId, timeoutMs: TIMEOUT_MS } });
  return { ...base, silent: llm, run };
}

describe('a run whose LLM never answers, with a 4 s function timeout', () => {
  it('tells the user the model timed out through the webhook before the timeout, releases the claim, and resolves', async () => {
    const { task, run, silent, store } = setup();
    const webhook = new TimedWebhook(performance.now());
    const event = task('Q');
    await expect(run(event, { webhook })).resolves.toBe('llm_failed');
    expect(silent.calls).toHaveLength(1);
    expect(silent.calls[0]?.abortedWith).toBeInstanceOf(DeadlineError);
    expect(webhook.posts.map((post) => post.text)).toEqual([USER_MESSAGES.timeout]);
    // Generous bound: the message left before the function timeout, and before the run's own end.
    expect(webhook.posts[0]?.atMs).toBeLessThan(TIMEOUT_MS);
    expect(webhook.posts[0]?.endAborted).toBe(false);
    // The claim was given up: nothing of the question stays in the history folder.
    expect((await store.list('history/', 100)).filter((key) => !key.includes('/usage/'))).toEqual([]);
  });

  it('lets the same message be asked again after the failure: the claim is free, a new run answers it', async () => {
    const { task, run, llm, webhook } = setup();
    const event = task('Q');
    await expect(run(event)).resolves.toBe('llm_failed');
    llm.answer('A');
    await expect(run(event, { llm }, 'req-2')).resolves.toBe('answered');
    expect(webhook.texts()).toEqual([USER_MESSAGES.timeout, 'A']);
  });

  it('still resolves, with one LLM call, when the failure message cannot be posted and a retry could (no FC retry, no second LLM call)', async () => {
    const { task, run, silent, webhook, logs } = setup();
    webhook.failWith = new WebhookError('network', 'the session webhook could not be reached: ECONNREFUSED', { retryable: true });
    const outcome = await run(task('Q')).catch((error: unknown) => error);
    expect(outcome).not.toBeInstanceOf(RetryLaterError);
    expect(outcome).toBe('delivery_failed');
    expect(silent.calls).toHaveLength(1);
    expect(logs.find('reply.done')).toMatchObject({ outcome: 'delivery_failed' });
  });

  it('resolves before the function timeout when the failure message post hangs: the run end cuts it', async () => {
    const { task, run, silent } = setup();
    const started = performance.now();
    const webhook = new TimedWebhook(started, hangsUntilAborted);
    await expect(run(task('Q'), { webhook })).resolves.toBe('delivery_failed');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
    expect(webhook.posts).toHaveLength(1);
    expect(silent.calls).toHaveLength(1);
  });

  it('refunds the question under DAILY_MESSAGE_LIMIT: one that got only an error message does not count', async () => {
    const { task, run, deps, llm } = setup({ settings: { dailyMessageLimit: 1 } });
    const refund = jest.spyOn(deps.usage, 'refund');
    const event = task('Q1');
    await expect(run(event)).resolves.toBe('llm_failed');
    const { createdAt, msgId, userId } = parseReplyTask(event);
    expect(refund).toHaveBeenCalledTimes(1);
    expect(refund.mock.calls[0]?.slice(0, 3)).toEqual([userId, localDay(createdAt, 'Asia/Shanghai'), msgId]);
    // The next question of the day is still within the limit of 1.
    llm.answer('A2');
    await expect(run(task('Q2'), { llm }, 'req-2')).resolves.toBe('answered');
  });

  it('shows the timeout in the card with its failed state before the timeout, when answers stream into cards', async () => {
    const { task, run, deps, silent, webhook } = setup();
    const openApi = new OpenApiDouble();
    const settings = { ...deps.settings, card: { templateId: 'tpl-0001.schema', contentKey: 'content', updateIntervalMs: 50 } };
    const started = performance.now();
    const event = task('Q');
    await expect(run(event, { openApi, settings })).resolves.toBe('llm_failed');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
    expect(silent.calls).toEqual([expect.objectContaining({ streamed: true })]);
    const card = openApi.card(cardTrackId(parseReplyTask(event)));
    expect(card).toMatchObject({ text: USER_MESSAGES.timeout, finalized: true, error: true });
    expect(card.params.flowStatus).toBe(FLOW_STATUS.failed);
    expect(webhook.sent).toEqual([]);
  });
});
