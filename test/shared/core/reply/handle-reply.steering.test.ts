/**
 * `\model` and `\system`: a conversation steers itself from the chat. The choice is stored with the
 * conversation and applies from the next question; in a group only ADMIN_USERS may change it (for the
 * whole group), in a 1:1 chat the person may.
 */
import { handleReply } from '../../../../shared/core/reply/handle-reply';
import { STEERING_MESSAGES } from '../../../../shared/core/reply/steering-messages';
import { MAX_CONVERSATION_SYSTEM_CHARS, ObjectConversationSettings } from '../../../../shared/history/conversation-settings';
import { replySetup } from '../../../helpers/reply-deps';

const MODELS = ['qwen-plus', 'qwen-max'];

/** The reply core with OPENAI_MODELS, one admin, and settings kept in the in-memory store. */
function setup(options: { models?: string[]; admins?: string[] } = {}) {
  const base = replySetup({
    settings: { models: options.models ?? MODELS, adminUsers: options.admins ?? ['admin0001'], defaultModel: 'qwen-plus' },
  });
  const conversationSettings = new ObjectConversationSettings(base.store, 'history/');
  const deps = { ...base.deps, conversationSettings };
  /** A group message from `staffId`. */
  const group = (text: string, staffId: string): string =>
    base.task(text, { senderStaffId: staffId, userId: staffId }, 'text-group-mention');
  return { ...base, deps, conversationSettings, group };
}

describe('\\model', () => {
  it('lists the model in use and the choices', async () => {
    const { deps, task, webhook } = setup();
    expect(await handleReply(task('\\model'), deps)).toBe('steering');
    expect(webhook.texts()[0]).toContain('`qwen-plus`');
    expect(webhook.texts()[0]).toContain('- `qwen-max`');
  });

  it('switches a 1:1 chat, stores the choice, and asks the next question with it', async () => {
    const { deps, task, webhook, llm, conversationSettings } = setup();
    expect(await handleReply(task('/model QWEN-MAX'), deps)).toBe('steering');
    expect(webhook.texts()[0]).toContain('`qwen-max`');
    expect(await conversationSettings.read('cidAbCdEfGhIjKlMnOpQrStUvW==')).toMatchObject({ model: 'qwen-max', updatedBy: 'manager1234' });
    await handleReply(task('hello'), deps);
    expect(llm.options.at(-1)?.model).toBe('qwen-max');
  });

  it('names the choices for a model that is not offered, and changes nothing', async () => {
    const { deps, task, webhook, conversationSettings } = setup();
    await handleReply(task('\\model gpt-5'), deps);
    expect(webhook.texts()[0]).toContain('`qwen-plus`, `qwen-max`');
    expect(await conversationSettings.read('cidAbCdEfGhIjKlMnOpQrStUvW==')).toEqual({});
  });

  it('lets only ADMIN_USERS switch a group, and then the whole group uses it', async () => {
    const { deps, group, webhook, llm } = setup();
    expect(await handleReply(group('\\model qwen-max', 'user5678'), deps)).toBe('not_allowed');
    expect(webhook.texts()[0]).toContain(STEERING_MESSAGES.adminsOnly);
    expect(await handleReply(group('\\model qwen-max', 'admin0001'), deps)).toBe('steering');
    await handleReply(group(' what now?', 'user5678'), deps);
    expect(llm.options.at(-1)?.model).toBe('qwen-max');
  });

  it('only shows the model when OPENAI_MODELS is empty', async () => {
    const { deps, task, webhook, llm } = setup({ models: [] });
    await handleReply(task('\\model'), deps);
    expect(webhook.texts()[0]).toContain('OPENAI_MODELS');
    await handleReply(task('\\model qwen-max'), deps);
    await handleReply(task('hi'), deps);
    expect(llm.options.at(-1)?.model).toBeUndefined();
  });

  it('falls back to the configured model when the stored choice is no longer offered', async () => {
    const { deps, task, llm, conversationSettings } = setup();
    await conversationSettings.write('cidAbCdEfGhIjKlMnOpQrStUvW==', { model: 'retired-model' });
    await handleReply(task('hi'), deps);
    expect(llm.options.at(-1)?.model).toBeUndefined();
  });
});

describe('\\system', () => {
  it('sets, shows and resets a conversation prompt that goes on top of SYSTEM_PROMPT', async () => {
    const { deps, task, webhook, llm } = setup();
    const withPrompt = { ...deps, settings: { ...deps.settings, systemPrompt: 'You are helpful.' } };
    expect(await handleReply(task('\\system Answer in English, briefly.'), withPrompt)).toBe('steering');
    await handleReply(task('hi'), withPrompt);
    expect(llm.prompts.at(-1)?.[0]).toEqual({ role: 'system', content: 'You are helpful.\n\nAnswer in English, briefly.' });
    await handleReply(task('\\system'), withPrompt);
    expect(webhook.texts().at(-1)).toContain('> Answer in English, briefly.');
    await handleReply(task('/system reset'), withPrompt);
    expect(webhook.texts().at(-1)).toBe(STEERING_MESSAGES.systemReset);
    await handleReply(task('hi again'), withPrompt);
    expect(llm.prompts.at(-1)?.[0]).toEqual({ role: 'system', content: 'You are helpful.' });
  });

  it('keeps a long prompt cut to its bound and says so', async () => {
    const { deps, task, webhook, conversationSettings } = setup();
    await handleReply(task(`\\system ${'x'.repeat(MAX_CONVERSATION_SYSTEM_CHARS + 10)}`), deps);
    expect(webhook.texts()[0]).toContain(String(MAX_CONVERSATION_SYSTEM_CHARS));
    expect((await conversationSettings.read('cidAbCdEfGhIjKlMnOpQrStUvW==')).system).toHaveLength(MAX_CONVERSATION_SYSTEM_CHARS);
  });

  it('refuses a group member who is not an admin, and lets anyone see the prompt', async () => {
    const { deps, group, webhook } = setup();
    expect(await handleReply(group('\\system be rude', 'user5678'), deps)).toBe('not_allowed');
    expect(await handleReply(group('\\system', 'user5678'), deps)).toBe('steering');
    expect(webhook.texts().at(-1)).toContain(STEERING_MESSAGES.noSystem);
  });
});
