import { createHash } from 'node:crypto';
import { acs3Signature, acs3StringToSign, checkAcs3Signature, rfc3986, signableHeaderNames, type Acs3Request } from './acs3-signature';

const KEY = { accessKeyId: 'STS.NAcs3TestKey000000', accessKeySecret: 'Acs3TestSecret000000000000000000', securityToken: 'CAIS-acs3-token' };
const NOW = Date.parse('2026-11-30T12:00:00Z');

/** A request signed by hand, following the published steps. */
function signed(overrides: { body?: string; headers?: Record<string, string>; secret?: string; path?: string } = {}): Acs3Request {
  const body = Buffer.from(overrides.body ?? '{"hello":"世界"}', 'utf8');
  const headers: Record<string, string> = {
    host: '1234567890123456.cn-hangzhou-internal.fc.aliyuncs.com',
    'content-type': 'application/octet-stream',
    'x-acs-action': 'InvokeFunction',
    'x-acs-version': '2023-03-30',
    'x-acs-date': '2026-11-30T12:00:00Z',
    'x-acs-signature-nonce': 'nonce-0001',
    'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
    'x-acs-security-token': KEY.securityToken,
    'x-fc-invocation-type': 'Async',
    ...overrides.headers,
  };
  const request: Acs3Request = { method: 'POST', path: overrides.path ?? '/2023-03-30/functions/dingtalk-llm-reply/invocations', query: '', headers, body };
  const names = signableHeaderNames(headers);
  const signature = acs3Signature(overrides.secret ?? KEY.accessKeySecret, acs3StringToSign(request, names));
  return { ...request, headers: { ...headers, authorization: `ACS3-HMAC-SHA256 Credential=${KEY.accessKeyId},SignedHeaders=${names.join(';')},Signature=${signature}` } };
}

const check = (request: Acs3Request, nonces = new Set<string>()) => checkAcs3Signature(request, { keys: [KEY], now: NOW, nonces, version: '2023-03-30', action: 'InvokeFunction' });

describe('checkAcs3Signature (the V3 signature as published)', () => {
  it('accepts a correctly signed request; x-fc-* headers are not part of the signature', () => {
    expect(check(signed())).toBeUndefined();
    expect(signableHeaderNames(signed().headers)).not.toContain('x-fc-invocation-type');
  });

  it('encodes per RFC 3986: space %20, * %2A, ~ kept', () => {
    expect(rfc3986("a b*c~d'")).toBe('a%20b%2Ac~d%27');
  });

  it('refuses a changed body (payload hash), a wrong secret, a replayed nonce, a stale date and a missing token', () => {
    const original = signed();
    expect(check({ ...original, body: Buffer.from('{"hello":"tampered"}') })).toMatchObject({ code: 'InvalidContentSha256' });
    expect(check(signed({ secret: 'not-the-secret-0000000000000000' }))).toMatchObject({ code: 'SignatureDoesNotMatch' });
    const nonces = new Set<string>();
    expect(check(original, nonces)).toBeUndefined();
    expect(check(original, nonces)).toMatchObject({ code: 'SignatureNonceUsed' });
    expect(check(signed({ headers: { 'x-acs-date': '2026-11-30T11:00:00Z' } }))).toMatchObject({ code: 'InvalidTimeStamp.Expired' });
    const { 'x-acs-security-token': _token, ...rest } = original.headers;
    void _token;
    expect(check({ ...original, headers: rest })).toMatchObject({ code: 'IncompleteSignature' });
  });

  it('refuses an x-acs-* header added after signing (every such header must be signed)', () => {
    const original = signed();
    expect(check({ ...original, headers: { ...original.headers, 'x-acs-extra': '1' } })).toMatchObject({ code: 'IncompleteSignature', message: expect.stringMatching(/x-acs-extra/) });
  });

  it('refuses a changed header value or path', () => {
    const original = signed();
    expect(check({ ...original, headers: { ...original.headers, 'x-acs-action': 'DeleteFunction' } })).toMatchObject({ code: 'InvalidAction.NotFound' });
    expect(check({ ...original, path: '/2023-03-30/functions/other/invocations' })).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(check({ ...original, headers: { ...original.headers, host: 'evil.example' } })).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});
