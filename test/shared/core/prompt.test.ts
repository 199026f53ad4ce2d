import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { buildPrompt, planPrompt, TOKENS_FOR_REPLY, QUESTION_FLOOR_TOKENS, TOKENS_PER_MESSAGE, TOKENS_PER_PICTURE, type PromptInput, type PromptPlan } from '../../../shared/core/prompt';
import type { Exchange } from '../../../shared/history/exchange';
import { loadO200kCounter, utf8ByteBound, type TokenCounter } from '../../../shared/llm/token-counter';
import type { ChatMessage } from '../../../shared/ports';

/** A fake tokenizer: one token per character (code point). */
const perChar: TokenCounter = {
  count: (text) => Array.from(text).length,
  truncate: (text, maxTokens) => Array.from(text).slice(0, Math.max(0, maxTokens)).join(''),
};

/**
 * An independent recount with the tokenizer library itself, to check the plans `loadO200kCounter` makes.
 * Only `count` is used; cutting is the code under test's job.
 */
const o200k: TokenCounter = {
  count: (text) => countTokens(text, { disallowedSpecial: new Set() }),
  truncate: () => {
    throw new Error('the recount never truncates');
  },
};

function exchange(i: number, user = `question ${i}`, assistant = `answer ${i}`): Exchange {
  return { id: `e${String(i).padStart(3, '0')}`, at: 1_732_000_000_000 + i * 1000, user, assistant };
}

function history(count: number, make: (i: number) => Exchange = (i) => exchange(i)): Exchange[] {
  return Array.from({ length: count }, (_, i) => make(i + 1));
}

/** A message's text (these prompts carry no pictures). */
function text(content: ChatMessage['content']): string {
  if (typeof content !== 'string') throw new Error('expected a text message');
  return content;
}

/** The prompt's size recounted from its messages, as the chat format counts it. */
function recount(messages: readonly ChatMessage[], counter: TokenCounter): number {
  return messages.reduce((sum, message) => sum + counter.count(text(message.content)) + TOKENS_PER_MESSAGE, TOKENS_FOR_REPLY);
}

const exchangeCost = (item: Exchange, counter: TokenCounter): number =>
  counter.count(item.user) + counter.count(item.assistant) + 2 * TOKENS_PER_MESSAGE;

function input(overrides: Partial<PromptInput> = {}): PromptInput {
  return { history: history(3), question: 'What next?', maxExchanges: 10, maxTokens: 10_000, ...overrides };
}

/** The exchanges of a plan, read back from its messages. */
function exchangesIn(plan: PromptPlan): Array<{ user: string; assistant: string }> {
  const body = plan.messages.filter((message) => message.role !== 'system').slice(0, -1);
  const pairs: Array<{ user: string; assistant: string }> = [];
  for (let i = 0; i < body.length; i += 2) {
    const user = body[i];
    const assistant = body[i + 1];
    if (user?.role !== 'user' || assistant?.role !== 'assistant') throw new Error('history messages must alternate user/assistant');
    pairs.push({ user: text(user.content), assistant: assistant.content });
  }
  return pairs;
}

