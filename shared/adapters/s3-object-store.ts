import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { StorageError, type StorageOperation } from '../errors';
import type { ObjectStore } from '../ports';
import { assertSafeKey, assertSafePrefix } from './object-key';
import { abortableSleep } from '../util/abortable-sleep';

/** The AWS SDK's S3 module, typed; loaded with `require` so it stays lazy both in the bundle and under Jest. */
type S3Sdk = typeof import('@aws-sdk/client-s3');

/**
 * The AWS SDK, loaded when the first S3 store is created: only teams that set S3_BUCKET pay for it. The
 * build points this require at a bundle of its own beside the reply bundle (`dist/reply/s3-sdk.js`, see
 * scripts/build.mjs), so teams on OSS or a folder neither ship nor parse the SDK.
 */
function loadSdk(): S3Sdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-s3') as S3Sdk;
}

/** Options of `createS3ObjectStore`; the first five come straight from the S3_* configuration. */
export interface S3ObjectStoreOptions {
  bucket: string;
  /** `us-east-1`, `auto` for Cloudflare R2, `cn-hangzhou` for OSS's S3-compatible endpoint, ... */
  region: string;
  /** S3_ENDPOINT for MinIO, R2, OSS and other S3-compatible services; default AWS's own endpoint. */
  endpoint?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO usually needs it). */
  forcePathStyle: boolean;
  /** Static keys; without them the AWS SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Per-request socket timeout. Default 10 s, so a stuck store cannot eat the reply's whole budget. */
  timeoutMs?: number;
  /** Attempts per request, the SDK's own bounded retries of 5xx, throttling and network errors. Default 3. */
  maxAttempts?: number;
  /**
   * Waits between retries of a create-only write that S3 answered with 409 ConditionalRequestConflict.
   * Injected so tests need not wait; default 50, 150, 400 and 1000 ms.
   */
  conflictRetryDelaysMs?: readonly number[];
}

/** Most keys S3 deletes in one DeleteObjects request. */
const DELETE_BATCH = 1000;

/** Most keys S3 returns in one ListObjectsV2 page. */
const MAX_KEYS = 1000;

const DEFAULT_CONFLICT_DELAYS_MS = [50, 150, 400, 1000] as const;

/** What the SDK's errors carry, read defensively (network errors have no `$metadata`). */
interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function errorCode(error: unknown): string {
  const raw = (error ?? {}) as SdkErrorShape;
  if (typeof raw.Code === 'string' && raw.Code !== '') return raw.Code;
  if (typeof raw.code === 'string' && raw.code !== '') return raw.code;
  if (typeof raw.name === 'string' && raw.name !== '' && raw.name !== 'Error') return raw.name;
  return 'Error';
}

function errorStatus(error: unknown): number | undefined {
  const status = ((error ?? {}) as SdkErrorShape).$metadata?.httpStatusCode;
  return typeof status === 'number' && status > 0 ? status : undefined;
}

const HINTS: Record<string, string> = {
  NoSuchBucket: 'check S3_BUCKET, S3_REGION and S3_ENDPOINT',
  AccessDenied: "check the credentials' permissions on the bucket and the history prefix",
  InvalidAccessKeyId: 'check AWS_ACCESS_KEY_ID',
  SignatureDoesNotMatch: 'check AWS_SECRET_ACCESS_KEY',
  InvalidToken: 'check AWS_SESSION_TOKEN',
  ExpiredToken: 'the temporary credentials expired',
  PermanentRedirect: 'check S3_REGION (the bucket is in another region)',
  AuthorizationHeaderMalformed: 'check S3_REGION',
  CredentialsProviderError: 'no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
};

/** An SDK failure as a `StorageError`: the code, the status and a hint, never the provider's message. */
function fail(operation: StorageOperation, error: unknown): StorageError {
  const code = errorCode(error);
  const status = errorStatus(error);
  const hint = HINTS[code] ? `; ${HINTS[code]}` : '';
  return new StorageError(operation, `S3 ${operation} failed: ${code}${status ? ` (${status})` : ''}${hint}`, {
    cause: error,
    code,
    ...(status !== undefined ? { status } : {}),
  });
}

const isCode = (error: unknown, code: string): boolean => errorCode(error) === code;


