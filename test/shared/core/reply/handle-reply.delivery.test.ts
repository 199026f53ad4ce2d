import { handleReply, type ReplyDeps } from '../../../../shared/core/reply/handle-reply';
import { USER_MESSAGES } from '../../../../shared/core/user-messages';
import { LlmRefusedError, LlmUnavailableError, RetryLaterError, StorageError, WebhookError } from '../../../../shared/errors';
import type { HistoryStore } from '../../../../shared/history/exchange';
import { guarantee } from '../../../helpers/guarantee';
import { errors } from '../../../helpers/ports';
import { replySetup } from '../../../helpers/reply-deps';

const KEY = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' };

/** A promise that never settles: the instance died at this point. */
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** Lets pending promise callbacks run, so a run started without await reaches its hang point. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** `history` with one method replaced. */
function withHistory(history: HistoryStore, override: Partial<HistoryStore>): HistoryStore {
  return {
    loadRecent: (...args) => history.loadRecent(...args),
    claim: (...args) => history.claim(...args),
    release: (...args) => history.release(...args),
    save: (...args) => history.save(...args),
    clear: (...args) => history.clear(...args),
    ...override,
  };
}

/** One invocation of FC: the same event and requestId on every retry, as FC keeps them. */
function invocation(deps: ReplyDeps, requestId: string, overrides: Partial<ReplyDeps> = {}): ReplyDeps {
  return { ...deps, ...overrides, invocation: { requestId, timeoutMs: 180_000 } };
}

const retryable = () => new WebhookError('network', 'the session webhook could not be reached: ECONNREFUSED', { retryable: true });

