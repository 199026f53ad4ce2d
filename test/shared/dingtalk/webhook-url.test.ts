import { checkWebhookUrl, redactWebhookUrl } from '../../../shared/dingtalk/webhook-url';

const DEFAULT_HOSTS = ['oapi.dingtalk.com'] as const;
const GOOD = 'https://oapi.dingtalk.com/robot/sendBySession?session=x';

describe('checkWebhookUrl', () => {
  it('allows the DingTalk session webhook with the default host list', () => {
    expect(checkWebhookUrl(GOOD, DEFAULT_HOSTS)).toBeUndefined();
  });

  it('allows the host whatever its case, and the explicit default port', () => {
    expect(checkWebhookUrl('https://OAPI.DingTalk.com/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBeUndefined();
    expect(checkWebhookUrl('https://oapi.dingtalk.com:443/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBeUndefined();
  });

  it('refuses another host', () => {
    expect(checkWebhookUrl('https://evil.example/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBe('host');
  });

  it('refuses an IP address', () => {
    expect(checkWebhookUrl('https://203.0.113.7/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBe('host');
    expect(checkWebhookUrl('https://[2001:db8::1]/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBe('host');
  });

  it('refuses plain http for a non-loopback host', () => {
    expect(checkWebhookUrl('http://oapi.dingtalk.com/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBe('scheme');
  });

  it('refuses other schemes', () => {
    expect(checkWebhookUrl('ftp://oapi.dingtalk.com/robot', DEFAULT_HOSTS)).toBe('scheme');
    expect(checkWebhookUrl('javascript:alert(1)', DEFAULT_HOSTS)).toBe('scheme');
  });

  it('refuses userinfo that makes an allowed host look like the target', () => {
    expect(checkWebhookUrl('https://oapi.dingtalk.com@evil.example/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBe('userinfo');
  });

  it('refuses userinfo in front of the allowed host', () => {
    expect(checkWebhookUrl('https://evil.example@oapi.dingtalk.com/', DEFAULT_HOSTS)).toBe('userinfo');
    expect(checkWebhookUrl('https://user:password@oapi.dingtalk.com/', DEFAULT_HOSTS)).toBe('userinfo');
  });

  it('refuses a non-default port', () => {
    expect(checkWebhookUrl('https://oapi.dingtalk.com:8443/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBe('port');
  });

  it('refuses an allowed host used as a prefix of another domain', () => {
    expect(checkWebhookUrl('https://oapi.dingtalk.com.evil.example/', DEFAULT_HOSTS)).toBe('host');
  });

  it('refuses a subdomain or a parent of the allowed host', () => {
    expect(checkWebhookUrl('https://x.oapi.dingtalk.com/', DEFAULT_HOSTS)).toBe('host');
    expect(checkWebhookUrl('https://dingtalk.com/', DEFAULT_HOSTS)).toBe('host');
  });

  it.each(['not a url', '', '//oapi.dingtalk.com/robot', 'oapi.dingtalk.com/robot/sendBySession'])('refuses %j as not-a-url', (value) => {
    expect(checkWebhookUrl(value, DEFAULT_HOSTS)).toBe('not-a-url');
  });

  it('allows http on a loopback port when that loopback host is listed', () => {
    expect(checkWebhookUrl('http://127.0.0.1:40123/robot/sendBySession?session=x', ['oapi.dingtalk.com', '127.0.0.1'])).toBeUndefined();
    expect(checkWebhookUrl('http://localhost:8080/hook', ['localhost'])).toBeUndefined();
  });

  it('refuses a loopback host that is not listed', () => {
    expect(checkWebhookUrl('http://127.0.0.1:40123/robot/sendBySession?session=x', DEFAULT_HOSTS)).toBe('host');
  });

  it('refuses everything with an empty host list', () => {
    expect(checkWebhookUrl(GOOD, [])).toBe('host');
  });
});

describe('redactWebhookUrl', () => {
  it('drops the session token', () => {
    const redacted = redactWebhookUrl('https://oapi.dingtalk.com/robot/sendBySession?session=0123456789abcdef');
    expect(redacted).toBe('https://oapi.dingtalk.com/robot/sendBySession');
    expect(redacted).not.toContain('0123456789abcdef');
  });

  it('drops userinfo, other query parameters and the fragment', () => {
    const redacted = redactWebhookUrl('https://user:pa55word@oapi.dingtalk.com:8443/robot?a=1&session=tok3n#frag');
    expect(redacted).toBe('https://oapi.dingtalk.com:8443/robot');
  });

  it('answers a placeholder for something that is not a URL', () => {
    expect(redactWebhookUrl('session=tok3n not a url')).toBe('[invalid url]');
  });
});