describe.each<[string, TokenCounter]>([
  ['utf8ByteBound', utf8ByteBound],
  ['a one-token-per-character counter', perChar],
])('buildPrompt with %s', (_label, counter) => {
  it('puts the system prompt first when it is set', () => {
    const plan = buildPrompt(input({ systemPrompt: 'You are a helpful assistant.' }), counter);
    expect(plan.messages[0]).toEqual({ role: 'system', content: 'You are a helpful assistant.' });
    expect(plan.messages.filter((message) => message.role === 'system')).toHaveLength(1);
  });

  it.each([undefined, '', '   \n\t'])('leaves the system prompt out when it is %j', (systemPrompt) => {
    const plan = buildPrompt(input(systemPrompt === undefined ? {} : { systemPrompt }), counter);
    expect(plan.messages.some((message) => message.role === 'system')).toBe(false);
    expect(plan.messages[0]).toEqual({ role: 'user', content: 'question 1' });
  });

  it('puts the history oldest first, then the question last', () => {
    const plan = buildPrompt(input(), counter);
    expect(plan.messages).toEqual([
      { role: 'user', content: 'question 1' },
      { role: 'assistant', content: 'answer 1' },
      { role: 'user', content: 'question 2' },
      { role: 'assistant', content: 'answer 2' },
      { role: 'user', content: 'question 3' },
      { role: 'assistant', content: 'answer 3' },
      { role: 'user', content: 'What next?' },
    ]);
    expect(plan).toMatchObject({ exchangesUsed: 3, droppedForTokens: 0, questionTruncated: false });
    expect(plan.tokens).toBe(recount(plan.messages, counter));
  });

  it('keeps at most maxExchanges of the newest exchanges', () => {
    const plan = buildPrompt(input({ history: history(6), maxExchanges: 2 }), counter);
    expect(exchangesIn(plan)).toEqual([
      { user: 'question 5', assistant: 'answer 5' },
      { user: 'question 6', assistant: 'answer 6' },
    ]);
    expect(plan).toMatchObject({ exchangesUsed: 2, droppedForTokens: 0 });
  });

  it('uses no history when maxExchanges is 0', () => {
    const plan = buildPrompt(input({ history: history(3), maxExchanges: 0 }), counter);
    expect(plan.messages).toEqual([{ role: 'user', content: 'What next?' }]);
    expect(plan.exchangesUsed).toBe(0);
  });

  it('drops the oldest exchanges to fit maxTokens and counts them', () => {
    const items = history(6, (i) => exchange(i, `question ${i} ${'词'.repeat(i)}`, `answer ${i} ${'语'.repeat(2 * i)}`));
    const question = 'And now?';
    const base = TOKENS_FOR_REPLY + counter.count(question) + TOKENS_PER_MESSAGE;
    // Exactly room for the three newest exchanges.
    const maxTokens = base + [3, 4, 5].reduce((sum, i) => sum + exchangeCost(items[i] as Exchange, counter), 0);
    const plan = buildPrompt(input({ history: items, question, maxExchanges: 5, maxTokens }), counter);
    expect(exchangesIn(plan).map((pair) => pair.user)).toEqual([items[3]?.user, items[4]?.user, items[5]?.user]);
    expect(plan).toMatchObject({ exchangesUsed: 3, droppedForTokens: 2, questionTruncated: false, tokens: maxTokens });
    expect(recount(plan.messages, counter)).toBe(maxTokens);

    const tighter = buildPrompt(input({ history: items, question, maxExchanges: 5, maxTokens: maxTokens - 1 }), counter);
    expect(tighter).toMatchObject({ exchangesUsed: 2, droppedForTokens: 3 });
    expect(recount(tighter.messages, counter)).toBeLessThanOrEqual(maxTokens - 1);
  });

  it('stops at the first exchange that does not fit rather than skipping to an older one', () => {
    const items = [exchange(1, 'a', 'b'), exchange(2, 'long '.repeat(50), 'long '.repeat(50)), exchange(3, 'c', 'd')];
    const question = 'q';
    const maxTokens = TOKENS_FOR_REPLY + counter.count(question) + TOKENS_PER_MESSAGE + exchangeCost(items[2] as Exchange, counter) + 20;
    const plan = buildPrompt(input({ history: items, question, maxTokens }), counter);
    expect(exchangesIn(plan)).toEqual([{ user: 'c', assistant: 'd' }]);
    expect(plan.droppedForTokens).toBe(2);
  });

  it('truncates an over-long question and never exceeds maxTokens', () => {
    const question = '问题'.repeat(2000);
    for (const systemPrompt of ['', 'Be brief.']) {
      for (const maxTokens of [50, 100, 257, 1000]) {
        const plan = buildPrompt(input({ systemPrompt, question, maxTokens }), counter);
        const asked = plan.messages[plan.messages.length - 1];
        expect(plan.questionTruncated).toBe(true);
        expect(asked?.role).toBe('user');
        expect(asked?.content.length).toBeGreaterThan(0);
        expect(question.startsWith(text(asked?.content ?? 'missing'))).toBe(true);
        expect(plan.tokens).toBeLessThanOrEqual(maxTokens);
        expect(recount(plan.messages, counter)).toBe(plan.tokens);
        expect(plan.exchangesUsed).toBe(0);
        expect(plan.droppedForTokens).toBe(3);
      }
    }
  });

  it('reports the prompt size by the counter used', () => {
    const plan = buildPrompt(input({ systemPrompt: '你是一个助手。' }), counter);
    expect(plan.tokens).toBe(recount(plan.messages, counter));
  });
});

describe('buildPrompt sizes', () => {
  it('counts UTF-8 bytes with utf8ByteBound', () => {
    const plan = buildPrompt({ history: [], question: '你好', maxExchanges: 5, maxTokens: 1000 }, utf8ByteBound);
    expect(plan.tokens).toBe(TOKENS_FOR_REPLY + 6 + TOKENS_PER_MESSAGE);
  });
});

