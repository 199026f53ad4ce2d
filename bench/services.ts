import { startDingTalkOpenApiFake, type DingTalkOpenApiFake } from '../test/fakes/dingtalk-openapi-fake';
import { startFcApiFake, type FcApiFake } from '../test/fakes/fc-api-fake';
import { startOpenAiFake, type OpenAiFake, type OpenAiFakeChatRequest } from '../test/fakes/openai-fake';
import { startOssFake, type OssFake } from '../test/fakes/oss-fake';
import { startWebhookSink, type WebhookSink } from '../test/fakes/webhook-sink';
import { fcContext, STS_CREDENTIALS } from '../test/helpers/fc-context';
import { isMemoryUpdate, memoryUpdateAnswer } from './memory';
import { fillerText } from './messages';
import type { FunctionSizing } from './s-yaml-sizing';
import { ServerWaits } from './server-waits';

/** Names and secrets the fakes and the bundles agree on; none of them is real. */
export const BENCH = {
  secret: 'bench-app-secret-0123456789abcdef',
  apiKey: 'sk-bench-0123456789',
  model: 'gpt-4o-mini',
  accountId: '1234567890123456',
  bucket: 'bench-history',
  replyFunction: 'dingtalk-llm-reply',
  systemPrompt: 'You are a helpful assistant in a DingTalk chat. Answer concisely.',
  /** DINGTALK_CLIENT_ID (the robotCode); its secret is {@link BENCH.secret}, as the app's one secret. */
  clientId: 'dingbenchclientid01',
  cardTemplate: 'bench-ai-card.schema',
  /** VISION_MODEL: the only model the LLM fake lets take pictures. */
  visionModel: 'qwen-vl-max',
} as const;

/** What runs the reply function when the FC fake receives an async invocation of it. */
export type ReplyRunner = (payload: Buffer) => Promise<unknown>;

/** The loopback services one bench run talks to, and the waits measured inside the LLM fake and webhook sink. */
export interface Services {
  fc: FcApiFake;
  oss: OssFake;
  openai: OpenAiFake;
  sink: WebhookSink;
  /** DingTalk's OpenAPI (token, cards), for the reply with cards configured. */
  dingtalk: DingTalkOpenApiFake;
  waits: ServerWaits;
  llmPort: number;
  webhookPort: number;
  /**
   * Makes the FC fake hand the reply function's invocations to `runner` (to a reply process, for the
   * streaming figures); without one it accepts them and runs nothing, as the other steps want.
   */
  runReplies(runner?: ReplyRunner): void;
  close(): Promise<void>;
}

const portOf = (url: string): number => Number(new URL(url).port);

/** The question of a chat request: its last message. */
const questionOf = (request: OpenAiFakeChatRequest): string => request.messages[request.messages.length - 1]?.content ?? '';

const runNothing: ReplyRunner = async () => undefined;

/**
 * Starts the fakes on 127.0.0.1. The FC fake accepts the async invocation and, unless told otherwise
 * ({@link Services.runReplies}), runs nothing (reply is measured on its own); the LLM fake answers at once
 * with a text as long as the question, so an exchange of a 1 KB question weighs 2 KB in the history, and
 * the memory's update call with the list it was given (see `memoryUpdateAnswer`).
 */
export async function startServices(): Promise<Services> {
  let runner = runNothing;
  const fc = await startFcApiFake({
    accountId: BENCH.accountId,
    credentials: [STS_CREDENTIALS],
    functions: { [BENCH.replyFunction]: { handler: (payload) => runner(payload) } },
  });
  const oss = await startOssFake({ bucket: BENCH.bucket, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  const openai = await startOpenAiFake({ apiKey: BENCH.apiKey, models: [BENCH.model, BENCH.visionModel], visionModels: [BENCH.visionModel] });
  openai.respondWith((request) =>
    isMemoryUpdate(request.body) ? memoryUpdateAnswer(request) : fillerText(Math.max(1, questionOf(request).length), questionOf(request).length),
  );
  const sink = await startWebhookSink();
  const dingtalk = await startDingTalkOpenApiFake({ clientId: BENCH.clientId, clientSecret: BENCH.secret, templates: [BENCH.cardTemplate] });
  const llmPort = portOf(openai.url);
  const webhookPort = portOf(sink.url);
  const waits = new ServerWaits([llmPort, webhookPort]);
  return {
    fc,
    oss,
    openai,
    sink,
    dingtalk,
    waits,
    llmPort,
    webhookPort,
    runReplies(next = runNothing) {
      runner = next;
    },
    async close() {
      waits.stop();
      await fc.idle();
      await Promise.all([fc.close(), oss.close(), openai.close(), sink.close(), dingtalk.close()]);
    },
  };
}

/** The conversation function's variables, as s.yaml sets them, pointed at the FC fake. */
export function conversationEnv(services: Services): Record<string, string> {
  return { DINGTALK_APP_SECRET: BENCH.secret, REPLY_FUNCTION_NAME: BENCH.replyFunction, FC_ENDPOINT: services.fc.url };
}

/**
 * The reply function's variables, pointed at the fakes; `overrides` sets HISTORY_LENGTH and the like. The
 * long-term memory is on, as shipped (MEMORY_ENABLED's default); `MEMORY_OFF` turns it off.
 */
export function replyEnv(services: Services, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    OPENAI_API_KEY: BENCH.apiKey,
    OPENAI_BASE_URL: services.openai.baseURL,
    OPENAI_MODEL: BENCH.model,
    SYSTEM_PROMPT: BENCH.systemPrompt,
    OSS_BUCKET: BENCH.bucket,
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: services.oss.url,
    DINGTALK_WEBHOOK_HOSTS: '127.0.0.1',
    ...overrides,
  };
}

/**
 * AI cards configured, over {@link replyEnv}: the app's Client ID and secret, a card template, and
 * DingTalk's OpenAPI at the fake. CARD_UPDATE_INTERVAL_MS stays at its default.
 */
export function cardEnv(services: Services): Record<string, string> {
  return {
    DINGTALK_CLIENT_ID: BENCH.clientId,
    DINGTALK_APP_SECRET: BENCH.secret,
    DINGTALK_CARD_TEMPLATE_ID: BENCH.cardTemplate,
    DINGTALK_API_BASE: services.dingtalk.url,
  };
}

/**
 * Pictures readable, over {@link replyEnv}: the app's Client ID and secret (the download goes through DingTalk's
 * OpenAPI, at the fake) and VISION_MODEL; no card template, so answers go to the session webhook.
 */
export function pictureEnv(services: Services): Record<string, string> {
  return {
    DINGTALK_CLIENT_ID: BENCH.clientId,
    DINGTALK_APP_SECRET: BENCH.secret,
    DINGTALK_API_BASE: services.dingtalk.url,
    VISION_MODEL: BENCH.visionModel,
  };
}

/**
 * The FC context a handler receives (account, region, the role's STS credentials); with `sizing`, the
 * memory and timeout s.yaml deploys (the reply's deadline follows the timeout).
 */
export function handlerContext(functionName: string, sizing?: FunctionSizing): Record<string, unknown> {
  const context = fcContext({ functionName });
  if (sizing !== undefined) context.function = { ...(context.function as object), memory: sizing.memoryMb, timeout: sizing.timeoutS };
  // The runtime's context carries a console-backed logger; it cannot cross a process boundary.
  delete context.logger;
  return context;
}
