/**
 * A history store filled by the bot's own code for the `npm run admin` tests: exchanges answered by the
 * reply core (replySetup), then long-term memory, pictures, daily and per-minute markers, usage-ledger
 * entries and conversation settings written through their stores, for two people in two conversations.
 */
import { handleReply } from '../../shared/core/reply/handle-reply';
import { ObjectConversationSettings } from '../../shared/history/conversation-settings';
import { DailyUsage, localDay } from '../../shared/history/daily-usage';
import { safeSegment } from '../../shared/history/keys';
import { ObjectPictureStore } from '../../shared/history/pictures';
import { UsageLedger } from '../../shared/history/usage-ledger';
import { MemoryVersions } from '../../shared/memory/memory-versions';
import type { ObjectStore } from '../../shared/ports';
import type { AdminIo } from '../../local/admin-inventory';
import { ManualClock } from '../helpers/ports';
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

/** Fills `store` (prefix `history/`) as the bot would have. */
export async function fillStore(store: ObjectStore): Promise<Filled> {
  const clock = new ManualClock(NOW);
  const { deps, task, llm } = replySetup({ store, clock });
  llm.answer('Tea is a drink.', 'The group meets on Monday.', 'Paris.', 'Bob asked in the group.');
  const questions: [string, string, string][] = [
    [ALICE, ONE_TO_ONE, 'What is tea?'],
    [ALICE, GROUP, 'When do we meet?'],
    [ALICE, ONE_TO_ONE, 'Capital of France?'],
    [BOB, GROUP, 'Hello from Bob'],
  ];
  const asked: Filled['asked'] = [];
  const ledger = new UsageLedger(store, 'history/', { clock });
  const daily = new DailyUsage(store, 'history/');
  for (const [index, [userId, conversationId, text]] of questions.entries()) {
    const encoded = task(text, { userId, conversationId });
    const at = (JSON.parse(encoded) as { createdAt: number }).createdAt;
    await expect(handleReply(encoded, deps)).resolves.toBe('answered');
    const model = index === 1 ? 'qwen-max' : 'qwen-plus';
    const figures = { promptTokens: 100 + index, completionTokens: 10 + index };
    asked.push({ userId, conversationId, at, model, ...figures });
    await ledger.record({ userId, conversationId, day: localDay(at, 'Asia/Shanghai'), at, messageName: `msg-${index + 1}`, model, durationMs: 900, ...figures });
    await daily.admit(userId, localDay(at, 'Asia/Shanghai'), at, `msg-${index + 1}`, 100);
    // A RATE_LIMIT_PER_MINUTE marker, where shared/history/minute-usage.ts keeps it.
    await store.put(`history/rate/${safeSegment(userId)}/20241119-0720/${String(at).padStart(13, '0')}-${safeSegment(`msg-${index + 1}`)}`, Buffer.alloc(0), { ifAbsent: true });
  }
  const memory = new MemoryVersions(store, 'history/');
  const keep = (_base: unknown, ours: { items: string[]; learnedUntil: number }) => ours;
  await memory.commit(ALICE, await memory.read(ALICE), { items: ['Alice likes green tea'], learnedUntil: 0 }, keep);
  await memory.commit(ALICE, await memory.read(ALICE), { items: ['Alice likes green tea', 'Alice lives in Paris'], learnedUntil: 0 }, keep);
  await memory.commit(BOB, await memory.read(BOB), { items: ['Bob runs the team'], learnedUntil: 0 }, keep);
  const aliceFirst = asked[0];
  if (aliceFirst === undefined) throw new Error('no exchange');
  const exchangeId = (await store.list(`history/${safeSegment(ONE_TO_ONE)}/${safeSegment(ALICE)}/`, 10)).map((key) => key.slice(key.lastIndexOf('/') + 1)).find((name) => /^\d{13}-/.test(name)) ?? '';
  await new ObjectPictureStore(store, 'history/').keep({ conversationId: ONE_TO_ONE, userId: ALICE }, exchangeId, [{ bytes: PNG, mediaType: 'image/png' }]);
  const settings = new ObjectConversationSettings(store, 'history/');
  await settings.write(ONE_TO_ONE, { model: 'qwen-max', system: 'Answer like a pirate.', updatedBy: ALICE, updatedAt: NOW });
  await settings.write(GROUP, { model: 'qwen-plus', updatedBy: ALICE, updatedAt: NOW });
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