describe('planPrompt', () => {
  it('does not load the tokenizer when everything fits by bytes', async () => {
    const loader = jest.fn(async (): Promise<TokenCounter> => perChar);
    const request = input({ systemPrompt: 'Be brief.' });
    const plan = await planPrompt(request, loader);
    expect(loader).not.toHaveBeenCalled();
    expect(plan).toEqual(buildPrompt(request, utf8ByteBound));
    expect(plan.exchangesUsed).toBe(3);
  });

  it('loads the tokenizer when an exchange would be dropped by bytes, and uses its count', async () => {
    const loader = jest.fn(async (): Promise<TokenCounter> => perChar);
    // Chinese: 3 bytes but 1 counted token per character, so everything fits by the real count only.
    const items = history(4, (i) => exchange(i, '问'.repeat(30), '答'.repeat(30)));
    const request = input({ history: items, question: '再问', maxTokens: 300 });
    expect(buildPrompt(request, utf8ByteBound).droppedForTokens).toBeGreaterThan(0);
    const plan = await planPrompt(request, loader);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(plan).toEqual(buildPrompt(request, perChar));
    expect(plan).toMatchObject({ exchangesUsed: 4, droppedForTokens: 0 });
  });

  it('loads the tokenizer when the question would be truncated by bytes', async () => {
    const loader = jest.fn(async (): Promise<TokenCounter> => perChar);
    const request = input({ history: [], question: '问'.repeat(100), maxTokens: 200 });
    expect(buildPrompt(request, utf8ByteBound).questionTruncated).toBe(true);
    const plan = await planPrompt(request, loader);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(plan.questionTruncated).toBe(false);
    expect(plan.messages).toEqual([{ role: 'user', content: '问'.repeat(100) }]);
  });
});

describe('planPrompt with the o200k tokenizer on a long history', () => {
  const longHistory = history(200, (i) =>
    exchange(i, `第${i}个问题：How do I configure item ${i}? 😀 请详细说明。`, `回答 ${i}: set \`option_${i}=true\` in the config file, then restart. 🚀 `.repeat(3)),
  );
  const request: PromptInput = {
    systemPrompt: 'You are a concise assistant. 请用中文回答。',
    history: longHistory,
    question: '最后一个问题：what changed between item 198 and item 199?',
    maxExchanges: 200,
    maxTokens: 2000,
  };

  it('stays within maxTokens, recounted with the real tokenizer', async () => {
    const plan = await planPrompt(request, loadO200kCounter);
    expect(plan.tokens).toBeLessThanOrEqual(request.maxTokens);
    expect(recount(plan.messages, o200k)).toBe(plan.tokens);
    expect(plan.exchangesUsed).toBeGreaterThan(0);
    expect(plan.exchangesUsed + plan.droppedForTokens).toBe(200);
    expect(exchangesIn(plan).at(-1)?.user).toBe(longHistory[199]?.user);
  });

  it('truncates an over-long question to stay within maxTokens, recounted with the real tokenizer', async () => {
    const question = '请解释这段代码 😀 explain this code: const x = 1; '.repeat(400);
    const plan = await planPrompt({ ...request, question }, loadO200kCounter);
    expect(plan.questionTruncated).toBe(true);
    expect(plan.tokens).toBeLessThanOrEqual(request.maxTokens);
    expect(recount(plan.messages, o200k)).toBe(plan.tokens);
    expect(question.startsWith(text(plan.messages.at(-1)?.content ?? 'missing'))).toBe(true);
  });

  it('stays within maxTokens with the real loadO200kCounter', async () => {
    const plan = await planPrompt(request, loadO200kCounter);
    expect(plan.tokens).toBeLessThanOrEqual(request.maxTokens);
    expect(recount(plan.messages, o200k)).toBeLessThanOrEqual(request.maxTokens);
    expect(plan.exchangesUsed).toBeGreaterThan(0);
  });
});