/** The S3 client configuration for the options: one keep-alive connection pool, bounded time and retries. */
export function s3ClientConfig(options: S3ObjectStoreOptions): S3ClientConfig {
  const timeout = options.timeoutMs ?? 10_000;
  return {
    region: options.region,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle,
    ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    // The SDK's NodeHttpHandler, configured: keep-alive agents, so a warm instance reuses its connection.
    requestHandler: {
      connectionTimeout: Math.min(timeout, 3_000),
      requestTimeout: timeout,
      httpAgent: { keepAlive: true, maxSockets: 50 },
      httpsAgent: { keepAlive: true, maxSockets: 50 },
    },
    // Since 3.729 the SDK adds CRC32 checksums to every upload by default, which R2, older MinIO and other
    // S3-compatible services reject; only send them where S3 requires one (DeleteObjects).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * History objects in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, OSS's S3 endpoint) through
 * `@aws-sdk/client-s3`. Create-only writes use `If-None-Match: *` (S3's conditional write: 412 when the
 * key exists); listing is ListObjectsV2 with `MaxKeys`, so reads stay bounded. One client per instance.
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectsCommand } = loadSdk();
  const client = new S3Client(s3ClientConfig(options));
  const Bucket = options.bucket;
  const conflictDelays = options.conflictRetryDelaysMs ?? DEFAULT_CONFLICT_DELAYS_MS;

  /** One create-only PUT: true when written, false when the key exists. */
  const putIfAbsent = async (Key: string, body: Buffer): Promise<boolean> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await client.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
        return true;
      } catch (error) {
        if (isCode(error, 'PreconditionFailed') || errorStatus(error) === 412) return false;
        // S3 answers 409 while another conditional write of the same key is in flight; which one wins is
        // not known yet, so ask again shortly: the retry sees 412 (the other won) or succeeds (it failed).
        const conflict = isCode(error, 'ConditionalRequestConflict') || errorStatus(error) === 409;
        const delay = conflictDelays[attempt];
        if (!conflict || delay === undefined) throw fail('write', error);
        await abortableSleep(delay);
      }
    }
  };

  return {
    description: `s3://${options.bucket}${options.endpoint !== undefined ? ` at ${new URL(options.endpoint).host}` : ''}`,

    async list(prefix, limit) {
      assertSafePrefix(prefix);
      try {
        const MaxKeys = Math.min(Math.max(Math.floor(limit), 1), MAX_KEYS);
        const result = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, MaxKeys }));
        return (result.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key])).slice(0, MaxKeys);
      } catch (error) {
        throw fail('list', error);
      }
    },

    async get(Key) {
      assertSafeKey(Key, 'read');
      try {
        const result = await client.send(new GetObjectCommand({ Bucket, Key }));
        if (result.Body === undefined) return Buffer.alloc(0);
        return Buffer.from(await result.Body.transformToByteArray());
      } catch (error) {
        if (isCode(error, 'NoSuchKey')) return undefined;
        throw fail('read', error);
      }
    },

    async put(Key, body, putOptions) {
      assertSafeKey(Key, 'write');
      if (putOptions?.ifAbsent) return putIfAbsent(Key, body);
      try {
        await client.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentType: 'application/json' }));
        return true;
      } catch (error) {
        throw fail('write', error);
      }
    },

    async deleteMany(keys) {
      for (const key of keys) assertSafeKey(key, 'delete');
      for (let start = 0; start < keys.length; start += DELETE_BATCH) {
        const batch = keys.slice(start, start + DELETE_BATCH);
        let errors;
        try {
          const result = await client.send(
            new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
          );
          errors = result.Errors ?? [];
        } catch (error) {
          throw fail('delete', error);
        }
        // A 200 can still carry per-key failures; a key that is already gone is not one.
        const failed = errors.filter((entry) => entry.Code !== 'NoSuchKey');
        const first = failed[0];
        if (first !== undefined) {
          const code = first.Code ?? 'Error';
          throw new StorageError('delete', `S3 delete failed for ${failed.length} of ${batch.length} keys: ${code}${HINTS[code] ? `; ${HINTS[code]}` : ''}`, {
            code,
          });
        }
      }
    },
  };
}
