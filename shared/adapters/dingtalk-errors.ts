/**
 * How DingTalk's server OpenAPI says no, mapped to `DingTalkApiError`. Its error bodies are
 * `{code, message, requestid}`, plus `accessdenieddetail.requiredScopes` when a permission is missing, e.g.
 * `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","accessdenieddetail":{"requiredScopes":["Card.Streaming.Write"]}}`.
 */
import { DingTalkApiError } from '../errors';
import { isRecord } from '../util/is-record';

/** The token endpoint: a refusal there is about the Client ID and Secret, not about a call. */
export const TOKEN_API = '/v1.0/oauth2/accessToken';

/** Cleans a text DingTalk sent before it goes into a message: no secret, no token, bounded length. */
export type ErrorScrubber = (text: string) => string;

/**
 * DingTalk's code for a token it does not accept (unknown or expired): HTTP 400 `InvalidAuthentication`,
 * "不合法的access_token" (observed answers; some proxies answer 401).
 */
export const INVALID_TOKEN_CODE = 'InvalidAuthentication';

/** Where scopes are granted, for messages. */
const GRANT_HINT = 'grant it in the DingTalk developer console → your app → Permissions (权限管理), then retry';


/** The scopes DingTalk says are missing (`accessdenieddetail.requiredScopes`). */
function requiredScopes(body: Record<string, unknown>): string[] {
  const detail = body.accessdenieddetail;
  if (!isRecord(detail) || !Array.isArray(detail.requiredScopes)) return [];
  return detail.requiredScopes.filter((scope): scope is string => typeof scope === 'string');
}

/** True when DingTalk refused the access token itself: drop it and ask for a fresh one. */
export function isStaleTokenError(error: DingTalkApiError): boolean {
  return error.reason === 'auth' && error.api !== TOKEN_API;
}

/**
 * Maps a non-2xx answer of `api`. Order matters: `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` reads like a
 * permission error but is throttling (retried), so throttling and quota are recognised before permissions.
 */
export function mapDingTalkAnswer(api: string, status: number, body: Record<string, unknown>, scrub: ErrorScrubber): DingTalkApiError {
  const code = typeof body.code === 'string' && body.code !== '' ? body.code : typeof body.code === 'number' ? String(body.code) : undefined;
  const said = typeof body.message === 'string' && body.message !== '' ? `: ${scrub(body.message)}` : '';
  const what = `HTTP ${status}${code !== undefined ? ` ${code}` : ''}`;
  const details = { api, status, code };

  if (status === 429 || (code !== undefined && /QpsLimit/i.test(code))) {
    return new DingTalkApiError(
      'throttled',
      `DingTalk throttled the app on ${api} (${what}) after the bounded waits: it is over its QPS limit; fewer concurrent cards or a longer CARD_UPDATE_INTERVAL_MS help`,
      { ...details, retryable: true },
    );
  }
  if (code !== undefined && (/ApiCountLimit/i.test(code) || code === '90020')) {
    return new DingTalkApiError(
      'quota',
      `the organisation's monthly DingTalk API quota is used up (${what}); OpenAPI calls fail until next month or a larger plan`,
      details,
    );
  }
  if (api === TOKEN_API && status >= 400 && status < 500) {
    return new DingTalkApiError(
      'auth',
      `DingTalk refused the app's credentials when asked for an access token (${what}${said}): check DINGTALK_CLIENT_ID (the app's Client ID) and DINGTALK_APP_SECRET (its Client Secret), and that the app has the qyapi_base permission`,
      details,
    );
  }
  const scopes = requiredScopes(body);
  if (status === 403 && (scopes.length > 0 || (code !== undefined && /PermissionDenied/i.test(code)))) {
    const named = scopes.length > 0 ? scopes.join(', ') : 'needed for it';
    return new DingTalkApiError('permission', `the DingTalk app lacks the permission ${named} for ${api} (${what}): ${GRANT_HINT}`, {
      ...details,
      requiredScopes: scopes,
    });
  }
  if ((status === 400 || status === 401) && code === INVALID_TOKEN_CODE) {
    return new DingTalkApiError(
      'auth',
      `DingTalk refused the access token on ${api} (${what}), a fresh one included: check DINGTALK_CLIENT_ID and DINGTALK_APP_SECRET`,
      details,
    );
  }
  if (status === 401) {
    return new DingTalkApiError('auth', `DingTalk refused the access token on ${api} (${what}): check DINGTALK_CLIENT_ID and DINGTALK_APP_SECRET`, details);
  }
  if (status >= 400 && status < 500 && code !== undefined && /template/i.test(code)) {
    return new DingTalkApiError(
      'template',
      `DingTalk refused the card template on ${api} (${what}${said}): publish the AI card template on the card platform and check DINGTALK_CARD_TEMPLATE_ID`,
      details,
    );
  }
  if (status >= 500) {
    return new DingTalkApiError('server', `DingTalk failed on ${api} (${what})`, { ...details, retryable: true });
  }
  return new DingTalkApiError('rejected', `DingTalk rejected ${api} (${what}${said})`, details);
}