describe('buildPrompt with pictures', () => {
  const questionPictures = [{ url: 'data:image/png;base64,UVVFU1RJT04tMQ==' }, { url: 'data:image/jpeg;base64,UVVFU1RJT04tMg==' }];
  const resent = [{ url: 'data:image/png;base64,SElTVE9SWS0x' }];

  /** The image URLs of a message, in order. */
  const imagesOf = (message: ChatMessage | undefined): string[] =>
    message === undefined || typeof message.content === 'string'
      ? []
      : message.content.flatMap((part) => (part.type === 'image_url' ? [part.image_url.url] : []));

  it('sends the question as its text followed by its pictures, and counts TOKENS_PER_PICTURE for each', () => {
    const without = buildPrompt(input({ history: [] }), perChar);
    const plan = buildPrompt(input({ history: [], questionPictures }), perChar);
    expect(plan.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What next?' },
          { type: 'image_url', image_url: { url: questionPictures[0]?.url } },
          { type: 'image_url', image_url: { url: questionPictures[1]?.url } },
        ],
      },
    ]);
    expect(plan.tokens).toBe(without.tokens + 2 * TOKENS_PER_PICTURE);
    expect(plan.pictures).toBe(2);
    expect(without.pictures).toBe(0);
  });

  it('resends pictures with the exchange they belong to, counts them, and leaves other exchanges as text', () => {
    const items = history(3);
    const plan = buildPrompt(input({ history: items, historyPictures: new Map([[items[1]?.id ?? '', resent]]), questionPictures }), perChar);
    const users = plan.messages.filter((message) => message.role === 'user');
    expect(users[0]).toEqual({ role: 'user', content: 'question 1' });
    expect(users[1]).toEqual({ role: 'user', content: [{ type: 'text', text: 'question 2' }, { type: 'image_url', image_url: { url: resent[0]?.url } }] });
    expect(users[2]).toEqual({ role: 'user', content: 'question 3' });
    expect(imagesOf(users[3])).toEqual(questionPictures.map((picture) => picture.url));
    expect(plan.pictures).toBe(3);
    const plain = buildPrompt(input({ history: items }), perChar);
    expect(plan.tokens).toBe(plain.tokens + 3 * TOKENS_PER_PICTURE);
  });

  it('drops an exchange with resent pictures whole when it does not fit with them, never keeping its text without them', () => {
    const items = history(3);
    const newest = items[2] as Exchange;
    const question = 'And this picture?';
    // Room for the newest exchange's text and most of its picture, one token short.
    const maxTokens = TOKENS_FOR_REPLY + perChar.count(question) + TOKENS_PER_MESSAGE + exchangeCost(newest, perChar) + TOKENS_PER_PICTURE - 1;
    const plan = buildPrompt(input({ history: items, question, historyPictures: new Map([[newest.id, resent]]), maxTokens }), perChar);
    expect(plan.messages).toEqual([{ role: 'user', content: question }]);
    expect(plan).toMatchObject({ exchangesUsed: 0, droppedForTokens: 3, pictures: 0 });
    expect(plan.tokens).toBeLessThanOrEqual(maxTokens);

    const roomy = buildPrompt(input({ history: items, question, historyPictures: new Map([[newest.id, resent]]), maxTokens: maxTokens + 1 }), perChar);
    expect(roomy).toMatchObject({ exchangesUsed: 1, droppedForTokens: 2, pictures: 1, tokens: maxTokens + 1 });
    expect(imagesOf(roomy.messages[0])).toEqual([resent[0]?.url]);
  });

  it("counts no pictures for an exchange outside the window, even when they are given", () => {
    const items = history(3);
    const plan = buildPrompt(input({ history: items, maxExchanges: 2, historyPictures: new Map([[items[0]?.id ?? '', resent]]) }), perChar);
    expect(plan.pictures).toBe(0);
    expect(plan.messages.flatMap((message) => imagesOf(message))).toEqual([]);
  });

  it("cuts an over-long question to leave its pictures their room, and keeps every picture", () => {
    const question = 'x'.repeat(5000);
    const maxTokens = 3000;
    const plan = buildPrompt(input({ history: history(2), question, questionPictures, maxTokens }), perChar);
    const asked = plan.messages.at(-1);
    expect(plan.questionTruncated).toBe(true);
    expect(imagesOf(asked)).toEqual(questionPictures.map((picture) => picture.url));
    expect(plan.tokens).toBe(maxTokens);
    expect(plan.pictures).toBe(2);
  });
});

describe('a question whose pictures alone fill the budget', () => {
  it('keeps up to QUESTION_FLOOR_TOKENS of its words instead of cutting them to nothing', () => {
    const question = 'Compare these six screenshots and tell me which one shows the error';
    const pictures = Array.from({ length: 6 }, () => ({ url: 'data:image/png;base64,AA==' }));
    const plan = buildPrompt({ history: [], question, questionPictures: pictures, maxExchanges: 5, maxTokens: 6000 }, utf8ByteBound);
    const asked = plan.messages.at(-1)?.content;
    expect(Array.isArray(asked) && asked[0]).toEqual({ type: 'text', text: question });
    expect(plan.questionTruncated).toBe(false);
    expect(QUESTION_FLOOR_TOKENS).toBeGreaterThan(utf8ByteBound.count(question));
  });
});
