import { createOpenAiLlm } from '../../../shared/adapters/openai-llm';
import type { LlmConfig } from '../../../shared/config/load-config';
import { USER_MESSAGES, llmFailureMessage } from '../../../shared/core/user-messages';
import { LlmRefusedError } from '../../../shared/errors';
import type { ChatMessage } from '../../../shared/ports';
import { TINY_PNG, crossRealmSafeFetch, dataUrl, startOpenAiFake, type OpenAiFake } from '../../fakes/openai-fake';

const KEY = 'sk-test-0123456789abcdef';
/** The first bytes of a JPEG, enough for the fake's check of the format. */
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 7)]);

/** A question with two pictures, as the reply core builds it. */
const WITH_PICTURES: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'What is in these?' },
      { type: 'image_url', image_url: { url: dataUrl(TINY_PNG, 'image/png') } },
      { type: 'image_url', image_url: { url: dataUrl(JPEG, 'image/jpeg') } },
    ],
  },
];

/** What `promise` rejected with. */
const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(
  () => {
    throw new Error('expected a rejection');
  },
  (error: unknown) => error,
);

describe('createOpenAiLlm with pictures (real openai SDK against the fake)', () => {
  let fake: OpenAiFake;
  beforeEach(async () => {
    fake = await startOpenAiFake({ apiKey: KEY, models: ['qwen-plus', 'qwen-vl-max'], visionModels: ['qwen-vl-max'] });
  });
  afterEach(() => fake.close());

  const llm = (overrides: Partial<LlmConfig> = {}) =>
    createOpenAiLlm(
      { apiKey: KEY, baseURL: fake.baseURL, model: 'qwen-plus', timeoutMs: 2000, maxRetries: 2, ...overrides },
      { fetch: crossRealmSafeFetch, sleep: () => Promise.resolve() },
    );

  it('sends image parts as given, to the model the call names, and the fake decodes their bytes and media types', async () => {
    const answer = await llm({ visionModel: 'qwen-vl-max' }).complete(WITH_PICTURES, { model: 'qwen-vl-max' });
    const request = fake.requests[0];
    expect(request?.body).toMatchObject({ model: 'qwen-vl-max', messages: [{ role: 'system' }, { role: 'user', content: WITH_PICTURES[1]?.content }] });
    expect(answer.model).toBe('qwen-vl-max');
    expect(answer.text).toBe(`Echo: What is in these? [history: 0 earlier messages] [pictures: image/png ${TINY_PNG.length} B, image/jpeg ${JPEG.length} B]`);
  });

  it('streams an answer about pictures too, with the model of the call', async () => {
    const seen: string[] = [];
    const answer = await llm().stream(WITH_PICTURES, { model: 'qwen-vl-max', onText: (text) => seen.push(text) });
    expect(fake.requests[0]?.body).toMatchObject({ model: 'qwen-vl-max', stream: true });
    expect(seen[seen.length - 1]).toBe(answer.text);
    expect(answer.text).toContain('[pictures: image/png');
  });

  it('uses OPENAI_MODEL when the call names no model', async () => {
    await llm().complete([{ role: 'user', content: 'hi' }]);
    expect(fake.requests[0]?.body).toMatchObject({ model: 'qwen-plus' });
  });

  it('turns "image_url is only supported by certain models" into a vision refusal naming VISION_MODEL, asked once', async () => {
    const error = await rejection(llm().complete(WITH_PICTURES));
    expect(error).toBeInstanceOf(LlmRefusedError);
    expect(error).toMatchObject({ reason: 'vision', status: 400 });
    expect((error as Error).message).toMatch(/qwen-plus \(OPENAI_MODEL; VISION_MODEL is not set\) cannot take pictures/);
    expect((error as Error).message).toMatch(/set VISION_MODEL/);
    // Not retried, although LLM_MAX_RETRIES is 2: a refusal.
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.status).toBe(400);
    expect(llmFailureMessage(error)).toBe(USER_MESSAGES.vision);
  });

  it('names VISION_MODEL itself when the vision model is the one that refused', async () => {
    const error = await rejection(llm({ visionModel: 'qwen-plus' }).complete(WITH_PICTURES, { model: 'qwen-plus' }));
    expect(error).toMatchObject({ reason: 'vision', message: expect.stringContaining('qwen-plus (VISION_MODEL) cannot take pictures') });
  });

  it('does not ask again without stream_options when a streamed request is refused for its pictures', async () => {
    const client = llm();
    const error = await rejection(client.stream(WITH_PICTURES, { onText: () => undefined }));
    expect(error).toMatchObject({ reason: 'vision' });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.body).toMatchObject({ stream_options: { include_usage: true } });
    // The next stream still asks for usage: the provider did not refuse stream_options.
    await client.stream([{ role: 'user', content: 'hi' }], { onText: () => undefined });
    expect(fake.requests[1]?.body).toMatchObject({ stream_options: { include_usage: true } });
  });

  it.each([
    ['DeepSeek', 400, 'Failed to deserialize the JSON body into the target type: messages[1]: unknown variant `image_url`, expected `text` at line 1 column 679'],
    ['DashScope, text-only Qwen', 400, '<400> InternalError.Algo.InvalidParameter: The provided messages input is invalid. The error info is [Unexpected item type in content.]'],
    ['DashScope', 400, 'The model does not support image input'],
    ['DashScope, url error', 400, 'url error, please check url! For details, see: https://help.aliyun.com/zh/model-studio/error-code#error-url'],
    ['Ollama, capability check', 400, 'registry.ollama.ai/library/llama3.2:latest does not support vision'],
    ['Ollama cloud', 400, 'this model does not support image input (ref: b8bd630e)'],
    ['vLLM', 400, 'Qwen/Qwen3-8B is not a multimodal model None'],
    ['LM Studio', 400, 'Model does not support images. Please use a model that does.'],
    ['OpenRouter', 404, 'No endpoints found that support image input'],
    ['a text-only server', 400, 'Unsupported content part type for text-only server: image_url'],
    ['Ollama with a 500', 500, 'llama3.1:8b does not support images'],
  ])('recognises %s refusing pictures (%i) and does not retry it', async (_provider, status, message) => {
    // The fake takes pictures for qwen-vl-max: the queued answer speaks for the provider.
    fake.queue({ status, body: { error: { message, type: 'invalid_request_error', param: null, code: null } } });
    const error = await rejection(llm().complete(WITH_PICTURES, { model: 'qwen-vl-max' }));
    expect(error).toMatchObject({ reason: 'vision', status });
    expect((error as Error).message).not.toContain(message);
    expect(fake.requests).toHaveLength(1);
  });

  it('leaves the same words alone when the prompt carried no picture: an ordinary refusal', async () => {
    fake.queue({ status: 400, body: { error: { message: 'The model does not support image input', type: 'invalid_request_error', code: null } } });
    await expect(llm().complete([{ role: 'user', content: 'hi' }])).rejects.toMatchObject({ reason: 'request', status: 400 });
  });

  it('keeps other refusals of a prompt with pictures as they were', async () => {
    fake.queue({ status: 400, body: { error: { message: 'Invalid temperature', type: 'invalid_request_error', code: null } } });
    await expect(llm().complete(WITH_PICTURES, { model: 'qwen-vl-max' })).rejects.toMatchObject({ reason: 'request' });
    await expect(llm().complete(WITH_PICTURES, { model: 'gpt-9' })).rejects.toMatchObject({ reason: 'model', status: 404 });
  });
});

