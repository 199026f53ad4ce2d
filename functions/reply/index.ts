/**
 * The reply function (async event, no trigger): answers one DingTalk message with the LLM and posts it
 * to the session webhook. This file only wires configuration and adapters to the core.
 */
import { createAxiosWebhookSender } from '../../shared/adapters/axios-webhook';
import { createObjectStore } from '../../shared/adapters/create-object-store';
import { createOpenAiLlm } from '../../shared/adapters/openai-llm';
import { loadReplyConfig, secretValues } from '../../shared/config/load-config';
import { handleReply, type InvocationInfo, type ReplyDeps, type ReplyOutcome } from '../../shared/core/handle-reply';
import { describeError } from '../../shared/errors';
import { InvocationContext } from '../../shared/fc/context';
import { DailyUsage } from '../../shared/history/daily-usage';
import { ExchangeLog } from '../../shared/history/exchange-log';
import { loadO200kCounter } from '../../shared/llm/token-counter';
import { createLogger } from '../../shared/logging/logger';
import { systemClock } from '../../shared/ports';

const env = process.env;

interface Instance {
  deps: ReplyDeps;
  context: InvocationContext;
}

let instance: Instance | undefined;

/** Loads configuration and builds the adapters once per instance, with the first invocation's context. */
function getInstance(fcContext: unknown): Instance {
  if (instance !== undefined) return instance;
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
  const deps: ReplyDeps = {
    settings: {
      systemPrompt: config.systemPrompt,
      historyLength: config.historyLength,
      maxContextTokens: config.maxContextTokens,
      webhookHosts: config.webhookHosts,
      ...config.access,
    },
    history: new ExchangeLog(store, config.history.prefix, log),
    usage: new DailyUsage(store, config.history.prefix),
    llm: createOpenAiLlm(config.llm),
    webhook: createAxiosWebhookSender({ timeoutMs: config.webhookTimeoutMs }),
    clock: systemClock,
    logger: log,
    loadTokenCounter: loadO200kCounter,
  };
  instance = { deps, context };
  return instance;
}

const fallbackLogger = createLogger({ secrets: secretValues(env), base: { fn: 'reply' } });

/**
 * FC 3.0 handler: `event` is the Buffer the conversation function sent. Resolves with the outcome, or
 * rejects (so FC retries) only when no answer was posted and a retry can help.
 */
export async function handler(event: unknown, context: unknown): Promise<{ outcome: ReplyOutcome | 'misconfigured' }> {
  let current: Instance;
  try {
    current = getInstance(context);
  } catch (error) {
    // A retry cannot fix configuration, so this resolves instead of throwing (FC would retry a throw).
    fallbackLogger.error('reply.misconfigured', { outcome: 'misconfigured', error: describeError(error) });
    return { outcome: 'misconfigured' };
  }
  const fc = current.context.update(context);
  const logger = fc.requestId !== undefined ? current.deps.logger.child({ requestId: fc.requestId }) : current.deps.logger;
  const invocation: InvocationInfo = {};
  if (fc.requestId !== undefined) invocation.requestId = fc.requestId;
  if (fc.function?.timeout !== undefined) invocation.timeoutMs = fc.function.timeout * 1000;
  // Throws RetryLaterError only when nothing was posted and FC's retry can help.
  return { outcome: await handleReply(event, { ...current.deps, logger, invocation }) };
}
