/**
 * A small client of DingTalk's Stream mode (the protocol of open-dingtalk/dingtalk-stream-sdk-*): the app
 * opens an outbound connection with its Client ID and Client Secret, so the robot's messages reach a
 * laptop without a public URL.
 *
 * 1. `POST {apiBase}/v1.0/gateway/connections/open` with `{clientId, clientSecret, subscriptions, ua}`
 *    answers `{endpoint, ticket}` (a refusal is `{code, message, requestid}`, e.g. 401 `authFailed`).
 * 2. A WebSocket to `endpoint?ticket=<ticket>` (one ticket, one connection).
 * 3. Frames down are `{specVersion, type: SYSTEM | CALLBACK | EVENT, headers: {topic, messageId,
 *    contentType, ...}, data: '<JSON string>'}`. A SYSTEM `ping` is answered with its own headers and data;
 *    a SYSTEM `disconnect` means the gateway is about to close the connection: a new one is opened with a
 *    new ticket. Each CALLBACK and EVENT is acknowledged with `{code, headers: {contentType:
 *    'application/json', messageId}, message, data: '<JSON string>'}`; an unacknowledged one is delivered
 *    again.
 *
 * Written here over `ws` rather than with the `dingtalk-stream` package: the package posts to a hard-coded
 * `https://api.dingtalk.com` (no way to point it at a loopback fake), pulls axios and debug, and its debug
 * output prints the configuration with the Client Secret.
 */
import WebSocket, { type RawData } from 'ws';
import { isRecord } from '../shared/util/is-record';

/** The topic of robot messages (the HTTP mode's callback, as a Stream CALLBACK). */
export const ROBOT_MESSAGE_TOPIC = '/v1.0/im/bot/messages/get';

/** Path of the connection open endpoint, under the OpenAPI origin. */
export const OPEN_CONNECTION_PATH = '/v1.0/gateway/connections/open';

/** One subscription of the open request. */
export interface StreamSubscription {
  type: 'CALLBACK' | 'EVENT';
  topic: string;
}

/** A frame the gateway sends down. */
export interface StreamFrame {
  specVersion: string;
  type: string;
  /** `topic`, `messageId`, `contentType`, `time`, `appId`, `connectionId`, ... (all strings). */
  headers: Readonly<Record<string, string>>;
  /** A JSON document, as a string. */
  data: string;
}

/** What a callback handler answers: the acknowledgement's code and message, and its `response`. */
export interface StreamAck {
  /** 200 when handled; 400 refused (resending would not help); 500 failed (resending may help). */
  code: number;
  message: string;
  /** Sent as `data: '{"response": ...}'`; null by default. */
  response?: unknown;
}

/** Handles one CALLBACK frame of a subscribed topic; the acknowledgement is sent once it resolves. */
export type StreamCallbackHandler = (frame: StreamFrame) => Promise<StreamAck>;

/** Why the connection could not be opened. */
export type StreamOpenFailure = 'credentials' | 'rejected' | 'network' | 'invalid-answer';

/** The open endpoint refused, failed or answered something else than `{endpoint, ticket}`. */
export class StreamOpenError extends Error {
  constructor(
    readonly reason: StreamOpenFailure,
    message: string,
    /** The HTTP status, when there was an answer. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'StreamOpenError';
  }
}

/** What the client does, for a terminal line or a test. */
export type StreamEvent =
  | { type: 'connected'; connection: number }
  | { type: 'disconnect-requested'; connection: number; reason: string }
  | { type: 'closed'; connection: number; code: number }
  | { type: 'reconnecting'; attempt: number; delayMs: number; error?: string }
  | { type: 'frame-ignored'; reason: string };

/** Where and as whom to connect. */
export interface StreamCredentials {
  /** The OpenAPI origin, e.g. `https://api.dingtalk.com` (DINGTALK_API_BASE). */
  apiBase: string;
  clientId: string;
  clientSecret: string;
}

/** Options of {@link startStreamClient}. */
export interface StreamClientOptions extends StreamCredentials {
  /** Handlers by CALLBACK topic; each topic is subscribed. */
  callbacks: Readonly<Record<string, StreamCallbackHandler>>;
  /** Sent as `ua` in the open request. */
  ua: string;
  onEvent?: (event: StreamEvent) => void;
  /**
   * Pause before reconnection attempt `attempt` (1, 2, ...; back to 1 once a connection opened). Default:
   * 1 s doubling up to 30 s, with up to 20% jitter.
   */
  reconnectDelayMs?: (attempt: number) => number;
  /** A WebSocket ping this often, and a new connection when the previous ping got no pong. Default 30 s; 0 is off. */
  keepAliveMs?: number;
  /** Timeout of the open request and of the WebSocket handshake. Default 15 s. */
  timeoutMs?: number;
}

/** A running client. */
export interface StreamClient {
  /** Connections opened so far (1 after start). */
  readonly connections: number;
  /** Stops reconnecting, waits for the callbacks in flight to be acknowledged, closes the connection. */
  stop(): Promise<void>;
}

/** The default pause before reconnection attempt `attempt`: 1, 2, 4, 8, 16, 30, 30 s ... plus up to 20%. */
export function defaultReconnectDelayMs(attempt: number): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + Math.random() * 0.2));
}


