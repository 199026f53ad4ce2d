import type { HistoryConfig } from '../config/load-config';
import { ConfigError } from '../errors';
import type { CloudCredentials } from '../fc/context';
import type { ObjectStore } from '../ports';
import { createFsObjectStore } from './fs-object-store';
import { createOssObjectStore } from './oss-object-store';
import { createS3ObjectStore } from './s3-object-store';

/** What a store needs from the invocation besides its configuration. */
export interface ObjectStoreContext {
  /** The function's region, used when OSS_REGION is not set. */
  region: () => string | undefined;
  /** Current Alibaba Cloud credentials (FC's STS keys, refreshed per invocation). */
  credentials: () => CloudCredentials;
  /** Inside FC, OSS is reached over the free internal endpoint. */
  insideFc: boolean;
}

/**
 * The history store the configuration names: a folder (HISTORY_DIR), OSS (OSS_BUCKET) or an
 * S3-compatible bucket (S3_BUCKET). One place, so the reply function and `npm run doctor` probe the
 * very same store. Throws `ConfigError` when the store cannot be set up from what is known.
 */
export function createObjectStore(history: HistoryConfig, context: ObjectStoreContext): ObjectStore {
  switch (history.kind) {
    case 'filesystem':
      return createFsObjectStore(history.dir);
    case 'oss': {
      const region = history.region ?? context.region();
      if (region === undefined) {
        throw new ConfigError('OSS_REGION is required outside FC: the region of OSS_BUCKET, such as cn-hangzhou');
      }
      return createOssObjectStore({
        bucket: history.bucket,
        region,
        ...(history.endpoint !== undefined ? { endpoint: history.endpoint } : {}),
        internal: context.insideFc,
        credentials: context.credentials,
      });
    }
    case 's3':
      return createS3ObjectStore({
        bucket: history.bucket,
        region: history.region,
        ...(history.endpoint !== undefined ? { endpoint: history.endpoint } : {}),
        forcePathStyle: history.forcePathStyle,
        ...(history.credentials !== undefined ? { credentials: history.credentials } : {}),
      });
  }
}
