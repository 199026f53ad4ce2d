import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createS3ObjectStore, s3ClientConfig, type S3ObjectStoreOptions } from '../../../shared/adapters/s3-object-store';
import { StorageError } from '../../../shared/errors';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const BUCKET = 'unit-history';
const SECRET = 'unit-secret-access-key-000000000000000000';
const OPTIONS: S3ObjectStoreOptions = {
  bucket: BUCKET,
  region: 'auto',
  endpoint: 'https://account.r2.cloudflarestorage.com',
  forcePathStyle: false,
  credentials: { accessKeyId: 'AKIAUNIT000000000000', secretAccessKey: SECRET },
  conflictRetryDelaysMs: [0, 0],
};

const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());
afterAll(() => s3.restore());

/** An error as the SDK raises it for an S3 error response. */
function serviceError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: `${name} from S3` });
}

/** The StorageError `work` rejects with; fails the test when it resolves or rejects with anything else. */
async function storageError(work: () => Promise<unknown>): Promise<StorageError> {
  const outcome = await work().then(
    () => new Error('expected a StorageError'),
    (error: unknown) => error,
  );
  if (outcome instanceof StorageError) return outcome;
  throw outcome;
}

const body = (bytes: Buffer) => ({ transformToByteArray: async () => new Uint8Array(bytes) }) as unknown as GetObjectCommandOutput['Body'];

