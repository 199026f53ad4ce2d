/**
 * A local S3 for tests: `s3rver` (an S3 implementation storing objects in a temporary folder) behind a
 * small loopback front that adds what s3rver 3.x lacks and the bot relies on, each implemented from the
 * S3 documentation rather than from the client's code:
 *
 * - Signature V4 is verified for real (s3rver only checks that the access key exists): the credential
 *   scope (date, region, `s3`), `x-amz-date` within 15 minutes, the signed headers (`host` and every
 *   `x-amz-*` header), `x-amz-content-sha256` against the body, the session token, and the signature.
 * - `If-None-Match: *` on PutObject (s3rver ignores it): 412 `PreconditionFailed` when the key exists,
 *   409 `ConditionalRequestConflict` while another write of the same key is in flight, 501 for any
 *   other value.
 * - ListObjectsV2 in UTF-8 byte order: s3rver walks its folder, so `a/x` and `a-1` come before `a`.
 *   The front re-sorts s3rver's page; it answers 501 rather than guess when a prefix holds more than
 *   1000 keys, and does not implement `delimiter`, `start-after` or continuation tokens.
 * - DeleteObjects: at most 1000 keys (`MalformedXML`), and `Content-MD5` or an `x-amz-checksum-*`
 *   header that matches the body.
 *
 * Only path-style addressing (`forcePathStyle: true`, `http://127.0.0.1:PORT/<bucket>/<key>`).
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { constantTimeEqual, headerValue, listenOnLoopback, randomHex, readBody, sendXml, xmlEscape, xmlUnescape } from './http-helpers';

/** An access key the fake accepts. */
export interface S3FakeCredential {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry it in `x-amz-security-token` (temporary credentials). */
  sessionToken?: string;
}

/** Options of {@link startS3Fake}. */
export interface S3FakeOptions {
  /** The one bucket that exists. */
  bucket: string;
  /** The region requests must be signed for. Default `us-east-1`. */
  region?: string;
  credentials: S3FakeCredential[];
  /** Largest accepted distance between `x-amz-date` and the fake's clock. Default 15 min, as S3. */
  maxClockSkewMs?: number;
}

/** Operation names the fake recognises (S3 API names). */
export type S3Operation =
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'ListObjectsV2'
  | 'DeleteObjects'
  | 'Other';

/** One request as it arrived, whatever the outcome. */
export interface S3FakeRequestLog {
  method: string;
  operation: S3Operation;
  /** Object key, decoded, for object operations. */
  key?: string;
  /** The `If-None-Match` header of a PutObject. */
  ifNoneMatch?: string;
  status: number;
  errorCode?: string;
}

/** A running S3 fake. */
export interface S3Fake {
  /** `http://127.0.0.1:PORT`: pass it as the S3 client's `endpoint`, with `forcePathStyle: true`. */
  readonly url: string;
  readonly bucket: string;
  readonly region: string;
  /** Every request, in arrival order. */
  readonly requests: S3FakeRequestLog[];
  /** How many requests each operation received. */
  counts(): Partial<Record<S3Operation, number>>;
  /**
   * Makes the next authenticated request for `operation` (or any, with `'*'`) answer `status` with
   * error `code` in S3's XML. Queued: several calls fail several requests.
   */
  failNext(operation: S3Operation | '*', status: number, code: string): void;
  /** Stops the front and s3rver, and removes the temporary folder. */
  close(): Promise<void>;
}

/** The part of s3rver 3.x's API the fake uses (the package ships no types). */
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const MAX_KEYS = 1000;
const MAX_DELETE_OBJECTS = 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding, as SigV4 canonicalises: everything but `A-Za-z0-9-._~` is percent-encoded. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Compares two keys by their UTF-8 bytes, the order S3 lists objects in. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `20261121T055900Z` as a Date, or undefined. */
function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** The raw query as decoded pairs, in order. */
function parseQuery(raw: string): Array<[string, string]> {
  return raw
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return [decodeURIComponent(eq < 0 ? part : part.slice(0, eq)), eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1))];
    });
}

