import OpenAI from 'openai';
import { TINY_PNG, crossRealmSafeFetch, dataUrl, startOpenAiFake, type OpenAiFake } from './openai-fake';

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

  describe('streaming', () => {
    const stream = (body: Record<string, unknown> = {}) =>
      sdk().chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }], stream: true, ...body });

    it('writes OpenAI chunks at the pace asked for and records when each was written', async () => {
      fake.queue({ text: 'abcdefghij', pace: { firstTokenDelayMs: 60, tokenDelayMs: 30, tokenChars: 4 } });
      const started = Date.now();
      const pieces: string[] = [];
      for await (const chunk of await stream()) {
        expect(chunk.object).toBe('chat.completion.chunk');
        const content = chunk.choices[0]?.delta.content;
        if (content) pieces.push(content);
      }
      expect(pieces).toEqual(['abcd', 'efgh', 'ij']);
      const chunks = fake.requests[0]?.chunks ?? [];
      expect(chunks.map((c) => c.content)).toEqual(pieces);
      expect((chunks[0]?.at ?? 0) - started).toBeGreaterThanOrEqual(55);
      expect((chunks[2]?.at ?? 0) - (chunks[0]?.at ?? 0)).toBeGreaterThanOrEqual(55);
      expect(fake.requests[0]?.completed).toBe(true);
    });

    it('sends reasoning_content deltas before the content, and message.reasoning_content without streaming', async () => {
      fake.queue({ text: 'Four.', reasoning: 'Two plus two.' });
      const reasoning: string[] = [];
      let content = '';
      for await (const chunk of await stream()) {
        const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
        if (delta?.reasoning_content) {
          expect(content).toBe('');
          reasoning.push(delta.reasoning_content);
        }
        content += delta?.content ?? '';
      }
      expect(reasoning.join('')).toBe('Two plus two.');
      expect(content).toBe('Four.');
      fake.queue({ text: 'Four.', reasoning: 'Two plus two.' });
      const whole = await sdk().chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] });
      expect(whole.choices[0]?.message).toMatchObject({ content: 'Four.', reasoning_content: 'Two plus two.' });
    });

    it('answers a plain JSON completion to a stream request when told to ignore streaming', async () => {
      fake.queue({ text: 'whole', ignoreStream: true });
      const response = await fetch(`${fake.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }], stream: true }),
      });
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: 'whole' } }] });
    });

    it('stalls after the headers with keep-alive comments, forever, until the client leaves', async () => {
      fake.queue({ text: 'never', stall: { afterTokens: 0, keepAlive: true, keepAliveIntervalMs: 10 } });
      const controller = new AbortController();
      const response = await fetch(`${fake.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }], stream: true }),
        signal: controller.signal,
      });
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!text.includes(': keep-alive\n\n: keep-alive\n\n')) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).not.toContain('data:');
      controller.abort();
      await reader.read().catch(() => undefined);
      expect(fake.requests[0]).toMatchObject({ status: 200, completed: false, chunks: [] });
      expect(fake.requests[0]?.keepAlives).toBeGreaterThanOrEqual(2);
    });

    it('cuts the connection after N tokens, or ends with an error event', async () => {
      fake.queue({ text: 'aaaabbbbcccc', pace: { tokenChars: 4, tokenDelayMs: 20 }, fail: { afterTokens: 2, how: 'destroy' } });
      const seen: string[] = [];
      const cut: unknown = await (async () => {
        for await (const chunk of await stream()) seen.push(chunk.choices[0]?.delta.content ?? '');
      })().catch((e: unknown) => e);
      // undici's TypeError, from Node's realm (not Jest's): compare by message.
      expect(String(cut)).toMatch(/terminated/);
      expect(fake.requests[0]?.completed).toBe(false);
      expect(seen.join('')).toBe('aaaabbbb');

      fake.queue({ text: 'aaaabbbb', pace: { tokenChars: 4 }, fail: { afterTokens: 1, how: 'error-event' } });
      const event: unknown = await (async () => {
        for await (const chunk of await stream()) void chunk;
      })().catch((e: unknown) => e);
      expect(event).toBeInstanceOf(OpenAI.APIError);
    });

    it('checks stream_options as OpenAI does, and can refuse them as older Azure versions do', async () => {
      const misplaced: unknown = await sdk()
        .chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } })
        .catch((e: unknown) => e);
      expect(misplaced).toBeInstanceOf(OpenAI.BadRequestError);
      const strict = await startOpenAiFake({ apiKey: API_KEY, models: ['m'], rejectStreamOptions: true });
      try {
        const refused: unknown = await new OpenAI({ apiKey: API_KEY, baseURL: strict.baseURL, maxRetries: 0 }).chat.completions
          .create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } })
          .catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
        expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/stream_options/);
      } finally {
        await strict.close();
      }
    });
  });

  it('answers raw bodies that are not the API: an HTML page with status 200, invalid JSON', async () => {
    fake.queue({ raw: '<html><body>Welcome</body></html>', contentType: 'text/html' }, { raw: '{"choices": [', contentType: 'application/json' });
    const post = () =>
      fetch(`${fake.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] }),
      });
    const html = await post();
    expect([html.status, html.headers.get('content-type'), await html.text()]).toEqual([200, 'text/html', '<html><body>Welcome</body></html>']);
    const json = await post();
    expect([json.status, await json.text()]).toEqual([200, '{"choices": [']);
  });

  it('checks the Azure path, api-version and api-key header', async () => {
    const azure = await startOpenAiFake({ apiKey: API_KEY, models: ['dep'], azure: { apiVersions: ['2024-10-21'] } });
    try {
      const post = (path: string, key: string) =>
        fetch(`${azure.url}${path}`, {
          method: 'POST',
          headers: { 'api-key': key, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'dep', messages: [{ role: 'user', content: 'x' }] }),
        }).then((r) => r.status);
      expect(await post('/openai/deployments/dep/chat/completions?api-version=2024-10-21', API_KEY)).toBe(200);
      expect(await post('/openai/deployments/dep/chat/completions?api-version=2023-05-15', API_KEY)).toBe(404);
      expect(await post('/openai/deployments/dep/chat/completions?api-version=2024-10-21', 'wrong')).toBe(401);
      expect(await post('/openai/deployments/other/chat/completions?api-version=2024-10-21', API_KEY)).toBe(404);
      expect(await post('/v1/chat/completions?api-version=2024-10-21', API_KEY)).toBe(404);
    } finally {
      await azure.close();
    }
  });
  describe('pictures', () => {
    const ask = (model: string, content: OpenAI.Chat.Completions.ChatCompletionContentPart[]) =>
      sdk().chat.completions.create({ model, messages: [{ role: 'user', content }] });
    const badRequest = async (promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.BadRequestError>> => {
      const error: unknown = await promise.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      return error as InstanceType<typeof OpenAI.BadRequestError>;
    };

    it('decodes image parts into bytes and media types, keeps the text parts, and lists the pictures in its echo', async () => {
      const completion = await ask('qwen-plus', [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: dataUrl(TINY_PNG) } },
        { type: 'image_url', image_url: { url: 'https://example.test/cat.jpg' } },
      ]);
      expect(completion.choices[0]?.message.content).toBe(
        `Echo: What is this? [history: 0 earlier messages] [pictures: image/png ${TINY_PNG.length} B, https://example.test/cat.jpg]`,
      );
      const seen: unknown[] = [];
      fake.respondWith((request) => {
        seen.push(request.messages[0]);
        return 'ok';
      });
      await ask('qwen-plus', [{ type: 'image_url', image_url: { url: dataUrl(TINY_PNG) } }]);
      expect(seen).toEqual([{ role: 'user', content: '', images: [{ url: dataUrl(TINY_PNG), mediaType: 'image/png', bytes: TINY_PNG }] }]);
    });

    it('refuses pictures for a model that is not a vision model, in OpenAI\'s words', async () => {
      const vision = await startOpenAiFake({ apiKey: API_KEY, models: ['gpt-3.5-turbo', 'gpt-4o'], visionModels: ['gpt-4o'] });
      try {
        const client = new OpenAI({ apiKey: API_KEY, baseURL: vision.baseURL, maxRetries: 0 });
        const content: OpenAI.Chat.Completions.ChatCompletionContentPart[] = [
          { type: 'text', text: 'see' },
          { type: 'image_url', image_url: { url: dataUrl(TINY_PNG) } },
        ];
        const error = await badRequest(client.chat.completions.create({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content }] }));
        expect(error.message).toBe('400 Invalid content type. image_url is only supported by certain models.');
        expect(error.param).toBe('messages.[0].content.[1].type');
        await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] })).resolves.toMatchObject({ model: 'gpt-4o' });
        // Text parts alone are fine for any model.
        await expect(
          client.chat.completions.create({ model: 'gpt-3.5-turbo', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }),
        ).resolves.toMatchObject({ model: 'gpt-3.5-turbo' });
      } finally {
        await vision.close();
      }
    });

    it('checks the data URL as OpenAI does: an image media type, base64 of bytes of that format', async () => {
      const jpegClaim = await badRequest(ask('qwen-plus', [{ type: 'image_url', image_url: { url: dataUrl(TINY_PNG, 'image/jpeg') } }]));
      expect(jpegClaim.code).toBe('invalid_image');
      const pdf = await badRequest(ask('qwen-plus', [{ type: 'image_url', image_url: { url: dataUrl(Buffer.from('%PDF-1.4'), 'application/pdf') } }]));
      expect(pdf.code).toBe('invalid_image_format');
      const notBase64 = await badRequest(ask('qwen-plus', [{ type: 'image_url', image_url: { url: 'data:image/png;base64,@@@' } }]));
      expect(notBase64.code).toBe('invalid_value');
      await badRequest(ask('qwen-plus', [{ type: 'text' } as unknown as OpenAI.Chat.Completions.ChatCompletionContentPart]));
    });

    it('refuses a picture in a message that is not the user\'s', async () => {
      const error = await badRequest(
        sdk().chat.completions.create({
          model: 'qwen-plus',
          messages: [
            { role: 'assistant', content: [{ type: 'image_url', image_url: { url: dataUrl(TINY_PNG) } }] } as unknown as OpenAI.Chat.Completions.ChatCompletionMessageParam,
            { role: 'user', content: 'x' },
          ],
        }),
      );
      expect(error.message).toMatch(/only allowed for messages with role 'user'/);
    });
  });

  describe('reasoning in the content and content parts', () => {
    it('wraps `think` in <think> tags before the answer, each tag split across two deltas when streamed', async () => {
      fake.queue({ think: 'Two plus two.', text: 'Four.', pace: { tokenChars: 5 } });
      const pieces: string[] = [];
      const stream = await sdk().chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }], stream: true });
      for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? '');
      expect(pieces.join('')).toBe('<think>\nTwo plus two.\n</think>\n\nFour.');
      expect(pieces).toEqual(expect.arrayContaining(['<thi', 'nk>\n', '\n</th', 'ink>\n\n']));
      fake.queue({ think: 'Two plus two.', text: 'Four.' });
      const whole = await sdk().chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] });
      expect(whole.choices[0]?.message.content).toBe('<think>\nTwo plus two.\n</think>\n\nFour.');
    });

    it('sends the content as an array of text parts when asked, whole and in every delta', async () => {
      fake.queue({ text: 'In parts.', contentParts: true });
      const whole = await sdk().chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] });
      expect(whole.choices[0]?.message.content).toEqual([{ type: 'text', text: 'In parts.' }]);
      fake.queue({ text: 'In parts.', contentParts: true, pace: { tokenChars: 3 } });
      const deltas: unknown[] = [];
      const stream = await sdk().chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }], stream: true });
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      expect(deltas).toEqual([
        [{ type: 'text', text: 'In ' }],
        [{ type: 'text', text: 'par' }],
        [{ type: 'text', text: 'ts.' }],
      ]);
    });
  });
});
