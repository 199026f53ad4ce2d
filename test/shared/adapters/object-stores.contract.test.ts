/**
 * One contract, every history store: the in-memory store, the filesystem store on a temporary folder,
 * the OSS store (real ali-oss) against the OSS fake, and the S3 store (real AWS SDK) against s3rver
 * behind the S3 fake's checking front. All on 127.0.0.1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../../shared/adapters/fs-object-store';
import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { createOssObjectStore } from '../../../shared/adapters/oss-object-store';
import { createS3ObjectStore } from '../../../shared/adapters/s3-object-store';
import { startOssFake } from '../../fakes/oss-fake';
import { startS3Fake, type S3FakeCredential } from '../../fakes/s3-server';
import { STS_CREDENTIALS } from '../../helpers/fc-context';
import { describeObjectStoreContract } from './object-store-contract';

// The SDK warns once per process that its 2027 releases will need Node 22; FC's newest runtime is Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const BUCKET = 'contract-history';

describeObjectStoreContract('memory', async () => ({ store: new MemoryObjectStore(), secrets: [], cleanup: async () => undefined }));

describeObjectStoreContract(
  'filesystem',
  async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'contract-fs-'));
    return { store: createFsObjectStore(root), secrets: [], cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  async () => {
    // A root that is a file: nothing can be created or read under it.
    const parent = await mkdtemp(path.join(os.tmpdir(), 'contract-fs-broken-'));
    const root = path.join(parent, 'not-a-folder');
    await writeFile(root, 'x');
    return { store: createFsObjectStore(root), secrets: [], cleanup: () => rm(parent, { recursive: true, force: true }) };
  },
);

async function ossStore(secret: string) {
  const oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  const credentials = { ...STS_CREDENTIALS, accessKeySecret: secret };
  return {
    store: createOssObjectStore({ bucket: BUCKET, region: 'cn-hangzhou', endpoint: oss.url, internal: false, credentials: () => credentials, timeoutMs: 5000 }),
    secrets: [secret, STS_CREDENTIALS.securityToken],
    cleanup: () => oss.close(),
  };
}

describeObjectStoreContract(
  'OSS (ali-oss against the OSS fake)',
  () => ossStore(STS_CREDENTIALS.accessKeySecret),
  () => ossStore('wrong-oss-secret-value-000000000000'),
);

const S3_KEY: Required<S3FakeCredential> = {
  accessKeyId: 'ASIATESTCONTRACT0000',
  secretAccessKey: 'contract-s3-secret-key-0000000000000000',
  sessionToken: 'contract-s3-session-token-000000000000',
};

async function s3Store(secretAccessKey: string) {
  const s3 = await startS3Fake({ bucket: BUCKET, region: 'eu-central-1', credentials: [S3_KEY] });
  return {
    store: createS3ObjectStore({
      bucket: BUCKET,
      region: 'eu-central-1',
      endpoint: s3.url,
      forcePathStyle: true,
      credentials: { ...S3_KEY, secretAccessKey },
      timeoutMs: 5000,
      maxAttempts: 2,
      // Generous: under a busy test run the winning write can take a while.
      conflictRetryDelaysMs: [25, 50, 100, 200, 400, 800, 1600],
    }),
    secrets: [secretAccessKey, S3_KEY.sessionToken],
    cleanup: () => s3.close(),
  };
}

describeObjectStoreContract(
  'S3 (AWS SDK against s3rver behind the S3 fake)',
  () => s3Store(S3_KEY.secretAccessKey),
  () => s3Store('wrong-s3-secret-key-000000000000000000'),
);
