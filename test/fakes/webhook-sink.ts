/**
 * A local stand-in for DingTalk's session webhook (`POST /robot/sendBySession?session=...`), the
 * URL DingTalk hands the robot in `sessionWebhook` to reply into a conversation.
 *
 * Like DingTalk it answers HTTP 200 with a JSON `errcode`/`errmsg` for every outcome, so a reply
 * that "succeeded" at the HTTP level but was refused is only visible in the body. It checks the
 * Content-Type and validates the robot message (`text` or `markdown`, optional `at`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_CONTENT_BYTES, validateDingTalkMessage } from '../../local/robot-message';
import { flatHeaders, headerValue, listenOnLoopback, readBody, sendJson, TimerBag } from './http-helpers';

/** One message that reached the sink. */
export interface WebhookSinkMessage {
  /** The `session` query parameter ('' when missing). */
  session: string;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  /** The raw body text. */
  rawBody: string;
  /** Request headers, lowercase names. */
  headers: Record<string, string>;
  /** HTTP status answered. */
  status: number;
  /** DingTalk errcode answered (0 = accepted). */
  errcode: number;
  errmsg: string;
  /** Epoch ms of arrival. */
  receivedAt: number;
}

/** A scripted answer for one request (see {@link WebhookSink.queue}). */
export interface WebhookSinkQueueItem {
  /** HTTP status; default 200 (DingTalk reports errors in the body). */
  status?: number;
  /** errcode to answer; default 0. A non-zero code counts the message as rejected. */
  errcode?: number;
  /** errmsg; defaults to 'ok' for 0, else a generic message. */
  errmsg?: string;
  /** Delay before answering, in ms. */
  delayMs?: number;
  /**
   * Answer this raw body instead of DingTalk's JSON (e.g. a proxy's HTML page), with `contentType`
   * (default `text/html`). The message counts as rejected: DingTalk never answered it.
   */
  rawBody?: string;
  contentType?: string;
}

/** Options of {@link startWebhookSink}. */
export interface WebhookSinkOptions {
  /**
   * Refuses messages past `messages` accepted ones within any `windowMs`, with errcode 130101 ("send too fast,
   * exceed 20 times per minute"), as DingTalk does for a robot over about 20 a minute. Off by default.
   * `now` (default `Date.now`) lets a test share a manual clock with the code under test.
   */
  rateLimit?: { messages: number; windowMs: number; now?: () => number };
}

/** A running webhook sink. */
export interface WebhookSink {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The session webhook URL for `session` (default `'test-session'`). */
  webhookUrl(session?: string): string;
  /** Messages that were accepted (errcode 0), in arrival order. */
  readonly messages: WebhookSinkMessage[];
  /** Messages that were refused (invalid, expired session, injected error). */
  readonly rejected: WebhookSinkMessage[];
  /** Every request to the webhook path, accepted or not. */
  readonly requests: WebhookSinkMessage[];
  /**
   * Resolves with the accepted messages once at least `count` arrived; rejects after
   * `timeoutMs` (default 5000) with an error listing what did arrive, rejected ones included.
   */
  waitForMessages(count: number, timeoutMs?: number): Promise<WebhookSinkMessage[]>;
  /** Makes `session` answer errcode 300001 ("session 不存在"), as an expired session webhook does. */
  expireSession(session: string): void;
  /** Appends scripted answers, each consumed by one request, in order. */
  queue(...items: WebhookSinkQueueItem[]): void;
  /** Stops the server, cancels waits and delayed answers, destroys keep-alive sockets. */
  close(): Promise<void>;
}

export { validateDingTalkMessage } from '../../local/robot-message';

/** DingTalk's errcode for a message over 20,000 bytes, as its answers report it. */
const ERRCODE_TOO_LONG = 460101;
/** DingTalk's errcode for a robot over its per-minute limit. */
const ERRCODE_TOO_FAST = 130101;

/**
 * Starts the webhook sink on 127.0.0.1 (ephemeral port).
 *
 * Defaults: every session is valid until {@link WebhookSink.expireSession}; answers
 * `{"errcode":0,"errmsg":"ok"}`. Refusals, all HTTP 200: wrong Content-Type → 43004; body not
 * JSON or not a valid text/markdown message → 40035; a body or content over 20000 bytes → 460101 (the
 * code and limit DingTalk's answers report: "message too long, exceed 20000 bytes", later "body 大小不合法;
 * 请保持大小在 20000bytes 以内"); expired or missing session → 300001; over `options.rateLimit` → 130101.
 */
