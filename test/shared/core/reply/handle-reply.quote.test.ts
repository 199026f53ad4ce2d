/**
 * A quote of one of the bot's own answers (DingTalk gives only its id, time and sender) is found in the
 * user's history and put in front of the question: by the id DingTalk answered when the answer went out,
 * else by time when the robot sent the quoted message. Through `handleReply` on in-memory deps.
 */
import { handleReply, type ReplyDeps } from '../../../../shared/core/reply/handle-reply';
import { RetryLaterError, WebhookError } from '../../../../shared/errors';
import {
  matchQuotedAnswer,
  QUOTE_AFTER_ANSWER_MS,
  QUOTE_LOOKBACK,
  QUOTED_ANSWER_MAX_CHARS,
} from '../../../../shared/core/reply/quoted-answer';
import type { QuoteReference } from '../../../../shared/dingtalk/message';
import type { DingTalkOpenApi, MessageIds } from '../../../../shared/dingtalk/openapi';
import type { Exchange, HistoryStore } from '../../../../shared/history/exchange';
import type { ChatMessage } from '../../../../shared/ports';
import { createDingTalkOpenApi } from '../../../../shared/adapters/dingtalk-openapi';
import { DINGTALK_PATHS, startDingTalkOpenApiFake } from '../../../fakes/dingtalk-openapi-fake';
import { OpenApiDouble } from '../../../helpers/openapi-double';
import { replySetup } from '../../../helpers/reply-deps';

const KEY = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' };
const NOT_AVAILABLE = '[The user is replying to an earlier message whose text is not available here.]';
const HEADING = '[引用 / Quoted message: your earlier answer]';

/** The OpenAPI double, answering a carrierId for each card as DingTalk's createAndDeliver does. */
function withCarrierIds(double: OpenApiDouble): DingTalkOpenApi {
  let cards = 0;
  return {
    robotCode: double.robotCode,
    createAndDeliverCard: async (request, options): Promise<MessageIds> => {
      await double.createAndDeliverCard(request, options);
      cards += 1;
      return [`carrier-${cards}`];
    },
    updateCard: (...args) => double.updateCard(...args),
    streamCard: (...args) => double.streamCard(...args),
    sendMessage: (...args) => double.sendMessage(...args),
    fileDownloadUrl: (downloadCode) => double.fileDownloadUrl(downloadCode),
    checkToken: () => double.checkToken(),
  };
}

/** In-memory deps whose history counts its reads. */
function setup(options: { historyLength?: number } = {}) {
  const base = replySetup({ settings: { historyLength: options.historyLength ?? 5 } });
  const reads: number[] = [];
  const history: HistoryStore = {
    loadRecent: (key, limit, more) => {
      reads.push(limit);
      return base.deps.history.loadRecent(key, limit, more);
    },
    claim: (...args) => base.deps.history.claim(...args),
    release: (...args) => base.deps.history.release(...args),
    save: (...args) => base.deps.history.save(...args),
    clear: (...args) => base.deps.history.clear(...args),
  };
  const deps: ReplyDeps = { ...base.deps, history };
  let askedAt = base.clock.now();
  /** Asks `text` (answered `answer`) 5 minutes after the last question, the answer going out 3 s after it. */
  const ask = async (text: string, answer: string, with_: Partial<ReplyDeps> = {}, quote?: QuoteReference): Promise<{ createdAt: number }> => {
    base.llm.answer(answer);
    askedAt += 5 * 60_000;
    const createdAt = askedAt;
    const event = base.task(text, { createdAt, receivedAt: createdAt, ...(quote !== undefined ? { content: { kind: 'text', text, quote } } : {}) });
    base.clock.time = createdAt + 3_000;
    await expect(handleReply(event, { ...deps, ...with_ })).resolves.toBe('answered');
    return { createdAt };
  };
  /** The user turn of the last prompt. */
  const lastQuestion = (): string => {
    const prompt = base.llm.prompts[base.llm.prompts.length - 1] as ChatMessage[];
    const turn = prompt[prompt.length - 1];
    return typeof turn?.content === 'string' ? turn.content : JSON.stringify(turn?.content);
  };
  const saved = (): Promise<Exchange[]> => base.deps.history.loadRecent(KEY, 100);
  return { ...base, deps, reads, ask, lastQuestion, saved };
}

/** A quote of a message the robot sent at `createdAt`, known only by its id. */
const robotQuote = (createdAt: number, extra: Partial<QuoteReference> = {}): QuoteReference => ({
  kind: 'reference',
  msgId: 'msgQuotedBotAnswer==',
  msgType: 'interactiveCard',
  createdAt,
  fromRobot: true,
  ...extra,
});

