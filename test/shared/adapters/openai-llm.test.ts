import { createOpenAiLlm } from '../../../shared/adapters/openai-llm';
import type { LlmConfig } from '../../../shared/config/load-config';
import { LlmRefusedError, LlmUnavailableError } from '../../../shared/errors';
import { crossRealmSafeFetch, startOpenAiFake, type OpenAiFake } from '../../fakes/openai-fake';
import { guarantee } from '../../helpers/guarantee';

const KEY = 'sk-test-0123456789abcdef';

describe(guarantee('Faults: LLM'), () => {
  describe('createOpenAiLlm (real openai SDK against the OpenAI-compatible fake)', () => {
    let fake: OpenAiFake;
    beforeEach(async () => {
      fake = await startOpenAiFake({ apiKey: KEY, models: ['gpt-4o-mini', 'qwen-plus'], basePath: '/compatible-mode/v1' });
    });
    afterEach(() => fake.close());

    const llm = (overrides: Partial<LlmConfig> = {}) =>
      createOpenAiLlm(
        { apiKey: KEY, baseURL: `${fake.url}/compatible-mode/v1`, model: 'qwen-plus', timeoutMs: 2000, maxRetries: 0, ...overrides },
        // Jest runs tests in a separate realm, where the SDK cannot recognise fetch's own timeout errors.
        { fetch: crossRealmSafeFetch },
      );

    it('sends the messages with the configured model and key, and returns the answer and usage', async () => {
      fake.queue({ text: '  你好！  ' });
      const answer = await llm().complete([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ]);
      expect(answer).toMatchObject({ text: '你好！', model: 'qwen-plus', promptTokens: expect.any(Number) });
      expect(fake.requests[0]?.body).toMatchObject({ model: 'qwen-plus', messages: [{ role: 'system' }, { role: 'user', content: 'hi' }] });
      expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    });

    it('maps a bad key to a refusal for the operator, without the key in the message', async () => {
      const error = (await llm({ apiKey: 'sk-wrong-key-000000' })
        .complete([{ role: 'user', content: 'hi' }])
        .catch((caught: unknown) => caught)) as LlmRefusedError;
      expect(error).toBeInstanceOf(LlmRefusedError);
      expect(error).toMatchObject({ reason: 'auth', status: 401 });
      expect(error.message).toMatch(/OPENAI_API_KEY/);
      expect(error.message).not.toContain('sk-wrong-key-000000');
    });

    it('maps an unknown model to a refusal naming OPENAI_MODEL', async () => {
      await expect(llm({ model: 'gpt-9' }).complete([{ role: 'user', content: 'hi' }])).rejects.toMatchObject({
        reason: 'model',
        status: 404,
      });
    });

    it('retries a 500 within LLM_MAX_RETRIES and then answers', async () => {
      fake.queue({ status: 500, headers: { 'retry-after-ms': '1' } }, { text: 'recovered' });
      const answer = await llm({ maxRetries: 1 }).complete([{ role: 'user', content: 'hi' }]);
      expect(answer.text).toBe('recovered');
      expect(fake.requests).toHaveLength(2);
    });

    it('maps a 429 that outlasts the retries to a rate-limit', async () => {
      fake.queue({ status: 429, headers: { 'retry-after-ms': '1' } }, { status: 429, headers: { 'retry-after-ms': '1' } });
      await expect(llm({ maxRetries: 1 }).complete([{ role: 'user', content: 'hi' }])).rejects.toMatchObject({
        reason: 'rate-limit',
      });
    });

    it('maps a slow answer to a timeout', async () => {
      fake.queue({ text: 'late', delayMs: 1500 });
      const error = await llm({ timeoutMs: 200 })
        .complete([{ role: 'user', content: 'hi' }])
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LlmUnavailableError);
      expect(error).toMatchObject({ reason: 'timeout' });
    });

    it('maps a refused connection to an endpoint refusal naming ECONNREFUSED and the host', async () => {
      const url = fake.url;
      await fake.close();
      const error = await createOpenAiLlm({ apiKey: KEY, baseURL: `${url}/v1`, model: 'qwen-plus', timeoutMs: 1000, maxRetries: 0 })
        .complete([{ role: 'user', content: 'hi' }])
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LlmRefusedError);
      expect(error).toMatchObject({ reason: 'endpoint', message: expect.stringContaining(`ECONNREFUSED from ${new URL(url).host}`) });
      fake = await startOpenAiFake({ apiKey: KEY, models: ['qwen-plus'] });
    });

    it('maps a connection cut before the answer to a network failure, retried', async () => {
      fake.queue({ hangUp: true }, { text: 'after the cut' });
      await expect(llm({ maxRetries: 1 }).complete([{ role: 'user', content: 'hi' }])).resolves.toMatchObject({ text: 'after the cut' });
      fake.queue({ hangUp: true });
      await expect(llm().complete([{ role: 'user', content: 'hi' }])).rejects.toMatchObject({ reason: 'network' });
    });

    it.each([
      ['an empty answer', { text: '   ' }, 'empty'],
      ['a filtered answer', { text: 'partial', finishReason: 'content_filter' as const }, 'filtered'],
    ])('treats %s as a refusal', async (_name, item, reason) => {
      fake.queue(item);
      await expect(llm().complete([{ role: 'user', content: 'hi' }])).rejects.toMatchObject({ reason });
    });
  });
});

