/**
 * The conversion FC's HTTP trigger does in the cloud: an HTTP request becomes the FC 3.0 event the
 * handler receives, and the handler's result becomes the HTTP response. `npm start` uses it so the
 * deployed bundle runs unchanged on a laptop.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord } from '../shared/util/is-record';

/** What the conversion needs to know about the request besides its bytes. */
export interface EventContext {
  requestId: string;
  accountId: string;
  /** The `Host` FC would report, e.g. `<account>.<region>.fc.aliyuncs.com`; here the local host. */
  domainName: string;
  /** Epoch ms of arrival. */
  now: number;
}

/** Header names as the client sent them (FC keeps their case), repeated ones joined with ", ". */
function rawHeaderMap(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const names = new Map<string, string>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    const key = names.get(name.toLowerCase()) ?? name;
    names.set(name.toLowerCase(), key);
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return headers;
}

/**
 * The FC 3.0 HTTP-trigger event for `req` (see `fc3-http-trigger-event.json` in the reference folder):
 * a Buffer of JSON, as FC hands it to the handler. Bodies that are not UTF-8 travel base64-encoded
 * with `isBase64Encoded: true`, as FC does for binary content.
 */
export function toHttpTriggerEvent(req: IncomingMessage, body: Buffer, context: EventContext): Buffer {
  const url = new URL(req.url ?? '/', 'http://local');
  const queryParameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) queryParameters[name] = value;
  const text = isUtf8(body);
  const headers = rawHeaderMap(req);
  const userAgent = req.headers['user-agent'] ?? '';
  const event = {
    version: 'v1',
    rawPath: url.pathname,
    headers,
    queryParameters,
    body: text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !text,
    requestContext: {
      accountId: context.accountId,
      domainName: context.domainName,
      domainPrefix: context.domainName.split('.')[0] ?? '',
      requestId: context.requestId,
      time: new Date(context.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      timeEpoch: String(context.now),
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent,
      },
    },
  };
  return Buffer.from(JSON.stringify(event), 'utf8');
}


/**
 * Writes a handler's result as FC's HTTP trigger does: a `{statusCode, headers, body, isBase64Encoded}`
 * object becomes that response; anything else is sent as a 200 body (strings and Buffers as they are,
 * other values as JSON).
 */
export function writeHandlerResult(res: ServerResponse, result: unknown, requestId: string): void {
  const base = { 'x-fc-request-id': requestId };
  if (isRecord(result) && typeof result.statusCode === 'number') {
    const headers: Record<string, string> = { ...base };
    if (isRecord(result.headers)) {
      for (const [name, value] of Object.entries(result.headers)) if (typeof value === 'string') headers[name] = value;
    }
    const raw = typeof result.body === 'string' ? result.body : result.body === undefined ? '' : JSON.stringify(result.body);
    const body = Buffer.from(raw, result.isBase64Encoded === true ? 'base64' : 'utf8');
    res.writeHead(result.statusCode, { ...headers, 'content-length': String(body.length) });
    res.end(body);
    return;
  }
  const body = Buffer.isBuffer(result) ? result : Buffer.from(typeof result === 'string' ? result : JSON.stringify(result ?? null), 'utf8');
  res.writeHead(200, { ...base, 'content-length': String(body.length) });
  res.end(body);
}