describe('handleReply: a quote of the bot\'s own answer', () => {
  it('records when each answer went out, and no id for the session webhook, which answers none', async () => {
    const { ask, saved } = setup();
    const { createdAt } = await ask('部署窗口是什么时候？', '周五 22:00。');
    expect(await saved()).toEqual([expect.objectContaining({ at: createdAt, assistant: '周五 22:00。', answeredAt: createdAt + 3_000 })]);
    expect((await saved())[0]).not.toHaveProperty('replyIds');
  });

  it('puts the quoted answer in front of the question when the robot sent the quoted message while that answer went out', async () => {
    const { ask, lastQuestion, reads, logs } = setup();
    const first = await ask('部署窗口是什么时候？', '周五 22:00，灰度 10%。');
    await ask('谢谢', '不客气。');
    await ask('这是什么意思？', 'answer', {}, robotQuote(first.createdAt + 3_200));
    expect(lastQuestion()).toBe(`${HEADING}\n> 周五 22:00，灰度 10%。\n\n这是什么意思？`);
    // Found in the window the run loaded anyway: no extra read.
    expect(reads).toEqual([5, 5, 5]);
    expect(logs.events().filter((line) => line.event === 'reply.done').map((line) => line.quotedAnswer)).toEqual([undefined, undefined, 'time']);
  });

  it('finds a quoted card by the carrierId DingTalk answered for it, whatever its time', async () => {
    const { ask, lastQuestion, saved, deps } = setup();
    const openApi = withCarrierIds(new OpenApiDouble());
    const withCards = { openApi, settings: { ...deps.settings, card: { templateId: 'tpl-0001.schema', contentKey: 'content', updateIntervalMs: 50 } } };
    await ask('第一个问题', '第一个回答', withCards);
    await ask('第二个问题', '第二个回答', withCards);
    expect((await saved()).map((exchange) => exchange.replyIds)).toEqual([['carrier-1'], ['carrier-2']]);
    // DingTalk's originalProcessQueryKey names the card; the sender and time are unknown.
    await ask('展开说说', 'answer', withCards, { kind: 'reference', msgId: 'msgX==', msgType: 'interactiveCard', processQueryKey: 'carrier-1' });
    expect(lastQuestion()).toBe(`${HEADING}\n> 第一个回答\n\n展开说说`);
  });

  it('reads the history once more, bounded, when the quoted answer is older than the loaded window', async () => {
    const { ask, lastQuestion, reads } = setup({ historyLength: 2 });
    const first = await ask('Q1', 'A1 的内容');
    await ask('Q2', 'A2');
    await ask('Q3', 'A3');
    await ask('Q4', 'A4');
    await ask('这条呢？', 'answer', {}, robotQuote(first.createdAt + 3_100));
    expect(lastQuestion()).toBe(`${HEADING}\n> A1 的内容\n\n这条呢？`);
    expect(reads).toEqual([2, 2, 2, 2, 2, 2 + QUOTE_LOOKBACK]);
  });

  it('keeps the note, after one extra read, when the quoted answer is not in the history', async () => {
    const { ask, lastQuestion, reads } = setup({ historyLength: 1 });
    const first = await ask('Q1', 'A1');
    await ask('Q2', 'A2');
    await ask('那个呢？', 'answer', {}, robotQuote(first.createdAt - 60 * 60_000));
    expect(lastQuestion()).toBe(`${NOT_AVAILABLE}\n\n那个呢？`);
    expect(reads).toEqual([1, 1, 1, 1 + QUOTE_LOOKBACK]);
  });

  it('neither matches by time nor reads more when someone else sent the quoted message', async () => {
    const { ask, lastQuestion, reads } = setup({ historyLength: 1 });
    const first = await ask('Q1', 'A1');
    await ask('那个呢？', 'answer', {}, robotQuote(first.createdAt + 3_100, { fromRobot: false }));
    expect(lastQuestion()).toBe(`${NOT_AVAILABLE}\n\n那个呢？`);
    expect(reads).toEqual([1, 1]);
  });

  it('does not match by time when the sender of the quoted message is unknown', async () => {
    const { ask, lastQuestion } = setup();
    const first = await ask('Q1', 'A1');
    const quote: QuoteReference = robotQuote(first.createdAt + 3_100);
    delete quote.fromRobot;
    await ask('那个呢？', 'answer', {}, quote);
    expect(lastQuestion()).toBe(`${NOT_AVAILABLE}\n\n那个呢？`);
  });

  it('records the time of the delivery when a retry delivers an answer saved earlier', async () => {
    const { deps, task, webhook, clock, saved } = setup();
    const event = task('Q');
    const createdAt = (JSON.parse(event) as { createdAt: number }).createdAt;
    const run = { ...deps, invocation: { requestId: 'req-1', timeoutMs: 180_000 } };
    webhook.failWith = new WebhookError('network', 'the session webhook could not be reached: ECONNREFUSED', { retryable: true });
    await expect(handleReply(event, run)).rejects.toBeInstanceOf(RetryLaterError);
    webhook.failWith = undefined;
    clock.time = createdAt + 120_000;
    await expect(handleReply(event, run)).resolves.toBe('answered');
    expect((await saved())[0]?.answeredAt).toBe(createdAt + 120_000);
  });

  it('shortens a long quoted answer to its bound, marking the cut', async () => {
    const { ask, lastQuestion } = setup();
    const first = await ask('写长一点', '长'.repeat(QUOTED_ANSWER_MAX_CHARS + 500));
    await ask('总结一下', 'answer', {}, robotQuote(first.createdAt + 3_100));
    expect(lastQuestion()).toBe(`${HEADING}\n> ${'长'.repeat(QUOTED_ANSWER_MAX_CHARS)}…\n\n总结一下`);
  });
});

