import OSS from 'ali-oss';
import { StorageError, type StorageOperation } from '../errors';
import type { CloudCredentials } from '../fc/context';
import type { ObjectStore } from '../ports';
import { assertSafeKey, assertSafePrefix } from './object-key';

/** Options of `createOssObjectStore`. */
export interface OssObjectStoreOptions {
  bucket: string;
  /** `cn-hangzhou` or `oss-cn-hangzhou`; ignored for the host when `endpoint` is set. */
  region: string;
  /** Overrides the endpoint (OSS_ENDPOINT); default the region's internal endpoint when `internal`. */
  endpoint?: string;
  /** Use `oss-<region>-internal.aliyuncs.com`: free traffic from FC in the same region. */
  internal: boolean;
  /** Read on each call: FC rotates the function role's temporary credentials. */
  credentials: () => CloudCredentials;
  /** Per-request timeout. Default 10 s (ali-oss's own default is 60 s). */
  timeoutMs?: number;
}

/** How often the client re-reads FC's temporary credentials (which FC rotates well before they expire). */
const STS_REFRESH_MS = 60_000;

/** Most keys OSS deletes in one DeleteMultipleObjects request. */
const DELETE_BATCH = 1000;

function fail(operation: StorageOperation, error: unknown): StorageError {
  const raw = error as { code?: unknown; status?: unknown; name?: unknown };
  const code = typeof raw.code === 'string' ? raw.code : typeof raw.name === 'string' ? raw.name : 'Error';
  const status = typeof raw.status === 'number' && raw.status > 0 ? raw.status : undefined;
  const hints: Record<string, string> = {
    NoSuchBucket: 'check OSS_BUCKET and OSS_REGION',
    AccessDenied: "check the function role's RAM policy for the bucket prefix",
    InvalidAccessKeyId: 'check the credentials',
    SignatureDoesNotMatch: 'check the credentials',
  };
  const hint = hints[code] ? `; ${hints[code]}` : '';
  return new StorageError(operation, `OSS ${operation} failed: ${code}${status ? ` (${status})` : ''}${hint}`, {
    cause: error,
    code,
    ...(status !== undefined ? { status } : {}),
  });
}

/** The `oss-` prefixed region ali-oss expects. */
export function ossRegion(region: string): string {
  return region.startsWith('oss-') ? region : `oss-${region}`;
}

/**
 * History objects in an OSS bucket through ali-oss. Create-only writes use `x-oss-forbid-overwrite`
 * (OSS's only conditional write); listing is ListObjectsV2 with `max-keys`, so reads stay bounded.
 */
export function createOssObjectStore(options: OssObjectStoreOptions): ObjectStore {
  let instance: OSS | undefined;
  /** One client per instance. With STS keys it pulls FC's current ones through ali-oss's refresh hook. */
  const client = (): OSS => {
    if (instance !== undefined) return instance;
    const credentials = options.credentials();
    const temporary = credentials.securityToken !== undefined;
    instance = new OSS({
      bucket: options.bucket,
      region: ossRegion(options.region),
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(temporary
        ? {
            stsToken: credentials.securityToken,
            refreshSTSToken: async () => {
              const fresh = options.credentials();
              return { accessKeyId: fresh.accessKeyId, accessKeySecret: fresh.accessKeySecret, stsToken: fresh.securityToken ?? '' };
            },
            refreshSTSTokenInterval: STS_REFRESH_MS,
          }
        : {}),
      ...(options.endpoint !== undefined
        ? { endpoint: options.endpoint, secure: options.endpoint.startsWith('https:') }
        : { internal: options.internal, secure: true }),
      timeout: options.timeoutMs ?? 10_000,
    });
    return instance;
  };

  return {
    description: `oss://${options.bucket}`,

    async list(prefix, limit) {
      assertSafePrefix(prefix);
      try {
        const result = await client().listV2({ prefix, 'max-keys': String(Math.min(Math.max(limit, 1), 1000)) });
        return (result.objects ?? []).map((object) => object.name);
      } catch (error) {
        throw fail('list', error);
      }
    },

    async get(key) {
      assertSafeKey(key, 'read');
      try {
        const result = await client().get(key);
        return Buffer.isBuffer(result.content) ? result.content : Buffer.from(String(result.content ?? ''), 'utf8');
      } catch (error) {
        if ((error as { code?: unknown }).code === 'NoSuchKey') return undefined;
        throw fail('read', error);
      }
    },

    async put(key, body, putOptions) {
      assertSafeKey(key, 'write');
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (putOptions?.ifAbsent) headers['x-oss-forbid-overwrite'] = 'true';
      try {
        await client().put(key, body, { headers });
        return true;
      } catch (error) {
        if (putOptions?.ifAbsent && (error as { code?: unknown }).code === 'FileAlreadyExists') return false;
        throw fail('write', error);
      }
    },

    async deleteMany(keys) {
      for (const key of keys) assertSafeKey(key, 'delete');
      try {
        for (let start = 0; start < keys.length; start += DELETE_BATCH) {
          await client().deleteMulti(keys.slice(start, start + DELETE_BATCH), { quiet: true });
        }
      } catch (error) {
        throw fail('delete', error);
      }
    },
  };
}
