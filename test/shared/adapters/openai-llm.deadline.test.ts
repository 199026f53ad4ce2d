import { abortableSleep } from '../../../shared/util/abortable-sleep';
import { createOpenAiLlm, type OpenAiLlmOptions } from '../../../shared/adapters/openai-llm';
import type { LlmConfig } from '../../../shared/config/load-config';
import { LlmUnavailableError } from '../../../shared/errors';
import { startOpenAiFake, type OpenAiFake } from '../../fakes/openai-fake';
import { guarantee } from '../../helpers/guarantee';

const KEY = 'sk-test-0123456789abcdef';
const QUESTION = [{ role: 'user' as const, content: 'hi' }];
/** Far longer than any bound under test: reaching it would mean the call waited for the server. */
const FOREVER_MS = 5000;

describe(guarantee('Faults: LLM'), () => {
  describe('createOpenAiLlm: one deadline covers the whole call (real openai SDK against the fake)', () => {
    let fake: OpenAiFake;
    beforeEach(async () => {
      fake = await startOpenAiFake({ apiKey: KEY, models: ['deepseek-chat'] });
    });
    afterEach(() => fake.close());

    const llm = (overrides: Partial<LlmConfig> = {}, options: OpenAiLlmOptions = {}) =>
      createOpenAiLlm(
        { apiKey: KEY, baseURL: fake.baseURL, model: 'deepseek-chat', timeoutMs: 300, maxRetries: 0, ...overrides },
        { sleep: () => Promise.resolve(), ...options },
      );

    /** The call's outcome and how long it took. */
    async function timed(call: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
      const started = Date.now();
      const error = await call.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      return { error, ms: Date.now() - started };
    }

    it('cuts a stream that stalls after the headers after LLM_TIMEOUT_SECONDS per attempt, within LLM_MAX_RETRIES, not when the server closes', async () => {
      fake.queue({ text: 'never sent', stall: { afterTokens: 0 } }, { text: 'never sent', stall: { afterTokens: 0 } });
      const { error, ms } = await timed(llm({ maxRetries: 1 }).stream(QUESTION, {}));
      expect(error).toBeInstanceOf(LlmUnavailableError);
      expect(error).toMatchObject({ reason: 'timeout', message: expect.stringMatching(/LLM_TIMEOUT_SECONDS \(0\.3 s\) \(2 attempts\)/) });
      expect(fake.requests).toHaveLength(2);
      expect(fake.requests.every((r) => r.status === 200 && !r.completed)).toBe(true);
      expect(ms).toBeLessThan(FOREVER_MS);
    });

    it('does not count keep-alive comments as progress: a never-ending keep-alive stream is cut', async () => {
      fake.queue({ text: 'never sent', stall: { afterTokens: 0, keepAlive: true, keepAliveIntervalMs: 30 } });
      const { error, ms } = await timed(llm().stream(QUESTION, {}));
      expect(error).toMatchObject({ reason: 'timeout' });
      expect(fake.requests[0]?.keepAlives).toBeGreaterThan(0);
      expect(ms).toBeLessThan(FOREVER_MS);
    });

    it('cuts a stream that stops sending text midway, after the text it showed', async () => {
      fake.queue({ text: 'the beginning and never the end', pace: { tokenChars: 4 }, stall: { afterTokens: 2, keepAlive: true, keepAliveIntervalMs: 30 } });
      const texts: string[] = [];
      const { error, ms } = await timed(llm().stream(QUESTION, { onText: (text) => texts.push(text) }));
      expect(texts).toEqual(['the ', 'the begi']);
      expect(error).toMatchObject({ reason: 'timeout' });
      expect(ms).toBeLessThan(FOREVER_MS);
    });

    it('lets a steady stream run longer than LLM_TIMEOUT_SECONDS in total: the limit is the wait for each delta, reasoning included', async () => {
      fake.queue({ text: 'slow but steady', reasoning: 'thinking it over', pace: { tokenChars: 2, tokenDelayMs: 40 } });
      const answer = await llm({ timeoutMs: 300 }).stream(QUESTION, {});
      expect(answer.text).toBe('slow but steady');
      const chunks = fake.requests[0]?.chunks ?? [];
      expect((chunks[chunks.length - 1]?.at ?? 0) - (chunks[0]?.at ?? 0)).toBeGreaterThan(300);
    });

    it('cuts a JSON answer whose body stalls after the headers (blank lines, as DeepSeek sends while busy)', async () => {
      fake.queue(
        { text: 'never sent', stall: { afterTokens: 0, keepAlive: true, keepAliveIntervalMs: 30 } },
        { text: 'never sent', stall: { afterTokens: 0, keepAlive: true, keepAliveIntervalMs: 30 } },
      );
      const { error, ms } = await timed(llm({ maxRetries: 1 }).complete(QUESTION));
      expect(error).toMatchObject({ reason: 'timeout' });
      expect(fake.requests).toHaveLength(2);
      expect(fake.requests[0]?.keepAlives).toBeGreaterThan(0);
      expect(ms).toBeLessThan(FOREVER_MS);
    });

    it("aborts at once when the caller's signal fires mid-stream: reason deadline, no retry", async () => {
      fake.queue({ text: 'a long answer that stalls', pace: { tokenChars: 6 }, stall: { afterTokens: 1, keepAlive: true } });
      const deadline = new AbortController();
      const { error, ms } = await timed(
        llm({ timeoutMs: 60_000, maxRetries: 2 }).stream(QUESTION, { signal: deadline.signal, onText: () => deadline.abort() }),
      );
      expect(error).toBeInstanceOf(LlmUnavailableError);
      expect(error).toMatchObject({ reason: 'deadline' });
      expect(fake.requests).toHaveLength(1);
      expect(ms).toBeLessThan(FOREVER_MS);
    });

    it("aborts a request still waiting for its headers when the caller's signal fires", async () => {
      fake.queue({ text: 'late', delayMs: 30_000 });
      const deadline = new AbortController();
      setTimeout(() => deadline.abort(), 50);
      const { error, ms } = await timed(llm({ timeoutMs: 60_000 }).complete(QUESTION, { signal: deadline.signal }));
      expect(error).toMatchObject({ reason: 'deadline' });
      expect(ms).toBeLessThan(FOREVER_MS);
    });

    it("aborts the wait between retries when the caller's signal fires", async () => {
      fake.queue({ status: 503, headers: { 'retry-after-ms': '30000' } }, { text: 'too late' });
      const deadline = new AbortController();
      const waits: number[] = [];
      const sleep: OpenAiLlmOptions['sleep'] = (ms, signal) => {
        waits.push(ms);
        setTimeout(() => deadline.abort(), 20);
        return abortableSleep(ms, signal);
      };
      const { error, ms } = await timed(llm({ maxRetries: 2 }, { sleep }).complete(QUESTION, { signal: deadline.signal }));
      expect(waits).toEqual([30_000]);
      expect(error).toMatchObject({ reason: 'deadline' });
      expect(fake.requests).toHaveLength(1);
      expect(ms).toBeLessThan(FOREVER_MS);
    });

    it('asks nothing when the signal has already fired', async () => {
      const deadline = new AbortController();
      deadline.abort();
      await expect(llm().stream(QUESTION, { signal: deadline.signal })).rejects.toMatchObject({ reason: 'deadline' });
      expect(fake.requests).toHaveLength(0);
    });

    it("honours the provider's Retry-After between attempts", async () => {
      fake.queue({ status: 429, headers: { 'retry-after': '0.05' } }, { status: 500, headers: { 'retry-after-ms': '20' } }, { text: 'third time' });
      const waits: number[] = [];
      const sleep: OpenAiLlmOptions['sleep'] = (ms, signal) => {
        waits.push(ms);
        return abortableSleep(ms, signal);
      };
      await expect(llm({ maxRetries: 2 }, { sleep }).stream(QUESTION, {})).resolves.toMatchObject({ text: 'third time' });
      expect(waits).toEqual([50, 20]);
    });

    it('does not retry a 429 that asks to wait more than a minute (a spent quota)', async () => {
      fake.queue({ status: 429, headers: { 'retry-after': '3600' } }, { text: 'not asked' });
      await expect(llm({ maxRetries: 2 }).complete(QUESTION)).rejects.toMatchObject({ reason: 'rate-limit', status: 429 });
      expect(fake.requests).toHaveLength(1);
    });

    it.each([
      ['400', { status: 400 }, 'request'],
      ['422', { status: 422 }, 'request'],
      ['403', { status: 403 }, 'auth'],
      ['404', { status: 404 }, 'model'],
    ])('never retries a %s refusal', async (_status, item, reason) => {
      fake.queue(item, { text: 'not asked' });
      await expect(llm({ maxRetries: 2 }).complete(QUESTION)).rejects.toMatchObject({ reason });
      expect(fake.requests).toHaveLength(1);
    });

    it('never retries a wrong key, streaming or not', async () => {
      const wrongKey = llm({ apiKey: 'sk-wrong-000000000000', maxRetries: 2 });
      await expect(wrongKey.stream(QUESTION, {})).rejects.toMatchObject({ reason: 'auth', status: 401 });
      await expect(wrongKey.complete(QUESTION)).rejects.toMatchObject({ reason: 'auth', status: 401 });
      expect(fake.requests).toHaveLength(2);
    });
  });
});
