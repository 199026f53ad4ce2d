import { createOpenAiLlm } from '../../../shared/adapters/openai-llm';
import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { LlmUnavailableError } from '../../../shared/errors';
import type { Exchange } from '../../../shared/history/exchange';
import { createStoredMemory, type StoredMemoryOptions } from '../../../shared/memory/stored-memory';
import { HEAD_NAME, memoryFolder } from '../../../shared/memory/memory-versions';
import type { ChatMessage, LlmAnswer, LlmCallOptions, LlmClient, ObjectStore } from '../../../shared/ports';
import { captureLogger } from '../../helpers/capture-logger';
import { guarantee } from '../../helpers/guarantee';
import { crossRealmSafeFetch, startOpenAiFake } from '../../fakes/openai-fake';

/** What an update prompt carries: the current list and the exchanges. */
interface UpdatePayload {
  memories: string[];
  exchanges: Array<{ date: string; user: string; assistant: string }>;
}

/** The JSON of an update prompt's user message. */
function payloadOf(messages: readonly ChatMessage[]): UpdatePayload {
  const content = messages[1]?.content;
  const text = typeof content === 'string' ? content : '';
  return JSON.parse(text.slice(text.indexOf('\n') + 1)) as UpdatePayload;
}

/** An LLM that answers update calls with `respond` (a string, or an error to throw) and records them. */
class UpdateLlm implements LlmClient {
  readonly calls: Array<{ payload: UpdatePayload; options: LlmCallOptions | undefined }> = [];
  constructor(private readonly respond: (payload: UpdatePayload) => string | Error) {}
  async complete(messages: readonly ChatMessage[], options?: LlmCallOptions): Promise<LlmAnswer> {
    const payload = payloadOf(messages);
    this.calls.push({ payload, options });
    // A turn of the event loop, as a real call takes: concurrent runs interleave here.
    await new Promise((resolve) => setImmediate(resolve));
    const answer = this.respond(payload);
    if (answer instanceof Error) throw answer;
    return { text: answer, model: 'memory-model' };
  }
  stream(): Promise<LlmAnswer> {
    throw new Error('the memory update never streams');
  }
}

/** Answers the current list plus each exchange's question as a fact: a model that remembers everything said. */
const keepsQuestions = (payload: UpdatePayload): string => JSON.stringify({ memories: [...payload.memories, ...payload.exchanges.map((item) => item.user)] });

const exchange = (at: number, user: string, assistant = 'Noted.'): Exchange => ({ id: `e${at}`, at, user, assistant });

/** The history store, counting the requests each method gets (what OSS would bill). */
class CountingStore implements ObjectStore {
  readonly inner = new MemoryObjectStore();
  readonly description = 'counting';
  readonly requests: string[] = [];
  list(prefix: string, limit: number): Promise<string[]> {
    this.requests.push('LIST');
    return this.inner.list(prefix, limit);
  }
  get(key: string): Promise<Buffer | undefined> {
    this.requests.push('GET');
    return this.inner.get(key);
  }
  put(key: string, body: Buffer, options?: { ifAbsent?: boolean }): Promise<boolean> {
    this.requests.push('PUT');
    return this.inner.put(key, body, options);
  }
  deleteMany(keys: readonly string[]): Promise<void> {
    this.requests.push('DELETE');
    return this.inner.deleteMany(keys);
  }
  /** The requests made while `run` ran. */
  async during(run: () => Promise<unknown>): Promise<string[]> {
    const from = this.requests.length;
    await run();
    return this.requests.slice(from);
  }
}

function setup(respond: (payload: UpdatePayload) => string | Error = keepsQuestions, options: Partial<StoredMemoryOptions> = {}) {
  const store = new CountingStore();
  const llm = new UpdateLlm(respond);
  const log = captureLogger({ level: 'info' });
  const memory = createStoredMemory({ store, prefix: 'history/', llm, logger: log.logger, sleep: () => Promise.resolve(), ...options });
  return { store, llm, memory, log };
}