describe('the ids DingTalk answers for what the bot sends', () => {
  it('are the carrierId of a card delivery and the processQueryKey of a robot send, through the adapter and the loopback fake', async () => {
    const fake = await startDingTalkOpenApiFake({ clientId: 'dingquoteclient01', clientSecret: 'quote-secret-0123456789' });
    try {
      const api = createDingTalkOpenApi({ clientId: 'dingquoteclient01', clientSecret: 'quote-secret-0123456789', apiBase: fake.url });
      const space = { kind: 'robot', staffId: 'manager1234' } as const;
      const card = await api.createAndDeliverCard({ templateId: 'fake-ai-card.schema', outTrackId: 'track-1', cardData: { content: 'x' }, space });
      expect(card).toEqual([expect.stringMatching(/^[0-9a-f]{16}$/)]);
      expect(fake.callsTo(DINGTALK_PATHS.createAndDeliver)).toHaveLength(1);
      const sent = await api.sendMessage(space, { msgKey: 'sampleMarkdown', msgParam: { title: 't', text: 'hello' } });
      expect(sent).toEqual([fake.messages[0]?.processQueryKey]);
    } finally {
      await fake.close();
    }
  });
});

describe('matchQuotedAnswer', () => {
  const exchange = (id: string, at: number, answeredAt: number | undefined, replyIds?: string[]): Exchange => ({
    id,
    at,
    user: `Q ${id}`,
    assistant: `A ${id}`,
    ...(answeredAt !== undefined ? { answeredAt } : {}),
    ...(replyIds !== undefined ? { replyIds } : {}),
  });

  it('prefers the exchange whose question or answer time is nearest when two windows hold the quoted time', () => {
    // Q1 at 0 answered (slowly) at 30 s; Q2 at 2 s answered at 8 s: both windows hold 8.2 s and 30.2 s.
    const history = [exchange('1', 0, 30_000), exchange('2', 2_000, 8_000)];
    expect(matchQuotedAnswer(robotQuote(8_200), history)?.exchange.id).toBe('2');
    expect(matchQuotedAnswer(robotQuote(30_200), history)?.exchange.id).toBe('1');
    // A card is made just after its question.
    expect(matchQuotedAnswer(robotQuote(2_400), history)?.exchange.id).toBe('2');
  });

  it('matches nothing outside the window of every exchange, nor an exchange saved without its answer time', () => {
    const history = [exchange('1', 0, 5_000), exchange('old', -100_000, undefined)];
    expect(matchQuotedAnswer(robotQuote(5_000 + QUOTE_AFTER_ANSWER_MS + 1), history)).toBeUndefined();
    expect(matchQuotedAnswer(robotQuote(-5_000), history)).toBeUndefined();
    expect(matchQuotedAnswer(robotQuote(-99_000), history)).toBeUndefined();
  });

  it('matches by the quoted msgId or processQueryKey before any time', () => {
    const history = [exchange('1', 0, 5_000, ['pqk-1']), exchange('2', 10_000, 12_000)];
    expect(matchQuotedAnswer(robotQuote(12_100, { processQueryKey: 'pqk-1' }), history)).toEqual({ exchange: history[0], by: 'id' });
    expect(matchQuotedAnswer({ kind: 'reference', msgId: 'pqk-1' }, history)).toEqual({ exchange: history[0], by: 'id' });
    expect(matchQuotedAnswer(robotQuote(12_100), history)).toEqual({ exchange: history[1], by: 'time' });
  });
});
