import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors';

/** DingTalk rejects callbacks whose timestamp is more than an hour from the clock; so do we. */
export const SIGNATURE_TOLERANCE_MS = 60 * 60 * 1000;

/** Base64(HMAC-SHA256(key = secret, timestamp + "\n" + secret)): what DingTalk puts in the `sign` header. */
export function computeSignature(timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

/**
 * Checks DingTalk's `timestamp` and `sign` headers. DingTalk signs the timestamp only, not the body,
 * so a valid pair proves the sender knows the secret and that the request is recent, nothing more.
 * Throws `SignatureError` with a reason safe to return to the caller.
 */
export function verifySignature(input: {
  timestamp: string | undefined;
  sign: string | undefined;
  secret: string;
  now: number;
  toleranceMs?: number;
}): void {
  const { timestamp, sign, secret, now } = input;
  const tolerance = input.toleranceMs ?? SIGNATURE_TOLERANCE_MS;
  if (timestamp === undefined || timestamp === '') throw new SignatureError('missing "timestamp" header');
  if (sign === undefined || sign === '') throw new SignatureError('missing "sign" header');
  if (!/^\d{1,16}$/.test(timestamp)) throw new SignatureError('"timestamp" must be epoch milliseconds');
  if (Math.abs(now - Number(timestamp)) > tolerance) {
    throw new SignatureError('"timestamp" is more than 1 hour from the server clock');
  }
  const expected = Buffer.from(computeSignature(timestamp, secret), 'utf8');
  const actual = Buffer.from(sign, 'utf8');
  // Lengths are public (a Base64 SHA-256 is always 44 characters); only the content is compared in constant time.
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new SignatureError('"sign" does not match: check DINGTALK_APP_SECRET');
  }
}
