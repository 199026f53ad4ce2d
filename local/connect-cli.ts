/**
 * `npm run connect`: the local bot of `npm start` (the same bundles, local FC endpoint and history) fed by
 * a real DingTalk robot over Stream mode, so no public URL or tunnel is needed. Each robot message arrives
 * as a Stream CALLBACK whose data is the very JSON DingTalk POSTs in HTTP mode; it is signed with the app
 * secret as DingTalk signs (`timestamp`, `sign`) and POSTed to the local conversation URL, so it takes the
 * one path every message takes (signature, parse, async invocation, reply). The callback is acknowledged
 * once the conversation function answered; the reply goes to the message's session webhook, or a card, as
 * configured.
 */
import path from 'node:path';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { preview, secretValues } from '../shared/config/load-config';
import { createLogger } from '../shared/logging/logger';
import { BOT_VERSION } from '../shared/version';
import { ROBOT_MESSAGE_TOPIC, startStreamClient, StreamOpenError, type StreamAck, type StreamClient, type StreamCredentials, type StreamEvent, type StreamFrame } from './connect-stream';
import { dingtalkHeaders } from './dingtalk-payload';
import { applyLocalEnvFiles } from './env-file';
import { localSetting } from './local-variables';
import { startLocalBot, type LocalBot, type LocalBotOptions } from './server';
import { isRecord } from '../shared/util/is-record';

/** DINGTALK_API_BASE's default: the Stream gateway's open endpoint lives on the OpenAPI origin. */
export const DEFAULT_API_BASE = 'https://api.dingtalk.com';

/** The credentials `npm run connect` needs, or a sentence saying what is missing and where to put it. */
export function connectCredentials(env: Readonly<Record<string, string | undefined>>): StreamCredentials | { error: string } {
  const clientId = env.DINGTALK_CLIENT_ID?.trim() ?? '';
  const clientSecret = env.DINGTALK_APP_SECRET?.trim() || env.DINGTALK_CLIENT_SECRET?.trim() || '';
  const missing = [clientId === '' ? 'DINGTALK_CLIENT_ID (the Client ID)' : '', clientSecret === '' ? 'DINGTALK_APP_SECRET (the Client Secret)' : ''].filter((name) => name !== '');
  if (missing.length > 0) {
    return {
      error:
        `npm run connect receives your robot's messages with its app's credentials, and ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set.\n` +
        "Copy them from the DingTalk developer console → your app → Credentials & Basic Info, into .env.local (this machine only; s deploy never reads it):\n" +
        '  DINGTALK_CLIENT_ID=ding...\n  DINGTALK_APP_SECRET=...\n' +
        'Use a test robot of its own if the real one already answers in HTTP mode: one robot receives in one mode.',
    };
  }
  const apiBase = env.DINGTALK_API_BASE?.trim() || DEFAULT_API_BASE;
  try {
    new URL(apiBase);
  } catch {
    return { error: `DINGTALK_API_BASE must be a URL (got ${preview(apiBase)}); leave it unset for ${DEFAULT_API_BASE}.` };
  }
  return { apiBase, clientId, clientSecret };
}

/** Options of {@link startConnect}: the local bot's (see `startLocalBot`), and the Stream connection's. */
export interface ConnectOptions extends LocalBotOptions {
  credentials: StreamCredentials;
  /** Receives one line per message and per connection change. */
  print: (line: string) => void;
  /** Whether the message lines may show the text (LOG_LEVEL=debug, as for the bundles' logs). */
  showText?: boolean;
  /** See `StreamClientOptions`. */
  reconnectDelayMs?: (attempt: number) => number;
  keepAliveMs?: number;
}

/** A running `npm run connect`. */
export interface Connected {
  readonly bot: LocalBot;
  readonly stream: StreamClient;
  /** Stops receiving (acknowledging what is in flight), then stops the bot (see `LocalBot.close`). */
  stop(graceMs?: number): Promise<{ abandoned: number }>;
}

const field = (body: Record<string, unknown>, name: string): string => (typeof body[name] === 'string' ? body[name] : '');

