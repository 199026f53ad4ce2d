import { MemoryObjectStore } from '../../../../shared/adapters/memory-object-store';
import { HELP_TEXT } from '../../../../shared/core/commands';
import { INPUT_MESSAGES } from '../../../../shared/core/reply/input-messages';
import { handleReply, type ReplySettings } from '../../../../shared/core/reply/handle-reply';
import { USER_MESSAGES } from '../../../../shared/core/user-messages';
import { StorageError } from '../../../../shared/errors';
import type { ObjectStore } from '../../../../shared/ports';
import { captureLogger } from '../../../helpers/capture-logger';
import { errors } from '../../../helpers/ports';
import { replySetup, SAMPLE_WEBHOOK } from '../../../helpers/reply-deps';

const WEBHOOK = SAMPLE_WEBHOOK;

function setup(options: { store?: ObjectStore; systemPrompt?: string; historyLength?: number } = {}) {
  const settings: Partial<ReplySettings> = {};
  if (options.systemPrompt !== undefined) settings.systemPrompt = options.systemPrompt;
  if (options.historyLength !== undefined) settings.historyLength = options.historyLength;
  return replySetup({ ...(options.store ? { store: options.store } : {}), settings });
}

describe('handleReply', () => {
  it('answers a question, posts markdown to the session webhook and saves the exchange', async () => {
    const { deps, task, llm, webhook } = setup();
    llm.answer('我是一个助手。');
    expect(await handleReply(Buffer.from(task('你好')), deps)).toBe('answered');
    expect(webhook.sent).toHaveLength(1);
    expect(webhook.sent[0]?.url).toBe(WEBHOOK);
    expect(webhook.sent[0]?.message).toMatchObject({ msgtype: 'markdown', markdown: { text: '我是一个助手。' } });
    expect(llm.prompts[0]).toEqual([{ role: 'user', content: '你好' }]);
    expect(await deps.history.loadRecent({ conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' }, 5)).toEqual([
      expect.objectContaining({ user: '你好', assistant: '我是一个助手。' }),
    ]);
  });

  it('sends the previous exchanges with the next question, oldest first, after the system prompt', async () => {
    const { deps, task, llm } = setup({ systemPrompt: 'Be brief.' });
    llm.answer('A1', 'A2', 'A3');
    await handleReply(task('Q1'), deps);
    await handleReply(task('Q2'), deps);
    await handleReply(task('Q3'), deps);
    expect(llm.prompts[2]).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
      { role: 'assistant', content: 'A2' },
      { role: 'user', content: 'Q3' },
    ]);
  });

  it('keeps only the newest HISTORY_LENGTH exchanges in the prompt', async () => {
    const { deps, task, llm } = setup({ historyLength: 2 });
    for (let i = 1; i <= 4; i += 1) await handleReply(task(`Q${i}`), deps);
    await handleReply(task('last'), deps);
    const users = (llm.prompts[4] ?? []).filter((m) => m.role === 'user').map((m) => m.content);
    expect(users).toEqual(['Q3', 'Q4', 'last']);
  });

  it('keeps a history per user: another sender in the same group starts empty', async () => {
    const { deps, task, llm } = setup();
    await handleReply(task('mine', {}, 'text-group-mention'), deps);
    await handleReply(task('theirs', { userId: 'someone-else', senderStaffId: 'someone-else' }, 'text-group-mention'), deps);
    expect(llm.prompts[1]).toEqual([{ role: 'user', content: 'theirs' }]);
  });

  it('@-mentions the asker in a group', async () => {
    const { deps, task, webhook } = setup();
    await handleReply(task('hello', {}, 'text-group-mention'), deps);
    expect(webhook.sent[0]?.message).toMatchObject({ msgtype: 'markdown', at: { atUserIds: ['user5678'] } });
    expect(webhook.texts()[0]).toMatch(/^@user5678\n/);
  });

  it('clears the history on \\clear, confirms, and asks the LLM nothing', async () => {
    const { deps, task, llm, webhook } = setup();
    await handleReply(task('Q1'), deps);
    expect(await handleReply(task(' \\clear '), deps)).toBe('cleared');
    expect(webhook.texts()[1]).toBe(USER_MESSAGES.cleared);
    await handleReply(task('Q2'), deps);
    expect(llm.prompts).toHaveLength(2);
    expect(llm.prompts[1]).toEqual([{ role: 'user', content: 'Q2' }]);
  });

  it('accepts /clear as well', async () => {
    const { deps, task } = setup();
    expect(await handleReply(task('/clear'), deps)).toBe('cleared');
  });

  it.each(['\\help', '\\whatever', ''])('answers %j with the help text and never calls the LLM', async (text) => {
    const { deps, task, llm, webhook } = setup();
    expect(await handleReply(task(text), deps)).toBe('help');
    expect(webhook.texts()).toEqual([HELP_TEXT]);
    expect(llm.prompts).toHaveLength(0);
  });

  it('answers a picture, without DINGTALK_CLIENT_ID, with a short message saying pictures need the Client ID', async () => {
    const { deps, task, llm, webhook } = setup();
    expect(await handleReply(task('', {}, 'picture'), deps)).toBe('unsupported');
    expect(webhook.texts()).toEqual([INPUT_MESSAGES.picturesNeedClientId]);
    expect(llm.prompts).toHaveLength(0);
  });

  it('reads audio through its speech recognition', async () => {
    const { deps, task, llm } = setup();
    await handleReply(task('', {}, 'audio'), deps);
    expect(llm.prompts[0]).toEqual([{ role: 'user', content: '明天上午十点提醒我开会' }]);
  });

  it('tells the user the bot is misconfigured on a bad key, logs the cause, and saves nothing', async () => {
    const { deps, task, llm, webhook, logs, store } = setup();
    llm.answer(errors.badKey());
    expect(await handleReply(task('hi'), deps)).toBe('llm_failed');
    expect(webhook.texts()).toEqual([USER_MESSAGES.misconfigured]);
    expect(logs.find('reply.llm_failed')).toMatchObject({ msgId: 'msg-1', error: { reason: 'auth', status: 401 } });
    expect((store as MemoryObjectStore).objects.size).toBe(0);
  });

  it('sends one short message on an LLM timeout and keeps the history as it was', async () => {
    const { deps, task, llm, webhook, store } = setup();
    llm.answer('A1', errors.timeout());
    await handleReply(task('Q1'), deps);
    const after = new Map((store as MemoryObjectStore).objects);
    await handleReply(task('Q2'), deps);
    expect(webhook.texts()).toEqual(['A1', USER_MESSAGES.timeout]);
    expect((store as MemoryObjectStore).objects).toEqual(after);
  });

  it('answers without history when the store cannot be read, and says so in the log', async () => {
    const store = new MemoryObjectStore();
    store.list = async () => {
      throw new StorageError('list', 'OSS list failed: ServiceUnavailable (503)');
    };
    const { deps, task, webhook, logs } = setup({ store });
    expect(await handleReply(task('hi'), deps)).toBe('answered');
    expect(webhook.sent).toHaveLength(1);
    expect(logs.find('reply.history_unavailable')).toMatchObject({ error: { operation: 'list' } });
  });

  it('still posts the answer when the exchange cannot be saved, and logs that it was not saved', async () => {
    const store = new MemoryObjectStore();
    store.put = async () => {
      throw new StorageError('write', 'OSS write failed: AccessDenied (403)');
    };
    const { deps, task, webhook, logs } = setup({ store });
    expect(await handleReply(task('hi'), deps)).toBe('answered');
    expect(webhook.sent).toHaveLength(1);
    expect(logs.find('reply.history_save_failed')).toBeDefined();
    expect(logs.find('reply.done')).toMatchObject({ saved: false });
  });

  it.each([
    ['another host', 'https://evil.example/robot/sendBySession?session=x'],
    ['userinfo', 'https://oapi.dingtalk.com@evil.example/robot/sendBySession?session=x'],
    ['plain http', 'http://oapi.dingtalk.com/robot/sendBySession?session=x'],
    ['an IP address', 'https://203.0.113.9/robot/sendBySession?session=x'],
  ])('contacts nothing when the session webhook is %s, and logs the refusal', async (_name, url) => {
    const { deps, task, webhook, llm, logs } = setup();
    expect(await handleReply(task('hi', { sessionWebhook: url }), deps)).toBe('destination_refused');
    expect(webhook.sent).toHaveLength(0);
    expect(llm.prompts).toHaveLength(0);
    expect(logs.find('reply.webhook_refused')).toBeDefined();
  });

  it('skips a message whose session webhook has already expired', async () => {
    const { deps, task, llm, clock } = setup();
    const event = task('hi');
    clock.advance(2 * 60 * 60 * 1000);
    expect(await handleReply(event, deps)).toBe('delivery_expired');
    expect(llm.prompts).toHaveLength(0);
  });

  it('reports an expired session webhook as the outcome without throwing', async () => {
    const { deps, task, webhook } = setup();
    webhook.failWith = errors.expired();
    await expect(handleReply(task('hi'), deps)).resolves.toBe('delivery_expired');
  });

  it('ignores an event that is not a reply task, without throwing', async () => {
    const { deps, logs } = setup();
    await expect(handleReply(Buffer.from('{"hello":1}'), deps)).resolves.toBe('invalid_task');
    expect(logs.find('reply.invalid_task')).toBeDefined();
  });

  it('logs one outcome line with msgId, user and timings, and no text at info level', async () => {
    const { deps, task } = setup();
    const quiet = captureLogger({ level: 'info' });
    await handleReply(task('秘密问题'), { ...deps, logger: quiet.logger });
    const done = quiet.events().filter((line) => line.event === 'reply.done');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ outcome: 'answered', msgId: 'msg-1', user: 'manager1234', llmMs: expect.any(Number) });
    expect(quiet.lines.join('\n')).not.toContain('秘密问题');
  });

  it('does not load the tokenizer when the prompt fits by bytes', async () => {
    const { deps, task, loadTokenCounter } = setup();
    await handleReply(task('short'), deps);
    expect(loadTokenCounter).not.toHaveBeenCalled();
  });
});