/** Starts s3rver on 127.0.0.1 in a temporary folder and the checking front before it. */
export async function startS3Fake(options: S3FakeOptions): Promise<S3Fake> {
  const region = options.region ?? 'us-east-1';
  const maxSkew = options.maxClockSkewMs ?? 15 * 60 * 1000;
  const keys = new Map(options.credentials.map((credential) => [credential.accessKeyId, credential]));
  const requests: S3FakeRequestLog[] = [];
  const counters: Partial<Record<S3Operation, number>> = {};
  const injected: Array<{ operation: S3Operation | '*'; status: number; code: string }> = [];
  /** Writes in flight per key, so a conditional write that overlaps one gets S3's 409. */
  const writing = new Map<string, number>();

  const directory = await mkdtemp(path.join(tmpdir(), 's3-fake-'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverConstructor;
  const backend = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: options.bucket }] });
  const { port: backendPort } = await backend.run();

  /** Sends a request to s3rver (unsigned: the front has already authenticated it). */
  function upstream(method: string, target: string, headers: IncomingHttpHeaders, body?: Buffer) {
    const forwarded: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name !== 'authorization' && name !== 'x-amz-security-token' && name !== 'connection') forwarded[name] = value;
    }
    if (body !== undefined) forwarded['content-length'] = String(body.length);
    return new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: backendPort, method, path: target, headers: forwarded }, (res) => {
        readBody(res).then((data) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: data }), reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Verifies the request's Signature V4 Authorization header, as S3 does. */
  function authenticate(req: IncomingMessage, rawPath: string, rawQuery: string, body: Buffer): void {
    const authorization = headerValue(req, 'authorization');
    if (authorization === undefined) throw new S3Error(403, 'AccessDenied', 'Access Denied');
    const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!match) throw new S3Error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
    const [, credential = '', signedHeaderList = '', signature = ''] = match;
    const [accessKeyId = '', scopeDate, scopeRegion, service, terminator, ...rest] = credential.split('/');
    if (rest.length > 0 || terminator !== 'aws4_request' || service !== 's3') {
      throw new S3Error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; the Credential is mal-formed.');
    }
    const key = keys.get(accessKeyId);
    if (!key) throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    if (scopeRegion !== region) {
      throw new S3Error(400, 'AuthorizationHeaderMalformed', `the region '${scopeRegion ?? ''}' is wrong; expecting '${region}'`);
    }
    const amzDate = headerValue(req, 'x-amz-date') ?? '';
    const date = parseAmzDate(amzDate);
    if (date === undefined) throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(Date.now() - date.getTime()) > maxSkew) {
      throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    }
    if (scopeDate !== amzDate.slice(0, 8)) {
      throw new S3Error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; the date does not match x-amz-date.');
    }
    const token = headerValue(req, 'x-amz-security-token');
    if (key.sessionToken !== undefined && token === undefined) throw new S3Error(403, 'AccessDenied', 'Access Denied');
    if (token !== undefined && token !== key.sessionToken) throw new S3Error(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    const payloadHash = headerValue(req, 'x-amz-content-sha256');
    if (payloadHash === undefined) throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    if (/^[0-9a-f]{64}$/.test(payloadHash)) {
      if (payloadHash !== sha256Hex(body)) {
        throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
    } else if (payloadHash !== 'UNSIGNED-PAYLOAD') {
      throw new S3Error(501, 'NotImplemented', `The S3 fake does not implement x-amz-content-sha256: ${payloadHash}`);
    }
    const signedHeaders = signedHeaderList.split(';');
    const unsigned = Object.keys(req.headers).filter((name) => name.startsWith('x-amz-') && !signedHeaders.includes(name));
    if (!signedHeaders.includes('host') || unsigned.length > 0) {
      throw new S3Error(403, 'AccessDenied', `There were headers present in the request which were not signed: ${unsigned.join(', ') || 'host'}`);
    }
    const canonicalHeaders = signedHeaders
      .map((name) => `${name}:${(headerValue(req, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
      .join('');
    const canonicalQuery = parseQuery(rawQuery)
      .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const canonicalUri = rawPath.split('/').map((segment) => uriEncode(decodeURIComponent(segment))).join('/');
    const canonicalRequest = [req.method ?? '', canonicalUri, canonicalQuery, canonicalHeaders, signedHeaderList, payloadHash].join('\n');
    const scope = `${scopeDate}/${region}/s3/aws4_request`;
    const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, scopeDate), region), 's3'), 'aws4_request');
    if (!constantTimeEqual(hmac(signingKey, stringToSign).toString('hex'), signature)) {
      throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
  }

  function classify(method: string, key: string, query: Map<string, string>): S3Operation {
    if (key === '') {
      if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
      if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
      return 'Other';
    }
    const operations: Record<string, S3Operation> = { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' };
    return operations[method] ?? 'Other';
  }

  /**
   * PutObject, with `If-None-Match: *` as S3 documents it. The in-flight check and the mark happen in one
   * synchronous step, so of overlapping conditional writes exactly one goes ahead.
   */
  async function putObject(req: IncomingMessage, target: string, bucketPath: string, key: string, body: Buffer, release: () => void) {
    const ifNoneMatch = headerValue(req, 'if-none-match');
    if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
      throw new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
    }
    if (ifNoneMatch !== undefined && (writing.get(key) ?? 0) > 0) {
      throw new S3Error(409, 'ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource. Try again.');
    }
    writing.set(key, (writing.get(key) ?? 0) + 1);
    try {
      if (ifNoneMatch !== undefined) {
        const existing = await upstream('HEAD', `${bucketPath}/${key.split('/').map(uriEncode).join('/')}`, {});
        if (existing.status === 200) {
          throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        }
      }
      return await upstream('PUT', target, req.headers, body);
    } finally {
      release();
    }
  }

  /** ListObjectsV2 from s3rver's page, re-sorted into byte order and cut to `max-keys`. */
  async function listObjects(bucketPath: string, query: Map<string, string>): Promise<{ status: number; xml: string }> {
    for (const unsupported of ['delimiter', 'start-after', 'continuation-token']) {
      if (query.has(unsupported)) throw new S3Error(501, 'NotImplemented', `The S3 fake does not implement ${unsupported}`);
    }
    const prefix = query.get('prefix') ?? '';
    const maxKeysText = query.get('max-keys') ?? String(MAX_KEYS);
    if (!/^\d+$/.test(maxKeysText)) throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
    const maxKeys = Math.min(Number(maxKeysText), MAX_KEYS);
    const page = await upstream('GET', `${bucketPath}/?list-type=2&max-keys=${MAX_KEYS}&prefix=${uriEncode(prefix)}`, {});
    const xml = page.body.toString('utf8');
    if (page.status !== 200) return { status: page.status, xml };
    if (/<IsTruncated>true<\/IsTruncated>/.test(xml)) {
      throw new S3Error(501, 'NotImplemented', `The S3 fake cannot order more than ${MAX_KEYS} keys under one prefix`);
    }
    const contents = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)]
      .map((entry) => ({ xml: entry[0], key: xmlUnescape(/<Key>([\s\S]*?)<\/Key>/.exec(entry[1] ?? '')?.[1] ?? '') }))
      .sort((a, b) => compareKeys(a.key, b.key));
    const kept = contents.slice(0, maxKeys);
    return {
      status: 200,
      xml:
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Name>${xmlEscape(options.bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${kept.length}</KeyCount>` +
        `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${contents.length > kept.length}</IsTruncated>` +
        kept.map((entry) => entry.xml).join('') +
        '</ListBucketResult>',
    };
  }

  /** S3 requires an integrity header on DeleteObjects and at most 1000 keys. */
  function checkDeleteObjects(req: IncomingMessage, body: Buffer): void {
    const md5 = headerValue(req, 'content-md5');
    const crc = headerValue(req, 'x-amz-checksum-crc32');
    const sha256 = headerValue(req, 'x-amz-checksum-sha256');
    if (md5 === undefined && crc === undefined && sha256 === undefined) {
      throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5 or x-amz-checksum-*');
    }
    const crcBytes = Buffer.alloc(4);
    crcBytes.writeUInt32BE(crc32(body));
    const mismatch =
      (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64')) ||
      (crc !== undefined && crc !== crcBytes.toString('base64')) ||
      (sha256 !== undefined && sha256 !== createHash('sha256').update(body).digest('base64'));
    if (mismatch) throw new S3Error(400, 'BadDigest', 'The Content-MD5 or checksum value that you specified did not match what the server received.');
    if ((body.toString('utf8').match(/<Object>/g) ?? []).length > MAX_DELETE_OBJECTS) {
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
  }

  function send(res: ServerResponse, method: string, status: number, headers: IncomingHttpHeaders, body: Buffer): void {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding' && name !== 'keep-alive') out[name] = value;
    }
    if (method !== 'HEAD') out['content-length'] = String(body.length);
    res.writeHead(status, out);
    res.end(method === 'HEAD' ? undefined : body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : url.slice(queryAt + 1);
    const [, bucket = '', ...keyParts] = rawPath.split('/');
    const bucketPath = `/${bucket}`;
    const key = keyParts.map((part) => decodeURIComponent(part)).join('/');
    const query = new Map(parseQuery(rawQuery));
    const operation = classify(method, key, query);
    counters[operation] = (counters[operation] ?? 0) + 1;
    const log: S3FakeRequestLog = { method, operation, status: 0 };
    if (key !== '') log.key = key;
    const ifNoneMatch = headerValue(req, 'if-none-match');
    if (operation === 'PutObject' && ifNoneMatch !== undefined) log.ifNoneMatch = ifNoneMatch;
    requests.push(log);
    const body = await readBody(req);
    const requestId = randomHex(16);

    const release = (): void => {
      const left = (writing.get(key) ?? 1) - 1;
      if (left > 0) writing.set(key, left);
      else writing.delete(key);
    };
    try {
      authenticate(req, rawPath, rawQuery, body);
      const index = injected.findIndex((entry) => entry.operation === '*' || entry.operation === operation);
      const injection = index >= 0 ? injected.splice(index, 1)[0] : undefined;
      if (injection) throw new S3Error(injection.status, injection.code, `injected ${injection.code}`);
      let answer: { status: number; headers: IncomingHttpHeaders; body: Buffer };
      if (operation === 'PutObject') {
        answer = await putObject(req, url, bucketPath, key, body, release);
      } else if (operation === 'ListObjectsV2') {
        const listed = await listObjects(bucketPath, query);
        log.status = listed.status;
        sendXml(res, listed.status, listed.xml, { 'x-amz-request-id': requestId });
        return;
      } else {
        if (operation === 'DeleteObjects') checkDeleteObjects(req, body);
        answer = await upstream(method, url, req.headers, body);
      }
      log.status = answer.status;
      const code = /<Code>([^<]*)<\/Code>/.exec(answer.body.toString('utf8'))?.[1];
      if (answer.status >= 300 && code !== undefined) log.errorCode = code;
      send(res, method, answer.status, { ...answer.headers, 'x-amz-request-id': requestId }, answer.body);
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      log.status = error.status;
      log.errorCode = error.code;
      const xml =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message><RequestId>${requestId}</RequestId></Error>`;
      if (method === 'HEAD') send(res, method, error.status, { 'x-amz-request-id': requestId }, Buffer.alloc(0));
      else sendXml(res, error.status, xml, { 'x-amz-request-id': requestId });
    }
  }

  const front = await listenOnLoopback(handle);
  return {
    url: front.url,
    bucket: options.bucket,
    region,
    requests,
    counts: () => ({ ...counters }),
    failNext(operation, status, code) {
      injected.push({ operation, status, code });
    },
    async close() {
      await front.close();
      await backend.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
