import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import axios, { isAxiosError, type AxiosInstance } from 'axios';
import { WebhookError } from '../errors';
import type { WebhookSender } from '../ports';
import { abortableSleep } from '../util/abortable-sleep';

/** DingTalk's errcode for an expired or unknown session webhook. */
export const ERRCODE_SESSION_EXPIRED = 300001;

/** "send too fast, exceed 20 times per minute": the robot went over its per-minute message limit. */
export const ERRCODE_SEND_TOO_FAST = 130101;

/** "webhook over limit": also reported for robots sending too often; treated like {@link ERRCODE_SEND_TOO_FAST}. */
export const ERRCODE_WEBHOOK_OVER_LIMIT = 90030;

/** "message too long, exceed 20000 bytes" (later "body 大小不合法"): never retried, the same body would fail again. */
export const ERRCODE_MESSAGE_TOO_LONG = 460101;

/** Errcodes that mean "slow down": the message was not posted, so waiting and posting again cannot duplicate it. */
export const THROTTLE_ERRCODES: readonly number[] = [ERRCODE_SEND_TOO_FAST, ERRCODE_WEBHOOK_OVER_LIMIT];

/** First wait after a throttling errcode; the n-th wait is n times longer. 3 s is one message slot at 20 a minute. */
export const THROTTLE_DELAY_MS = 3_000;

/**
 * Attempts of one message while DingTalk throttles (3: waits of 3 s and 6 s). Bounded because DingTalk is
 * reported to keep a robot that went over its limit throttled for minutes: waiting longer only burns the
 * reply function's time.
 */
export const THROTTLE_ATTEMPTS = 3;

/** Options of `createAxiosWebhookSender`. */
export interface AxiosWebhookOptions {
  /** Per-request timeout (WEBHOOK_TIMEOUT_SECONDS). */
  timeoutMs: number;
  /** Attempts on a network error or 5xx. Default 2: a retry storm helps nobody. */
  attempts?: number;
  /** Wait before a retry. Default 500 ms. */
  retryDelayMs?: number;
  /** Attempts while DingTalk answers a throttling errcode (default {@link THROTTLE_ATTEMPTS}). */
  throttleAttempts?: number;
  /** First wait after a throttling errcode, growing linearly (default {@link THROTTLE_DELAY_MS}). */
  throttleDelayMs?: number;
  /**
   * Injected for tests. Receives the run's signal: it must end early when the signal aborts (the sender
   * checks the signal again afterwards either way).
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A timer that ends early, without throwing, when `signal` aborts: the sender checks the signal itself after it. */
const quietSleep = (ms: number, signal?: AbortSignal): Promise<void> => abortableSleep(ms, signal).catch(() => undefined);

/** The error of a send cut short by the run's deadline; `inFlight`: a request had left and may have arrived. */
function deadlineError(inFlight: boolean, cause?: unknown): WebhookError {
  const when = inFlight ? 'while the request was in flight (it may have been posted)' : 'before the message was posted';
  return new WebhookError('deadline', `the run's deadline ended the post ${when}`, { retryable: !inFlight, cause });
}

/** What DingTalk's webhook answers: JSON with a numeric `errcode`. Anything else did not come from DingTalk. */
function dingTalkAnswer(data: unknown): { errcode: number; errmsg?: unknown } | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const errcode = (data as { errcode?: unknown }).errcode;
  return typeof errcode === 'number' ? { errcode, errmsg: (data as { errmsg?: unknown }).errmsg } : undefined;
}

/**
 * Posts replies to DingTalk's session webhook with axios, on keep-alive agents shared by the instance.
 * DingTalk answers HTTP 200 with an `errcode`; anything but 0 is a failure. Retried, each a bounded number of
 * times: a network error before the request left and HTTP 5xx (`attempts`), and the throttling errcodes
 * (`throttleAttempts`, waiting longer each time). Never retried: an expired session, a message too long,
 * any other errcode, and a 2xx answer that is not DingTalk's JSON with an `errcode` (reason `not-dingtalk`,
 * not retryable: something else answered, a proxy or a misrouted host, so nothing is known about whether the
 * message was posted). The signal passed to `send` (the run's deadline) aborts the request in flight and
 * ends every wait between attempts; the `deadline` error is retryable only when no request was in flight.
 * The URL is never put in an error message: its `session` parameter lets anyone post into the chat.
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
  const throttleAttempts = Math.max(1, options.throttleAttempts ?? THROTTLE_ATTEMPTS);
  const throttleDelayMs = options.throttleDelayMs ?? THROTTLE_DELAY_MS;
  const sleep = options.sleep ?? quietSleep;
  const retryDelayMs = options.retryDelayMs ?? 500;

  const post = async (url: string, body: unknown, signal: AbortSignal | undefined): Promise<void> => {
    let response;
    try {
      response = await http.post<unknown>(url, body, signal !== undefined ? { signal } : {});
    } catch (error) {
      if (signal?.aborted === true) throw deadlineError(true, error);
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
    const data = dingTalkAnswer(response.data);
    if (data === undefined) {
      const type = String(response.headers['content-type'] ?? 'no content type').split(';')[0];
      throw new WebhookError('not-dingtalk', `the session webhook answered HTTP ${response.status} without DingTalk's JSON errcode (${type})`, {
        status: response.status,
      });
    }
    const { errcode } = data;
    if (errcode === ERRCODE_SESSION_EXPIRED) {
      throw new WebhookError('expired', 'the session webhook has expired (errcode 300001)', { errcode, status: response.status });
    }
    if (errcode === 0) return;
    const errmsg = typeof data.errmsg === 'string' ? `: ${data.errmsg.slice(0, 200)}` : '';
    const details = { errcode, status: response.status };
    if (THROTTLE_ERRCODES.includes(errcode)) {
      const message = `DingTalk throttled the robot with errcode ${errcode}${errmsg}`;
      throw new WebhookError('throttled', message, { ...details, retryable: true });
    }
    if (errcode === ERRCODE_MESSAGE_TOO_LONG) {
      throw new WebhookError('too-long', `DingTalk refused the message as too long (errcode ${errcode})${errmsg}`, details);
    }
    throw new WebhookError('errcode', `DingTalk refused the message with errcode ${errcode}${errmsg}`, details);
  };

  return {
    async send(url, message, sendOptions) {
      const signal = sendOptions?.signal;
      let failures = 0;
      let throttled = 0;
      for (;;) {
        // Nothing is in flight here: the last attempt (if any) failed in a way that posted nothing.
        if (signal?.aborted === true) throw deadlineError(false, signal.reason);
        try {
          await post(url, message, signal);
          return;
        } catch (error) {
          if (!(error instanceof WebhookError) || !error.retryable || error.reason === 'deadline') throw error;
          if (error.reason === 'throttled') {
            throttled += 1;
            if (throttled >= throttleAttempts) throw error;
            await sleep(throttleDelayMs * throttled, signal);
          } else {
            failures += 1;
            if (failures >= attempts) throw error;
            await sleep(retryDelayMs, signal);
          }
        }
      }
    },
  };
}
