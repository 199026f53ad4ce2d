/**
 * The reply function (async event, no trigger): answers one DingTalk message with the LLM and delivers
 * it (AI card, session webhook or robot OpenAPI). This file only wires configuration and adapters to the
 * core; the OpenAPI client loads only when DINGTALK_CLIENT_ID is set.
 */
import { createAxiosDownloader } from '../../shared/adapters/axios-download';
import { createAxiosWebhookSender } from '../../shared/adapters/axios-webhook';
import { createObjectStore } from '../../shared/adapters/create-object-store';
import { createOpenAiLlm } from '../../shared/adapters/openai-llm';
import { loadReplyConfig, secretValues, type ReplyConfig } from '../../shared/config/load-config';
import { handleReply, type InvocationInfo, type ReplyDeps, type ReplyOutcome } from '../../shared/core/reply/handle-reply';
import { parseReplyTask } from '../../shared/core/reply-task';
import { USER_MESSAGES } from '../../shared/core/user-messages';
import { formatReply } from '../../shared/dingtalk/outgoing';
import { checkWebhookUrl } from '../../shared/dingtalk/webhook-url';
import { describeError } from '../../shared/errors';
import { InvocationContext } from '../../shared/fc/context';
import { DailyUsage } from '../../shared/history/daily-usage';
import { ExchangeLog } from '../../shared/history/exchange-log';
import { ObjectConversationSettings } from '../../shared/history/conversation-settings';
import { MinuteUsage } from '../../shared/history/minute-usage';
import { ObjectPictureStore } from '../../shared/history/pictures';
import { UsageLedger } from '../../shared/history/usage-ledger';
import { loadO200kCounter } from '../../shared/llm/token-counter';
import { createLongTermMemory } from '../../shared/memory/create-long-term-memory';
import { createLogger } from '../../shared/logging/logger';
import { systemClock } from '../../shared/ports';

const env = process.env;

interface Instance {
  deps: ReplyDeps;
  context: InvocationContext;
}

let instance: Promise<Instance> | undefined;

/** The OpenAPI adapter module, typed; required lazily so a webhook-only instance never evaluates it. */
type OpenApiModule = typeof import('../../shared/adapters/dingtalk-openapi');

/** DingTalk's server OpenAPI client, loaded only when the configuration uses it. */
function createOpenApi(config: ReplyConfig, deps: Pick<ReplyDeps, 'logger'>): ReplyDeps['openApi'] {
  if (config.openApi === undefined) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createDingTalkOpenApi } = require('../../shared/adapters/dingtalk-openapi') as OpenApiModule;
  return createDingTalkOpenApi({
    clientId: config.openApi.clientId,
    clientSecret: config.openApi.clientSecret,
    apiBase: config.openApi.apiBase,
    timeoutMs: config.webhookTimeoutMs,
    logger: deps.logger,
  });
}

