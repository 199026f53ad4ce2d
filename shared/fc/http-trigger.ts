import { InvalidMessageError, PayloadTooLargeError } from '../errors';
import { decodeEventJson } from './event-json';
import { isRecord } from '../util/is-record';

/**
 * Largest request body accepted (64 KB). DingTalk's callbacks are a few KB (a text message of DingTalk's
 * maximum length is under 20 KB), so anything larger is not DingTalk and is refused with 413 before it is
 * decoded or copied.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Largest FC event accepted (512 KB), checked before the event is decoded: room for a body of
 * {@link MAX_BODY_BYTES} escaped inside the event's JSON (up to 6 characters a byte) and its headers.
 */
export const MAX_EVENT_BYTES = 8 * MAX_BODY_BYTES;

function tooLarge(what: string, bytes: number, limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the ${what} is over ${limit} bytes: DingTalk's callbacks are small`, bytes, limit);
}

/** The event's size without decoding it: a Buffer's bytes or a string's length (a lower bound of its bytes). */
function eventSize(event: unknown): number {
  if (Buffer.isBuffer(event)) return event.length;
  return typeof event === 'string' ? event.length : 0;
}

/** An HTTP request as the core sees it: lowercased header names, the raw body bytes. */
export interface HttpRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  sourceIp?: string;
}

/** An HTTP response; `body` is a string (JSON for every answer this bot gives). */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** What an FC 3.0 HTTP-trigger handler returns. */
export interface FcHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}


/**
 * Parses the FC 3.0 HTTP-trigger event (a Buffer of JSON: `{version, rawPath, headers, body,
 * isBase64Encoded, requestContext: {http: {method, path, sourceIp}}}`) into an `HttpRequest`.
 * Header names are lowercased so lookups are case-insensitive, as HTTP requires. Throws
 * `PayloadTooLargeError` for an event over {@link MAX_EVENT_BYTES} or a body over {@link MAX_BODY_BYTES},
 * measured before anything is decoded or copied; `InvalidMessageError` for an event that is not one.
 */
export function parseHttpTriggerEvent(event: unknown): HttpRequest {
  const size = eventSize(event);
  if (size > MAX_EVENT_BYTES) throw tooLarge('event', size, MAX_EVENT_BYTES);
  const value = decodeEventJson(event);
  if (value === undefined) throw new InvalidMessageError('the FC event is not JSON: is this function behind an HTTP trigger?');
  if (!isRecord(value)) throw new InvalidMessageError('the FC event is not an HTTP-trigger event');
  const context = isRecord(value.requestContext) ? value.requestContext : {};
  const http = isRecord(context.http) ? context.http : {};
  const method = typeof http.method === 'string' ? http.method.toUpperCase() : '';
  if (method === '') throw new InvalidMessageError('the FC event has no requestContext.http.method');
  const headers: Record<string, string> = {};
  if (isRecord(value.headers)) {
    for (const [name, header] of Object.entries(value.headers)) {
      if (typeof header === 'string') headers[name.toLowerCase()] = header;
      else if (Array.isArray(header) && typeof header[0] === 'string') headers[name.toLowerCase()] = header[0];
    }
  }
  const rawBody = typeof value.body === 'string' ? value.body : '';
  const encoding = value.isBase64Encoded === true ? 'base64' : 'utf8';
  // Buffer.byteLength computes the decoded size without decoding (base64: from the length alone).
  const bodyBytes = Buffer.byteLength(rawBody, encoding);
  if (bodyBytes > MAX_BODY_BYTES) throw tooLarge('body', bodyBytes, MAX_BODY_BYTES);
  const body = Buffer.from(rawBody, encoding);
  const path = typeof value.rawPath === 'string' ? value.rawPath : typeof http.path === 'string' ? http.path : '/';
  const request: HttpRequest = { method, path, headers, body };
  if (typeof http.sourceIp === 'string') request.sourceIp = http.sourceIp;
  return request;
}

/** The handler result FC turns into the HTTP response. */
export function toFcHttpResult(response: HttpResponse): FcHttpResult {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
}

/** A JSON response with the given status. */
export function jsonResponse(statusCode: number, body: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}
