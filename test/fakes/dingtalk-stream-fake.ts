/**
 * A loopback stand-in for DingTalk's Stream gateway: the connection open endpoint
 * (`POST /v1.0/gateway/connections/open`) and the WebSocket it hands out.
 *
 * It checks what the gateway checks: the open body (JSON `clientId` and `clientSecret` of the app, else 401
 * `{code: 'authFailed', message: '鉴权失败', requestid}` as DingTalk answers; `subscriptions` a non-empty
 * array of `{type: CALLBACK | EVENT, topic}`, else 400), a one-use `ticket` on the WebSocket URL (an unknown
 * or used one is refused with HTTP 401 before the upgrade), that CALLBACK frames go only to a connection
 * subscribed to their topic, and the acknowledgement format (`code`, `headers.messageId` of the frame,
 * `headers.contentType` application/json, `message`, and `data` a JSON string); a malformed one is kept
 * in {@link DingTalkStreamFake.invalidFrames} and never counts as an acknowledgement. Pings must come back
 * with the same headers and data.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { constantTimeEqual, headerValue, listenOnLoopback, randomHex, readBody, sendJson } from './http-helpers';
import { isRecord } from '../../shared/util/is-record';

/** The open endpoint's path. */
export const STREAM_OPEN_PATH = '/v1.0/gateway/connections/open';
/** The WebSocket's path under the fake's origin. */
export const STREAM_WS_PATH = '/connect';

/** One open request, as received. */
export interface StreamOpenRecord {
  status: number;
  body: unknown;
  /** The ticket issued (200 only). */
  ticket?: string;
}

/** One WebSocket connection accepted. */
export interface StreamConnectionRecord {
  /** 1, 2, ... in order of connection. */
  index: number;
  ticket: string;
  /** The topics its open request subscribed (`TYPE topic`). */
  subscriptions: string[];
  /** Whether it is still open. */
  open: boolean;
}

/** An acknowledgement of a CALLBACK, as received and checked. */
export interface StreamAckRecord {
  code: number;
  message: string;
  messageId: string;
  /** The parsed `data`. */
  data: unknown;
  /** The connection it came on. */
  connection: number;
}

/** A frame the client sent that is not a valid answer to anything pending, and why. */
export interface StreamInvalidFrame {
  raw: string;
  reason: string;
}

/** Options of {@link startDingTalkStreamFake}. */
export interface DingTalkStreamFakeOptions {
  clientId: string;
  clientSecret: string;
  /** Whether WebSocket pings get a pong (default true); false plays a connection that went silent. */
  answerPings?: boolean;
}

/** A running fake gateway. */
export interface DingTalkStreamFake {
  /** `http://127.0.0.1:PORT`: the OpenAPI origin (DINGTALK_API_BASE). */
  readonly url: string;
  readonly opens: StreamOpenRecord[];
  readonly connections: StreamConnectionRecord[];
  readonly acks: StreamAckRecord[];
  readonly invalidFrames: StreamInvalidFrame[];
  /** WebSocket upgrades refused (unknown, used or missing ticket). */
  readonly refusedUpgrades: number;
  /** Makes the next `count` open requests answer `status` with a DingTalk error body. */
  failOpens(count: number, status: number): void;
  /** Resolves once `count` connections were accepted in all (rejects after `timeoutMs`, default 5000). */
  waitForConnections(count: number, timeoutMs?: number): Promise<StreamConnectionRecord>;
  /**
   * Sends a CALLBACK frame with `data` (an object is JSON-encoded; a string is sent as is) on the newest
   * open connection and resolves with its acknowledgement. Throws when no open connection subscribed to
   * `topic` (default the robot topic): the gateway would not deliver it.
   */
  deliver(data: unknown, options?: { topic?: string; messageId?: string; timeoutMs?: number }): Promise<StreamAckRecord>;
  /** Sends a SYSTEM ping and resolves with the pong's data once it came back unchanged. */
  ping(timeoutMs?: number): Promise<string>;
  /** Sends a SYSTEM disconnect; the gateway closes the connection when the client did not within `closeAfterMs` (default 10 s). */
  disconnect(reason?: string, closeAfterMs?: number): void;
  /** Drops the newest connection without a word (a network failure). */
  drop(): void;
  close(): Promise<void>;
}

const ROBOT_TOPIC = '/v1.0/im/bot/messages/get';


interface Pending {
  kind: 'ack' | 'pong';
  resolve: (frame: Record<string, unknown>, connection: number) => void;
}

interface Live {
  record: StreamConnectionRecord;
  socket: WebSocket;
}

