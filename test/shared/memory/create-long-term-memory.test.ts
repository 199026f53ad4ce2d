import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { createLongTermMemory } from '../../../shared/memory/create-long-term-memory';
import type { ChatMessage, LlmAnswer, LlmCallOptions, LlmClient } from '../../../shared/ports';
import { startMem0Fake } from '../../fakes/mem0-fake';

/** An LLM that records the options of each call and answers an empty memory. */
class RecordingLlm implements LlmClient {
  readonly options: Array<LlmCallOptions | undefined> = [];
  async complete(_messages: readonly ChatMessage[], options?: LlmCallOptions): Promise<LlmAnswer> {
    this.options.push(options);
    return { text: '{"memories": ["learned"]}', model: 'm' };
  }
  stream(): Promise<LlmAnswer> {
    throw new Error('not used');
  }
}

describe('createLongTermMemory', () => {
  it('answers no memory at all when MEMORY_ENABLED is false, Mem0 key or not', () => {
    const deps = { store: new MemoryObjectStore(), prefix: 'history/', llm: new RecordingLlm() };
    expect(createLongTermMemory({ enabled: false, maxItems: 30 }, deps)).toBeUndefined();
    expect(createLongTermMemory({ enabled: false, maxItems: 30, mem0: { apiKey: 'k', baseUrl: 'http://127.0.0.1:9' } }, deps)).toBeUndefined();
  });

  it('builds the built-in memory in the history store, with MEMORY_MODEL and MEMORY_MAX_ITEMS, doing no I/O until used', async () => {
    const store = new MemoryObjectStore();
    const llm = new RecordingLlm();
    const memory = createLongTermMemory({ enabled: true, model: 'cheap-model', maxItems: 2 }, { store, prefix: 'history/', llm });
    expect(store.objects.size).toBe(0);
    for (const fact of ['one', 'two', 'three']) await memory?.remember('u1', fact);
    expect(await memory?.list('u1')).toEqual(['two', 'three']);
    expect([...store.objects.keys()].every((key) => key.startsWith('history/memory/'))).toBe(true);
    await memory?.learn('u1', [{ id: 'e1', at: 1, user: 'hi', assistant: 'hello' }]);
    expect(llm.options[0]).toMatchObject({ responseFormat: 'json_object', model: 'cheap-model' });
  });

  it('builds the Mem0 memory when MEM0_API_KEY is set, and never touches the history store', async () => {
    const fake = await startMem0Fake({ apiKey: 'm0-key' });
    try {
      const store = new MemoryObjectStore();
      const llm = new RecordingLlm();
      const memory = createLongTermMemory({ enabled: true, maxItems: 30, mem0: { apiKey: 'm0-key', baseUrl: fake.url } }, { store, prefix: 'history/', llm });
      await memory?.remember('u1', 'Likes tea');
      expect(await memory?.list('u1')).toEqual(['Likes tea']);
      expect(fake.requests.map((request) => request.path)).toEqual(['/v3/memories/add/', '/v3/memories/?page=1&page_size=100', '/v3/memories/?page=1&page_size=100']);
      expect(store.objects.size).toBe(0);
      expect(llm.options).toHaveLength(0);
    } finally {
      await fake.close();
    }
  });
});