describe('createS3ObjectStore (AWS SDK commands, mocked client)', () => {
  it('lists with ListObjectsV2: the bucket, the prefix and MaxKeys from the limit (1 to 1000)', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'h/a' }, { Key: 'h/b' }] });
    const store = createS3ObjectStore(OPTIONS);
    expect(await store.list('h/', 5)).toEqual(['h/a', 'h/b']);
    await store.list('h/', 5000);
    await store.list('h/', 0);
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Prefix: 'h/', MaxKeys: 5 },
      { Bucket: BUCKET, Prefix: 'h/', MaxKeys: 1000 },
      { Bucket: BUCKET, Prefix: 'h/', MaxKeys: 1 },
    ]);
  });

  it('answers an empty listing when S3 returns no Contents', async () => {
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    expect(await createS3ObjectStore(OPTIONS).list('h/', 5)).toEqual([]);
  });

  it('reads with GetObject and returns the bytes; NoSuchKey is undefined', async () => {
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'h/a' }).resolves({ Body: body(Buffer.from([0, 255, 10])) });
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'h/missing' }).rejects(new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } }));
    const store = createS3ObjectStore(OPTIONS);
    expect(await store.get('h/a')).toEqual(Buffer.from([0, 255, 10]));
    expect(await store.get('h/missing')).toBeUndefined();
  });

  it('writes with PutObject, adding If-None-Match: * only for ifAbsent', async () => {
    s3.on(PutObjectCommand).resolves({});
    const store = createS3ObjectStore(OPTIONS);
    expect(await store.put('h/a', Buffer.from('plain'))).toBe(true);
    expect(await store.put('h/b', Buffer.from('claim'), { ifAbsent: true })).toBe(true);
    const inputs = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toEqual({ Bucket: BUCKET, Key: 'h/a', Body: Buffer.from('plain'), ContentType: 'application/json' });
    expect(inputs[1]).toEqual({ Bucket: BUCKET, Key: 'h/b', Body: Buffer.from('claim'), ContentType: 'application/json', IfNoneMatch: '*' });
  });

  it('answers false when a create-only write finds the key (412 PreconditionFailed)', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    expect(await createS3ObjectStore(OPTIONS).put('h/a', Buffer.from('x'), { ifAbsent: true })).toBe(false);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('asks again after 409 ConditionalRequestConflict, until S3 says who won', async () => {
    s3.on(PutObjectCommand).rejectsOnce(serviceError('ConditionalRequestConflict', 409)).rejectsOnce(serviceError('PreconditionFailed', 412));
    expect(await createS3ObjectStore(OPTIONS).put('h/a', Buffer.from('x'), { ifAbsent: true })).toBe(false);
    s3.reset();
    s3.on(PutObjectCommand).rejectsOnce(serviceError('ConditionalRequestConflict', 409)).resolves({});
    expect(await createS3ObjectStore(OPTIONS).put('h/a', Buffer.from('x'), { ifAbsent: true })).toBe(true);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  it('gives up with a StorageError when the conflict outlasts its retries', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('ConditionalRequestConflict', 409));
    const error = await storageError(() => createS3ObjectStore(OPTIONS).put('h/a', Buffer.from('x'), { ifAbsent: true }));
    expect(error).toMatchObject({ operation: 'write', code: 'ConditionalRequestConflict', status: 409 });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(3);
  });

  it('does not read a 412 as "exists" for a plain put: that is a failure', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    expect(await storageError(() => createS3ObjectStore(OPTIONS).put('h/a', Buffer.from('x')))).toMatchObject({ operation: 'write', status: 412 });
  });

  it('maps AccessDenied, NoSuchBucket and wrong keys to StorageError with a hint and without the secret', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('AccessDenied', 403));
    s3.on(ListObjectsV2Command).rejects(serviceError('NoSuchBucket', 404));
    s3.on(GetObjectCommand).rejects(serviceError('SignatureDoesNotMatch', 403));
    const store = createS3ObjectStore(OPTIONS);
    const denied = await storageError(() => store.put('h/a', Buffer.from('x')));
    expect(denied).toMatchObject({ operation: 'write', code: 'AccessDenied', status: 403 });
    expect(denied.message).toMatch(/permissions/);
    expect(await storageError(() => store.list('h/', 1))).toMatchObject({ operation: 'list', code: 'NoSuchBucket', message: expect.stringMatching(/S3_BUCKET/) });
    const signature = await storageError(() => store.get('h/a'));
    expect(signature).toMatchObject({ operation: 'read', code: 'SignatureDoesNotMatch', message: expect.stringMatching(/AWS_SECRET_ACCESS_KEY/) });
    for (const error of [denied, signature]) expect(error.message).not.toContain(SECRET);
  });

  it('maps network failures and timeouts (no HTTP status) to StorageError', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' }));
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }));
    const store = createS3ObjectStore(OPTIONS);
    const refused = await storageError(() => store.get('h/a'));
    expect(refused).toMatchObject({ operation: 'read', code: 'ECONNREFUSED', status: undefined });
    expect(await storageError(() => store.list('h/', 1))).toMatchObject({ operation: 'list', code: 'TimeoutError' });
  });

  it('deletes in batches of at most 1000 keys, quietly, and not at all for no keys', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    const store = createS3ObjectStore(OPTIONS);
    await store.deleteMany([]);
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
    const keys = Array.from({ length: 2500 }, (_unused, index) => `h/${index}`);
    await store.deleteMany(keys);
    const inputs = s3.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.Delete?.Objects?.length)).toEqual([1000, 1000, 500]);
    expect(inputs.every((input) => input.Bucket === BUCKET && input.Delete?.Quiet === true)).toBe(true);
    expect(inputs.flatMap((input) => input.Delete?.Objects?.map((object) => object.Key))).toEqual(keys);
  });

  it('fails a delete whose response lists per-key errors, but not for keys already gone', async () => {
    s3.on(DeleteObjectsCommand).resolvesOnce({ Errors: [{ Key: 'h/1', Code: 'NoSuchKey' }] }).resolvesOnce({
      Errors: [
        { Key: 'h/1', Code: 'AccessDenied', Message: 'Access Denied' },
        { Key: 'h/2', Code: 'AccessDenied', Message: 'Access Denied' },
      ],
    });
    const store = createS3ObjectStore(OPTIONS);
    await store.deleteMany(['h/1']);
    const error = await storageError(() => store.deleteMany(['h/1', 'h/2', 'h/3']));
    expect(error).toMatchObject({ operation: 'delete', code: 'AccessDenied' });
    expect(error.message).toContain('2 of 3 keys');
  });

  it('refuses an escaping key before sending anything', async () => {
    const store = createS3ObjectStore(OPTIONS);
    await storageError(() => store.put('../x', Buffer.from('x')));
    await storageError(() => store.get('/abs'));
    await storageError(() => store.deleteMany(['ok', 'a/../b']));
    await storageError(() => store.list('../', 1));
    expect(s3.calls()).toHaveLength(0);
  });

  it('uses one client per store, with the configured region, endpoint, path style and static keys', async () => {
    s3.on(ListObjectsV2Command).resolves({});
    const store = createS3ObjectStore({ ...OPTIONS, forcePathStyle: true });
    await store.list('h/', 1);
    await store.list('h/', 1);
    const [first, second] = s3.calls().map((call) => call.thisValue as S3Client);
    expect(first).toBe(second);
    const config = (first as S3Client).config;
    expect(await config.region()).toBe('auto');
    expect(config.forcePathStyle).toBe(true);
    expect((await config.endpoint?.())?.hostname).toBe('account.r2.cloudflarestorage.com');
    expect(await config.credentials()).toMatchObject({ accessKeyId: 'AKIAUNIT000000000000', secretAccessKey: SECRET });
    expect(store.description).toBe(`s3://${BUCKET} at account.r2.cloudflarestorage.com`);
  });
});

describe('s3ClientConfig', () => {
  it('bounds time and retries, keeps connections alive and sends checksums only where S3 requires them', () => {
    const config = s3ClientConfig({ bucket: BUCKET, region: 'us-east-1', forcePathStyle: false });
    expect(config).toMatchObject({
      region: 'us-east-1',
      maxAttempts: 3,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000, httpsAgent: { keepAlive: true } },
    });
  });

  it('leaves credentials to the SDK default chain when no keys are configured, and has no endpoint by default', () => {
    const config = s3ClientConfig({ bucket: BUCKET, region: 'us-east-1', forcePathStyle: false });
    expect(config).not.toHaveProperty('credentials');
    expect(config).not.toHaveProperty('endpoint');
    expect(s3ClientConfig({ ...OPTIONS, timeoutMs: 2000 }).requestHandler).toMatchObject({ requestTimeout: 2000, connectionTimeout: 2000 });
  });
});
