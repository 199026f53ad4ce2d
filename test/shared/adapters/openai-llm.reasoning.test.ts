import { createOpenAiLlm } from '../../../shared/adapters/openai-llm';
import type { LlmConfig } from '../../../shared/config/load-config';
import { LlmRefusedError } from '../../../shared/errors';
import { startOpenAiFake, type OpenAiFake } from '../../fakes/openai-fake';

const KEY = 'sk-test-0123456789abcdef';
const QUESTION = [{ role: 'user' as const, content: 'What is 2+2?' }];
const THOUGHT = 'The user asks for 2+2. Adding two and two gives four, so I will say so.';

describe('createOpenAiLlm with reasoning models (real openai SDK against the fake)', () => {
  let fake: OpenAiFake;
  beforeEach(async () => {
    fake = await startOpenAiFake({ apiKey: KEY, models: ['qwen3-32b', 'deepseek-reasoner'] });
  });
  afterEach(() => fake.close());

  const llm = (overrides: Partial<LlmConfig> = {}) =>
    createOpenAiLlm({ apiKey: KEY, baseURL: fake.baseURL, model: 'qwen3-32b', timeoutMs: 2000, maxRetries: 0, ...overrides }, { sleep: () => Promise.resolve() });

  /** Streams QUESTION, collecting every text onText saw. */
  async function stream(overrides: Partial<LlmConfig> = {}): Promise<{ texts: string[]; text: string }> {
    const texts: string[] = [];
    const answer = await llm(overrides).stream(QUESTION, { onText: (text) => texts.push(text) });
    return { texts, text: answer.text };
  }

  it('streams <think> reasoning split across deltas without showing any of it: onText starts with the answer', async () => {
    fake.queue({ think: THOUGHT, text: 'It is 4.', pace: { tokenChars: 3 } });
    const { texts, text } = await stream();
    // The fake really split the tags across deltas.
    const written = fake.requests[0]?.chunks.map((chunk) => chunk.content) ?? [];
    expect(written.slice(0, 2)).toEqual(['<thi', 'nk>\n']);
    expect(written).toContain('\n</th');
    expect(text).toBe('It is 4.');
    expect(texts[0]).toBe('It ');
    expect(texts[texts.length - 1]).toBe('It is 4.');
    for (const seen of texts) {
      expect(seen).not.toMatch(/think|<|Adding/);
    }
  });

  it('does not call onText while the model is still thinking', async () => {
    fake.queue({ think: THOUGHT, text: 'Four.', pace: { tokenChars: 5 } });
    const calls: number[] = [];
    await llm().stream(QUESTION, { onText: () => calls.push(fake.requests[0]?.chunks.length ?? 0) });
    // Every delta of the reasoning was written before the first onText.
    const thinkingDeltas = (fake.requests[0]?.chunks ?? []).findIndex((chunk) => chunk.content === 'ink>\n\n') + 1;
    expect(thinkingDeltas).toBeGreaterThan(5);
    expect(calls[0]).toBeGreaterThan(thinkingDeltas);
  });

  it('removes the <think> block from a whole (non-streamed) answer', async () => {
    fake.queue({ think: THOUGHT, text: 'Four.' });
    const answer = await llm().complete(QUESTION);
    expect((fake.requests[0]?.body as { stream?: boolean }).stream).toBeUndefined();
    expect(answer.text).toBe('Four.');
  });

  it('removes it from a plain JSON answer to a stream request too', async () => {
    fake.queue({ think: THOUGHT, text: 'Four.', ignoreStream: true });
    const { texts, text } = await stream();
    expect(texts).toEqual(['Four.']);
    expect(text).toBe('Four.');
  });

  it('keeps neither reasoning_content nor <think> when a model sends both shapes', async () => {
    fake.queue({ reasoning: 'Reasoning apart, as DeepSeek sends it.', think: THOUGHT, text: 'Four.', pace: { tokenChars: 4 } });
    const { texts, text } = await stream({ model: 'deepseek-reasoner' });
    expect(text).toBe('Four.');
    expect(texts.join('\n')).not.toMatch(/Reasoning|Adding|think/);
  });

  it('treats an answer that is only an unclosed <think> block (cut by max_tokens) as empty, saying why', async () => {
    fake.queue({ text: '<think>\nStill weighing whether 2+2 is', finishReason: 'length', pace: { tokenChars: 6 } });
    const texts: string[] = [];
    const error = await llm()
      .stream(QUESTION, { onText: (text) => texts.push(text) })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LlmRefusedError);
    expect(error).toMatchObject({ reason: 'empty', message: expect.stringContaining('still thinking') });
    expect((error as Error).message).toContain('finish_reason length');
    expect(texts).toEqual([]);
  });

  it('drops the reasoning before a </think> whose <think> was in the prompt template (DeepSeek-R1 distills)', async () => {
    fake.queue({ text: 'The user wants 2+2.\n</think>\n\nFour.', pace: { tokenChars: 4 } });
    const { texts, text } = await stream();
    expect(text).toBe('Four.');
    expect(texts[texts.length - 1]).toBe('Four.');
  });
});