/** The `{code, message}` of a DingTalk error body, or the start of a body that is not one. */
function describeRefusal(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (isRecord(body) && (typeof body.code === 'string' || typeof body.message === 'string')) {
      return [body.code, body.message].filter((part) => typeof part === 'string' && part !== '').join(': ');
    }
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 120) || '(empty body)';
}

/** The code of a failed fetch (ECONNREFUSED, ENOTFOUND, ...), also when Node tried several addresses. */
function networkDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> } }).cause;
  const code = cause?.code ?? cause?.errors?.find((each) => typeof each.code === 'string')?.code;
  if (typeof code === 'string') return code;
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens a connection: answers the WebSocket URL with its ticket. Throws {@link StreamOpenError}: 401/403
 * or an `authFailed` code is `credentials`, another 4xx or 5xx `rejected`.
 */
export async function openStreamConnection(
  options: StreamCredentials & { subscriptions: readonly StreamSubscription[]; ua: string; timeoutMs?: number },
): Promise<{ endpoint: string; ticket: string; url: string }> {
  const target = `${options.apiBase.replace(/\/+$/, '')}${OPEN_CONNECTION_PATH}`;
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      // Without Accept the gateway has been seen to answer XML.
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ clientId: options.clientId, clientSecret: options.clientSecret, subscriptions: options.subscriptions, ua: options.ua }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (error) {
    throw new StreamOpenError('network', `could not reach ${target} (${networkDetail(error)})`);
  }
  const text = await response.text();
  if (response.status !== 200) {
    const detail = describeRefusal(text);
    const credentials = response.status === 401 || response.status === 403 || /authFailed/i.test(detail);
    throw new StreamOpenError(credentials ? 'credentials' : 'rejected', `${target} answered ${response.status}: ${detail}`, response.status);
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = undefined;
  }
  if (!isRecord(body) || typeof body.endpoint !== 'string' || body.endpoint === '' || typeof body.ticket !== 'string' || body.ticket === '') {
    throw new StreamOpenError('invalid-answer', `${target} answered 200 without an endpoint and a ticket: ${describeRefusal(text)}`, 200);
  }
  const url = new URL(body.endpoint);
  url.searchParams.set('ticket', body.ticket);
  return { endpoint: body.endpoint, ticket: body.ticket, url: url.toString() };
}

/** A down frame, or why it is not one. */
function parseFrame(raw: string): StreamFrame | string {
  let value: unknown;
  try {
    value = JSON.parse(raw) as unknown;
  } catch {
    return 'not JSON';
  }
  if (!isRecord(value) || typeof value.type !== 'string' || !isRecord(value.headers)) return 'no type or headers';
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(value.headers)) if (typeof header === 'string' || typeof header === 'number') headers[name] = String(header);
  return { specVersion: typeof value.specVersion === 'string' ? value.specVersion : '', type: value.type, headers, data: typeof value.data === 'string' ? value.data : '' };
}

/** The acknowledgement frame of a CALLBACK or EVENT. */
export function ackFrame(messageId: string, code: number, message: string, data: unknown): string {
  return JSON.stringify({ code, headers: { contentType: 'application/json', messageId }, message, data: JSON.stringify(data) });
}

/**
 * Opens the first connection (rejecting with {@link StreamOpenError} or the WebSocket's error when it
 * fails, so a wrong secret is told at once), then keeps one open: a new one after a `disconnect`, a
 * close or a missed pong, after a bounded backoff when opening fails.
 */
