import { MEMORY_INSTRUCTION } from '../../shared/core/prompt';
import { createOpenAiLlm } from '../../shared/adapters/openai-llm';
import { LlmRefusedError } from '../../shared/errors';
import { OFFLINE_MARK, OFFLINE_MODEL, offlineAnswer, startOfflineLlm, type OfflineLlm } from '../../local/offline-llm';

describe('the offline responder', () => {
  it('marks its answer, counts the earlier exchanges, quotes what the user said and echoes the question', () => {
    const answer = offlineAnswer([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'I am Zhang San' },
      { role: 'assistant', content: 'noted' },
      { role: 'user', content: 'what did I say?' },
    ]);
    expect(answer.split('\n')[0]).toBe(OFFLINE_MARK);
    expect(answer).toContain('I saw 2 earlier exchanges');
    expect(answer).toContain('- "hi"\n- "I am Zhang San"');
    expect(answer).toContain('A system prompt came with your question.');
    expect(answer).toContain('You asked: "what did I say?"');
  });

  it('says when it saw no history, and answers the same prompt the same way', () => {
    const prompt = [{ role: 'user', content: 'first' }];
    expect(offlineAnswer(prompt)).toContain('I saw no earlier messages');
    expect(offlineAnswer(prompt)).toBe(offlineAnswer(prompt));
  });

  it('says how many pictures came with the question, with their media types and sizes', () => {
    const answer = offlineAnswer([
      { role: 'user', content: 'what is this?', pictures: [{ mediaType: 'image/png', bytes: 2355 }, { mediaType: 'image/jpeg', bytes: 3 * 1024 * 1024 }] },
    ]);
    expect(answer).toContain('You asked: "what is this?"');
    expect(answer).toContain('You sent 2 pictures (image/png, 2.3 KB; image/jpeg, 3.0 MB) with your question.');
  });

  it('names the pictures of an earlier message, and none when the question has none', () => {
    const answer = offlineAnswer([
      { role: 'user', content: 'look', pictures: [{ mediaType: 'image/png', bytes: 68 }] },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'and now?' },
    ]);
    expect(answer).toContain('- "look" with 1 picture (image/png, 68 B)');
    expect(answer).not.toContain('You sent');
  });

  it('shortens a long quote', () => {
    const answer = offlineAnswer([{ role: 'user', content: 'x'.repeat(500) }]);
    expect(answer).toContain(`"${'x'.repeat(200)}…"`);
  });

  describe('over HTTP, through the openai SDK the reply function uses', () => {
    let llm: OfflineLlm;
    beforeAll(async () => {
      llm = await startOfflineLlm();
    });
    afterAll(() => llm.close());
    const config = (apiKey: string) => ({ apiKey, baseURL: llm.baseURL, model: OFFLINE_MODEL, timeoutMs: 2000, maxRetries: 0 });

    it('answers a chat completion', async () => {
      const answer = await createOpenAiLlm(config(llm.apiKey)).complete([{ role: 'user', content: 'ping' }]);
      expect(answer.model).toBe(OFFLINE_MODEL);
      expect(answer.text).toContain('You asked: "ping"');
      expect(answer.promptTokens).toBeGreaterThan(0);
    });

    it('answers a question with pictures sent as image_url parts, as the reply function sends them', async () => {
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(1000)]);
      const answer = await createOpenAiLlm(config(llm.apiKey)).complete(
        [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is on it?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
              { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${Buffer.alloc(10).toString('base64')}` } },
            ],
          },
        ],
        { model: 'qwen-vl-max' },
      );
      expect(answer.text).toContain('You asked: "what is on it?"');
      expect(answer.text).toContain('You sent 2 pictures (image/png, 1004 B; image/jpeg, 10 B) with your question.');
    });

    it('refuses another key with 401, like a provider', async () => {
      const failure = createOpenAiLlm(config('sk-wrong')).complete([{ role: 'user', content: 'ping' }]);
      await expect(failure).rejects.toBeInstanceOf(LlmRefusedError);
      await expect(failure).rejects.toMatchObject({ reason: 'auth', status: 401 });
    });

    it('lists its model and refuses malformed requests', async () => {
      const headers = { authorization: `Bearer ${llm.apiKey}` };
      const models = (await (await fetch(`${llm.baseURL}/models`, { headers })).json()) as { data: Array<{ id: string }> };
      expect(models.data.map((model) => model.id)).toEqual([OFFLINE_MODEL]);
      const bad = await fetch(`${llm.baseURL}/chat/completions`, { method: 'POST', headers, body: '{"messages":[]}' });
      expect(bad.status).toBe(400);
      const badPart = await fetch(`${llm.baseURL}/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }),
      });
      expect(badPart.status).toBe(400);
    });

    it('streams its answer through the openai SDK, so AI cards grow in local mode too', async () => {
      const seen: string[] = [];
      const answer = await createOpenAiLlm(config(llm.apiKey)).stream([{ role: 'user', content: 'stream please' }], { onText: (text) => seen.push(text) });
      expect(answer.text).toContain('You asked: "stream please"');
      expect(seen.length).toBeGreaterThan(3);
      expect(seen.at(-1)).toBe(answer.text);
      expect(answer.completionTokens).toBeGreaterThan(0);
    });

    it('answers a memory update (response_format json_object) with the list it was shown plus what the user said about themselves', async () => {
      const answer = await createOpenAiLlm(config(llm.apiKey)).complete(
        [
          { role: 'system', content: 'Update the memory. Reply in json. Current memory: ["Works on payments"]' },
          { role: 'user', content: 'User: my name is Zhang San\nAssistant: Nice to meet you.' },
        ],
        { responseFormat: 'json_object' },
      );
      expect(JSON.parse(answer.text)).toEqual({ memories: ['Works on payments', 'my name is Zhang San'] });
    });

    it('echoes the long-term memory the system prompt carried', () => {
      const text = offlineAnswer([
        { role: 'system', content: `Be brief.\n\n${MEMORY_INSTRUCTION}\n- Name: Zhang San` },
        { role: 'user', content: 'who am I?' },
      ]);
      expect(text).toContain('It told me what I remember about you (1):\n- Name: Zhang San');
    });
  });
});