describe('createStoredMemory: learn', () => {
  it('makes one JSON-object call to MEMORY_MODEL with the current list and the new exchanges, and keeps the complete list it answers', async () => {
    const { memory, llm } = setup(keepsQuestions, { model: 'cheap-model' });
    await memory.remember('u1', 'Likes green tea');
    const signal = new AbortController().signal;
    const result = await memory.learn('u1', [exchange(Date.UTC(2026, 10, 21), 'My name is Zhang San')], { signal });
    expect(result).toEqual({ learned: 1, calls: 1, items: 2 });
    expect(llm.calls).toHaveLength(1);
    expect(llm.calls[0]?.options).toEqual({ responseFormat: 'json_object', model: 'cheap-model', signal });
    expect(llm.calls[0]?.payload).toEqual({
      memories: ['Likes green tea'],
      exchanges: [{ date: '2026-11-21', user: 'My name is Zhang San', assistant: 'Noted.' }],
    });
    expect(await memory.list('u1')).toEqual(['Likes green tea', 'My name is Zhang San']);
    expect(await memory.recall('u1', 'what is my name?')).toEqual(['Likes green tea', 'My name is Zhang San']);
  });

  it('names no model without MEMORY_MODEL, so the LLM uses OPENAI_MODEL', async () => {
    const { memory, llm } = setup();
    await memory.learn('u1', [exchange(1, 'I work on the payments team')]);
    expect(llm.calls[0]?.options).toEqual({ responseFormat: 'json_object' });
  });

  it('lets the model correct and drop facts: the answer is the new list', async () => {
    const { memory } = setup((payload) => JSON.stringify({ memories: payload.memories.map((fact) => fact.replace('payments', 'billing')) }));
    await memory.remember('u1', 'Works on the payments team');
    await memory.remember('u1', 'Release on the 15th');
    await memory.learn('u1', [exchange(1, 'I moved to billing')]);
    expect(await memory.list('u1')).toEqual(['Works on the billing team', 'Release on the 15th']);
  });

  it('learns each exchange once: exchanges up to the newest learned are skipped, and when none is left no call is made', async () => {
    const { memory, llm } = setup();
    await memory.learn('u1', [exchange(1, 'one'), exchange(2, 'two')]);
    expect(await memory.learn('u1', [exchange(1, 'one'), exchange(2, 'two')])).toEqual({ learned: 0, calls: 0, items: 2 });
    await memory.learn('u1', [exchange(2, 'two'), exchange(3, 'three')]);
    expect(llm.calls.map((call) => call.payload.exchanges.map((item) => item.user))).toEqual([['one', 'two'], ['three']]);
    expect(await memory.list('u1')).toEqual(['one', 'two', 'three']);
  });

  it('makes no call for no exchanges', async () => {
    const { memory, llm } = setup();
    expect(await memory.learn('u1', [])).toEqual({ learned: 0, calls: 0, items: 0 });
    expect(llm.calls).toHaveLength(0);
  });

  it.each([
    ['invalid JSON', 'Sure! You are Zhang San.', 'invalid-json'],
    ['the wrong shape', '{"facts": ["Zhang San"]}', 'wrong-shape'],
    ['facts that are not strings', '{"memories": [{"name": "Zhang San"}]}', 'wrong-shape'],
    ['more facts than MEMORY_MAX_ITEMS', JSON.stringify({ memories: ['a', 'b', 'c', 'd'] }), 'over-bounds'],
    ['a fact over the character bound', JSON.stringify({ memories: ['x'.repeat(301)] }), 'over-bounds'],
  ])('leaves the memory as it was when the model answers %s, and logs why without the texts', async (_what, answer, reason) => {
    const { memory, log } = setup(() => answer, { maxItems: 3 });
    await memory.remember('u1', 'Likes green tea');
    expect(await memory.learn('u1', [exchange(1, 'My name is Zhang San')])).toEqual({ learned: 1, calls: 1, items: 1, unchanged: reason });
    expect(await memory.list('u1')).toEqual(['Likes green tea']);
    expect(log.find('memory.update_refused')).toMatchObject({ level: 'warn', reason });
    expect(log.lines.join('\n')).not.toMatch(/Zhang San|green tea/);
  });

  it('leaves the memory as it was when the LLM fails, and says so in its result and the log', async () => {
    const { memory, log } = setup(() => new LlmUnavailableError('timeout', 'the LLM sent nothing'));
    expect(await memory.learn('u1', [exchange(1, 'My name is Zhang San')])).toEqual({ learned: 1, calls: 1, items: 0, unchanged: 'llm-failed' });
    expect(await memory.list('u1')).toEqual([]);
    expect(log.find('memory.learn_failed')).toMatchObject({ level: 'warn', error: { kind: 'llm-unavailable', reason: 'timeout' } });
  });

  it('logs counts at info and the facts only at debug', async () => {
    const info = setup();
    await info.memory.learn('u1', [exchange(1, 'My name is Zhang San')]);
    expect(info.log.find('memory.learned')).toMatchObject({ exchanges: 1, items: 1, added: 1, removed: 0 });
    expect(info.log.lines.join('\n')).not.toContain('Zhang San');
    const debug = captureLogger({ level: 'debug' });
    const memory = createStoredMemory({ store: new MemoryObjectStore(), prefix: 'h/', llm: new UpdateLlm(keepsQuestions), logger: debug.logger });
    await memory.learn('u1', [exchange(1, 'My name is Zhang San')]);
    expect(debug.find('memory.learned')).toMatchObject({ memories: ['My name is Zhang San'] });
  });

  it('sends a bounded amount of exchange text, however long the exchanges', async () => {
    const { memory, llm } = setup(() => '{"memories": []}', { maxInputBytes: 2000 });
    await memory.learn('u1', [exchange(1, 'q'.repeat(100_000), 'a'.repeat(100_000)), exchange(2, 'short')]);
    const sent = llm.calls[0]?.payload.exchanges ?? [];
    expect(Buffer.byteLength(sent.map((item) => item.user + item.assistant).join(''))).toBeLessThanOrEqual(2000);
  });

  it('drives the real OpenAI client against the fake, which refuses JSON mode without the word "json": the update call passes', async () => {
    const fake = await startOpenAiFake({ apiKey: 'sk-memory', models: ['gpt-4o-mini'] });
    try {
      fake.respondWith((request) => {
        const user = request.messages[1]?.content ?? '';
        const payload = JSON.parse(user.slice(user.indexOf('\n') + 1)) as UpdatePayload;
        return JSON.stringify({ memories: payload.exchanges.map((item) => `Said: ${item.user}`) });
      });
      const llm = createOpenAiLlm({ apiKey: 'sk-memory', baseURL: fake.baseURL, model: 'gpt-4o-mini', timeoutMs: 2000, maxRetries: 0 }, { fetch: crossRealmSafeFetch });
      const memory = createStoredMemory({ store: new MemoryObjectStore(), prefix: 'history/', llm });
      expect(await memory.learn('u1', [exchange(1, 'my name is Zhang San')])).toEqual({ learned: 1, calls: 1, items: 1 });
      expect(fake.requests[0]?.body).toMatchObject({ response_format: { type: 'json_object' } });
      expect(await memory.list('u1')).toEqual(['Said: my name is Zhang San']);
    } finally {
      await fake.close();
    }
  });
});

