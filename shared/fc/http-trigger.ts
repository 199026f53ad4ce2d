import { InvalidMessageError } from '../errors';
import { decodeEventJson } from './event-json';

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses the FC 3.0 HTTP-trigger event (a Buffer of JSON: `{version, rawPath, headers, body,
 * isBase64Encoded, requestContext: {http: {method, path, sourceIp}}}`) into an `HttpRequest`.
 * Header names are lowercased so lookups are case-insensitive, as HTTP requires.
 */
export function parseHttpTriggerEvent(event: unknown): HttpRequest {
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
  const body = Buffer.from(rawBody, value.isBase64Encoded === true ? 'base64' : 'utf8');
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
