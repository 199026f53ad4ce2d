/**
 * `npm start`: the bot on one machine. Serves the conversation bundle's HTTP trigger (FC's event in,
 * FC's result out), gives it a local FC endpoint that runs the reply bundle, and, without an API key,
 * an offline responder in place of the LLM. Everything the bundles do is what they do in the cloud.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { preview, secretValues, type Env } from '../shared/config/load-config';
import { describeError } from '../shared/errors';
import { createLogger } from '../shared/logging/logger';
import { systemClock, type Logger } from '../shared/ports';
import { BOT_VERSION } from '../shared/version';
import { loadBundle, type FcHandler } from './bundles';
import { applyLocalEnvFiles } from './env-file';
import { startFcEndpoint, type FcEndpoint } from './fc-endpoint';
import { toHttpTriggerEvent, writeHandlerResult } from './http-to-fc-event';
import { listen, readBody, sendJson, type Listener } from './http-util';
import { describeHistory, LOCAL_ACCOUNT_ID, localAccessKey, localEnvironment, useOfflineLlm } from './local-env';
import { localSecret, type LocalSecret } from './local-secret';
import { localSetting } from './local-variables';
import { OFFLINE_MODEL, startOfflineLlm, type OfflineLlm } from './offline-llm';

/** Options of `startLocalBot`. */
export interface LocalBotOptions {
  /** The environment the bundles read: `process.env` (changed while the bot runs, restored by close). */
  env: NodeJS.ProcessEnv;
  /** Folder holding `conversation/index.js` and `reply/index.js`. */
  distDir: string;
  /** Folder of local state (history, generated secret). */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9000; 0 picks a free port. */
  port?: number;
  logger: Logger;
  /** Pause before FC-style reruns of a failed reply. Default 1000 ms. */
  retryDelayMs?: number;
}

/** A running local bot. */
export interface LocalBot {
  /** The conversation function's URL (the message receiving address). */
  readonly url: string;
  readonly secret: LocalSecret;
  /** Where history is kept, and which LLM answers, in words. */
  readonly history: string;
  readonly llm: string;
  readonly offline: boolean;
  /** Resolves once no reply is queued or running (tests). */
  idle(): Promise<void>;
  /**
   * Stops taking messages, lets the replies in flight finish for up to `graceMs` (default 10 s), logs
   * the others as abandoned, stops the helpers and restores the environment.
   */
  close(graceMs?: number): Promise<{ abandoned: number }>;
}

