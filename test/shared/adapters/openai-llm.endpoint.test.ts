import { createServer } from 'node:net';
import { createOpenAiLlm } from '../../../shared/adapters/openai-llm';
import type { LlmConfig } from '../../../shared/config/load-config';
import { USER_MESSAGES, llmFailureMessage } from '../../../shared/core/user-messages';
import { LlmRefusedError } from '../../../shared/errors';
import { startOpenAiFake, type OpenAiFake } from '../../fakes/openai-fake';
import { guarantee } from '../../helpers/guarantee';

const KEY = 'sk-test-0123456789abcdef';
const QUESTION = [{ role: 'user' as const, content: 'hi' }];
const HTML = '<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome</h1></body></html>';

/** A fetch that counts the requests it was asked to make (connection failures never reach a server log). */
function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: (input, init) => {
      calls += 1;
      return fetch(input, init);
    },
    calls: () => calls,
  };
}

/** A loopback port where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe(guarantee('Faults: LLM'), () => {
  describe('createOpenAiLlm names a misconfigured endpoint instead of guessing (real openai SDK)', () => {
    let fake: OpenAiFake;
    beforeEach(async () => {
      fake = await startOpenAiFake({ apiKey: KEY, models: ['qwen-plus'] });
    });
    afterEach(() => fake.close());

    const config = (overrides: Partial<LlmConfig> = {}): LlmConfig => ({
      apiKey: KEY,
      baseURL: fake.baseURL,
      model: 'qwen-plus',
      timeoutMs: 2000,
      maxRetries: 2,
      ...overrides,
    });
    const host = (): string => new URL(fake.url).host;

    describe.each([
      ['complete', (llm: ReturnType<typeof createOpenAiLlm>) => llm.complete(QUESTION)],
      ['stream', (llm: ReturnType<typeof createOpenAiLlm>) => llm.stream(QUESTION, {})],
    ])('%s', (_mode, call) => {
      it.each([
        ['an HTML page with status 200', { raw: HTML, contentType: 'text/html; charset=utf-8' }, /answered an HTML page \(text\/html\)/],
        ['invalid JSON', { raw: '{"id": "chatcmpl-1", "choices": [', contentType: 'application/json' }, /answered invalid JSON/],
        ['JSON that is not a completion', { raw: '{"status": "ok"}', contentType: 'application/json' }, /JSON that is not a chat completion/],
        ['a body that is neither JSON nor SSE', { raw: 'Hello from the proxy', contentType: 'text/plain' }, /neither JSON nor an event stream/],
        ['an empty body', { raw: '', contentType: 'text/plain' }, /an empty body/],
        ['an event stream of non-JSON events', { raw: 'data: hello\n\ndata: world\n\n', contentType: 'text/event-stream' }, /events are not JSON/],
      ])('reports %s as "not an OpenAI-compatible API" naming the host, without retrying', async (_name, item, detail) => {
        fake.queue(item, item, item);
        const error = (await call(createOpenAiLlm(config())).catch((caught: unknown) => caught)) as LlmRefusedError;
        expect(error).toBeInstanceOf(LlmRefusedError);
        expect(error.reason).toBe('incompatible');
        expect(error.message).toContain(`not an OpenAI-compatible API: ${host()} answered`);
        expect(error.message).toMatch(detail);
        expect(error.message).toContain('OPENAI_BASE_URL');
        expect(fake.requests).toHaveLength(1);
        expect(llmFailureMessage(error)).toBe(USER_MESSAGES.misconfigured);
      });
    });

    it('names ECONNREFUSED and the host (never the path), and does not retry', async () => {
      const port = await closedPort();
      const counter = countingFetch();
      const llm = createOpenAiLlm(config({ baseURL: `http://127.0.0.1:${port}/secret-path/v1` }), { fetch: counter.fetch });
      const error = (await llm.stream(QUESTION, {}).catch((caught: unknown) => caught)) as LlmRefusedError;
      expect(error).toBeInstanceOf(LlmRefusedError);
      expect(error.reason).toBe('endpoint');
      expect(error.message).toContain(`ECONNREFUSED from 127.0.0.1:${port}`);
      expect(error.message).not.toContain('secret-path');
      expect(counter.calls()).toBe(1);
      expect(llmFailureMessage(error)).toBe(USER_MESSAGES.misconfigured);
    });

    it('names ENOTFOUND and the host for a name that does not resolve, and does not retry', async () => {
      const counter = countingFetch();
      // `.invalid` never resolves (RFC 2606); resolvers answer it at once, also offline.
      const llm = createOpenAiLlm(config({ baseURL: 'https://llm.dingtalk-bot-test.invalid/v1' }), { fetch: counter.fetch });
      const error = (await llm.complete(QUESTION).catch((caught: unknown) => caught)) as LlmRefusedError;
      expect(error).toMatchObject({ reason: 'endpoint', message: expect.stringContaining('ENOTFOUND from llm.dingtalk-bot-test.invalid') });
      expect(error.message).not.toContain(KEY);
      expect(counter.calls()).toBe(1);
    });

    it('names a TLS failure (https:// to a server that does not speak TLS) as an endpoint refusal', async () => {
      const llm = createOpenAiLlm(config({ baseURL: fake.baseURL.replace('http://', 'https://') }));
      await expect(llm.complete(QUESTION)).rejects.toMatchObject({
        reason: 'endpoint',
        message: expect.stringContaining(`ERR_SSL_WRONG_VERSION_NUMBER from ${host()}`),
      });
    });

    it('keeps a connection cut after it was made a retryable network failure naming the host', async () => {
      fake.queue({ hangUp: true }, { hangUp: true }, { hangUp: true });
      const error = await createOpenAiLlm(config(), { sleep: () => Promise.resolve() }).complete(QUESTION).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ reason: 'network', message: expect.stringContaining(`${host()} could not be reached or broke off`) });
      expect(error).toMatchObject({ message: expect.stringContaining('after 3 attempts') });
      expect(fake.requests).toHaveLength(3);
      expect(llmFailureMessage(error)).toBe(USER_MESSAGES.unavailable);
    });
  });
});