/** Loads configuration and builds the adapters once per instance, with the first invocation's context. */
async function buildInstance(fcContext: unknown): Promise<Instance> {
  const config = loadReplyConfig(env);
  const context = new InvocationContext({
    ...(config.credentials !== undefined ? { credentials: config.credentials } : {}),
    ...(config.region !== undefined ? { region: config.region } : {}),
  });
  context.update(fcContext);
  const log = createLogger({ level: config.logLevel, secrets: secretValues(env), base: { fn: 'reply' } });
  const store = createObjectStore(config.history, {
    region: () => context.region(),
    credentials: () => context.credentials(),
    insideFc: env.FC_FUNCTION_NAME !== undefined,
  });
  const openApi = createOpenApi(config, { logger: log });
  // A card is created within a second of the message: the first one should not also wait for the token.
  if (openApi !== undefined && config.openApi?.card !== undefined) void openApi.checkToken().catch(() => undefined);
  // Pictures and files come through the OpenAPI's download links.
  const files = openApi !== undefined ? { openApi, downloader: createAxiosDownloader({ timeoutMs: 20_000 }), pictures: new ObjectPictureStore(store, config.history.prefix) } : {};
  const llm = createOpenAiLlm(config.llm);
  const memory = createLongTermMemory(config.memory, { store, prefix: config.history.prefix, llm, logger: log });
  const deps: ReplyDeps = {
    settings: {
      systemPrompt: config.systemPrompt,
      historyLength: config.historyLength,
      maxContextTokens: config.maxContextTokens,
      webhookHosts: config.webhookHosts,
      ...config.access,
      ...(config.openApi?.card !== undefined ? { card: config.openApi.card } : {}),
      ...(config.llm.visionModel !== undefined ? { visionModel: config.llm.visionModel } : {}),
      defaultModel: config.llm.model,
      models: config.steering.models,
      adminUsers: config.steering.adminUsers,
    },
    history: new ExchangeLog(store, config.history.prefix, log),
    usage: new DailyUsage(store, config.history.prefix),
    minuteUsage: new MinuteUsage(store, config.history.prefix),
    ledger: new UsageLedger(store, config.history.prefix),
    llm,
    webhook: createAxiosWebhookSender({ timeoutMs: config.webhookTimeoutMs }),
    clock: systemClock,
    logger: log,
    loadTokenCounter: loadO200kCounter,
    probeStore: { store, prefix: config.history.prefix },
    ...files,
    ...(memory !== undefined ? { memory } : {}),
    conversationSettings: new ObjectConversationSettings(store, config.history.prefix),
  };
  return { deps, context };
}

const fallbackLogger = createLogger({ secrets: secretValues(env), base: { fn: 'reply' } });

/**
 * The user's only news of a misconfigured bot: one short "ask the admin" message, posted when the event
 * is a reply task whose session webhook is a DingTalk URL (the default allowlist when the configured one
 * is unreadable too). Silence would look like the bot ignoring them.
 */
async function tellUserMisconfigured(event: unknown): Promise<boolean> {
  try {
    const task = parseReplyTask(event);
    const hosts = (env.DINGTALK_WEBHOOK_HOSTS ?? '').split(',').map((host) => host.trim().toLowerCase()).filter((host) => host !== '');
    if (checkWebhookUrl(task.sessionWebhook, hosts.length > 0 ? hosts : ['oapi.dingtalk.com']) !== undefined) return false;
    if (task.sessionWebhookExpiredTime !== undefined && task.sessionWebhookExpiredTime <= Date.now()) return false;
    await createAxiosWebhookSender({ timeoutMs: 5_000, attempts: 1 }).send(task.sessionWebhook, formatReply(USER_MESSAGES.misconfigured, task));
    return true;
  } catch {
    return false;
  }
}

/**
 * FC 3.0 handler: `event` is the Buffer the conversation function sent. Resolves with the outcome, or
 * rejects (so FC retries) only when nothing reached the user and a retry can help.
 */
export async function handler(event: unknown, context: unknown): Promise<{ outcome: ReplyOutcome | 'misconfigured' }> {
  let current: Instance;
  try {
    instance ??= buildInstance(context);
    current = await instance;
  } catch (error) {
    instance = undefined;
    // A retry cannot fix configuration, so this resolves instead of throwing (FC would retry a throw).
    const told = await tellUserMisconfigured(event);
    fallbackLogger.error('reply.misconfigured', { outcome: 'misconfigured', error: describeError(error), userTold: told });
    return { outcome: 'misconfigured' };
  }
  const fc = current.context.update(context);
  const logger = fc.requestId !== undefined ? current.deps.logger.child({ requestId: fc.requestId }) : current.deps.logger;
  const invocation: InvocationInfo = {};
  if (fc.requestId !== undefined) invocation.requestId = fc.requestId;
  if (fc.function?.timeout !== undefined) invocation.timeoutMs = fc.function.timeout * 1000;
  // Throws RetryLaterError only when nothing reached the user and FC's retry can help.
  return { outcome: await handleReply(event, { ...current.deps, logger, invocation }) };
}
