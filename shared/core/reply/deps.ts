import type { DingTalkOpenApi } from '../../dingtalk/openapi';
import type { CardSettings } from '../../delivery/card-channel';
import type { ChannelSleep } from '../../delivery/channel';
import type { Admission } from '../../history/daily-usage';
import type { HistoryStore } from '../../history/exchange';
import type { UsageRecord, UsageSummary } from '../../history/usage-ledger';
import type { TokenCounter } from '../../llm/token-counter';
import type { ConversationSettingsStore } from '../../history/conversation-settings';
import type { PictureStore } from '../../history/pictures';
import type { LongTermMemory } from '../../memory/memory';
import type { Clock, Downloader, LlmClient, Logger, ObjectStore, WebhookSender } from '../../ports';

/** The reply function's settings (from the config loader). */
export interface ReplySettings {
  systemPrompt: string;
  historyLength: number;
  maxContextTokens: number;
  webhookHosts: readonly string[];
  /** Staff ids allowed; empty means everyone. */
  allowedUsers: readonly string[];
  /** Conversation ids allowed; empty means every conversation. */
  allowedConversations: readonly string[];
  /** Questions per user per day; 0 means unlimited. */
  dailyMessageLimit: number;
  /** Questions per user per minute (RATE_LIMIT_PER_MINUTE); 0 or absent means unlimited. */
  rateLimitPerMinute?: number;
  /** IANA time zone of the daily reset. */
  timeZone: string;
  /** AI cards (DINGTALK_CARD_TEMPLATE_ID); needs `openApi` in the deps. */
  card?: CardSettings;
  /** The model for a prompt that carries a picture (VISION_MODEL); default the configured model. */
  visionModel?: string;
  /** OPENAI_MODEL, for `\model` to name the model in use. */
  defaultModel?: string;
  /** OPENAI_MODELS: the models a conversation may switch to with `\model`. */
  models?: readonly string[];
  /** ADMIN_USERS: who may change a group's model and system prompt. */
  adminUsers?: readonly string[];
}

/** Records and sums answered questions (see `shared/history/usage-ledger.ts`). */
export interface UsageLedgerPort {
  record(entry: UsageRecord): Promise<boolean>;
  summarize(userId: string, period: { today: string; month: string }): Promise<UsageSummary>;
}

/** Counts questions per user and window: a day (DailyUsage) or a minute (MinuteUsage). */
export interface UsageCounter {
  admit(userId: string, window: string, at: number, messageName: string, limit: number): Promise<Admission>;
  /** How many questions the window counted so far (`\usage`), when the counter can tell. */
  used?(userId: string, window: string, limit: number): Promise<number>;
  /** Gives this message's admission back (the question got only an error message). */
  refund?(userId: string, window: string, messageName: string, at?: number): Promise<void>;
}

/** What FC says about the current invocation. */
export interface InvocationInfo {
  /** FC's requestId: the same for FC's retries of one async invocation. */
  requestId?: string;
  /** The function timeout: the run's deadline, and how long a claim can belong to a live run. */
  timeoutMs?: number;
}

/** What the reply core talks to: ports only, resolved once per instance by `functions/reply/index.ts`. */
export interface ReplyDeps {
  settings: ReplySettings;
  history: HistoryStore;
  usage: UsageCounter;
  /** Counts questions per user and minute (RATE_LIMIT_PER_MINUTE). */
  minuteUsage?: UsageCounter;
  /** Records each answered question's usage (`\usage`, `npm run admin stats`). */
  ledger?: UsageLedgerPort;
  llm: LlmClient;
  webhook: WebhookSender;
  clock: Clock;
  logger: Logger;
  loadTokenCounter: () => Promise<TokenCounter>;
  invocation?: InvocationInfo;
  /** DingTalk's server OpenAPI (DINGTALK_CLIENT_ID): cards, sends after the webhook expired, file downloads. */
  openApi?: DingTalkOpenApi;
  /** Fetches the files users send, from the links the OpenAPI gives (with `openApi`). */
  downloader?: Downloader;
  /** The pictures of each user's newest exchange that had some (with `openApi`). */
  pictures?: PictureStore;
  /** Each user's long-term memory; absent with MEMORY_ENABLED=false. */
  memory?: LongTermMemory;
  /** Each conversation's `\model` and `\system` choices. */
  conversationSettings?: ConversationSettingsStore;
  /** The history store's objects and prefix, for the deployment probe (`npm run doctor -- --url`). */
  probeStore?: { store: ObjectStore; prefix: string };
  /** Waits between the parts of a long answer. Default: a timer that the deadline cuts short. */
  sleep?: ChannelSleep;
  /**
   * Configuration problems already logged by this instance: each is logged once, not once per message.
   * Default: one set per module instance.
   */
  configHints?: Set<string>;
}