/** Starts the local bot. The bundles are loaded from `distDir` as they are. */
export async function startLocalBot(options: LocalBotOptions): Promise<LocalBot> {
  const { env, logger } = options;
  const dataDir = path.resolve(options.dataDir);
  const secret = localSecret(env, dataDir);
  const accessKey = localAccessKey(env);
  const offline: OfflineLlm | undefined = useOfflineLlm(env) ? await startOfflineLlm() : undefined;
  const conversationName = env.CONVERSATION_FUNCTION_NAME?.trim() || 'dingtalk-llm-conversation';
  let reply: FcHandler | undefined;
  let endpoint: FcEndpoint | undefined;
  let listener: Listener | undefined;
  const saved = new Map<string, string | undefined>();
  try {
    const region = env.FC_REGION?.trim() || 'cn-hangzhou';
    const replyName = env.REPLY_FUNCTION_NAME?.trim() || 'dingtalk-llm-reply';
    endpoint = await startFcEndpoint({
      accountId: LOCAL_ACCOUNT_ID,
      region,
      keys: [accessKey],
      functions: { [replyName]: (event, context) => (reply as FcHandler)(event, context) },
      logger,
      clock: systemClock,
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    });
    const overrides = localEnvironment(env, {
      appSecret: secret.value,
      fcEndpoint: endpoint.url,
      accessKey,
      dataDir,
      ...(offline !== undefined ? { offline: { baseURL: offline.baseURL, apiKey: offline.apiKey, model: OFFLINE_MODEL } } : {}),
    });
    for (const [name, value] of Object.entries(overrides)) {
      saved.set(name, env[name]);
      env[name] = value;
    }
    const conversation = loadBundle(options.distDir, 'conversation');
    reply = loadBundle(options.distDir, 'reply');

    listener = await listen(
      async (req, res) => {
        const requestId = randomUUID();
        const body = await readBody(req);
        const event = toHttpTriggerEvent(req, body, { requestId, accountId: LOCAL_ACCOUNT_ID, domainName: req.headers.host ?? 'localhost', now: Date.now() });
        const context = {
          requestId,
          region,
          accountId: LOCAL_ACCOUNT_ID,
          credentials: { ...accessKey },
          function: { name: conversationName, handler: 'index.handler', memory: 128, timeout: 10 },
          service: {},
          tracing: {},
        };
        try {
          writeHandlerResult(res, await conversation(event, context), requestId);
        } catch (error) {
          // FC answers 502 when the handler throws.
          logger.error('local.handler_failed', { requestId, error: describeError(error) });
          sendJson(res, 502, { errorMessage: 'the conversation handler threw; see the log above' }, { 'x-fc-request-id': requestId });
        }
      },
      { host: options.host ?? '127.0.0.1', port: options.port ?? 9000 },
    );
  } catch (error) {
    await Promise.all([endpoint?.close(0), offline?.close(), listener?.close()]);
    for (const [name, value] of saved) env[name] = value;
    throw error;
  }

  const llmEnv: Env = { ...env };
  const model = llmEnv.OPENAI_MODEL?.trim() || 'gpt-4o-mini';
  const base = llmEnv.OPENAI_BASE_URL?.trim() || llmEnv.OPENAI_API_BASE?.trim() || 'https://api.openai.com/v1';
  const server = listener;
  const fc = endpoint;
  return {
    url: `${server.url}/`,
    secret,
    history: describeHistory(env),
    llm:
      offline !== undefined
        ? `offline responder (${saved.get('OPENAI_API_KEY')?.trim() ? 'FORCE_MOCK_OPENAI is set' : 'no OPENAI_API_KEY'}): canned answers, not an LLM`
        : `${model} at ${base}`,
    offline: offline !== undefined,
    idle: () => fc.idle(),
    async close(graceMs = 10_000) {
      await server.close();
      const result = await fc.close(graceMs);
      await offline?.close();
      for (const [name, value] of saved) {
        if (value === undefined) delete env[name];
        else env[name] = value;
      }
      return result;
    },
  };
}

/** The start banner: where to point DingTalk, where history is, which LLM answers, how to chat. */
export function startBanner(bot: LocalBot): string {
  const secret =
    bot.secret.source === 'environment'
      ? `from DINGTALK_APP_SECRET (${preview(bot.secret.value)})`
      : `${bot.secret.value}  (${bot.secret.source === 'generated' ? 'generated, saved in' : 'from'} ${path.relative(process.cwd(), bot.secret.file ?? '')})`;
  return [
    `DingTalk LLM bot ${BOT_VERSION}, local mode`,
    `  message receiving URL  ${bot.url}  (for a real robot, expose it through a tunnel: see the README)`,
    `  app secret             ${secret}`,
    `  history                ${bot.history}`,
    `  LLM                    ${bot.llm}`,
    '  chat with it           npm run chat   (in a second terminal)',
    'Ctrl-C stops.',
    '',
  ].join('\n');
}

/** `npm start`. */
export async function main(): Promise<void> {
  const env = process.env;
  applyLocalEnvFiles(env);
  const dataDir = localSetting(env, 'LOCAL_DATA_DIR');
  const logger = createLogger({ secrets: secretValues(env), base: { fn: 'local' } });
  const port = Number(localSetting(env, 'PORT'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`PORT must be a port number (got ${preview(env.PORT ?? '')})\n`);
    process.exit(2);
  }
  let bot: LocalBot;
  try {
    bot = await startLocalBot({ env, distDir: path.resolve('dist'), dataDir, host: localSetting(env, 'HOST'), port, logger });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    process.stderr.write(
      code === 'EADDRINUSE'
        ? `Port ${port} is already in use: is npm start running in another terminal? Stop it, or set PORT to another port.\n`
        : `Could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(startBanner(bot));
  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      process.stderr.write('Stopping now; replies in flight are abandoned.\n');
      process.exit(130);
    }
    stopping = true;
    process.stderr.write('Stopping: waiting up to 10 s for replies in flight (Ctrl-C again to stop at once)...\n');
    void bot.close().then(({ abandoned }) => process.exit(abandoned > 0 ? 1 : 0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
