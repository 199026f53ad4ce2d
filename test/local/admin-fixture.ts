/**
 * A history store filled by the bot's own code for the `npm run admin` tests: settings, exchanges, daily and
 * per-minute markers and usage-ledger entries written by the reply core (replySetup with the real stores),
 * long-term memory and pictures through their stores; two people in two conversations.
 */
import { handleReply } from '../../shared/core/reply/handle-reply';
import { ObjectConversationSettings } from '../../shared/history/conversation-settings';
import { safeSegment } from '../../shared/history/keys';
import { ObjectPictureStore } from '../../shared/history/pictures';
import { UsageLedger } from '../../shared/history/usage-ledger';
import { MemoryVersions } from '../../shared/memory/memory-versions';
import { MinuteUsage } from '../../shared/history/minute-usage';
import type { ReplyTask } from '../../shared/core/reply-task';
import type { ChatMessage, LlmAnswer, LlmCallOptions, ObjectStore } from '../../shared/ports';
import type { AdminIo } from '../../local/admin-inventory';
import { ManualClock, ScriptedLlm } from '../helpers/ports';
import { replySetup } from '../helpers/reply-deps';

/** The person erased in the tests (the 1:1 sample's sender) and the one who stays. */
export const ALICE = 'manager1234';
export const BOB = 'staff-bob-42';
/** Alice's 1:1 chat (the sample's) and a group both are in. */
export const ONE_TO_ONE = 'cidAbCdEfGhIjKlMnOpQrStUvW==';
export const GROUP = 'cidGroupXyZ+team/42==';
/** When the fill happens: 2024-11-19 in Asia/Shanghai. */
export const NOW = 1732000001000;
export const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('ALICE-PICTURE-BYTES')]);

/** What the fill wrote, for the expectations. */
export interface Filled {
  /** The exchanges' times (the tasks' createdAt), per person and conversation. */
  asked: { userId: string; conversationId: string; at: number; model: string; promptTokens: number; completionTokens: number }[];
}

/** A scripted LLM that answers with the model it was asked for (default qwen-plus) and distinct token counts. */
class FigureLlm extends ScriptedLlm {
  private calls = 0;
  override async complete(messages: readonly ChatMessage[], options?: LlmCallOptions): Promise<LlmAnswer> {
    const answer = await super.complete(messages, options);
    const n = this.calls;
    this.calls += 1;
    return { ...answer, model: options?.model ?? 'qwen-plus', promptTokens: 100 + n, completionTokens: 10 + n };
  }
}

/**
 * Fills `store` (prefix `history/`) as the bot would have: Alice (an admin) gives her 1:1 chat a system prompt
 * and switches the group to qwen-max, then four questions go through the reply core with the daily and
 * per-minute limits on and the usage ledger, settings and history stores of the bot; memory and pictures are
 * written through their stores.
 */
export async function fillStore(store: ObjectStore): Promise<Filled> {
  const clock = new ManualClock(NOW);
  const { deps: base, task } = replySetup({
    store,
    clock,
    settings: { dailyMessageLimit: 100, rateLimitPerMinute: 100, models: ['qwen-plus', 'qwen-max'], defaultModel: 'qwen-plus', adminUsers: [ALICE] },
  });
  const llm = new FigureLlm();
  llm.answer('Tea is a drink.', 'The group meets on Monday.', 'Paris.', 'Bob asked in the group.');
  const deps = {
    ...base,
    llm,
    ledger: new UsageLedger(store, 'history/', { clock }),
    minuteUsage: new MinuteUsage(store, 'history/'),
    conversationSettings: new ObjectConversationSettings(store, 'history/'),
  };
  const group = { conversationId: GROUP, conversationType: '2' as const };
  for (const [text, overrides] of [
    ['\\system Answer like a pirate.', { userId: ALICE, conversationId: ONE_TO_ONE }],
    ['\\model qwen-max', { userId: ALICE, ...group }],
  ] as const) {
    await handleReply(task(text, overrides), deps);
  }
  const questions: [string, Partial<ReplyTask>, string][] = [
    [ALICE, { conversationId: ONE_TO_ONE }, 'What is tea?'],
    [ALICE, group, 'When do we meet?'],
    [ALICE, { conversationId: ONE_TO_ONE }, 'Capital of France?'],
    [BOB, group, 'Hello from Bob'],
  ];
  const asked: Filled['asked'] = [];
  for (const [index, [userId, where, text]] of questions.entries()) {
    const encoded = task(text, { userId, ...where });
    const at = (JSON.parse(encoded) as { createdAt: number }).createdAt;
    await expect(handleReply(encoded, deps)).resolves.toBe('answered');
    asked.push({ userId, conversationId: where.conversationId ?? '', at, model: where === group ? 'qwen-max' : 'qwen-plus', promptTokens: 100 + index, completionTokens: 10 + index });
  }
  const memory = new MemoryVersions(store, 'history/');
  const keep = (_base: unknown, ours: { items: string[]; learnedUntil: number }) => ours;
  await memory.commit(ALICE, await memory.read(ALICE), { items: ['Alice likes green tea'], learnedUntil: 0 }, keep);
  await memory.commit(ALICE, await memory.read(ALICE), { items: ['Alice likes green tea', 'Alice lives in Paris'], learnedUntil: 0 }, keep);
  await memory.commit(BOB, await memory.read(BOB), { items: ['Bob runs the team'], learnedUntil: 0 }, keep);
  const exchangeId = (await store.list(`history/${safeSegment(ONE_TO_ONE)}/${safeSegment(ALICE)}/`, 10)).map((key) => key.slice(key.lastIndexOf('/') + 1)).find((name) => /^\d{13}-/.test(name)) ?? '';
  await new ObjectPictureStore(store, 'history/').keep({ conversationId: ONE_TO_ONE, userId: ALICE }, exchangeId, [{ bytes: PNG, mediaType: 'image/png' }]);
  return { asked };
}

/** An io that records what a command printed, answers confirmations with `answer`, and reads the clock. */
export function recordingIo(answer = false, now = NOW): AdminIo & { stdout: () => string; stderr: () => string; questions: string[] } {
  let out = '';
  let err = '';
  const questions: string[] = [];
  return {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    confirm: async (question) => {
      questions.push(question);
      return answer;
    },
    now: () => now,
    stdout: () => out,
    stderr: () => err,
    questions,
  };
}
