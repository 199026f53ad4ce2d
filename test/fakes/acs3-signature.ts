/**
 * Checks an `ACS3-HMAC-SHA256` request the way Alibaba Cloud's API gateway does, written from the
 * published V3 signature algorithm ("V3 request structure and signature", and FC 3.0's "Signature
 * mechanism" page), not from any SDK's code:
 *
 *   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedRequestPayload
 *   StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
 *   Signature        = hex(hmac-sha256(AccessKeySecret, StringToSign))
 *   Authorization    = ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;...>,Signature=<hex>
 *
 * CanonicalHeaders: every `x-acs-*` header, `host` and `content-type`, names lowercased, values
 * trimmed, sorted by name, `name:value\n` each; every such header present must be signed.
 * HashedRequestPayload: hex SHA-256 of the body, sent as `x-acs-content-sha256`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** An access key the check accepts; STS key ids (`STS.`) also need their token in `x-acs-security-token`. */
export interface Acs3Key {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** A request as received: lowercase header names, the raw path (percent-encoded as sent) and query. */
export interface Acs3Request {
  method: string;
  path: string;
  query: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/** Why the gateway refuses the request. */
export interface Acs3Refusal {
  status: number;
  code: string;
  message: string;
}

/** Options of `checkAcs3Signature`. */
export interface Acs3CheckOptions {
  keys: readonly Acs3Key[];
  now: number;
  /** Largest accepted distance between `x-acs-date` and `now`. Default 15 minutes. */
  maxSkewMs?: number;
  /** Nonces seen before: a repeated `x-acs-signature-nonce` is a replay. Added to on success. */
  nonces?: Set<string>;
  /** Expected `x-acs-version` and `x-acs-action`, when given. */
  version?: string;
  action?: string;
}

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** Headers every V3 request must carry and sign. */
const REQUIRED_SIGNED = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'];

const refuse = (status: number, code: string, message: string): Acs3Refusal => ({ status, code, message });

/** RFC 3986 encoding: unreserved characters kept, everything else `%XX` (so space is %20, `*` is %2A, `~` stays). */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The path with each segment decoded and encoded again per RFC 3986 (`/` kept). */
function canonicalUri(path: string): string {
  return path
    .split('/')
    .map((segment) => rfc3986(decodeURIComponent(segment)))
    .join('/');
}

/** Query parameters sorted by name, name and value encoded per RFC 3986, `name=value` joined by `&`. */
function canonicalQuery(query: string): string {
  const params = new URLSearchParams(query);
  return [...params.entries()]
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** The headers that take part in the signature: `x-acs-*`, `host`, `content-type`. */
export function signableHeaderNames(headers: Readonly<Record<string, string>>): string[] {
  return Object.keys(headers)
    .map((name) => name.toLowerCase())
    .filter((name) => name.startsWith('x-acs-') || name === 'host' || name === 'content-type')
    .sort();
}

/** The string to sign for `signedHeaders` (lowercase, sorted). */
export function acs3StringToSign(request: Acs3Request, signedHeaders: readonly string[]): string {
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${(request.headers[name] ?? '').trim()}\n`).join('');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(request.path),
    canonicalQuery(request.query),
    canonicalHeaders,
    signedHeaders.join(';'),
    request.headers['x-acs-content-sha256'] ?? '',
  ].join('\n');
  return `${ACS3_ALGORITHM}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
}

/** The signature of `stringToSign` with `secret`, lowercase hex. */
export function acs3Signature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** True when the request claims an ACS3 signature (whether or not it is valid). */
export function isAcs3Request(headers: Readonly<Record<string, string>>): boolean {
  return (headers.authorization ?? '').startsWith(`${ACS3_ALGORITHM} `);
}

/**
 * Checks, in order: the Authorization syntax, the key, `x-acs-date` and its skew, the nonce, the
 * payload hash, which headers are signed, the STS token, version and action, then the signature.
 * Answers `undefined` when the gateway would accept the request.
 */
export function checkAcs3Signature(request: Acs3Request, options: Acs3CheckOptions): Acs3Refusal | undefined {
  const h = request.headers;
  const match = /^ACS3-HMAC-SHA256 Credential=([^,\s]+),SignedHeaders=([^,\s]+),Signature=([0-9a-f]{64})$/.exec(h.authorization ?? '');
  if (match === null) return refuse(400, 'InvalidAuthorization', 'the Authorization header must be "ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=..."');
  const [, keyId = '', signedList = '', signature = ''] = match;
  const key = options.keys.find((candidate) => candidate.accessKeyId === keyId);
  if (key === undefined) return refuse(404, 'InvalidAccessKeyId.NotFound', `the access key id '${keyId}' does not exist`);

  const date = h['x-acs-date'] ?? '';
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date)) return refuse(400, 'InvalidTimeStamp.Format', 'x-acs-date must be an ISO 8601 UTC time (yyyy-MM-ddTHH:mm:ssZ)');
  if (Math.abs(options.now - Date.parse(date)) > (options.maxSkewMs ?? 15 * 60 * 1000)) {
    return refuse(400, 'InvalidTimeStamp.Expired', 'x-acs-date is too far from the server time');
  }
  const nonce = h['x-acs-signature-nonce'] ?? '';
  if (nonce === '') return refuse(400, 'MissingSignatureNonce', 'x-acs-signature-nonce is required');
  if (options.nonces?.has(nonce)) return refuse(400, 'SignatureNonceUsed', 'the x-acs-signature-nonce was used before');

  const payloadHash = createHash('sha256').update(request.body).digest('hex');
  if (h['x-acs-content-sha256'] !== payloadHash) return refuse(400, 'InvalidContentSha256', 'x-acs-content-sha256 is not the SHA-256 of the body');

  const signed = signedList.split(';');
  const sorted = [...signed].sort();
  if (signed.some((name, index) => name !== sorted[index] || name !== name.toLowerCase())) {
    return refuse(400, 'IncompleteSignature', 'SignedHeaders must be lowercase names in ascending order');
  }
  const missing = [...new Set([...REQUIRED_SIGNED, ...signableHeaderNames(h)])].filter((name) => !signed.includes(name));
  if (missing.length > 0) return refuse(400, 'IncompleteSignature', `these headers must be signed: ${missing.join(', ')}`);
  const absent = signed.filter((name) => h[name] === undefined);
  if (absent.length > 0) return refuse(400, 'IncompleteSignature', `signed headers missing from the request: ${absent.join(', ')}`);

  if (keyId.startsWith('STS.') && !sameText(h['x-acs-security-token'] ?? '', key.securityToken ?? '')) {
    return refuse(400, 'InvalidSecurityToken.Mismatch', 'the security token is missing or does not match the access key');
  }
  if (options.version !== undefined && h['x-acs-version'] !== options.version) return refuse(400, 'InvalidVersion', `x-acs-version must be ${options.version}`);
  if (options.action !== undefined && h['x-acs-action'] !== options.action) return refuse(400, 'InvalidAction.NotFound', `x-acs-action must be ${options.action}`);

  const expected = acs3Signature(key.accessKeySecret, acs3StringToSign(request, signed));
  if (!sameText(signature, expected)) return refuse(400, 'SignatureDoesNotMatch', 'the request signature does not conform to Alibaba Cloud standards');
  options.nonces?.add(nonce);
  return undefined;
}