describe(guarantee('Exactly one answer per message'), () => {
  it('answers a message delivered twice once, with one LLM call', async () => {
    const { deps, task, llm, webhook, logs } = replySetup();
    const event = task('你好');
    await expect(handleReply(event, invocation(deps, 'req-1'))).resolves.toBe('answered');
    await expect(handleReply(event, invocation(deps, 'req-2'))).resolves.toBe('duplicate');
    expect(llm.prompts).toHaveLength(1);
    expect(webhook.sent).toHaveLength(1);
    expect(logs.events().filter((line) => line.event === 'reply.done').map((line) => line.outcome)).toEqual(['answered', 'duplicate']);
  });

  it('answers a message delivered 10 times concurrently once: the others are told to retry later, and then find it answered', async () => {
    const { deps, task, llm, webhook } = replySetup();
    const event = task('你好');
    const runs = await Promise.allSettled(Array.from({ length: 10 }, (_, n) => handleReply(event, invocation(deps, `req-${n}`))));
    expect(runs.filter((run) => run.status === 'fulfilled' && run.value === 'answered')).toHaveLength(1);
    const retried = runs.filter((run) => run.status === 'rejected');
    expect(retried).toHaveLength(9);
    for (const run of retried) expect((run as PromiseRejectedResult).reason).toMatchObject({ reason: 'claim-busy' });
    for (let n = 1; n < 10; n += 1) await expect(handleReply(event, invocation(deps, `req-${n}`))).resolves.toBe('duplicate');
    expect(llm.prompts).toHaveLength(1);
    expect(webhook.sent).toHaveLength(1);
  });

  it('throws RetryLaterError when DingTalk cannot be reached, and the retry posts the saved answer without a second LLM call', async () => {
    const { deps, task, llm, webhook, logs } = replySetup();
    const event = task('Q');
    llm.answer('A');
    webhook.failWith = retryable();
    const error = await handleReply(event, invocation(deps, 'req-1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect(error).toMatchObject({ reason: 'webhook-unreachable' });
    expect(logs.find('reply.done')).toMatchObject({ outcome: 'retry', markedUnposted: true });
    webhook.failWith = undefined;
    await expect(handleReply(event, invocation(deps, 'req-1'))).resolves.toBe('answered');
    expect(llm.prompts).toHaveLength(1);
    expect(webhook.texts()).toEqual(['A']);
    await expect(handleReply(event, invocation(deps, 'req-9'))).resolves.toBe('duplicate');
    expect(await deps.history.loadRecent(KEY, 5)).toEqual([expect.objectContaining({ user: 'Q', assistant: 'A' })]);
  });

  it('never throws after posting: a failure after the post (an expired session) resolves', async () => {
    const { deps, task, webhook } = replySetup();
    webhook.failWith = errors.expired();
    await expect(handleReply(task('Q'), invocation(deps, 'req-1'))).resolves.toBe('delivery_expired');
  });

  it('does not retry a post that may have arrived (a timeout after sending)', async () => {
    const { deps, task, webhook } = replySetup();
    webhook.failWith = new WebhookError('network', 'the session webhook could not be reached: ECONNABORTED', { retryable: false });
    await expect(handleReply(task('Q'), invocation(deps, 'req-1'))).resolves.toBe('delivery_failed');
  });

  it('gives the claim up when the LLM fails, so asking again is a fresh start', async () => {
    const { deps, task, llm, webhook } = replySetup();
    const event = task('Q');
    llm.answer(errors.timeout(), 'A');
    await expect(handleReply(event, invocation(deps, 'req-1'))).resolves.toBe('llm_failed');
    await expect(handleReply(event, invocation(deps, 'req-2'))).resolves.toBe('answered');
    expect(webhook.texts()).toEqual([USER_MESSAGES.timeout, 'A']);
  });
});

describe(guarantee('No lost history'), () => {
  it('recovers from a crash after the LLM and before the save: the retry answers once and saves once', async () => {
    const { deps, task, llm, webhook } = replySetup();
    const event = task('Q');
    llm.answer('lost with the crashed instance', 'A');
    const crashed = withHistory(deps.history, { save: () => never() });
    void handleReply(event, invocation(deps, 'req-1', { history: crashed }));
    await settle();
    expect(llm.prompts).toHaveLength(1);
    expect(await deps.history.loadRecent(KEY, 5)).toEqual([]);
    await expect(handleReply(event, invocation(deps, 'req-1'))).resolves.toBe('answered');
    expect(webhook.texts()).toEqual(['A']);
    expect(await deps.history.loadRecent(KEY, 5)).toEqual([expect.objectContaining({ user: 'Q', assistant: 'A' })]);
  });

  it('recovers from a crash after the save and before the post: the retry posts the saved answer, no second LLM call', async () => {
    const { deps, task, llm, webhook } = replySetup();
    const event = task('Q');
    llm.answer('A');
    void handleReply(event, invocation(deps, 'req-1', { webhook: { send: () => never() } }));
    await settle();
    await settle();
    expect(await deps.history.loadRecent(KEY, 5)).toHaveLength(1);
    await expect(handleReply(event, invocation(deps, 'req-1'))).resolves.toBe('answered');
    expect(llm.prompts).toHaveLength(1);
    expect(webhook.texts()).toEqual(['A']);
    expect(await deps.history.loadRecent(KEY, 5)).toEqual([expect.objectContaining({ user: 'Q', assistant: 'A' })]);
  });

  it('lets another invocation take over a crashed claim only after the lease, never answering twice', async () => {
    const { deps, task, llm, webhook, clock } = replySetup();
    const event = task('Q');
    llm.answer('lost', 'A');
    const crashed = withHistory(deps.history, { save: () => never() });
    void handleReply(event, invocation(deps, 'req-1', { history: crashed }));
    await settle();
    await expect(handleReply(event, invocation(deps, 'req-2'))).rejects.toMatchObject({ reason: 'claim-busy' });
    clock.advance(180_000);
    await expect(handleReply(event, invocation(deps, 'req-2'))).resolves.toBe('answered');
    expect(webhook.texts()).toEqual(['A']);
  });

  it('keeps the history readable after every crash point', async () => {
    const { deps, task, llm } = replySetup();
    llm.answer('A1', 'lost', 'A3');
    await handleReply(task('Q1'), invocation(deps, 'req-1'));
    const crashed = withHistory(deps.history, { save: () => never() });
    void handleReply(task('Q2'), invocation(deps, 'req-2', { history: crashed }));
    await settle();
    await handleReply(task('Q3'), invocation(deps, 'req-3'));
    expect((await deps.history.loadRecent(KEY, 5)).map((exchange) => exchange.user)).toEqual(['Q1', 'Q3']);
    expect(llm.prompts[2]?.map((message) => message.content)).toEqual(['Q1', 'A1', 'Q3']);
  });
});

describe(guarantee('Faults: LLM'), () => {
  it.each([
    ['a timeout', new LlmUnavailableError('timeout', 'the LLM did not answer in time'), USER_MESSAGES.timeout],
    ['a bad key (401)', new LlmRefusedError('auth', 'the LLM refused the API key: 401', 401), USER_MESSAGES.misconfigured],
    ['an unknown model (404)', new LlmRefusedError('model', 'the model does not exist: 404', 404), USER_MESSAGES.misconfigured],
    ['rate limiting (429) after the SDK retries', new LlmUnavailableError('rate-limit', 'the LLM kept answering 429', 429), USER_MESSAGES.unavailable],
    ['a 5xx after the SDK retries', new LlmUnavailableError('server', 'the LLM answered 503', 503), USER_MESSAGES.unavailable],
    ['an empty answer', new LlmRefusedError('empty', 'the LLM answered nothing'), USER_MESSAGES.empty],
    ['a filtered answer', new LlmRefusedError('filtered', 'the answer was filtered'), USER_MESSAGES.filtered],
    ['a refused connection', new LlmUnavailableError('network', 'the LLM could not be reached: ECONNREFUSED'), USER_MESSAGES.unavailable],
  ])('answers %s with one short message, logs the cause with the msgId, and saves nothing', async (_name, failure, message) => {
    const { deps, task, llm, webhook, logs } = replySetup();
    llm.answer(failure);
    await expect(handleReply(task('Q'), invocation(deps, 'req-1'))).resolves.toBe('llm_failed');
    expect(webhook.texts()).toEqual([message]);
    expect(logs.find('reply.llm_failed')).toMatchObject({ msgId: 'msg-1', error: { message: failure.message } });
    expect(await deps.history.loadRecent(KEY, 5)).toEqual([]);
  });

  it('tells the operator in the log what to check on a bad key', async () => {
    const { deps, task, llm, logs } = replySetup();
    llm.answer(errors.badKey());
    await handleReply(task('Q'), invocation(deps, 'req-1'));
    expect(logs.find('reply.llm_failed')).toMatchObject({ hint: expect.stringContaining('check OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL') });
  });
});

describe(guarantee('Faults: storage'), () => {
  const unavailable = (operation: 'list' | 'read' | 'write') => new StorageError(operation, `OSS is unavailable (${operation})`, { status: 503 });

  it('answers without history when the store cannot be read, and says so in the log', async () => {
    const { deps, task, llm, webhook, logs } = replySetup();
    const history = withHistory(deps.history, { loadRecent: async () => Promise.reject(unavailable('list')) });
    await expect(handleReply(task('Q'), invocation(deps, 'req-1', { history }))).resolves.toBe('answered');
    expect(llm.prompts[0]).toEqual([{ role: 'user', content: 'Q' }]);
    expect(webhook.sent).toHaveLength(1);
    expect(logs.find('reply.history_unavailable')).toMatchObject({ msgId: 'msg-1', error: { operation: 'list' } });
  });

  it('still posts the answer when the exchange cannot be written, and logs that it was not saved', async () => {
    const { deps, task, webhook, logs } = replySetup();
    const history = withHistory(deps.history, { save: async () => Promise.reject(unavailable('write')) });
    await expect(handleReply(task('Q'), invocation(deps, 'req-1', { history }))).resolves.toBe('answered');
    expect(webhook.sent).toHaveLength(1);
    expect(logs.find('reply.history_save_failed')).toMatchObject({ msgId: 'msg-1', operation: 'write' });
    expect(logs.find('reply.done')).toMatchObject({ saved: false });
  });

  it('answers unguarded when the claim cannot be written, and says so in the log', async () => {
    const { deps, task, webhook, logs } = replySetup();
    const history = withHistory(deps.history, { claim: async () => Promise.reject(unavailable('write')) });
    await expect(handleReply(task('Q'), invocation(deps, 'req-1', { history }))).resolves.toBe('answered');
    expect(webhook.sent).toHaveLength(1);
    expect(logs.find('reply.claim_unavailable')).toBeDefined();
  });
});

describe(guarantee('Faults: webhook'), () => {
  it('logs an expired session (errcode 300001) once and does not retry', async () => {
    const { deps, task, webhook, logs, llm } = replySetup();
    webhook.failWith = errors.expired();
    await expect(handleReply(task('Q'), invocation(deps, 'req-1'))).resolves.toBe('delivery_expired');
    expect(logs.events().filter((line) => line.event === 'reply.delivery_failed')).toHaveLength(1);
    expect(llm.prompts).toHaveLength(1);
  });

  it('does not even ask the LLM when sessionWebhookExpiredTime has passed', async () => {
    const { deps, task, llm, webhook } = replySetup();
    await expect(handleReply(task('Q', { sessionWebhookExpiredTime: 1 }), invocation(deps, 'req-1'))).resolves.toBe('delivery_expired');
    expect(llm.prompts).toHaveLength(0);
    expect(webhook.sent).toHaveLength(0);
  });

  it('reports a message DingTalk refuses with an errcode (too long, too fast) as delivery_failed, without a retry', async () => {
    const { deps, task, webhook, logs } = replySetup();
    webhook.failWith = new WebhookError('too-long', 'DingTalk refused the message as too long (errcode 460101)', { errcode: 460101 });
    await expect(handleReply(task('Q'), invocation(deps, 'req-1'))).resolves.toBe('delivery_failed');
    expect(logs.find('reply.delivery_failed')).toMatchObject({ error: { errcode: 460101 } });
  });
});
