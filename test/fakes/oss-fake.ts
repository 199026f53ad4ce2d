/**
 * A local fake of one Alibaba Cloud OSS bucket, speaking OSS's REST API with signature V1.
 *
 * It checks what OSS checks, implemented from the OSS signing documentation (not from the
 * client's code): virtual-hosted bucket addressing through `Host`, the access key, the STS
 * security token, the clock skew of `x-oss-date`/`Date`, the HMAC-SHA1 signature over the
 * canonical string with the signed sub-resources, and `Content-MD5`. Objects live in memory.
 *
 * How ali-oss 6.x reaches it: with `endpoint: 'http://127.0.0.1:PORT'` (an IP endpoint), ali-oss
 * connects to that address but sends `Host: <bucket>.<region>.aliyuncs.com` (no port;
 * `<region>-internal` with `internal: true`) and the path `/<key>`; it never uses path-style
 * `/<bucket>/<key>` (also not with `cname: true`, since the IP check wins). It sends
 * `x-oss-date` and no `Date` header, and signs with `x-oss-date` as the date line. A
 * `localhost` endpoint does not work (ali-oss prefixes the bucket to the hostname and DNS fails).
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BodyTooLargeError,
  constantTimeEqual,
  flatHeaders,
  headerValue,
  listenOnLoopback,
  randomHex,
  readBody,
  sendXml,
  xmlEscape,
  xmlUnescape,
} from './http-helpers';

/** An access key the fake accepts. */
export interface OssFakeCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /** When set, requests must carry it in `x-oss-security-token` (STS credentials). */
  securityToken?: string;
}

/** Options of {@link startOssFake}. */
export interface OssFakeOptions {
  /** The one bucket that exists. */
  bucket: string;
  /** OSS region id such as `oss-cn-hangzhou` (a bare `cn-hangzhou` gets the `oss-` prefix). */
  region: string;
  credentials: OssFakeCredential[];
  /** Largest accepted distance between the request date and the fake's clock. Default 15 min. */
  maxClockSkewMs?: number;
  /** Owner id reported by listings. Default `'1000000000000000'`. */
  ownerId?: string;
}

/** A stored object. */
export interface OssFakeObject {
  body: Buffer;
  contentType: string;
  /** `"<MD5 in uppercase hex>"`, quotes included, as OSS reports ETags. */
  etag: string;
  lastModified: Date;
  /** `x-oss-meta-*` headers given at upload, lowercase names without the prefix. */
  meta: Record<string, string>;
}

/** Operation names the fake recognises (OSS API names). */
export type OssOperation =
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'DeleteMultipleObjects'
  | 'Unsupported';

/** One request as it arrived, whatever the outcome. */
export interface OssFakeRequestLog {
  method: string;
  /** Path and query as sent. */
  path: string;
  operation: OssOperation;
  /** Object key, decoded, for object operations. */
  key?: string;
  status: number;
  errorCode?: string;
  requestId: string;
}

/** A running OSS fake. */
export interface OssFake {
  /** `http://127.0.0.1:PORT`: pass it as ali-oss `endpoint`. */
  readonly url: string;
  readonly bucket: string;
  /** The stored objects by key. Use {@link OssFake.seedObject} to add one without a request. */
  readonly objects: ReadonlyMap<string, OssFakeObject>;
  /** Every request, in arrival order. */
  readonly requests: OssFakeRequestLog[];
  /** How many requests each operation received since the start or the last reset. */
  counts(): Partial<Record<OssOperation, number>>;
  /** Sets every operation counter back to zero (the request log is kept). */
  resetCounts(): void;
  /**
   * Makes the next authenticated request for `operation` (or any, with `'*'`) answer `status`
   * with error `code` in OSS's XML. Queued: several calls fail several requests.
   */
  failNext(operation: OssOperation | '*', status: number, code: string, message?: string): void;
  /** While true, every request answers 503 `ServiceUnavailable` before any other check. */
  setUnavailable(unavailable: boolean): void;
  /** Stores an object directly, as if uploaded earlier. */
  seedObject(key: string, body: Buffer | string, contentType?: string): void;
  /** Stops the server and destroys keep-alive sockets. */
  close(): Promise<void>;
}