describe('createOpenAiLlm with pictures on Azure OpenAI (real AzureOpenAI client)', () => {
  let azure: OpenAiFake;
  beforeEach(async () => {
    azure = await startOpenAiFake({
      apiKey: KEY,
      models: ['chat-deployment', 'vision-deployment'],
      visionModels: ['vision-deployment'],
      azure: { apiVersions: ['2024-10-21'] },
    });
  });
  afterEach(() => azure.close());

  const llm = () =>
    createOpenAiLlm(
      { apiKey: KEY, baseURL: azure.url, model: 'chat-deployment', visionModel: 'vision-deployment', apiVersion: '2024-10-21', timeoutMs: 2000, maxRetries: 0 },
      { fetch: crossRealmSafeFetch },
    );

  it("calls the deployment the call names (VISION_MODEL), and OPENAI_MODEL's otherwise", async () => {
    await llm().complete(WITH_PICTURES, { model: 'vision-deployment' });
    await llm().stream([{ role: 'user', content: 'hi' }], { onText: () => undefined });
    expect(azure.requests.map((request) => request.path)).toEqual([
      '/openai/deployments/vision-deployment/chat/completions?api-version=2024-10-21',
      '/openai/deployments/chat-deployment/chat/completions?api-version=2024-10-21',
    ]);
    expect(azure.requests.map((request) => request.status)).toEqual([200, 200]);
  });

  it("refuses pictures sent to a deployment without vision with Azure's 400, as a vision refusal", async () => {
    await expect(llm().complete(WITH_PICTURES)).rejects.toMatchObject({ reason: 'vision', status: 400 });
    expect(azure.requests[0]?.path).toBe('/openai/deployments/chat-deployment/chat/completions?api-version=2024-10-21');
  });
});
