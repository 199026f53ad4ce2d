import OpenAI from 'openai';
import { crossRealmSafeFetch, startOpenAiFake, type OpenAiFake } from './openai-fake';

const API_KEY = 'sk-test-key';

describe('OpenAI-compatible fake with the real openai SDK', () => {
  let fake: OpenAiFake;

  beforeEach(async () => {
    fake = await startOpenAiFake({ apiKey: API_KEY, models: ['qwen-plus', 'gpt-4o-mini'] });
  });

  afterEach(async () => {
    await fake.close();
  });

  function sdk(overrides: { apiKey?: string; timeout?: number; maxRetries?: number } = {}): OpenAI {
    return new OpenAI({ apiKey: API_KEY, baseURL: `${fake.url}/v1`, timeout: 5000, maxRetries: 0, ...overrides });
  }

  it('answers a chat completion deterministically, with usage', async () => {
    const completion = await sdk().chat.completions.create({
      model: 'qwen-plus',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'what is 2+2?' },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('qwen-plus');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Echo: what is 2+2? [history: 2 earlier messages]' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBe((completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ operation: 'ChatCompletions', status: 200, body: { model: 'qwen-plus' } });
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(fake.baseURL).toBe(`${fake.url}/v1`);
  });

  it('streams when asked, with a final usage chunk', async () => {
    fake.respondWith((req) => `model ${req.model} saw ${req.messages.length} messages`);
    const stream = await sdk().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('model gpt-4o-mini saw 1 messages');
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) });
  });

  it('maps a bad key to AuthenticationError (401)', async () => {
    const err: unknown = await sdk({ apiKey: 'sk-wrong' })
      .chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });

  it('maps an unknown model to NotFoundError (404 model_not_found)', async () => {
    const err: unknown = await sdk()
      .chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('rejects an invalid body with BadRequestError (400)', async () => {
    const client = sdk();
    const empty: unknown = await client.chat.completions.create({ model: 'qwen-plus', messages: [] }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
    const badRole: unknown = await client.chat.completions
      .create({ model: 'qwen-plus', messages: [{ role: 'robot', content: 'x' }] as unknown as OpenAI.ChatCompletionMessageParam[] })
      .catch((e: unknown) => e);
    expect(badRole).toBeInstanceOf(OpenAI.BadRequestError);
    expect(fake.requests.map((r) => r.status)).toEqual([400, 400]);
  });

  it('retries a queued 500 and then succeeds (maxRetries 1)', async () => {
    fake.queue({ status: 500, headers: { 'retry-after-ms': '10' } }, { text: 'second time lucky' });
    const completion = await sdk({ maxRetries: 1 }).chat.completions.create({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(completion.choices[0]?.message.content).toBe('second time lucky');
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200]);
    expect(fake.requests[1]?.headers['x-stainless-retry-count']).toBe('1');
  });

  it('times out with APIConnectionTimeoutError when the answer is late (with crossRealmSafeFetch)', async () => {
    fake.queue({ text: 'too late', delayMs: 2000 });
    const started = Date.now();
    const err: unknown = await new OpenAI({ apiKey: API_KEY, baseURL: fake.baseURL, timeout: 200, maxRetries: 0, fetch: crossRealmSafeFetch })
      .chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('under Jest without the wrapper, the SDK reports the same timeout as a plain APIConnectionError', async () => {
    // Documents a Jest-only pitfall (see crossRealmSafeFetch): assert on APIConnectionError, the
    // superclass, or pass crossRealmSafeFetch, when testing timeout handling.
    fake.queue({ text: 'too late', delayMs: 2000 });
    const err: unknown = await sdk({ timeout: 200 })
      .chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('a hang-up surfaces as APIConnectionError', async () => {
    fake.queue({ hangUp: true });
    const err: unknown = await sdk()
      .chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('answers 404 in OpenAI format on an unknown route, and honours a custom basePath', async () => {
    const other = await startOpenAiFake({ apiKey: API_KEY, models: ['m'], basePath: '/compatible-mode/v1' });
    try {
      const ok = await new OpenAI({ apiKey: API_KEY, baseURL: other.baseURL, maxRetries: 0 }).chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'hey' }],
      });
      expect(ok.choices[0]?.message.content).toBe('Echo: hey [history: 0 earlier messages]');
      const wrongPath: unknown = await new OpenAI({ apiKey: API_KEY, baseURL: `${other.url}/v1`, maxRetries: 0 }).chat.completions
        .create({ model: 'm', messages: [{ role: 'user', content: 'hey' }] })
        .catch((e: unknown) => e);
      expect(wrongPath).toBeInstanceOf(OpenAI.NotFoundError);
    } finally {
      await other.close();
    }
  });
});