/** `1:1 from Zhang San, text of 12 characters` (with the text itself when `showText`). */
export function describeRobotMessage(data: string, showText: boolean): string {
  let body: unknown;
  try {
    body = JSON.parse(data) as unknown;
  } catch {
    return 'a message that is not JSON';
  }
  if (!isRecord(body)) return 'a message that is not a JSON object';
  const sender = field(body, 'senderNick') || field(body, 'senderStaffId') || 'someone';
  const where = field(body, 'conversationType') === '2' ? `group ${JSON.stringify(field(body, 'conversationTitle') || field(body, 'conversationId'))}` : '1:1';
  const kind = field(body, 'msgtype') || 'unknown';
  const text = kind === 'text' && isRecord(body.text) && typeof body.text.content === 'string' ? body.text.content.trim() : undefined;
  const what = text === undefined ? kind : showText ? JSON.stringify(text.length > 60 ? `${text.slice(0, 59)}…` : text) : `text of ${[...text].length} characters`;
  return `${where} from ${sender}, ${what}`;
}

const clock = (): string => new Date().toTimeString().slice(0, 8);

/** The message of a conversation function's refusal (`{message}`), or the start of its body. */
function refusal(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (isRecord(body) && typeof body.message === 'string') return body.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 120);
}

/**
 * Starts the local bot, then the Stream client that feeds it. Rejects (with the bot stopped) when either
 * cannot start: a `StreamOpenError` when DingTalk refuses the credentials, for instance.
 */
