import { computeSignature } from '../../shared/dingtalk/signature';
import { httpTriggerEventSample } from './fixtures';

/** Options of `signedEvent`; by default a correctly signed, current POST. */
export interface SignedEventOptions {
  secret: string;
  body: unknown;
  /** Epoch ms; default now. */
  timestamp?: number | string;
  /** Overrides the computed signature. */
  sign?: string;
  /** Headers to drop (e.g. ['sign']). */
  omit?: string[];
  method?: string;
  /** Send the body base64-encoded, as FC does for binary content. */
  base64?: boolean;
  /** Header names as DingTalk sends them; tests vary the case. */
  headerCase?: 'lower' | 'title';
}

/**
 * An FC 3.0 HTTP-trigger event (as the Buffer FC hands the handler) carrying a DingTalk callback signed
 * with `secret`, built from the real event sample so the shape matches what FC sends.
 */
export function signedEvent(options: SignedEventOptions): Buffer {
  const event = httpTriggerEventSample();
  const timestamp = String(options.timestamp ?? Date.now());
  const raw = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const title = options.headerCase === 'title';
  const headers: Record<string, string> = {
    [title ? 'Content-Type' : 'content-type']: 'application/json; charset=utf-8',
    [title ? 'Timestamp' : 'timestamp']: timestamp,
    [title ? 'Sign' : 'sign']: options.sign ?? computeSignature(timestamp, options.secret),
    [title ? 'User-Agent' : 'user-agent']: 'DingTalk-Robot',
  };
  for (const name of options.omit ?? []) {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
  }
  const method = options.method ?? 'POST';
  const context = event.requestContext as { http: Record<string, unknown> };
  event.rawPath = '/';
  event.headers = headers;
  event.queryParameters = {};
  event.body = options.base64 ? Buffer.from(raw, 'utf8').toString('base64') : raw;
  event.isBase64Encoded = options.base64 === true;
  context.http = { ...context.http, method, path: '/', sourceIp: '203.0.113.7', userAgent: 'DingTalk-Robot' };
  return Buffer.from(JSON.stringify(event), 'utf8');
}
