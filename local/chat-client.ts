/**
 * The terminal chat's DingTalk side: it POSTs signed robot callbacks to the bot, runs the session
 * webhook the bot answers into (on 127.0.0.1), and hands back what arrived there for each message.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dingtalkHeaders, dingtalkTextMessage } from './dingtalk-payload';
import { listen, readBody, sendJson, type Listener } from './http-util';
import { validateDingTalkMessage } from './robot-message';

/** Why a message got no answer. */
export type ChatFailure = 'not-running' | 'signature-refused' | 'refused' | 'timeout';

/** A message that got no answer, with a sentence saying what to do. */
export class ChatError extends Error {
  constructor(
    readonly reason: ChatFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

/** Options of `startChatClient`. */
export interface ChatClientOptions {
  /** The bot's message receiving URL. */
  url: string;
  secret: string;
  user: string;
  group: boolean;
  /** How long to wait for the answer of one message. */
  timeoutMs: number;
  /** Where the secret came from, for the "signature refused" message. */
  secretSource: string;
  /** Called with a valid message that arrived after its question was answered or gave up. */
  onLateMessage?: (body: unknown) => void;
  /** Called with a message DingTalk would refuse, and why. */
  onInvalidMessage?: (reason: string) => void;
  now?: () => number;
}

/** A running chat client. */
export interface ChatClient {
  /** Sends `text` and resolves with the robot message(s) that answered it (the first one, at least). */
  send(text: string): Promise<unknown[]>;
  close(): Promise<void>;
}

interface Waiter {
  received: unknown[];
  resolve: () => void;
}

/** Starts the chat client's session webhook on 127.0.0.1. */
export async function startChatClient(options: ChatClientOptions): Promise<ChatClient> {
  const now = options.now ?? Date.now;
  const waiters = new Map<string, Waiter>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req, 1024 * 1024);
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method !== 'POST' || url.pathname !== '/robot/sendBySession') return sendJson(res, 404, { errcode: 404, errmsg: 'not found' });
    const session = url.searchParams.get('session') ?? '';
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      body = undefined;
    }
    const invalid = body === undefined ? 'body is not valid JSON' : validateDingTalkMessage(body);
    if (invalid !== undefined) {
      options.onInvalidMessage?.(invalid);
      return sendJson(res, 200, { errcode: 40035, errmsg: `缺少参数 json: ${invalid}` });
    }
    const waiter = waiters.get(session);
    if (waiter === undefined) options.onLateMessage?.(body);
    else {
      waiter.received.push(body);
      waiter.resolve();
    }
    sendJson(res, 200, { errcode: 0, errmsg: 'ok' });
  };
  const webhook: Listener = await listen(handle);

  async function post(text: string, session: string): Promise<void> {
    const sent = now();
    const payload = dingtalkTextMessage({
      text,
      user: options.user,
      group: options.group,
      sessionWebhook: `${webhook.url}/robot/sendBySession?session=${session}`,
      now: sent,
    });
    let response: Response;
    try {
      response = await fetch(options.url, { method: 'POST', headers: dingtalkHeaders(options.secret, sent), body: JSON.stringify(payload) });
    } catch (error) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new ChatError(
        'not-running',
        `No bot answers at ${options.url}${typeof code === 'string' ? ` (${code})` : ''}: start it with \`npm start\` in another terminal, or pass --url.`,
      );
    }
    const answer = await response.text();
    if (response.status === 401) {
      throw new ChatError(
        'signature-refused',
        `The bot refused the signature (401): this chat signs with the secret ${options.secretSource}, and the bot has another. ` +
          'Run both in the same folder, or give both the same DINGTALK_APP_SECRET.',
      );
    }
    if (response.status !== 200) {
      let detail = answer.slice(0, 200);
      try {
        const parsed = JSON.parse(answer) as { message?: unknown };
        if (typeof parsed.message === 'string') detail = parsed.message;
      } catch {
        // not JSON: the raw text is the detail
      }
      throw new ChatError('refused', `The bot answered ${response.status}: ${detail}`);
    }
  }

  return {
    async send(text) {
      const session = randomBytes(16).toString('hex');
      const received: unknown[] = [];
      let timer: NodeJS.Timeout | undefined;
      const arrived = new Promise<boolean>((resolve) => {
        waiters.set(session, { received, resolve: () => resolve(true) });
        timer = setTimeout(() => resolve(false), options.timeoutMs);
      });
      try {
        await post(text, session);
        if (!(await arrived)) {
          throw new ChatError(
            'timeout',
            `No reply within ${options.timeoutMs / 1000} s: the bot took the message but did not answer. Look for reply.* lines in the npm start terminal.`,
          );
        }
        return received;
      } finally {
        clearTimeout(timer);
        waiters.delete(session);
      }
    },
    close: () => webhook.close(),
  };
}