/**
 * Query parameters that OSS V1 includes in the canonicalized resource (the "signed
 * sub-resources"). Everything else in the query (prefix, marker, max-keys, list-type, ...) is not
 * signed.
 */
const SIGNED_SUBRESOURCES = new Set<string>([
  'acl', 'uploads', 'location', 'cors', 'logging', 'website', 'referer', 'lifecycle', 'delete',
  'append', 'tagging', 'objectMeta', 'uploadId', 'partNumber', 'security-token', 'position',
  'img', 'style', 'styleName', 'replication', 'replicationProgress', 'replicationLocation',
  'cname', 'bucketInfo', 'comp', 'qos', 'live', 'status', 'vod', 'startTime', 'endTime',
  'symlink', 'x-oss-process', 'response-content-type', 'x-oss-traffic-limit',
  'response-content-language', 'response-expires', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding', 'udf', 'udfName', 'udfImage',
  'udfId', 'udfImageDesc', 'udfApplication', 'udfApplicationLog', 'restore', 'callback',
  'callback-var', 'qosInfo', 'policy', 'stat', 'encryption', 'versions', 'versioning',
  'versionId', 'requestPayment', 'x-oss-request-payer', 'sequential', 'inventory',
  'inventoryId', 'continuation-token', 'asyncFetch', 'worm', 'wormId', 'wormExtend',
  'withHashContext', 'x-oss-enable-md5', 'x-oss-enable-sha1', 'x-oss-enable-sha256',
  'x-oss-hash-ctx', 'x-oss-md5-ctx', 'transferAcceleration', 'regionList', 'cloudboxes',
  'x-oss-ac-source-ip', 'x-oss-ac-subnet-mask', 'x-oss-ac-vpc-id', 'x-oss-ac-forward-allow',
  'metaQuery', 'resourceGroup', 'rtc', 'accessPoint', 'accessPointPolicy', 'httpsConfig',
  'publicAccessBlock', 'bucketArchiveDirectRead', 'responseHeader', 'userDefinedLogFieldsConfig',
  'reservedcapacity', 'requesterQosInfo', 'qosRequester', 'resourcePool', 'resourcePoolInfo',
  'resourcePoolBuckets', 'processConfiguration', 'dataRedundancyTransition', 'x-oss-target-redundancy-type',
  'dataRedundancyTransitionTaskid', 'dataAccelerator', 'x-oss-datalake-cache-only', 'x-oss-write-get-object-response',
]);

const DEFAULT_MAX_KEYS = 100;
const MAX_KEYS_LIMIT = 1000;
const MAX_DELETE_OBJECTS = 1000;
const CONTINUATION_PREFIX = 'fake-oss:';

class OssError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Compares two keys by their UTF-8 bytes, the order OSS lists objects in. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Splits a raw query string into decoded pairs, keeping `+` literal (ali-oss sends `%2B`). */
function parseQuery(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    out.set(name, value);
  }
  return out;
}

function isoTime(date: Date): string {
  return date.toISOString();
}

/**
 * Starts the OSS fake on 127.0.0.1 (ephemeral port).
 *
 * Defaults: 15-minute clock skew; ListObjects `max-keys` 100 (1..1000 accepted); no objects.
 * Not implemented (answers 501 `NotImplemented`): multipart upload, ACL, tagging, append,
 * copy, range reads and every bucket-level operation other than listing and multi-delete.
 */
