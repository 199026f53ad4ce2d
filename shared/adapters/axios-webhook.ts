import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import axios, { isAxiosError, type AxiosInstance } from 'axios';
import { WebhookError } from '../errors';
import type { WebhookSender } from '../ports';

/** DingTalk's errcode for an expired or unknown session webhook. */
export const ERRCODE_SESSION_EXPIRED = 300001;

/** Options of `createAxiosWebhookSender`. */
export interface AxiosWebhookOptions {
  /** Per-request timeout (WEBHOOK_TIMEOUT_SECONDS). */
  timeoutMs: number;
  /** Attempts on a network error or 5xx. Default 2: a retry storm helps nobody. */
  attempts?: number;
  /** Wait before a retry. Default 500 ms. */
  retryDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Posts replies to DingTalk's session webhook with axios, on keep-alive agents shared by the instance.
 * DingTalk answers HTTP 200 with an `errcode`; anything but 0 is a failure. The URL is never put in an
 * error message: its `session` parameter lets anyone post into the chat.
 */
export function createAxiosWebhookSender(options: AxiosWebhookOptions): WebhookSender {
  const http: AxiosInstance = axios.create({
    timeout: options.timeoutMs,
    httpsAgent: new Agent({ keepAlive: true }),
    httpAgent: new HttpAgent({ keepAlive: true }),
    maxRedirects: 0,
    headers: { 'Content-Type': 'application/json' },
    validateStatus: () => true,
  });
  const attempts = Math.max(1, options.attempts ?? 2);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const post = async (url: string, body: unknown): Promise<void> => {
    let response;
    try {
      response = await http.post<unknown>(url, body);
    } catch (error) {
      const code = isAxiosError(error) && error.code ? error.code : 'network error';
      // Only failures before the request left are retried: after a timeout DingTalk may have posted it.
      const neverSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code);
      throw new WebhookError('network', `the session webhook could not be reached: ${code}`, { cause: error, retryable: neverSent });
    }
    if (response.status < 200 || response.status >= 300) {
      throw new WebhookError('http', `the session webhook answered HTTP ${response.status}`, {
        status: response.status,
        retryable: response.status >= 500,
      });
    }
    const data = response.data as { errcode?: unknown; errmsg?: unknown } | undefined;
    const errcode = typeof data?.errcode === 'number' ? data.errcode : 0;
    if (errcode === ERRCODE_SESSION_EXPIRED) {
      throw new WebhookError('expired', 'the session webhook has expired (errcode 300001)', { errcode, status: response.status });
    }
    if (errcode !== 0) {
      const errmsg = typeof data?.errmsg === 'string' ? `: ${data.errmsg.slice(0, 200)}` : '';
      throw new WebhookError('errcode', `DingTalk refused the message with errcode ${errcode}${errmsg}`, { errcode, status: response.status });
    }
  };

  return {
    async send(url, message) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await post(url, message);
          return;
        } catch (error) {
          if (!(error instanceof WebhookError) || !error.retryable || attempt >= attempts) throw error;
          await sleep(options.retryDelayMs ?? 500);
        }
      }
    },
  };
}
