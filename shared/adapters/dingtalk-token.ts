/**
 * The app's OpenAPI access token (`POST /v1.0/oauth2/accessToken` with `{appKey, appSecret}`), cached per
 * instance: DingTalk asks apps to cache it and throttles apps that ask too often.
 */
import { DingTalkApiError } from '../errors';
import type { Clock, Logger } from '../ports';
import { TOKEN_API } from './dingtalk-errors';

/** Default renewal margin: 5 minutes before `expireIn` runs out, as DingTalk's own Stream SDK does. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Default pause after DingTalk refused the credentials: calls fail at once, without a request, for this long.
 * Never a retry loop, yet a corrected secret is picked up without a restart.
 */
export const AUTH_RETRY_PAUSE_MS = 30_000;

/** The cached access token of one app. */
export interface AccessTokenCache {
  /** A valid token: the cached one, or one new request shared by every concurrent caller. */
  get(): Promise<string>;
  /** Drops `token` if it is still the cached one (DingTalk called it invalid). */
  invalidate(token: string): void;
  /** The cached token, if any (so messages can be scrubbed of it). */
  current(): string | undefined;
}

/** Options of {@link createAccessTokenCache}. */
export interface AccessTokenCacheOptions {
  clientId: string;
  clientSecret: string;
  clock: Clock;
  /** Sends the token request (with the adapter's retries) and returns DingTalk's JSON answer. */
  request: (body: { appKey: string; appSecret: string }) => Promise<Record<string, unknown>>;
  marginMs?: number;
  authRetryPauseMs?: number;
  logger?: Logger;
}

/**
 * Caches the token until `marginMs` (at most half its life) before it expires; concurrent callers share the one
 * request in flight. A refusal of the credentials is remembered for `authRetryPauseMs` so a misconfigured app
 * does not ask DingTalk on every message; other failures are not remembered.
 */
export function createAccessTokenCache(options: AccessTokenCacheOptions): AccessTokenCache {
  const margin = options.marginMs ?? TOKEN_REFRESH_MARGIN_MS;
  const pause = options.authRetryPauseMs ?? AUTH_RETRY_PAUSE_MS;
  let cached: { token: string; renewAt: number } | undefined;
  let inFlight: Promise<string> | undefined;
  let refused: { error: DingTalkApiError; until: number } | undefined;

  const fetchToken = async (): Promise<string> => {
    const startedAt = options.clock.now();
    let body;
    try {
      body = await options.request({ appKey: options.clientId, appSecret: options.clientSecret });
    } catch (error) {
      if (error instanceof DingTalkApiError && error.reason === 'auth') {
        refused = { error, until: options.clock.now() + pause };
        options.logger?.error('dingtalk.token-refused', { status: error.status, code: error.code, retryAfterMs: pause });
      }
      throw error;
    }
    const token = body.accessToken;
    const expireIn = body.expireIn;
    if (typeof token !== 'string' || token === '' || typeof expireIn !== 'number' || !(expireIn > 0)) {
      throw new DingTalkApiError('server', `DingTalk answered ${TOKEN_API} without an accessToken and expireIn`, { api: TOKEN_API, status: 200 });
    }
    const lifeMs = expireIn * 1000;
    cached = { token, renewAt: startedAt + lifeMs - Math.min(margin, lifeMs / 2) };
    refused = undefined;
    options.logger?.debug('dingtalk.token', { expireIn });
    return token;
  };

  return {
    get() {
      const now = options.clock.now();
      if (cached !== undefined && now < cached.renewAt) return Promise.resolve(cached.token);
      if (refused !== undefined && now < refused.until) {
        const { error } = refused;
        return Promise.reject(
          new DingTalkApiError('auth', error.message, { api: error.api, status: error.status, code: error.code }),
        );
      }
      inFlight ??= fetchToken().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
    current() {
      return cached?.token;
    },
  };
}