export async function startOssFake(options: OssFakeOptions): Promise<OssFake> {
  const region = options.region.startsWith('oss-') ? options.region : `oss-${options.region}`;
  const maxSkew = options.maxClockSkewMs ?? 15 * 60 * 1000;
  const ownerId = options.ownerId ?? '1000000000000000';
  const objects = new Map<string, OssFakeObject>();
  const requests: OssFakeRequestLog[] = [];
  let counters: Partial<Record<OssOperation, number>> = {};
  const injected: Array<{ operation: OssOperation | '*'; status: number; code: string; message: string }> = [];
  let unavailable = false;

  const hostId = `${options.bucket}.${region}.aliyuncs.com`;

  function errorXml(requestId: string, err: OssError): string {
    const extra = Object.entries(err.extra)
      .map(([name, value]) => `  <${name}>${xmlEscape(value)}</${name}>\n`)
      .join('');
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n' +
      `  <Code>${xmlEscape(err.code)}</Code>\n` +
      `  <Message>${xmlEscape(err.message)}</Message>\n` +
      `  <RequestId>${requestId}</RequestId>\n` +
      `  <HostId>${xmlEscape(hostId)}</HostId>\n` +
      extra +
      '</Error>\n'
    );
  }

  function sendError(req: IncomingMessage, res: ServerResponse, requestId: string, err: OssError): void {
    const xml = errorXml(requestId, err);
    if (req.method === 'HEAD') {
      // A HEAD answer has no body: OSS puts the error document, base64, in x-oss-err.
      res.writeHead(err.status, {
        'x-oss-request-id': requestId,
        'x-oss-err': Buffer.from(xml, 'utf8').toString('base64'),
        'content-type': 'application/xml',
      });
      res.end();
      return;
    }
    sendXml(res, err.status, xml, { 'x-oss-request-id': requestId });
  }

  /** Resolves the bucket from the Host header (virtual-hosted style, the only style OSS allows). */
  function resolveBucket(req: IncomingMessage): void {
    const host = (headerValue(req, 'host') ?? '').replace(/:\d+$/, '').toLowerCase();
    const match = /^(?:(.+)\.)?(oss-[a-z0-9-]+?)(-internal)?\.aliyuncs\.com$/.exec(host);
    if (!match) {
      throw new OssError(
        403,
        'SecondLevelDomainForbidden',
        `Host '${host}' is not an OSS bucket domain; use virtual hosted style (<bucket>.${region}.aliyuncs.com)`,
      );
    }
    const [, bucket, hostRegion] = match;
    if (hostRegion !== region) {
      throw new OssError(403, 'AccessDenied', 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.', {
        Bucket: bucket ?? '',
        Endpoint: `${region}.aliyuncs.com`,
      });
    }
    if (bucket === undefined) {
      throw new OssError(403, 'SecondLevelDomainForbidden', 'Please use virtual hosted style to access.');
    }
    if (bucket !== options.bucket) {
      throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket });
    }
  }

  function canonicalResource(key: string, query: Map<string, string>): string {
    const signed = [...query.entries()]
      .filter(([name]) => SIGNED_SUBRESOURCES.has(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => (value === '' ? name : `${name}=${value}`));
    const base = `/${options.bucket}/${key}`;
    return signed.length > 0 ? `${base}?${signed.join('&')}` : base;
  }

  function authenticate(req: IncomingMessage, key: string, query: Map<string, string>): void {
    const authorization = headerValue(req, 'authorization');
    if (!authorization) {
      throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
    }
    const match = /^OSS ([^:\s]+):(\S+)$/.exec(authorization);
    if (!match) {
      throw new OssError(400, 'InvalidArgument', 'Authorization header is invalid.', { ArgumentName: 'Authorization' });
    }
    const keyId = match[1] ?? '';
    const signature = match[2] ?? '';
    const credential = options.credentials.find((c) => c.accessKeyId === keyId);
    if (!credential) {
      throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', {
        OSSAccessKeyId: keyId,
      });
    }
    const token = headerValue(req, 'x-oss-security-token');
    if (credential.securityToken !== undefined || token !== undefined) {
      if (token === undefined) {
        throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', {
          OSSAccessKeyId: keyId,
        });
      }
      if (credential.securityToken === undefined || !constantTimeEqual(token, credential.securityToken)) {
        throw new OssError(403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
      }
    }

    const ossDate = headerValue(req, 'x-oss-date');
    const httpDate = headerValue(req, 'date');
    const requestDate = ossDate ?? httpDate;
    if (requestDate === undefined) {
      throw new OssError(403, 'AccessDenied', 'Neither the Date nor the x-oss-date header is set.');
    }
    const when = Date.parse(requestDate);
    if (Number.isNaN(when)) {
      throw new OssError(403, 'AccessDenied', `Invalid date '${requestDate}'.`);
    }
    if (Math.abs(Date.now() - when) > maxSkew) {
      throw new OssError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        MaxAllowedSkewMilliseconds: String(maxSkew),
        RequestTime: new Date(when).toISOString(),
        ServerTime: new Date().toISOString(),
      });
    }

    const ossHeaders = Object.entries(flatHeaders(req))
      .filter(([name]) => name.startsWith('x-oss-'))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}:${value.trim()}\n`)
      .join('');
    const resource = canonicalResource(key, query);
    const candidates = [...new Set([ossDate, httpDate].filter((d): d is string => d !== undefined))];
    const stringsToSign = candidates.map((date) =>
      [
        (req.method ?? '').toUpperCase(),
        headerValue(req, 'content-md5') ?? '',
        headerValue(req, 'content-type') ?? '',
        date,
        `${ossHeaders}${resource}`,
      ].join('\n'),
    );
    const ok = stringsToSign.some((s) =>
      constantTimeEqual(signature, createHmac('sha1', credential.accessKeySecret).update(s, 'utf8').digest('base64')),
    );
    if (!ok) {
      throw new OssError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
        StringToSign: stringsToSign[0] ?? '',
        OSSAccessKeyId: keyId,
      });
    }
  }

  function checkContentMd5(req: IncomingMessage, body: Buffer, required: boolean): void {
    const given = headerValue(req, 'content-md5');
    if (given === undefined) {
      if (required) throw new OssError(400, 'MissingArgument', 'Missing Some Required Arguments.', { ArgumentName: 'Content-MD5' });
      return;
    }
    const expected = createHash('md5').update(body).digest('base64');
    if (given !== expected) {
      throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    }
  }

  function classify(method: string, key: string, query: Map<string, string>): OssOperation {
    const subresources = [...query.keys()].filter((name) => SIGNED_SUBRESOURCES.has(name));
    if (key === '') {
      if (method === 'GET' && subresources.length === 0) {
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      }
      if (method === 'GET' && subresources.length === 1 && subresources[0] === 'continuation-token' && query.get('list-type') === '2') {
        return 'ListObjectsV2';
      }
      if (method === 'POST' && subresources.length === 1 && subresources[0] === 'delete') return 'DeleteMultipleObjects';
      return 'Unsupported';
    }
    const plain = subresources.every((name) => name.startsWith('response-'));
    if (!plain) return 'Unsupported';
    switch (method) {
      case 'PUT':
        return 'PutObject';
      case 'GET':
        return 'GetObject';
      case 'HEAD':
        return 'HeadObject';
      case 'DELETE':
        return 'DeleteObject';
      default:
        return 'Unsupported';
    }
  }

  function objectHeaders(obj: OssFakeObject, requestId: string): Record<string, string> {
    const headers: Record<string, string> = {
      'x-oss-request-id': requestId,
      'content-type': obj.contentType,
      'content-length': String(obj.body.length),
      etag: obj.etag,
      'last-modified': obj.lastModified.toUTCString(),
      'x-oss-object-type': 'Normal',
      'x-oss-storage-class': 'Standard',
      'accept-ranges': 'bytes',
    };
    for (const [name, value] of Object.entries(obj.meta)) headers[`x-oss-meta-${name}`] = value;
    return headers;
  }

  function checkConditions(req: IncomingMessage, obj: OssFakeObject): number | undefined {
    const ifMatch = headerValue(req, 'if-match');
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== obj.etag) {
      throw new OssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.', {
        Condition: 'If-Match',
      });
    }
    const ifNoneMatch = headerValue(req, 'if-none-match');
    if (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch === obj.etag)) return 304;
    return undefined;
  }

  function putObject(req: IncomingMessage, res: ServerResponse, key: string, body: Buffer, requestId: string): void {
    if (Buffer.byteLength(key, 'utf8') > 1023) {
      throw new OssError(400, 'InvalidObjectName', 'The length of the object name must be between 1 and 1023 bytes.');
    }
    checkContentMd5(req, body, false);
    const forbid = (headerValue(req, 'x-oss-forbid-overwrite') ?? '').toLowerCase() === 'true';
    if (forbid && objects.has(key)) {
      throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.');
    }
    const meta: Record<string, string> = {};
    for (const [name, value] of Object.entries(flatHeaders(req))) {
      if (name.startsWith('x-oss-meta-')) meta[name.slice('x-oss-meta-'.length)] = value;
    }
    const md5 = createHash('md5').update(body);
    const digest = md5.digest();
    const obj: OssFakeObject = {
      body,
      contentType: headerValue(req, 'content-type') ?? 'application/octet-stream',
      etag: `"${digest.toString('hex').toUpperCase()}"`,
      lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
      meta,
    };
    objects.set(key, obj);
    res.writeHead(200, {
      'x-oss-request-id': requestId,
      etag: obj.etag,
      'content-md5': digest.toString('base64'),
      'content-length': '0',
    });
    res.end();
  }

  function getObject(
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    query: Map<string, string>,
    requestId: string,
    head: boolean,
  ): void {
    const obj = objects.get(key);
    if (!obj) {
      throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    }
    const conditional = checkConditions(req, obj);
    if (conditional === 304) {
      res.writeHead(304, { 'x-oss-request-id': requestId, etag: obj.etag });
      res.end();
      return;
    }
    const headers = objectHeaders(obj, requestId);
    // response-* sub-resources override the matching response headers.
    for (const [name, value] of query) {
      if (name.startsWith('response-') && !head) headers[name.slice('response-'.length)] = value;
    }
    res.writeHead(200, headers);
    res.end(head ? undefined : obj.body);
  }

  function parseMaxKeys(query: Map<string, string>): number {
    const raw = query.get('max-keys');
    if (raw === undefined || raw === '') return DEFAULT_MAX_KEYS;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_KEYS_LIMIT) {
      throw new OssError(400, 'InvalidArgument', `max-keys must be an integer between 1 and ${MAX_KEYS_LIMIT}.`, {
        ArgumentName: 'max-keys',
        ArgumentValue: raw,
      });
    }
    return Number(raw);
  }

  /** One listing page: keys after `after`, with `prefix`, folded by `delimiter`, at most `maxKeys` entries. */
  function listPage(prefix: string, after: string, delimiter: string, maxKeys: number) {
    const sorted = [...objects.keys()].sort(compareKeys);
    const contents: string[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    let truncated = false;
    for (const key of sorted) {
      if (!key.startsWith(prefix)) continue;
      if (after !== '' && compareKeys(key, after) <= 0) continue;
      let entry = key;
      let isPrefix = false;
      if (delimiter !== '') {
        const rest = key.slice(prefix.length);
        const at = rest.indexOf(delimiter);
        if (at >= 0) {
          entry = prefix + rest.slice(0, at + delimiter.length);
          isPrefix = true;
          if (entry === prefixes[prefixes.length - 1]) continue;
          if (after !== '' && compareKeys(entry, after) <= 0) continue;
        }
      }
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (isPrefix) prefixes.push(entry);
      else contents.push(entry);
      last = entry;
    }
    return { contents, prefixes, truncated, last };
  }

  function contentsXml(keys: string[], withOwner: boolean, encode: (s: string) => string): string {
    return keys
      .map((key) => {
        const obj = objects.get(key) as OssFakeObject;
        const owner = withOwner ? `<Owner><ID>${ownerId}</ID><DisplayName>${ownerId}</DisplayName></Owner>` : '';
        return (
          `<Contents><Key>${xmlEscape(encode(key))}</Key><LastModified>${isoTime(obj.lastModified)}</LastModified>` +
          `<ETag>${xmlEscape(obj.etag)}</ETag><Type>Normal</Type><Size>${obj.body.length}</Size>` +
          `<StorageClass>Standard</StorageClass>${owner}</Contents>`
        );
      })
      .join('');
  }

  function listObjects(res: ServerResponse, query: Map<string, string>, requestId: string, v2: boolean): void {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeys = parseMaxKeys(query);
    const urlEncoding = query.get('encoding-type') === 'url';
    if (query.has('encoding-type') && !urlEncoding) {
      throw new OssError(400, 'InvalidArgument', 'encoding-type must be url.', { ArgumentName: 'encoding-type' });
    }
    const encode = urlEncoding ? (s: string) => encodeURIComponent(s) : (s: string) => s;
    const prefixesXml = (list: string[]) =>
      list.map((p) => `<CommonPrefixes><Prefix>${xmlEscape(encode(p))}</Prefix></CommonPrefixes>`).join('');
    const encodingXml = urlEncoding ? '<EncodingType>url</EncodingType>' : '';

    if (!v2) {
      const marker = query.get('marker') ?? '';
      const page = listPage(prefix, marker, delimiter, maxKeys);
      const xml =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>' +
        `<Name>${xmlEscape(options.bucket)}</Name><Prefix>${xmlEscape(encode(prefix))}</Prefix>` +
        `<Marker>${xmlEscape(encode(marker))}</Marker><MaxKeys>${maxKeys}</MaxKeys>` +
        `<Delimiter>${xmlEscape(encode(delimiter))}</Delimiter>${encodingXml}` +
        `<IsTruncated>${page.truncated}</IsTruncated>` +
        (page.truncated && page.last !== undefined ? `<NextMarker>${xmlEscape(encode(page.last))}</NextMarker>` : '') +
        contentsXml(page.contents, true, encode) +
        prefixesXml(page.prefixes) +
        '</ListBucketResult>\n';
      sendXml(res, 200, xml, { 'x-oss-request-id': requestId });
      return;
    }

    const token = query.get('continuation-token');
    const startAfter = query.get('start-after') ?? '';
    let after = startAfter;
    if (token !== undefined) {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      if (!decoded.startsWith(CONTINUATION_PREFIX)) {
        throw new OssError(400, 'InvalidArgument', 'The continuation token provided is incorrect.', {
          ArgumentName: 'continuation-token',
        });
      }
      after = decoded.slice(CONTINUATION_PREFIX.length);
    }
    const fetchOwner = query.get('fetch-owner') === 'true';
    const page = listPage(prefix, after, delimiter, maxKeys);
    const next =
      page.truncated && page.last !== undefined
        ? Buffer.from(`${CONTINUATION_PREFIX}${page.last}`, 'utf8').toString('base64')
        : undefined;
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>' +
      `<Name>${xmlEscape(options.bucket)}</Name><Prefix>${xmlEscape(encode(prefix))}</Prefix>` +
      (startAfter !== '' ? `<StartAfter>${xmlEscape(encode(startAfter))}</StartAfter>` : '') +
      (token !== undefined ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '') +
      `<MaxKeys>${maxKeys}</MaxKeys><Delimiter>${xmlEscape(encode(delimiter))}</Delimiter>${encodingXml}` +
      `<IsTruncated>${page.truncated}</IsTruncated>` +
      (next !== undefined ? `<NextContinuationToken>${xmlEscape(next)}</NextContinuationToken>` : '') +
      `<KeyCount>${page.contents.length + page.prefixes.length}</KeyCount>` +
      contentsXml(page.contents, fetchOwner, encode) +
      prefixesXml(page.prefixes) +
      '</ListBucketResult>\n';
    sendXml(res, 200, xml, { 'x-oss-request-id': requestId });
  }

  function deleteMultiple(req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string): void {
    checkContentMd5(req, body, true);
    const text = body.toString('utf8');
    const root = /<Delete>([\s\S]*)<\/Delete>/.exec(text);
    if (!root) throw new OssError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    const inner = root[1] ?? '';
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(inner);
    const keys: string[] = [];
    const objectPattern = /<Object>([\s\S]*?)<\/Object>/g;
    for (let m = objectPattern.exec(inner); m; m = objectPattern.exec(inner)) {
      const keyMatch = /<Key>([\s\S]*?)<\/Key>/.exec(m[1] ?? '');
      if (!keyMatch) throw new OssError(400, 'MalformedXML', 'An <Object> element has no <Key>.');
      keys.push(xmlUnescape(keyMatch[1] ?? ''));
    }
    if (keys.length === 0 || keys.length > MAX_DELETE_OBJECTS) {
      throw new OssError(400, 'MalformedXML', `A Delete request must name between 1 and ${MAX_DELETE_OBJECTS} objects.`);
    }
    for (const key of keys) objects.delete(key);
    const deleted = quiet ? '' : keys.map((key) => `<Deleted><Key>${xmlEscape(key)}</Key></Deleted>`).join('');
    sendXml(res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult>${deleted}</DeleteResult>\n`, {
      'x-oss-request-id': requestId,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomHex();
    const method = (req.method ?? '').toUpperCase();
    const fullPath = req.url ?? '/';
    const qAt = fullPath.indexOf('?');
    const rawPath = qAt < 0 ? fullPath : fullPath.slice(0, qAt);
    const log: OssFakeRequestLog = { method, path: fullPath, operation: 'Unsupported', status: 0, requestId };
    requests.push(log);

    let key: string;
    let query: Map<string, string>;
    let malformedUri = false;
    try {
      key = decodeURIComponent(rawPath.slice(1));
      query = parseQuery(qAt < 0 ? '' : fullPath.slice(qAt + 1));
    } catch {
      // Malformed percent-encoding: answered below, after the body is drained.
      malformedUri = true;
      key = '';
      query = new Map<string, string>();
    }
    const operation = malformedUri ? 'Unsupported' : classify(method, key, query);
    log.operation = operation;
    if (key !== '') log.key = key;
    counters[operation] = (counters[operation] ?? 0) + 1;

    const answer = (err: OssError): void => {
      log.status = err.status;
      log.errorCode = err.code;
      sendError(req, res, requestId, err);
    };

    let body: Buffer;
    try {
      body = await readBody(req, 256 * 1024 * 1024);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        answer(new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.'));
        return;
      }
      throw err;
    }

    try {
      if (unavailable) throw new OssError(503, 'ServiceUnavailable', 'Please reduce your request rate.');
      resolveBucket(req);
      if (malformedUri) throw new OssError(400, 'InvalidURI', 'Could not parse the specified URI.');
      authenticate(req, key, query);
      const index = injected.findIndex((i) => i.operation === '*' || i.operation === operation);
      if (index >= 0) {
        const [injection] = injected.splice(index, 1);
        if (injection) throw new OssError(injection.status, injection.code, injection.message);
      }
      switch (operation) {
        case 'PutObject':
          putObject(req, res, key, body, requestId);
          log.status = 200;
          return;
        case 'GetObject':
        case 'HeadObject':
          getObject(req, res, key, query, requestId, operation === 'HeadObject');
          log.status = res.statusCode;
          return;
        case 'DeleteObject':
          objects.delete(key);
          res.writeHead(204, { 'x-oss-request-id': requestId });
          res.end();
          log.status = 204;
          return;
        case 'ListObjects':
        case 'ListObjectsV2':
          listObjects(res, query, requestId, operation === 'ListObjectsV2');
          log.status = 200;
          return;
        case 'DeleteMultipleObjects':
          deleteMultiple(req, res, body, requestId);
          log.status = 200;
          return;
        default:
          throw new OssError(501, 'NotImplemented', `The OSS fake does not implement ${method} ${fullPath}.`);
      }
    } catch (err) {
      if (err instanceof OssError) {
        answer(err);
        return;
      }
      throw err;
    }
  }

  const server = await listenOnLoopback(handle);
  return {
    url: server.url,
    bucket: options.bucket,
    objects,
    requests,
    counts: () => ({ ...counters }),
    resetCounts(): void {
      counters = {};
    },
    failNext(operation: OssOperation | '*', status: number, code: string, message = `injected ${code}`): void {
      injected.push({ operation, status, code, message });
    },
    setUnavailable(value: boolean): void {
      unavailable = value;
    },
    seedObject(key: string, body: Buffer | string, contentType = 'application/octet-stream'): void {
      const data = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
      objects.set(key, {
        body: data,
        contentType,
        etag: `"${createHash('md5').update(data).digest('hex').toUpperCase()}"`,
        lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
        meta: {},
      });
    },
    close: () => server.close(),
  };
}
