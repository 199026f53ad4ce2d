import { createOpenAiLlm } from '../../../shared/adapters/openai-llm';
import { LlmRefusedError } from '../../../shared/errors';
import type { ChatMessage } from '../../../shared/ports';
import { crossRealmSafeFetch, startOpenAiFake, type OpenAiFake } from '../../fakes/openai-fake';

const KEY = 'sk-test-json-0123456789';

/** What `promise` rejected with. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('createOpenAiLlm with responseFormat json_object (real openai SDK against the fake)', () => {
  let fake: OpenAiFake;
  beforeEach(async () => {
    fake = await startOpenAiFake({ apiKey: KEY, models: ['gpt-4o-mini', 'cheap-model'] });
  });
  afterEach(() => fake.close());

  const llm = () =>
    createOpenAiLlm(
      { apiKey: KEY, baseURL: fake.baseURL, model: 'gpt-4o-mini', timeoutMs: 2000, maxRetries: 2 },
      { fetch: crossRealmSafeFetch, sleep: () => Promise.resolve() },
    );

  const ASKS_FOR_JSON: ChatMessage[] = [
    { role: 'system', content: 'Reply with a JSON object {"memories": [...]}.' },
    { role: 'user', content: 'my name is Zhang San' },
  ];

  it('sends response_format {type: json_object} and the model the call names, and reads the JSON answer', async () => {
    fake.respondWith(() => '{"memories": ["The person is called Zhang San."]}');
    const answer = await llm().complete(ASKS_FOR_JSON, { responseFormat: 'json_object', model: 'cheap-model' });
    expect(fake.requests[0]?.body).toMatchObject({ model: 'cheap-model', response_format: { type: 'json_object' } });
    expect(JSON.parse(answer.text)).toEqual({ memories: ['The person is called Zhang San.'] });
  });

  it('sends no response_format when the call does not ask for one', async () => {
    await llm().complete(ASKS_FOR_JSON);
    expect(fake.requests[0]?.body).not.toHaveProperty('response_format');
  });

  it('answers a JSON object by default in JSON mode, as a real model does', async () => {
    const answer = await llm().complete(ASKS_FOR_JSON, { responseFormat: 'json_object' });
    expect(JSON.parse(answer.text)).toEqual({ echo: expect.stringContaining('my name is Zhang San') });
  });

  it('is refused with 400, once and never retried, when no message says "json" (as OpenAI refuses it)', async () => {
    const error = await rejection(llm().complete([{ role: 'user', content: 'my name is Zhang San' }], { responseFormat: 'json_object' }));
    expect(error).toBeInstanceOf(LlmRefusedError);
    expect(error).toMatchObject({ reason: 'request', status: 400 });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.errorCode).toBeNull();
  });

  it('accepts "JSON" in any case, in a text part too', async () => {
    await llm().complete([{ role: 'user', content: [{ type: 'text', text: 'Answer in Json please' }] }], { responseFormat: 'json_object' });
    expect(fake.requests[0]?.status).toBe(200);
  });
});

describe('the OpenAI fake checks response_format as OpenAI does', () => {
  let fake: OpenAiFake;
  beforeEach(async () => {
    fake = await startOpenAiFake({ apiKey: KEY, models: ['gpt-4o-mini'] });
  });
  afterEach(() => fake.close());

  const post = async (responseFormat: unknown): Promise<{ status: number; body: { error?: { message?: string; param?: string } } }> => {
    const response = await fetch(`${fake.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'json please' }], response_format: responseFormat }),
    });
    return { status: response.status, body: (await response.json()) as { error?: { message?: string; param?: string } } };
  };

  it('refuses an unknown type, a type that is not an object and a json_schema without its schema', async () => {
    expect(await post({ type: 'xml' })).toMatchObject({ status: 400, body: { error: { param: 'response_format.type' } } });
    expect(await post('json_object')).toMatchObject({ status: 400, body: { error: { param: 'response_format' } } });
    expect(await post({ type: 'json_schema' })).toMatchObject({ status: 400, body: { error: { param: 'response_format.json_schema' } } });
  });

  it('takes text and json_object', async () => {
    expect((await post({ type: 'text' })).status).toBe(200);
    expect((await post({ type: 'json_object' })).status).toBe(200);
  });
});
