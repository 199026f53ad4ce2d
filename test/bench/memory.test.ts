import { answerPathMs, chatRequests, isMemoryUpdate, memoryUpdateAnswer, REMEMBER_QUESTIONS, REMEMBERED_FACTS } from '../../bench/memory';
import { explicitFact } from '../../shared/memory/explicit-remember';
import { buildUpdatePrompt } from '../../shared/memory/update-prompt';
import type { OpenAiFakeRequestLog } from '../fakes/openai-fake';

const BOUNDS = { maxItems: 30, maxBytes: 4096, maxFactChars: 300 };

/** A logged request with `body`, as the OpenAI fake records it. */
const logged = (body: unknown): OpenAiFakeRequestLog => ({ method: 'POST', path: '/v1/chat/completions', operation: 'ChatCompletions', headers: {}, body, status: 200, chunks: [], keepAlives: 0, completed: true });

describe('bench: long-term memory', () => {
  it('answers the memory update call with the list it was given, as a model that finds nothing new does', () => {
    const prompt = buildUpdatePrompt({ items: ['Likes tea', '名字是张三'], exchanges: [{ id: 'e1', at: 1, user: 'hello', assistant: 'hi' }], bounds: BOUNDS, maxInputBytes: 24_000 });
    const messages = prompt.messages.map((message) => ({ role: message.role, content: typeof message.content === 'string' ? message.content : '' }));
    expect(JSON.parse(memoryUpdateAnswer({ messages }))).toEqual({ memories: ['Likes tea', '名字是张三'] });
  });

  it('answers a prompt it cannot read with a shape the memory refuses, never with an empty list', () => {
    expect(JSON.parse(memoryUpdateAnswer({ messages: [{ role: 'user', content: 'no json here' }] }))).not.toHaveProperty('memories');
  });

  it('tells the update call (JSON mode) apart from chat requests', () => {
    const update = logged({ model: 'm', messages: [], response_format: { type: 'json_object' } });
    const chat = logged({ model: 'm', messages: [] });
    expect([isMemoryUpdate(update.body), isMemoryUpdate(chat.body), isMemoryUpdate('raw text')]).toEqual([true, false, false]);
    expect(chatRequests([chat, update, chat])).toEqual([chat, chat]);
  });

  it('remembers exactly the facts it later looks for in the prompts', () => {
    expect(REMEMBER_QUESTIONS.map((question) => explicitFact(question))).toEqual([...REMEMBERED_FACTS]);
  });

  it("measures each answer path from the call's start to the answer's post, without the chat request's wait or what follows the post", () => {
    const starts = [100, 200];
    // Message 1: chat request, answer post, then the update call. Message 2: chat request and post only.
    const llm = [
      { start: 104, ms: 10 },
      { start: 130, ms: 5 },
      { start: 203, ms: 20 },
    ];
    const webhook = [
      { start: 120, ms: 1 },
      { start: 230, ms: 1 },
    ];
    expect(answerPathMs(starts, llm, webhook)).toEqual([10, 10]);
    expect(() => answerPathMs(starts, llm, webhook.slice(0, 1))).toThrow('message 2');
  });
});