describe('createOpenAiLlm with OPENAI_API_VERSION set (real AzureOpenAI client against the fake in Azure mode)', () => {
  let azure: OpenAiFake;
  beforeEach(async () => {
    azure = await startOpenAiFake({ apiKey: KEY, models: ['my-gpt4o-deployment'], azure: { apiVersions: ['2024-10-21'] } });
  });
  afterEach(() => azure.close());

  const config = (overrides: Partial<LlmConfig> = {}): LlmConfig => ({
    apiKey: KEY,
    baseURL: azure.url,
    model: 'my-gpt4o-deployment',
    apiVersion: '2024-10-21',
    timeoutMs: 2000,
    maxRetries: 0,
    ...overrides,
  });

  it('calls the deployment with the api-key header and the API version', async () => {
    azure.queue({ text: 'from Azure' });
    const answer = await createOpenAiLlm(config()).complete([{ role: 'user', content: 'hi' }]);
    expect(answer.text).toBe('from Azure');
    expect(azure.requests[0]?.path).toBe('/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21');
    expect(azure.requests[0]?.headers['api-key']).toBe(KEY);
  });

  it('maps an unknown deployment to a refusal naming OPENAI_MODEL', async () => {
    await expect(createOpenAiLlm(config({ model: 'missing' })).complete([{ role: 'user', content: 'hi' }])).rejects.toMatchObject({
      reason: 'model',
    });
  });

  it('ignores OPENAI_BASE_URL in the environment (as s.yaml sets it), which the SDK would read as a second base URL', async () => {
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = azure.url;
    try {
      azure.queue({ text: 'from Azure' });
      await expect(createOpenAiLlm(config()).complete([{ role: 'user', content: 'hi' }])).resolves.toMatchObject({ text: 'from Azure' });
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
  });

  it('accepts an endpoint that already ends in /openai', async () => {
    azure.queue({ text: 'from Azure' });
    await expect(createOpenAiLlm(config({ baseURL: `${azure.url}/openai/` })).complete([{ role: 'user', content: 'hi' }])).resolves.toMatchObject({
      text: 'from Azure',
    });
    expect(azure.requests[0]?.path).toBe('/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21');
  });

  it('streams from a deployment, asking for usage', async () => {
    azure.queue({ text: 'streamed from Azure' });
    const seen: string[] = [];
    const answer = await createOpenAiLlm(config()).stream([{ role: 'user', content: 'hi' }], { onText: (text) => seen.push(text) });
    expect(answer).toMatchObject({ text: 'streamed from Azure', completionTokens: expect.any(Number) });
    expect(seen[seen.length - 1]).toBe('streamed from Azure');
    expect(azure.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('maps a wrong key to an auth refusal', async () => {
    await expect(createOpenAiLlm(config({ apiKey: 'wrong-key-0000' })).complete([{ role: 'user', content: 'hi' }])).rejects.toMatchObject({
      reason: 'auth',
    });
  });
});