export async function startConnect(options: ConnectOptions): Promise<Connected> {
  const { print } = options;
  const bot = await startLocalBot({
    env: options.env,
    distDir: options.distDir,
    dataDir: options.dataDir,
    logger: options.logger,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
  });

  /** One robot message into the local pipeline, exactly as DingTalk's HTTP mode would POST it. */
  async function forward(frame: StreamFrame): Promise<StreamAck> {
    const what = describeRobotMessage(frame.data, options.showText === true);
    const now = Date.now();
    let response: Response;
    try {
      response = await fetch(bot.url, {
        method: 'POST',
        headers: { ...dingtalkHeaders(bot.secret.value, now), 'user-agent': 'DingTalk-Stream (npm run connect)' },
        body: frame.data,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      print(`${clock()}  ${what} → not delivered: the local conversation function did not answer (${error instanceof Error ? error.message : String(error)})`);
      return { code: 500, message: 'the local conversation function did not answer' };
    }
    const text = await response.text();
    if (response.ok) {
      print(`${clock()}  ${what} → accepted`);
      return { code: 200, message: 'OK' };
    }
    const reason = refusal(text);
    print(`${clock()}  ${what} → refused by the conversation function (${response.status}: ${reason})`);
    // A refusal (4xx) would be refused again; a failure (5xx) may pass if DingTalk sends the message again.
    return response.status < 500 ? { code: 400, message: reason } : { code: 500, message: reason };
  }

  const onEvent = (event: StreamEvent): void => {
    if (event.type === 'connected' && event.connection > 1) print(`${clock()}  reconnected to DingTalk`);
    else if (event.type === 'disconnect-requested') print(`${clock()}  DingTalk asked to reconnect${event.reason ? ` (${event.reason})` : ''}`);
    else if (event.type === 'reconnecting' && event.error === undefined) print(`${clock()}  the connection to DingTalk closed; opening a new one`);
    else if (event.type === 'reconnecting' && event.error !== undefined) {
      print(`${clock()}  could not reconnect (${event.error}); trying again in ${Math.round(event.delayMs / 1000)} s`);
    } else if (event.type === 'frame-ignored') print(`${clock()}  ignored a frame from DingTalk: ${event.reason}`);
  };

  let stream: StreamClient;
  try {
    stream = await startStreamClient({
      ...options.credentials,
      callbacks: { [ROBOT_MESSAGE_TOPIC]: forward },
      ua: `dingtalk-llm-fc/${BOT_VERSION} (npm run connect)`,
      onEvent,
      ...(options.reconnectDelayMs !== undefined ? { reconnectDelayMs: options.reconnectDelayMs } : {}),
      ...(options.keepAliveMs !== undefined ? { keepAliveMs: options.keepAliveMs } : {}),
    });
  } catch (error) {
    await bot.close(0);
    throw error;
  }
  const client = stream;
  return {
    bot,
    stream: client,
    async stop(graceMs) {
      await client.stop();
      return bot.close(graceMs);
    },
  };
}

/** The start banner: which robot, where history is, which LLM answers, and what to do when deploying. */
export function connectBanner(connected: Connected, clientId: string): string {
  const { bot } = connected;
  return [
    `DingTalk LLM bot ${BOT_VERSION}, local mode with your robot over DingTalk Stream mode (no public URL)`,
    `  robot                  Client ID ${clientId}, connected`,
    `  history                ${bot.history}`,
    `  LLM                    ${bot.llm}`,
    `  local URL              ${bot.url}  (npm run chat works too, in a second terminal)`,
    "Write to the robot in DingTalk (1:1, or @ it in a group): each message is shown here, answered by this machine.",
    "Nothing arrives? The robot's message receiving mode must be Stream mode (developer console → your app → robot).",
    'When you deploy: switch the robot to HTTP mode and paste the conversation function\'s URL printed by s deploy;',
    'a robot receives in one mode at a time, so stop npm run connect then.',
    'Ctrl-C stops.',
    '',
  ].join('\n');
}

/** What `npm run connect` runs with; `main` fills it from the process. */
export interface ConnectCliOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  output: Writable;
  errors: Writable;
  distDir: string;
  /** Resolves when the user asks to stop (Ctrl-C). */
  stopRequested: Promise<void>;
  /** For tests: see {@link ConnectOptions}. */
  reconnectDelayMs?: (attempt: number) => number;
}

const USAGE = `Usage: npm run connect
Answers your real DingTalk robot from this machine over DingTalk's Stream mode: no public URL, no tunnel.
Needs DINGTALK_CLIENT_ID and DINGTALK_APP_SECRET (the app's Client ID and Client Secret) in the shell,
.env.local or .env, and the robot's message receiving mode set to Stream mode. Everything else is as in
npm start: the same bundles, history in .data/history, the offline responder without OPENAI_API_KEY.
`;

/** Why the first connection failed, and what to do. */
export function describeStartFailure(error: unknown, port: number): string {
  if (error instanceof StreamOpenError) {
    if (error.reason === 'credentials') {
      return (
        `DingTalk refused the Client ID and Client Secret (${error.message}).\n` +
        'Copy both again from the developer console → your app → Credentials & Basic Info (DINGTALK_CLIENT_ID, DINGTALK_APP_SECRET), without spaces or quotes.\n'
      );
    }
    if (error.reason === 'network') return `DingTalk's Stream gateway is out of reach: ${error.message}. Check the network (or the proxy) and try again.\n`;
    return `DingTalk's Stream gateway did not open a connection: ${error.message}.\nCheck that the app has the robot capability and that the robot is published.\n`;
  }
  if ((error as { code?: unknown }).code === 'EADDRINUSE') {
    return `Port ${port} is already in use: is npm start running in another terminal? npm run connect runs the bot itself; stop it, or set PORT to another port.\n`;
  }
  return `Could not start: ${error instanceof Error ? error.message : String(error)}\n`;
}

/** Runs `npm run connect` until `stopRequested`; resolves with the exit code. */
export async function runConnect(options: ConnectCliOptions): Promise<number> {
  const { env, output, errors } = options;
  let args;
  try {
    args = parseArgs({ args: [...options.argv], options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: false }).values;
  } catch (error) {
    errors.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    output.write(USAGE);
    return 0;
  }
  applyLocalEnvFiles(env);
  const credentials = connectCredentials(env);
  if ('error' in credentials) {
    errors.write(`${credentials.error}\n`);
    return 2;
  }
  const port = Number(localSetting(env, 'PORT'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    errors.write(`PORT must be a port number (got ${preview(env.PORT ?? '')})\n`);
    return 2;
  }
  const logger = createLogger({ secrets: secretValues(env), base: { fn: 'local' } });
  let connected: Connected;
  try {
    connected = await startConnect({
      env,
      distDir: options.distDir,
      dataDir: localSetting(env, 'LOCAL_DATA_DIR'),
      host: localSetting(env, 'HOST'),
      port,
      logger,
      credentials,
      print: (line) => output.write(`${line}\n`),
      showText: (env.LOG_LEVEL ?? '').trim().toLowerCase() === 'debug',
      ...(options.reconnectDelayMs !== undefined ? { reconnectDelayMs: options.reconnectDelayMs } : {}),
    });
  } catch (error) {
    errors.write(describeStartFailure(error, port));
    return 1;
  }
  output.write(connectBanner(connected, credentials.clientId));
  await options.stopRequested;
  errors.write('Stopping: no new messages; waiting up to 10 s for replies in flight (Ctrl-C again to stop at once)...\n');
  const { abandoned } = await connected.stop();
  return abandoned > 0 ? 1 : 0;
}

/** `npm run connect`. */
export async function main(): Promise<void> {
  let requested = false;
  let resolveStop: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (resolveStop = resolve));
  const stop = (): void => {
    if (requested) {
      process.stderr.write('Stopping now; replies in flight are abandoned.\n');
      process.exit(130);
    }
    requested = true;
    resolveStop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await runConnect({ argv: process.argv.slice(2), env: process.env, output: process.stdout, errors: process.stderr, distDir: path.resolve('dist'), stopRequested });
  process.exit(code);
}
