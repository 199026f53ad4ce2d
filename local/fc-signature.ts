/**
 * Checks a Function Compute API request the way FC does (FC's documented HMAC-SHA256 scheme, the one
 * `@alicloud/fc2` signs with), so the local FC endpoint accepts exactly what the cloud would.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** An access key the endpoint accepts. Key ids starting with `STS` also need their security token. */
export interface FcAccessKey {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** A request as the check sees it: lowercase header names, the path without its query. */
export interface FcSignedRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/** Why FC would refuse the request: the HTTP status and FC's error code. */
export interface FcRefusal {
  status: number;
  code: string;
  message: string;
}

/** Options of `checkFcSignature`. */
export interface FcSignatureOptions {
  keys: readonly FcAccessKey[];
  accountId: string;
  now: number;
  /** Largest accepted distance between `date` and `now`. Default 15 minutes, as FC. */
  maxSkewMs?: number;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

const refuse = (status: number, code: string, message: string): FcRefusal => ({ status, code, message });

/**
 * The string FC signs: `METHOD\nContent-MD5\nContent-Type\nDate\n`, then every `x-fc-*` header as
 * `name:value\n` in byte order of the name, then the path.
 */
export function fcStringToSign(request: FcSignedRequest): string {
  const h = request.headers;
  const fcHeaders = Object.keys(h)
    .filter((name) => name.startsWith('x-fc-'))
    .sort()
    .map((name) => `${name}:${h[name] ?? ''}\n`)
    .join('');
  return `${request.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${fcHeaders}${request.path}`;
}

/**
 * Checks authorization, date skew, account id, STS token, Content-MD5 (Base64 of the hex MD5, as FC
 * expects) and the signature, in that order. Answers `undefined` when FC would accept the request.
 */
export function checkFcSignature(request: FcSignedRequest, options: FcSignatureOptions): FcRefusal | undefined {
  const h = request.headers;
  const match = /^FC ([^:\s]+):(\S+)$/.exec(h.authorization ?? '');
  if (match === null) return refuse(400, 'MissingRequiredHeader', 'the Authorization header must be "FC <AccessKeyId>:<Signature>"');
  const [, keyId = '', signature = ''] = match;
  const key = options.keys.find((candidate) => candidate.accessKeyId === keyId);
  if (key === undefined) return refuse(403, 'InvalidAccessKeyID', `invalid access key ID '${keyId}'`);
  const date = Date.parse(h.date ?? '');
  if (Number.isNaN(date)) return refuse(400, 'InvalidArgument', 'the Date header is missing or not an HTTP date');
  if (Math.abs(options.now - date) > (options.maxSkewMs ?? 15 * 60 * 1000)) {
    return refuse(403, 'RequestTimeTooSkewed', 'the request time is too far from the server time');
  }
  if (h['x-fc-account-id'] !== options.accountId) return refuse(403, 'AccessDenied', "the account id does not match the endpoint's account");
  if (keyId.startsWith('STS') && !sameText(h['x-fc-security-token'] ?? '', key.securityToken ?? '')) {
    return refuse(403, 'InvalidSecurityToken', 'the security token is missing or invalid');
  }
  const md5 = h['content-md5'];
  if (md5 !== undefined && md5 !== Buffer.from(createHash('md5').update(request.body).digest('hex')).toString('base64')) {
    return refuse(400, 'InvalidArgument', 'Content-MD5 does not match the request body');
  }
  const expected = createHmac('sha256', key.accessKeySecret).update(fcStringToSign(request), 'utf8').digest('base64');
  if (!sameText(signature, expected)) {
    return refuse(403, 'SignatureNotMatch', 'the request signature does not match: check the access key secret');
  }
  return undefined;
}
