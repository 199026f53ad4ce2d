import { startFcApiFake, type FcApiFake } from '../test/fakes/fc-api-fake';
import { startOpenAiFake, type OpenAiFake, type OpenAiFakeChatRequest } from '../test/fakes/openai-fake';
import { startOssFake, type OssFake } from '../test/fakes/oss-fake';
import { startWebhookSink, type WebhookSink } from '../test/fakes/webhook-sink';
import { fcContext, STS_CREDENTIALS } from '../test/helpers/fc-context';
import { fillerText } from './messages';
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
} as const;

/** The loopback services one bench run talks to, and the waits measured inside the LLM fake and webhook sink. */
export interface Services {
  fc: FcApiFake;
  oss: OssFake;
  openai: OpenAiFake;
  sink: WebhookSink;
  waits: ServerWaits;
  llmPort: number;
  webhookPort: number;
  close(): Promise<void>;
}

const portOf = (url: string): number => Number(new URL(url).port);

/** The question of a chat request: its last message. */
const questionOf = (request: OpenAiFakeChatRequest): string => request.messages[request.messages.length - 1]?.content ?? '';

/**
 * Starts the fakes on 127.0.0.1. The FC fake accepts the async invocation and runs nothing (reply is
 * measured on its own); the LLM fake answers at once with a text as long as the question, so an exchange
 * of a 1 KB question weighs 2 KB in the history.
 */
export async function startServices(): Promise<Services> {
  const fc = await startFcApiFake({
    accountId: BENCH.accountId,
    credentials: [STS_CREDENTIALS],
    functions: { [BENCH.replyFunction]: { handler: async () => undefined } },
  });
  const oss = await startOssFake({ bucket: BENCH.bucket, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  const openai = await startOpenAiFake({ apiKey: BENCH.apiKey, models: [BENCH.model] });
  openai.respondWith((request) => fillerText(Math.max(1, questionOf(request).length), questionOf(request).length));
  const sink = await startWebhookSink();
  const llmPort = portOf(openai.url);
  const webhookPort = portOf(sink.url);
  const waits = new ServerWaits([llmPort, webhookPort]);
  return {
    fc,
    oss,
    openai,
    sink,
    waits,
    llmPort,
    webhookPort,
    async close() {
      waits.stop();
      await fc.idle();
      await Promise.all([fc.close(), oss.close(), openai.close(), sink.close()]);
    },
  };
}

/** The conversation function's variables, as s.yaml sets them, pointed at the FC fake. */
export function conversationEnv(services: Services): Record<string, string> {
  return { DINGTALK_APP_SECRET: BENCH.secret, REPLY_FUNCTION_NAME: BENCH.replyFunction, FC_ENDPOINT: services.fc.url };
}

/** The reply function's variables, pointed at the fakes; `overrides` sets HISTORY_LENGTH and the like. */
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

/** The FC context a handler receives (account, region, the role's STS credentials). */
export function handlerContext(functionName: string): Record<string, unknown> {
  const context = fcContext({ functionName });
  // The runtime's context carries a console-backed logger; it cannot cross a process boundary.
  delete context.logger;
  return context;
}
