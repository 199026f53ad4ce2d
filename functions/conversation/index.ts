/**
 * The conversation function (HTTP trigger): verifies DingTalk's callback, invokes the reply function
 * asynchronously and acknowledges. This file only wires configuration and adapters to the core; the
 * bundle carries nothing the ack path does not need (no LLM SDK, no tokenizer).
 */
import { createFcInvoker } from '../../shared/adapters/fc-invoker';
import { loadConversationConfig, secretValues } from '../../shared/config/load-config';
import { handleConversationRequest, payloadTooLarge, type ConversationDeps } from '../../shared/core/handle-conversation';
import { PayloadTooLargeError } from '../../shared/errors';
import { InvocationContext } from '../../shared/fc/context';
import { jsonResponse, parseHttpTriggerEvent, toFcHttpResult, type FcHttpResult, type HttpRequest } from '../../shared/fc/http-trigger';
import { createLogger } from '../../shared/logging/logger';
import { systemClock } from '../../shared/ports';
import { BOT_VERSION } from '../../shared/version';

const env = process.env;
const fallbackLogger = createLogger({ secrets: secretValues(env), base: { fn: 'conversation' } });

interface Instance {
  deps: ConversationDeps;
  context: InvocationContext;
}

let instance: Instance | undefined;

/** Loads configuration and builds the adapters once per instance (cold start). */
function getInstance(): Instance {
  if (instance !== undefined) return instance;
  const config = loadConversationConfig(env);
  const context = new InvocationContext({
    ...(config.credentials !== undefined ? { credentials: config.credentials } : {}),
    ...(config.region !== undefined ? { region: config.region } : {}),
    ...(config.accountId !== undefined ? { accountId: config.accountId } : {}),
  });
  const logger = createLogger({ level: config.logLevel, secrets: secretValues(env), base: { fn: 'conversation' } });
  const invoker = createFcInvoker({
    functionName: config.replyFunctionName,
    ...(config.fcEndpoint !== undefined ? { endpoint: config.fcEndpoint } : {}),
    target: () => ({ accountId: context.accountId(), region: context.region(), credentials: context.credentials() }),
  });
  instance = { context, deps: { appSecret: config.appSecret, invoker, clock: systemClock, logger } };
  return instance;
}

/** FC 3.0 handler: `event` is the HTTP-trigger event (a Buffer of JSON). */
export async function handler(event: unknown, context: unknown): Promise<FcHttpResult> {
  let request: HttpRequest;
  try {
    request = parseHttpTriggerEvent(event);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) {
      // Refused before the event was decoded: an oversized body never costs memory.
      fallbackLogger.warn('conversation.rejected', { status: 413, bytes: error.bytes, limit: error.limit });
      return toFcHttpResult(payloadTooLarge());
    }
    fallbackLogger.warn('conversation.bad_event', { message: error instanceof Error ? error.message : String(error) });
    return toFcHttpResult(jsonResponse(400, { error: 'bad_request', message: 'not an FC HTTP-trigger event' }));
  }
  const response = await handleConversationRequest(request, {
    health: () => ({
      name: 'dingtalk-llm-conversation',
      version: BOT_VERSION,
      secretConfigured: Boolean(env.DINGTALK_APP_SECRET?.trim() || env.DINGTALK_CLIENT_SECRET?.trim()),
      replyTargetConfigured: Boolean(env.REPLY_FUNCTION_NAME?.trim()),
    }),
    ready: () => {
      const current = getInstance();
      const fc = current.context.update(context);
      return fc.requestId !== undefined ? { ...current.deps, logger: current.deps.logger.child({ requestId: fc.requestId }) } : current.deps;
    },
    fallbackLogger,
  });
  return toFcHttpResult(response);
}