export async function startWebhookSink(options: WebhookSinkOptions = {}): Promise<WebhookSink> {
  const messages: WebhookSinkMessage[] = [];
  const rejected: WebhookSinkMessage[] = [];
  const requests: WebhookSinkMessage[] = [];
  const expired = new Set<string>();
  const scripted: WebhookSinkQueueItem[] = [];
  const timers = new TimerBag();
  const waiters = new Set<{ check: () => void; cancel: () => void }>();
  const { rateLimit } = options;
  const now = rateLimit?.now ?? (() => Date.now());

  /** Whether one more message now would exceed the rate limit (counting accepted messages only). */
  function overRate(): boolean {
    if (!rateLimit) return false;
    const since = now() - rateLimit.windowMs;
    return messages.filter((m) => m.receivedAt > since).length >= rateLimit.messages;
  }

  function notify(): void {
    for (const waiter of [...waiters]) waiter.check();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = (await readBody(req)).toString('utf8');
    if (req.method !== 'POST' || url.pathname !== '/robot/sendBySession') {
      sendJson(res, 404, { errcode: 404, errmsg: 'not found' });
      return;
    }
    const session = url.searchParams.get('session') ?? '';
    let body: unknown;
    let parsed = true;
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      parsed = false;
    }
    const message: WebhookSinkMessage = {
      session,
      body,
      rawBody: raw,
      headers: flatHeaders(req),
      status: 200,
      errcode: 0,
      errmsg: 'ok',
      receivedAt: now(),
    };
    requests.push(message);

    const contentType = (headerValue(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    const invalid = !parsed ? 'body is not valid JSON' : validateDingTalkMessage(body);
    let item: WebhookSinkQueueItem | undefined;
    if (contentType !== 'application/json') {
      message.errcode = 43004;
      message.errmsg = '无效的HTTP HEADER Content-Type';
    } else if (Buffer.byteLength(raw, 'utf8') > MAX_CONTENT_BYTES || invalid?.startsWith('content exceeds')) {
      message.errcode = ERRCODE_TOO_LONG;
      message.errmsg = `message too long, exceed ${MAX_CONTENT_BYTES} bytes`;
    } else if (invalid !== undefined) {
      message.errcode = 40035;
      message.errmsg = `缺少参数 json: ${invalid}`;
    } else if (session === '' || expired.has(session)) {
      message.errcode = 300001;
      message.errmsg = 'session 不存在';
    } else if (overRate()) {
      message.errcode = ERRCODE_TOO_FAST;
      message.errmsg = 'send too fast, exceed 20 times per minute';
    } else if ((item = scripted.shift())) {
      message.status = item.status ?? 200;
      message.errcode = item.errcode ?? 0;
      message.errmsg = item.errmsg ?? (message.errcode === 0 ? 'ok' : 'injected error');
    }
    if (item?.delayMs) await timers.sleep(item.delayMs);
    if (item?.rawBody !== undefined) {
      message.errcode = -1;
      message.errmsg = 'answered by something other than DingTalk';
      rejected.push(message);
      res.writeHead(message.status, { 'content-type': item.contentType ?? 'text/html' });
      res.end(item.rawBody);
      notify();
      return;
    }
    if (message.status === 200 && message.errcode === 0) messages.push(message);
    else rejected.push(message);
    sendJson(res, message.status, { errcode: message.errcode, errmsg: message.errmsg });
    notify();
  }

  const server = await listenOnLoopback(handle);
  return {
    url: server.url,
    webhookUrl(session = 'test-session'): string {
      return `${server.url}/robot/sendBySession?session=${encodeURIComponent(session)}`;
    },
    messages,
    rejected,
    requests,
    waitForMessages(count: number, timeoutMs = 5000): Promise<WebhookSinkMessage[]> {
      return new Promise<WebhookSinkMessage[]>((resolve, reject) => {
        const waiter = {
          check(): void {
            if (messages.length < count) return;
            waiters.delete(waiter);
            clearTimeout(timer);
            resolve([...messages]);
          },
          cancel(): void {
            waiters.delete(waiter);
            clearTimeout(timer);
            reject(new Error(`webhook sink closed while waiting for ${count} message(s)`));
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const refused = rejected.map((m) => `${m.errcode} ${m.errmsg}`).join('; ');
          reject(
            new Error(
              `webhook sink: expected ${count} accepted message(s) within ${timeoutMs} ms, got ${messages.length}` +
                (rejected.length > 0 ? `; ${rejected.length} rejected: ${refused}` : ''),
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
        waiter.check();
      });
    },
    expireSession(session: string): void {
      expired.add(session);
    },
    queue(...items: WebhookSinkQueueItem[]): void {
      scripted.push(...items);
    },
    close(): Promise<void> {
      timers.clear();
      for (const waiter of [...waiters]) waiter.cancel();
      return server.close();
    },
  };
}
