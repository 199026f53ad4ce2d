import { createOpenAiLlm } from '../../../shared/adapters/openai-llm';
import type { LlmConfig } from '../../../shared/config/load-config';
import { LlmRefusedError } from '../../../shared/errors';
import { startOpenAiFake, type OpenAiFake } from '../../fakes/openai-fake';
import { guarantee } from '../../helpers/guarantee';

const KEY = 'sk-test-0123456789abcdef';
const QUESTION = [{ role: 'user' as const, content: 'hi' }];

describe(guarantee('Faults: LLM'), () => {
  describe('createOpenAiLlm.stream (real openai SDK against the streaming fake)', () => {
    let fake: OpenAiFake;
    beforeEach(async () => {
      fake = await startOpenAiFake({ apiKey: KEY, models: ['deepseek-chat'] });
    });
    afterEach(() => fake.close());

    const llm = (overrides: Partial<LlmConfig> = {}) =>
      createOpenAiLlm(
        { apiKey: KEY, baseURL: fake.baseURL, model: 'deepseek-chat', timeoutMs: 2000, maxRetries: 0, ...overrides },
        { sleep: () => Promise.resolve() },
      );

    /** Streams `QUESTION`, collecting every text `onText` saw. */
    async function stream(overrides: Partial<LlmConfig> = {}): Promise<{ texts: string[]; answer: Awaited<ReturnType<ReturnType<typeof llm>['stream']>> }> {
      const texts: string[] = [];
      const answer = await llm(overrides).stream(QUESTION, { onText: (text) => texts.push(text) });
      return { texts, answer };
    }

    it('asks for a stream with usage and shows the text growing, in order, then returns it trimmed with the usage', async () => {
      fake.queue({ text: '  Hello there, this answer arrives in pieces. ', pace: { tokenChars: 5 } });
      const { texts, answer } = await stream();
      expect(fake.requests[0]?.body).toMatchObject({ model: 'deepseek-chat', stream: true, stream_options: { include_usage: true } });
      expect(texts.length).toBeGreaterThan(5);
      for (let i = 1; i < texts.length; i += 1) expect(texts[i]?.startsWith(texts[i - 1] ?? '')).toBe(true);
      expect(texts[0]).toBe('Hel');
      expect(texts[texts.length - 1]).toBe('Hello there, this answer arrives in pieces. ');
      expect(answer).toEqual({
        text: 'Hello there, this answer arrives in pieces.',
        model: 'deepseek-chat',
        promptTokens: expect.any(Number),
        completionTokens: expect.any(Number),
      });
    });

    it('delivers each delta before the next one is written (the text is shown while the model writes)', async () => {
      fake.queue({ text: 'one two three four', pace: { tokenChars: 4, tokenDelayMs: 40 } });
      const written: number[] = [];
      await llm().stream(QUESTION, { onText: () => written.push(fake.requests[0]?.chunks.length ?? 0) });
      // When onText saw the n-th delta, the fake had written exactly n: nothing was buffered until the end.
      expect(written).toEqual(written.map((_, i) => i + 1));
    });

    it('works with a provider that answers a stream request with a plain JSON completion (one onText at the end)', async () => {
      fake.queue({ text: 'not streamed', ignoreStream: true });
      const { texts, answer } = await stream();
      expect(texts).toEqual(['not streamed']);
      expect(answer).toMatchObject({ text: 'not streamed', promptTokens: expect.any(Number) });
    });

    it('leaves the reasoning of a thinking model out of the text', async () => {
      fake.queue({ text: 'The answer is 4.', reasoning: 'The user asks 2+2. Let me think: 2+2=4.' });
      const { texts, answer } = await stream();
      expect(fake.requests[0]?.chunks.some((chunk) => chunk.reasoning !== undefined)).toBe(true);
      expect(answer.text).toBe('The answer is 4.');
      expect(texts.join('')).not.toContain('think');
    });

    it('leaves the reasoning out of a non-streamed answer too', async () => {
      fake.queue({ text: 'Four.', reasoning: 'Thinking hard.', ignoreStream: true });
      expect((await stream()).answer.text).toBe('Four.');
    });

    it.each([
      ['content_filter', { text: 'partial answer', finishReason: 'content_filter' as const }, 'filtered'],
      ['an empty answer', { text: '  \n ' }, 'empty'],
      ['an answer that is only reasoning', { text: '', reasoning: 'hmm' }, 'empty'],
    ])('treats %s as a refusal', async (_name, item, reason) => {
      fake.queue(item);
      const error = await llm({ maxRetries: 2 })
        .stream(QUESTION, {})
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LlmRefusedError);
      expect(error).toMatchObject({ reason });
      expect(fake.requests).toHaveLength(1);
    });

    it('asks again without stream_options when the provider refuses them (older Azure API versions), and then never sends them', async () => {
      const strict = await startOpenAiFake({ apiKey: KEY, models: ['deepseek-chat'], rejectStreamOptions: true });
      try {
        const client = createOpenAiLlm({ apiKey: KEY, baseURL: strict.baseURL, model: 'deepseek-chat', timeoutMs: 2000, maxRetries: 0 });
        await expect(client.stream(QUESTION, {})).resolves.toMatchObject({ text: expect.stringContaining('Echo: hi') });
        await expect(client.stream(QUESTION, {})).resolves.toMatchObject({ text: expect.stringContaining('Echo: hi') });
        expect(strict.requests.map((r) => [r.status, (r.body as { stream_options?: unknown }).stream_options !== undefined])).toEqual([
          [400, true],
          [200, false],
          [200, false],
        ]);
      } finally {
        await strict.close();
      }
    });

    it('reports a 400 that is not about stream_options as the refusal it is, after one request without them', async () => {
      const error = await llm({ model: 'deepseek-chat' })
        .stream([{ role: 'user', content: 'x' }, ...([{ role: 'robot', content: 'x' }] as unknown as typeof QUESTION)], {})
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ reason: 'request', status: 400 });
      expect(fake.requests).toHaveLength(2);
    });

    it('retries a stream cut midway, and the text starts again from the beginning', async () => {
      fake.queue({ text: 'first try that breaks', pace: { tokenChars: 6, tokenDelayMs: 50 }, fail: { afterTokens: 2, how: 'destroy' } }, { text: 'second try' });
      const { texts, answer } = await stream({ maxRetries: 1 });
      expect(answer.text).toBe('second try');
      expect(texts).toEqual(['first ', 'first try th', 'second t', 'second try']);
      expect(fake.requests).toHaveLength(2);
    });

    it('retries an error event in the middle of a stream', async () => {
      fake.queue({ text: 'broken answer', fail: { afterTokens: 1, how: 'error-event' } }, { text: 'whole answer' });
      await expect(llm({ maxRetries: 1 }).stream(QUESTION, {})).resolves.toMatchObject({ text: 'whole answer' });
      fake.queue({ text: 'broken answer', fail: { afterTokens: 1, how: 'error-event' } });
      await expect(llm().stream(QUESTION, {})).rejects.toMatchObject({ reason: 'server' });
    });

    it('maps a stream cut midway that outlasts the retries to a network failure', async () => {
      fake.queue({ text: 'abc def ghi', fail: { afterTokens: 1, how: 'destroy' } }, { text: 'abc def ghi', fail: { afterTokens: 1, how: 'destroy' } });
      await expect(llm({ maxRetries: 1 }).stream(QUESTION, {})).rejects.toMatchObject({ reason: 'network' });
      expect(fake.requests).toHaveLength(2);
    });

    it('ends the call with what onText threw, unchanged and not retried', async () => {
      fake.queue({ text: 'some text here' });
      const receiverBug = new RangeError('card update failed');
      const error = await llm({ maxRetries: 2 })
        .stream(QUESTION, {
          onText: () => {
            throw receiverBug;
          },
        })
        .catch((caught: unknown) => caught);
      expect(error).toBe(receiverBug);
      expect(fake.requests).toHaveLength(1);
    });

    it('keeps Chinese text whole across chunk boundaries', async () => {
      const text = '你好，世界！这是一个流式回答，包含表情😀和中文标点。';
      fake.queue({ text, pace: { tokenChars: 1 } });
      const { texts, answer } = await stream();
      expect(answer.text).toBe(text);
      expect(texts.every((t) => !t.includes('\uFFFD'))).toBe(true);
    });
  });
});