describe('createOpenAiLlm with answers given as content parts', () => {
  let fake: OpenAiFake;
  beforeEach(async () => {
    fake = await startOpenAiFake({ apiKey: KEY, models: ['mistral-medium'] });
  });
  afterEach(() => fake.close());

  const llm = () => createOpenAiLlm({ apiKey: KEY, baseURL: fake.baseURL, model: 'mistral-medium', timeoutMs: 2000, maxRetries: 0 });

  it('joins message.content given as [{type: "text", text}] instead of calling it empty or incompatible', async () => {
    fake.queue({ text: 'Joined from parts.', contentParts: true });
    await expect(llm().complete(QUESTION)).resolves.toMatchObject({ text: 'Joined from parts.' });
  });

  it('joins streamed delta.content parts as they arrive', async () => {
    fake.queue({ text: 'Streamed in parts.', contentParts: true, pace: { tokenChars: 4 } });
    const texts: string[] = [];
    const answer = await llm().stream(QUESTION, { onText: (text) => texts.push(text) });
    expect(answer.text).toBe('Streamed in parts.');
    expect(texts[0]).toBe('Stre');
    expect(texts.length).toBeGreaterThan(3);
  });

  it('strips <think> reasoning given in parts too', async () => {
    fake.queue({ think: THOUGHT, text: 'Four.', contentParts: true, pace: { tokenChars: 5 } });
    const texts: string[] = [];
    const answer = await llm().stream(QUESTION, { onText: (text) => texts.push(text) });
    expect(answer.text).toBe('Four.');
    expect(texts.join('')).not.toContain('think');
  });

  it('leaves out parts that carry reasoning (type "thinking")', async () => {
    fake.queue({
      raw: JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 0,
        model: 'mistral-medium',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'hmm' }] }, { type: 'text', text: 'Answer.' }] },
            finish_reason: 'stop',
          },
        ],
      }),
      contentType: 'application/json',
    });
    await expect(llm().complete(QUESTION)).resolves.toMatchObject({ text: 'Answer.' });
  });
});

describe('createOpenAiLlm with LLM_EXTRA_BODY', () => {
  let fake: OpenAiFake;
  beforeEach(async () => {
    fake = await startOpenAiFake({ apiKey: KEY, models: ['qwen3-32b'] });
  });
  afterEach(() => fake.close());

  const llm = (extraBody: Record<string, unknown>) =>
    createOpenAiLlm({ apiKey: KEY, baseURL: fake.baseURL, model: 'qwen3-32b', timeoutMs: 2000, maxRetries: 0, extraBody });

  it('merges the fields into every request body, streamed or not', async () => {
    const client = llm({ enable_thinking: false, enable_search: true, temperature: 0.2 });
    await client.complete(QUESTION);
    await client.stream(QUESTION, { onText: () => undefined });
    for (const request of fake.requests) {
      expect(request.body).toMatchObject({ model: 'qwen3-32b', enable_thinking: false, enable_search: true, temperature: 0.2 });
    }
    expect(fake.requests.map((request) => request.status)).toEqual([200, 200]);
  });

  it('never lets them replace the fields the adapter sets itself', async () => {
    await llm({ model: 'other', messages: [], stream: true, stream_options: { include_usage: true } }).complete(QUESTION);
    const body = fake.requests[0]?.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'qwen3-32b', messages: QUESTION });
    expect(body.stream).toBeUndefined();
    expect(body.stream_options).toBeUndefined();
  });
});