/** Starts the fake gateway on 127.0.0.1. */
export async function startDingTalkStreamFake(options: DingTalkStreamFakeOptions): Promise<DingTalkStreamFake> {
  const opens: StreamOpenRecord[] = [];
  const connections: StreamConnectionRecord[] = [];
  const acks: StreamAckRecord[] = [];
  const invalidFrames: StreamInvalidFrame[] = [];
  const tickets = new Map<string, string[]>();
  const live: Live[] = [];
  const pending = new Map<string, Pending>();
  const failures: number[] = [];
  const connectionWaiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  let refusedUpgrades = 0;

  const error = (res: ServerResponse, status: number, code: string, message: string): void =>
    sendJson(res, status, { requestid: randomUUID().toUpperCase(), code, message });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req, 64 * 1024)).toString('utf8');
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== STREAM_OPEN_PATH) {
      return error(res, 404, 'notFound', 'not found');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      body = undefined;
    }
    const record: StreamOpenRecord = { status: 200, body };
    opens.push(record);
    const answer = (status: number, code: string, message: string): void => {
      record.status = status;
      error(res, status, code, message);
    };
    const failure = failures.shift();
    if (failure !== undefined) return answer(failure, 'systemError', '系统错误');
    if ((headerValue(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() !== 'application/json' || !isRecord(body)) {
      return answer(400, 'invalidParameter', 'body must be a JSON object');
    }
    const { clientId, clientSecret, subscriptions } = body;
    if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || clientId !== options.clientId || !constantTimeEqual(clientSecret, options.clientSecret)) {
      return answer(401, 'authFailed', '鉴权失败');
    }
    if (
      !Array.isArray(subscriptions) ||
      subscriptions.length === 0 ||
      !subscriptions.every((each) => isRecord(each) && (each.type === 'CALLBACK' || each.type === 'EVENT') && typeof each.topic === 'string' && each.topic !== '')
    ) {
      return answer(400, 'invalidParameter', 'subscriptions must be a non-empty array of {type: CALLBACK | EVENT, topic}');
    }
    if (body.ua !== undefined && typeof body.ua !== 'string') return answer(400, 'invalidParameter', 'ua must be a string');
    const ticket = randomHex(16);
    tickets.set(
      ticket,
      subscriptions.map((each) => `${String((each as Record<string, unknown>).type)} ${String((each as Record<string, unknown>).topic)}`),
    );
    record.ticket = ticket;
    sendJson(res, 200, { endpoint: `ws://127.0.0.1:${server.port}${STREAM_WS_PATH}`, ticket });
  }

  const server = await listenOnLoopback(handle);
  const wss = new WebSocketServer({ noServer: true, autoPong: options.answerPings ?? true });

  function onFrame(item: Live, raw: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(raw) as unknown;
    } catch {
      invalidFrames.push({ raw, reason: 'not JSON' });
      return;
    }
    if (!isRecord(frame) || !isRecord(frame.headers)) {
      invalidFrames.push({ raw, reason: 'no headers' });
      return;
    }
    const messageId = frame.headers.messageId;
    const waiter = typeof messageId === 'string' ? pending.get(messageId) : undefined;
    if (waiter === undefined) {
      invalidFrames.push({ raw, reason: `answers no pending frame (messageId ${JSON.stringify(messageId)})` });
      return;
    }
    if (typeof frame.code !== 'number' || typeof frame.message !== 'string' || typeof frame.data !== 'string') {
      invalidFrames.push({ raw, reason: 'code must be a number, message and data strings' });
      return;
    }
    if (waiter.kind === 'ack') {
      if (frame.headers.contentType !== 'application/json') {
        invalidFrames.push({ raw, reason: 'headers.contentType must be application/json' });
        return;
      }
      try {
        JSON.parse(frame.data);
      } catch {
        invalidFrames.push({ raw, reason: 'data must be a JSON string' });
        return;
      }
    }
    pending.delete(messageId as string);
    waiter.resolve(frame, item.record.index);
  }

  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    const subscriptions = tickets.get(ticket);
    if (url.pathname !== STREAM_WS_PATH || subscriptions === undefined) {
      refusedUpgrades += 1;
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"code":"invalidTicket","message":"ticket is invalid"}');
      return;
    }
    tickets.delete(ticket); // one ticket, one connection
    wss.handleUpgrade(req, socket, head, (ws) => {
      const record: StreamConnectionRecord = { index: connections.length + 1, ticket, subscriptions, open: true };
      connections.push(record);
      const item: Live = { record, socket: ws };
      live.push(item);
      ws.on('message', (data: Buffer) => onFrame(item, data.toString('utf8')));
      ws.on('close', () => {
        record.open = false;
        live.splice(live.indexOf(item), 1);
      });
      for (const notify of [...connectionWaiters]) notify();
    });
  });

  const newest = (): Live => {
    const item = live[live.length - 1];
    if (item === undefined) throw new Error('the Stream fake has no open connection');
    return item;
  };

  function expect<T>(messageId: string, kind: Pending['kind'], timeoutMs: number, map: (frame: Record<string, unknown>, connection: number) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(messageId);
        timers.delete(timer);
        reject(new Error(`no ${kind} for ${messageId} within ${timeoutMs} ms; invalid frames: ${JSON.stringify(invalidFrames)}`));
      }, timeoutMs);
      timers.add(timer);
      pending.set(messageId, {
        kind,
        resolve: (frame, connection) => {
          clearTimeout(timer);
          timers.delete(timer);
          try {
            resolve(map(frame, connection));
          } catch (failure) {
            reject(failure instanceof Error ? failure : new Error(String(failure)));
          }
        },
      });
    });
  }

  const systemFrame = (topic: string, data: unknown): { messageId: string; frame: string } => {
    const messageId = `sys_${randomHex(8)}`;
    return {
      messageId,
      frame: JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers: { contentType: 'application/json', messageId, time: String(Date.now()), topic }, data: JSON.stringify(data) }),
    };
  };

  return {
    url: server.url,
    opens,
    connections,
    acks,
    invalidFrames,
    get refusedUpgrades() {
      return refusedUpgrades;
    },
    failOpens(count, status) {
      for (let index = 0; index < count; index += 1) failures.push(status);
    },
    waitForConnections(count, timeoutMs = 5000) {
      return new Promise<StreamConnectionRecord>((resolve, reject) => {
        const check = (): void => {
          const record = connections[count - 1];
          if (record === undefined) return;
          connectionWaiters.delete(check);
          clearTimeout(timer);
          timers.delete(timer);
          resolve(record);
        };
        const timer = setTimeout(() => {
          connectionWaiters.delete(check);
          timers.delete(timer);
          reject(new Error(`${connections.length} connection(s), not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        timers.add(timer);
        connectionWaiters.add(check);
        check();
      });
    },
    deliver(data, deliverOptions = {}) {
      const topic = deliverOptions.topic ?? ROBOT_TOPIC;
      const item = newest();
      if (!item.record.subscriptions.includes(`CALLBACK ${topic}`)) {
        return Promise.reject(new Error(`connection ${item.record.index} did not subscribe to CALLBACK ${topic}`));
      }
      const messageId = deliverOptions.messageId ?? `${randomHex(4)}_${randomHex(3)}_${randomHex(6)}`;
      const acknowledged = expect(messageId, 'ack', deliverOptions.timeoutMs ?? 10_000, (frame, connection) => {
        const record: StreamAckRecord = { code: frame.code as number, message: frame.message as string, messageId, data: JSON.parse(frame.data as string) as unknown, connection };
        acks.push(record);
        return record;
      });
      item.socket.send(
        JSON.stringify({
          specVersion: '1.0',
          type: 'CALLBACK',
          headers: { appId: randomUUID(), connectionId: randomUUID(), contentType: 'application/json', messageId, time: String(Date.now()), topic },
          data: typeof data === 'string' ? data : JSON.stringify(data),
        }),
      );
      return acknowledged;
    },
    ping(timeoutMs = 5000) {
      const data = { opaque: randomUUID() };
      const { messageId, frame } = systemFrame('ping', data);
      const sentHeaders = (JSON.parse(frame) as { headers: Record<string, unknown> }).headers;
      const pong = expect(messageId, 'pong', timeoutMs, (answer) => {
        if (answer.code !== 200) throw new Error(`pong code ${String(answer.code)}`);
        if (JSON.stringify(answer.headers) !== JSON.stringify(sentHeaders)) throw new Error(`pong headers ${JSON.stringify(answer.headers)} differ from the ping's`);
        if (answer.data !== JSON.stringify(data)) throw new Error(`pong data ${String(answer.data)} differs from the ping's`);
        return answer.data;
      });
      newest().socket.send(frame);
      return pong;
    },
    disconnect(reason = 'persistent connection is timeout', closeAfterMs = 10_000) {
      const item = newest();
      item.socket.send(systemFrame('disconnect', { reason }).frame);
      const timer = setTimeout(() => {
        timers.delete(timer);
        item.socket.terminate();
      }, closeAfterMs);
      timers.add(timer);
    },
    drop() {
      newest().socket.terminate();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const item of [...live]) item.socket.terminate();
      wss.close();
      await server.close();
    },
  };
}
