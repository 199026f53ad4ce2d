/**
 * The long-term memory's part in a run, through the reply core with the built-in memory on the same
 * in-memory store: what leaves the window is learned once, after the answer; `\clear` learns the window
 * first; a memory that fails never stops an answer; `\memory` says when memory is off.
 */
import { handleReply } from '../../../../shared/core/reply/handle-reply';
import { MEMORY_MESSAGES } from '../../../../shared/core/reply/memory-messages';
import { leavingWindow } from '../../../../shared/core/reply/memory-step';
import { MEMORY_INSTRUCTION } from '../../../../shared/core/prompt';
import type { Exchange } from '../../../../shared/history/exchange';
import type { LongTermMemory } from '../../../../shared/memory/memory';
import { createStoredMemory } from '../../../../shared/memory/stored-memory';
import type { ChatMessage, LlmCallOptions } from '../../../../shared/ports';
import { replySetup } from '../../../helpers/reply-deps';

/** The reply core with HISTORY_LENGTH 2 and a memory whose update calls a separate scripted model. */
function setup() {
  const base = replySetup({ settings: { historyLength: 2 } });
  const updates: string[] = [];
  const updater = {
    complete: async (messages: readonly ChatMessage[], options?: LlmCallOptions) => {
      expect(options?.responseFormat).toBe('json_object');
      const prompt = String(messages.at(-1)?.content ?? '');
      updates.push(prompt);
      const current = (JSON.parse(prompt.slice(prompt.indexOf('{'))) as { memories: string[] }).memories;
      const facts = prompt.includes('Zhang San') && !current.includes('Name: Zhang San') ? [...current, 'Name: Zhang San'] : current;
      return { text: JSON.stringify({ memories: facts }), model: 'memory-model' };
    },
    stream: async () => {
      throw new Error('the memory update never streams');
    },
  };
  const memory = createStoredMemory({ store: base.store, prefix: 'history/', llm: updater });
  return { ...base, deps: { ...base.deps, memory }, updates, memory };
}

const exchange = (n: number): Exchange => ({ id: `e${n}`, at: n, user: `q${n}`, assistant: `a${n}` });

describe('leavingWindow', () => {
  it.each<[number, number, string[]]>([
    [2, 2, ['e1']],
    [2, 1, []],
    [5, 2, []],
    [0, 2, ['e1', 'e2', 'e3']],
  ])('with HISTORY_LENGTH %i and %i exchanges loaded, %j leave', (length, loaded, expected) => {
    const context = Array.from({ length: loaded }, (_, n) => exchange(n + 1));
    expect(leavingWindow(exchange(loaded + 1), context, length).map((item) => item.id)).toEqual(expected);
  });
});

describe('the reply core with long-term memory', () => {
  it('learns an exchange once, after it left the window, and tells the model from then on', async () => {
    const { deps, task, llm, updates } = setup();
    await handleReply(task('my name is Zhang San'), deps);
    await handleReply(task('q2'), deps);
    expect(updates).toHaveLength(0);
    await handleReply(task('q3'), deps);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toContain('my name is Zhang San');
    await handleReply(task('q4'), deps);
    expect(updates).toHaveLength(2);
    expect(updates[1]).not.toContain('my name is Zhang San');
    await handleReply(task('who am I?'), deps);
    expect(llm.prompts.at(-1)?.[0]).toEqual({ role: 'system', content: `${MEMORY_INSTRUCTION}\n- Name: Zhang San` });
  });

  it('learns what the window still holds before \\clear deletes it, and keeps the memory after', async () => {
    const { deps, task, llm, updates } = setup();
    await handleReply(task('my name is Zhang San'), deps);
    expect(await handleReply(task('\\clear'), deps)).toBe('cleared');
    expect(updates).toHaveLength(1);
    await handleReply(task('who am I?'), deps);
    expect(llm.prompts.at(-1)).toEqual([
      { role: 'system', content: `${MEMORY_INSTRUCTION}\n- Name: Zhang San` },
      { role: 'user', content: 'who am I?' },
    ]);
  });

  it('answers as usual when the memory cannot be read, and says so in the log', async () => {
    const { deps, task, webhook, logs } = setup();
    const failing: LongTermMemory = {
      recall: () => Promise.reject(new Error('store down')),
      list: () => Promise.reject(new Error('store down')),
      learn: () => Promise.reject(new Error('store down')),
      remember: () => Promise.reject(new Error('store down')),
      forget: () => Promise.reject(new Error('store down')),
    };
    expect(await handleReply(task('hello'), { ...deps, memory: failing })).toBe('answered');
    expect(webhook.texts()).toEqual(['answer 1']);
    expect(logs.find('reply.memory_unavailable')).toBeDefined();
    expect(await handleReply(task('\\memory'), { ...deps, memory: failing })).toBe('memory');
    expect(webhook.texts().at(-1)).toBe(MEMORY_MESSAGES.unavailable);
  });

  it('says memory is off when it is (MEMORY_ENABLED=false)', async () => {
    const { deps, task, webhook } = setup();
    const off = { ...deps, memory: undefined };
    expect(await handleReply(task('\\memory'), off)).toBe('memory');
    expect(await handleReply(task('\\forget all'), off)).toBe('memory');
    expect(webhook.texts()).toEqual([MEMORY_MESSAGES.off, MEMORY_MESSAGES.off]);
  });

  it('numbers the facts for \\memory and removes one with \\forget N', async () => {
    const { deps, task, webhook, memory } = setup();
    await memory.remember('manager1234', 'Works on payments');
    await memory.remember('manager1234', 'Prefers English');
    await handleReply(task('\\memory'), deps);
    expect(webhook.texts().at(-1)).toContain('1. Works on payments\n2. Prefers English');
    await handleReply(task('\\forget 1'), deps);
    expect(webhook.texts().at(-1)).toContain('Forgotten: Works on payments');
    expect(await memory.list('manager1234')).toEqual(['Prefers English']);
  });
});
