import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { startS3Fake, type S3Fake } from './s3-server';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const BUCKET = 'fake-bucket';
const KEY = { accessKeyId: 'AKIAFAKETEST00000000', secretAccessKey: 'fake-secret-0000000000000000000000000000' };
const TEMPORARY = { accessKeyId: 'ASIAFAKETEST00000000', secretAccessKey: 'fake-secret-temporary-000000000000000', sessionToken: 'fake-session-token' };

let s3: S3Fake;
const clients: S3Client[] = [];

beforeEach(async () => {
  s3 = await startS3Fake({ bucket: BUCKET, region: 'eu-west-1', credentials: [KEY, TEMPORARY] });
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await s3.close();
});

/** A real SDK client against the fake; `maxAttempts: 1` so each refusal is seen as sent. */
function client(overrides: Partial<S3ClientConfig> = {}): S3Client {
  const made = new S3Client({ region: 'eu-west-1', endpoint: s3.url, forcePathStyle: true, credentials: KEY, maxAttempts: 1, ...overrides });
  clients.push(made);
  return made;
}

/** A middleware around the client's signing step, for tampering with a request. */
type Middleware = FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes>;

/** The error `promise` rejects with, as `{ name, status }`. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  const error = (await promise.then(
    () => new Error('expected the request to be refused'),
    (caught: unknown) => caught,
  )) as { name: string; $metadata?: { httpStatusCode?: number } };
  return { name: error.name, status: error.$metadata?.httpStatusCode };
}

const put = (key: string, body: string, ifNoneMatch?: string) =>
  new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(body), ...(ifNoneMatch !== undefined ? { IfNoneMatch: ifNoneMatch } : {}) });

describe('the S3 fake (s3rver behind a checking front)', () => {
  it('stores and serves objects for a correctly signed client, with or without a session token', async () => {
    await client().send(put('a/b.json', 'hello'));
    await client({ credentials: TEMPORARY }).send(put('a/c.json', 'temporary'));
    const read = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/c.json' }));
    expect(await read.Body?.transformToString()).toBe('temporary');
  });

  it('refuses an unsigned request with 403 and stores nothing', async () => {
    const response = await fetch(`${s3.url}/${BUCKET}/a.json`, { method: 'PUT', body: 'x' });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>AccessDenied</Code>');
    expect((await client().send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount ?? 0).toBe(0);
  });

  it('refuses a wrong secret, an unknown key, a wrong region, a skewed clock and a missing session token', async () => {
    expect(await failure(client({ credentials: { ...KEY, secretAccessKey: 'wrong' } }).send(put('k', 'x')))).toEqual({ name: 'SignatureDoesNotMatch', status: 403 });
    expect(await failure(client({ credentials: { ...KEY, accessKeyId: 'AKIAUNKNOWN' } }).send(put('k', 'x')))).toEqual({ name: 'InvalidAccessKeyId', status: 403 });
    expect(await failure(client({ region: 'us-east-1' }).send(put('k', 'x')))).toEqual({ name: 'AuthorizationHeaderMalformed', status: 400 });
    expect(await failure(client({ systemClockOffset: -60 * 60 * 1000 }).send(put('k', 'x')))).toEqual({ name: 'RequestTimeTooSkewed', status: 403 });
    const withoutToken = { accessKeyId: TEMPORARY.accessKeyId, secretAccessKey: TEMPORARY.secretAccessKey };
    expect(await failure(client({ credentials: withoutToken }).send(put('k', 'x')))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(s3.requests.every((request) => request.status >= 400)).toBe(true);
  });

  it('refuses a request changed after signing: another body, another key', async () => {
    const tampering = client();
    const tamper: Middleware = (next) => async (args) => {
      const request = args.request as { body: unknown; path: string };
      if (request.path.endsWith('/body')) request.body = Buffer.from('evil!');
      if (request.path.endsWith('/path')) request.path = request.path.replace(/path$/, 'other');
      return next(args);
    };
    tampering.middlewareStack.addRelativeTo(
      tamper,
      { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'tamperAfterSigning' },
    );
    expect(await failure(tampering.send(put('t/body', 'good!')))).toEqual({ name: 'XAmzContentSHA256Mismatch', status: 400 });
    expect(await failure(tampering.send(put('t/path', 'good')))).toEqual({ name: 'SignatureDoesNotMatch', status: 403 });
  });

  it('honours If-None-Match: * on PutObject as S3 does: 412 when the key exists, 501 for other values', async () => {
    await client().send(put('claim', 'first', '*'));
    expect(await failure(client().send(put('claim', 'second', '*')))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await failure(client().send(put('claim', 'third', '"etag"')))).toEqual({ name: 'NotImplemented', status: 501 });
    const read = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'claim' }));
    expect(await read.Body?.transformToString()).toBe('first');
  });

  it('lets exactly one of concurrent conditional writes through; the others get 409 or 412', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_unused, index) =>
        client()
          .send(put('race', `writer-${index}`, '*'))
          .then(() => 200, (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode),
      ),
    );
    expect(outcomes.filter((status) => status === 200)).toHaveLength(1);
    expect(outcomes.filter((status) => status !== 200).every((status) => status === 409 || status === 412)).toBe(true);
  });

  it('lists in UTF-8 byte order where s3rver alone would not (a key that prefixes others comes first)', async () => {
    for (const key of ['o/a/x', 'o/a-1', 'o/a', 'o/é', 'o/Z']) await client().send(put(key, key));
    const listed = await client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'o/', MaxKeys: 4 }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['o/Z', 'o/a', 'o/a-1', 'o/a/x']);
    expect(listed.IsTruncated).toBe(true);
  });

  it('requires an integrity header on DeleteObjects and refuses more than 1000 keys', async () => {
    const withoutChecksum = client();
    const dropChecksum: Middleware = (next) => async (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      for (const name of Object.keys(headers)) if (/^(content-md5|x-amz-checksum-|x-amz-sdk-checksum-)/.test(name)) delete headers[name];
      return next(args);
    };
    withoutChecksum.middlewareStack.addRelativeTo(
      dropChecksum,
      { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'dropChecksum' },
    );
    const objects = (count: number) => Array.from({ length: count }, (_unused, index) => ({ Key: `d/${index}` }));
    expect(await failure(withoutChecksum.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: objects(1) } })))).toEqual({
      name: 'InvalidRequest',
      status: 400,
    });
    expect(await failure(client().send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: objects(1001) } })))).toEqual({
      name: 'MalformedXML',
      status: 400,
    });
    await client().send(put('d/1', 'x'));
    await client().send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: objects(1000), Quiet: true } }));
    expect((await client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'd/' }))).KeyCount ?? 0).toBe(0);
  });
});