describe('createStoredMemory: recall', () => {
  it('reads the facts for a question with exactly one request, a GET, whether there are facts or not', async () => {
    const { memory, store } = setup();
    expect(await store.during(() => memory.recall('u1', 'hello'))).toEqual(['GET']);
    await memory.remember('u1', 'Answer me in English');
    await memory.learn('u1', [exchange(1, 'My name is Zhang San')]);
    let facts: string[] = [];
    expect(
      await store.during(async () => {
        facts = await memory.recall('u1', 'what is my name?');
      }),
    ).toEqual(['GET']);
    expect(facts).toEqual(['Answer me in English', 'My name is Zhang San']);
  });

  it('sees each change at the next question: a learn, a remember, a forget', async () => {
    const { memory } = setup();
    await memory.learn('u1', [exchange(1, 'I work on the payments team')]);
    expect(await memory.recall('u1', 'q')).toEqual(['I work on the payments team']);
    await memory.remember('u1', 'Release on the 15th');
    expect(await memory.recall('u1', 'q')).toEqual(['I work on the payments team', 'Release on the 15th']);
    await memory.forget('u1', 1);
    expect(await memory.recall('u1', 'q')).toEqual(['Release on the 15th']);
    await memory.forget('u1', 'all');
    expect(await memory.recall('u1', 'q')).toEqual([]);
  });

  it('lists, numbers and forgets from the versions, so a head left behind changes what a question sees and nothing else', async () => {
    const { memory, store } = setup();
    for (const fact of ['one', 'two']) await memory.remember('u1', fact);
    // As if the last head write had failed: the head still shows the first fact only.
    await store.inner.put(`${memoryFolder('history/', 'u1')}${HEAD_NAME}`, Buffer.from(JSON.stringify({ v: 1, seq: 1, items: ['one'], learnedUntil: 0 })));
    expect(await memory.recall('u1', 'q')).toEqual(['one']);
    expect(await memory.list('u1')).toEqual(['one', 'two']);
    expect(await memory.forget('u1', 2)).toEqual(['two']);
    await memory.remember('u1', 'three');
    // The next commit brought the head up to date.
    expect(await memory.recall('u1', 'q')).toEqual(['one', 'three']);
  });
});

