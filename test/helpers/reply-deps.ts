import { MemoryObjectStore } from '../../shared/adapters/memory-object-store';
import type { ReplyDeps, ReplySettings } from '../../shared/core/reply/handle-reply';
import { encodeReplyTask, toReplyTask, type ReplyTask } from '../../shared/core/reply-task';
import { parseIncomingMessage } from '../../shared/dingtalk/message';
import { DailyUsage } from '../../shared/history/daily-usage';
import { ExchangeLog } from '../../shared/history/exchange-log';
import { utf8ByteBound } from '../../shared/llm/token-counter';
import type { ObjectStore } from '../../shared/ports';
import { captureLogger } from './capture-logger';
import { dingtalkSample } from './fixtures';
import { ManualClock, RecordingWebhook, ScriptedLlm } from './ports';

/** The session webhook of the DingTalk samples. */
export const SAMPLE_WEBHOOK = 'https://oapi.dingtalk.com/robot/sendBySession?session=0123456789abcdef0123456789abcdef';

/** Settings of a reply run with the documented defaults. */
export const DEFAULT_REPLY_SETTINGS: ReplySettings = {
  systemPrompt: '',
  historyLength: 5,
  maxContextTokens: 16000,
  webhookHosts: ['oapi.dingtalk.com'],
  allowedUsers: [],
  allowedConversations: [],
  dailyMessageLimit: 0,
  timeZone: 'Asia/Shanghai',
};

/** Options of {@link replySetup}. */
export interface ReplySetupOptions {
  store?: ObjectStore;
  settings?: Partial<ReplySettings>;
  clock?: ManualClock;
}

/**
 * The reply core wired to in-memory ports (or `store`), plus a builder of reply tasks from the
 * DingTalk samples: what every test of `handleReply` starts from.
 */
export function replySetup(options: ReplySetupOptions = {}) {
  const clock = options.clock ?? new ManualClock(1732000001000);
  const store = options.store ?? new MemoryObjectStore();
  const llm = new ScriptedLlm();
  const webhook = new RecordingWebhook();
  const logs = captureLogger();
  const loadTokenCounter = jest.fn(async () => utf8ByteBound);
  /** The pauses the reply asked for between the parts of a long answer (none really happen). */
  const sleeps: number[] = [];
  const deps: ReplyDeps = {
    settings: { ...DEFAULT_REPLY_SETTINGS, ...options.settings },
    history: new ExchangeLog(store, 'history/', logs.logger),
    usage: new DailyUsage(store, 'history/'),
    llm,
    webhook,
    clock,
    logger: logs.logger,
    loadTokenCounter,
    sleep: async (ms) => void sleeps.push(ms),
  };
  let sequence = 0;
  /** A task for `text` from the 1:1 sample (or `sample`), each with its own msgId and a later createAt. */
  const task = (text: string, overrides: Partial<ReplyTask> = {}, sample = 'text-1to1'): string => {
    sequence += 1;
    const body = dingtalkSample(sample);
    body.msgId = `msg-${sequence}`;
    body.createAt = 1732000000000 + sequence * 1000;
    body.sessionWebhookExpiredTime = 1732005400000;
    if (sample.startsWith('text')) body.text = { content: text };
    return encodeReplyTask({ ...toReplyTask(parseIncomingMessage(body), clock.now()), ...overrides });
  };
  return { clock, store, llm, webhook, logs, deps, task, loadTokenCounter, sleeps };
}