export async function startStreamClient(options: StreamClientOptions): Promise<StreamClient> {
  const subscriptions: StreamSubscription[] = Object.keys(options.callbacks).map((topic) => ({ type: 'CALLBACK', topic }));
  const delayFor = options.reconnectDelayMs ?? defaultReconnectDelayMs;
  const keepAliveMs = options.keepAliveMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const emit = (event: StreamEvent): void => options.onEvent?.(event);
  const inFlight = new Set<Promise<void>>();
  let connections = 0;
  let socket: WebSocket | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** Sends `frame` on `ws` when it is still open (an ack on a closed connection is lost; the gateway resends). */
  const send = (ws: WebSocket, frame: string): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(frame);
  };

  function handleCallback(ws: WebSocket, frame: StreamFrame): void {
    const messageId = frame.headers.messageId ?? '';
    const handler = options.callbacks[frame.headers.topic ?? ''];
    if (handler === undefined) {
      send(ws, ackFrame(messageId, 404, 'not implemented', { response: null }));
      emit({ type: 'frame-ignored', reason: `callback of unsubscribed topic ${frame.headers.topic ?? '(none)'}` });
      return;
    }
    const task = handler(frame)
      .catch((error: unknown): StreamAck => ({ code: 500, message: error instanceof Error ? error.message : String(error) }))
      .then((ack) => send(ws, ackFrame(messageId, ack.code, ack.message, { response: ack.response ?? null })))
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }

  function onMessage(ws: WebSocket, connection: number, raw: RawData): void {
    const frame = parseFrame(Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(Array.isArray(raw) ? raw : [Buffer.from(raw)]).toString('utf8'));
    if (typeof frame === 'string') {
      emit({ type: 'frame-ignored', reason: frame });
      return;
    }
    if (frame.type === 'SYSTEM') {
      const topic = frame.headers.topic;
      if (topic === 'ping') {
        send(ws, JSON.stringify({ code: 200, headers: frame.headers, message: 'OK', data: frame.data }));
      } else if (topic === 'disconnect') {
        let reason = '';
        try {
          const data = JSON.parse(frame.data) as unknown;
          if (isRecord(data) && typeof data.reason === 'string') reason = data.reason;
        } catch {
          // no reason given
        }
        emit({ type: 'disconnect-requested', connection, reason });
        // The gateway closes it soon; a new connection now loses nothing (unacknowledged callbacks come again).
        ws.close(1000, 'disconnect requested');
      }
      return;
    }
    if (frame.type === 'CALLBACK') return handleCallback(ws, frame);
    if (frame.type === 'EVENT') {
      // Nothing subscribes to events; acknowledge so the gateway does not resend them.
      send(ws, ackFrame(frame.headers.messageId ?? '', 200, 'OK', { status: 'SUCCESS', message: 'ignored' }));
      return;
    }
    emit({ type: 'frame-ignored', reason: `unknown frame type ${frame.type}` });
  }

  /** Opens one connection; resolves once the WebSocket is open. */
  async function connect(): Promise<void> {
    const { url } = await openStreamConnection({ ...options, subscriptions, ua: options.ua, timeoutMs });
    if (stopped) return;
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, maxPayload: 16 * 1024 * 1024 });
    // Every listener is attached before the handshake ends: a frame in the same packet as the handshake's
    // answer is emitted right after 'open', before an `await` would have resumed.
    let connection = 0;
    let alive = true;
    let keepAlive: NodeJS.Timeout | undefined;
    ws.on('pong', () => (alive = true));
    ws.on('message', (raw) => {
      alive = true;
      onMessage(ws, connection, raw);
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        ws.off('open', opened);
        ws.off('unexpected-response', refused);
        ws.on('error', () => undefined);
        ws.terminate();
        reject(error);
      };
      const opened = (): void => {
        ws.off('error', fail);
        ws.off('unexpected-response', refused);
        connections += 1;
        connection = connections;
        socket = ws;
        if (keepAliveMs > 0) {
          keepAlive = setInterval(() => {
            if (!alive) {
              ws.terminate();
              return;
            }
            alive = false;
            ws.ping();
          }, keepAliveMs);
        }
        ws.on('error', () => undefined); // the close that follows reconnects
        ws.once('close', (code) => {
          clearInterval(keepAlive);
          if (socket === ws) socket = undefined;
          emit({ type: 'closed', connection, code });
          if (!stopped) scheduleReconnect(1);
        });
        emit({ type: 'connected', connection });
        resolve();
      };
      const refused = (_request: unknown, response: { statusCode?: number }): void => {
        fail(new StreamOpenError('rejected', `the Stream gateway refused the WebSocket (HTTP ${response.statusCode ?? '?'}): the ticket was not accepted`, response.statusCode));
      };
      ws.once('open', opened);
      ws.once('error', fail);
      ws.once('unexpected-response', refused);
    });
    if (stopped) ws.close(1000, 'stopped');
  }

  function scheduleReconnect(attempt: number, error?: string): void {
    const delayMs = Math.max(0, delayFor(attempt));
    emit({ type: 'reconnecting', attempt, delayMs, ...(error !== undefined ? { error } : {}) });
    const retry = (): void => {
      timer = undefined;
      if (stopped) return;
      connect().catch((failure: unknown) => {
        if (!stopped) scheduleReconnect(attempt + 1, failure instanceof Error ? failure.message : String(failure));
      });
    };
    timer = setTimeout(retry, delayMs);
  }

  await connect();
  return {
    get connections() {
      return connections;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.allSettled([...inFlight]);
      const ws = socket;
      if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'stopped');
        // A peer that never answers the close handshake: drop the socket.
        setTimeout(() => ws.terminate(), 2000).unref();
      });
    },
  };
}