describe('createStoredMemory: remember, forget, list', () => {
  it('remembers a fact at once, without the LLM, once however often it is said', async () => {
    const { memory, llm } = setup();
    expect(await memory.remember('u1', '  Answer me in   English ')).toEqual(['Answer me in English']);
    expect(await memory.remember('u1', 'answer me in english')).toEqual(['Answer me in English']);
    expect(await memory.remember('u1', '   ')).toEqual(['Answer me in English']);
    expect(llm.calls).toHaveLength(0);
  });

  it('drops the oldest fact to make room when the list is full, and shortens a fact over the bound', async () => {
    const { memory, log } = setup(keepsQuestions, { maxItems: 2, maxFactChars: 10 });
    await memory.remember('u1', 'one');
    await memory.remember('u1', 'two');
    expect(await memory.remember('u1', 'three is a long fact')).toEqual(['two', 'three is …']);
    expect(log.find('memory.remembered')).toMatchObject({ items: 1, dropped: 0 });
    expect(log.events().filter((line) => line.event === 'memory.remembered').at(-1)).toMatchObject({ items: 2, dropped: 1 });
  });

  it('forgets one fact by its number, or all of them, and answers what it removed', async () => {
    const { memory } = setup();
    for (const fact of ['one', 'two', 'three']) await memory.remember('u1', fact);
    expect(await memory.forget('u1', 2)).toEqual(['two']);
    expect(await memory.list('u1')).toEqual(['one', 'three']);
    expect(await memory.forget('u1', 3)).toEqual([]);
    expect(await memory.forget('u1', 0)).toEqual([]);
    expect(await memory.forget('u1', 1.5)).toEqual([]);
    expect(await memory.forget('u1', 'all')).toEqual(['one', 'three']);
    expect(await memory.list('u1')).toEqual([]);
    expect(await memory.forget('u1', 'all')).toEqual([]);
  });

  it('does not learn again what it learned before a forget all', async () => {
    const { memory, llm } = setup();
    await memory.learn('u1', [exchange(5, 'My name is Zhang San')]);
    await memory.forget('u1', 'all');
    expect(await memory.learn('u1', [exchange(5, 'My name is Zhang San')])).toMatchObject({ calls: 0 });
    expect(llm.calls).toHaveLength(1);
  });

  it('keeps each person apart', async () => {
    const { memory } = setup();
    await memory.remember('alice', 'Alice likes tea');
    expect(await memory.list('bob')).toEqual([]);
    expect(await memory.recall('bob', 'what do I like?')).toEqual([]);
  });
});

describe(guarantee('No lost history'), () => {
  it('keeps every fact when ten learns of one person run at once, each asking the model about its own exchange', async () => {
    // The model adds the exchange's question to the list it was shown: each run sees the list before the others wrote.
    const { memory, llm, log } = setup();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => memory.learn('u1', [exchange(i + 1, `fact ${i + 1}`)])));
    expect(results.every((result) => result.calls === 1 && result.unchanged === undefined)).toBe(true);
    expect(llm.calls).toHaveLength(10);
    const all = Array.from({ length: 10 }, (_, i) => `fact ${i + 1}`).sort();
    expect([...(await memory.list('u1'))].sort()).toEqual(all);
    // A question afterwards sees all ten: no slower writer left the head behind the newest version.
    expect([...(await memory.recall('u1', 'what do you know about me?'))].sort()).toEqual(all);
    expect(log.events().filter((line) => line.event === 'memory.learned').some((line) => Number(line.conflicts) > 0)).toBe(true);
    // Merged on conflict, never asked again.
    expect(await memory.learn('u1', Array.from({ length: 10 }, (_, i) => exchange(i + 1, `fact ${i + 1}`)))).toMatchObject({ calls: 0 });
  });

  it('keeps both effects of a forget and a remember at once', async () => {
    const { memory } = setup();
    for (const fact of ['one', 'two']) await memory.remember('u1', fact);
    const [removed] = await Promise.all([memory.forget('u1', 1), memory.remember('u1', 'three')]);
    expect(removed).toEqual(['one']);
    expect(await memory.list('u1')).toEqual(['two', 'three']);
  });

  it('keeps a fact a learn adds while a forget all runs, and forgets everything else', async () => {
    const { memory } = setup();
    for (const fact of ['one', 'two']) await memory.remember('u1', fact);
    await Promise.all([memory.learn('u1', [exchange(1, 'three')]), memory.forget('u1', 'all')]);
    expect(await memory.list('u1')).toEqual(['three']);
  });
});
