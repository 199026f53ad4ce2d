/** Hosts that may be reached over plain http: only this machine, for local mode and tests. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Why a session webhook URL was refused, or `undefined` when it may be contacted. */
export type WebhookUrlRefusal = 'not-a-url' | 'scheme' | 'userinfo' | 'host' | 'port';

/**
 * Decides whether a `sessionWebhook` may be contacted. DingTalk's signature does not cover the body,
 * so the URL is untrusted: only hosts in DINGTALK_WEBHOOK_HOSTS are allowed, over https, with no
 * userinfo and the default port. Plain http is allowed only for loopback hosts (local mode, tests).
 */
export function checkWebhookUrl(value: string, allowedHosts: readonly string[]): WebhookUrlRefusal | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not-a-url';
  }
  const host = url.hostname.toLowerCase();
  const loopback = LOOPBACK_HOSTS.has(host);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return 'scheme';
  if (url.username !== '' || url.password !== '') return 'userinfo';
  if (!allowedHosts.includes(host)) return 'host';
  if (url.port !== '' && !loopback) return 'port';
  return undefined;
}

/** The webhook URL without its `session` token, for logs: the token lets anyone post into the chat. */
export function redactWebhookUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '[invalid url]';
  }
}
