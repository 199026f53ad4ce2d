import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createObjectStore, type ObjectStoreContext } from '../../../shared/adapters/create-object-store';
import { loadReplyConfig } from '../../../shared/config/load-config';
import { ConfigError } from '../../../shared/errors';
import { startS3Fake, type S3Fake } from '../../fakes/s3-server';
import { STS_CREDENTIALS } from '../../helpers/fc-context';
import { thrown } from '../../helpers/thrown';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const CONTEXT: ObjectStoreContext = { region: () => undefined, credentials: () => STS_CREDENTIALS, insideFc: false };
const S3_KEYS = { accessKeyId: 'AKIAFACTORY000000000', secretAccessKey: 'factory-secret-0000000000000000000000000' };

describe('createObjectStore', () => {
  it('keeps history in a folder for HISTORY_DIR', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'factory-'));
    try {
      const store = createObjectStore({ kind: 'filesystem', dir, prefix: 'history/' }, CONTEXT);
      expect(store.description).toBe(`file://${dir}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('needs a region for OSS outside FC', () => {
    thrown(ConfigError, () => createObjectStore({ kind: 'oss', bucket: 'b-oss', prefix: 'history/' }, CONTEXT));
    expect(createObjectStore({ kind: 'oss', bucket: 'b-oss', prefix: 'history/' }, { ...CONTEXT, region: () => 'cn-hangzhou' }).description).toBe('oss://b-oss');
  });

  describe('for S3_BUCKET', () => {
    let s3: S3Fake;
    beforeEach(async () => {
      s3 = await startS3Fake({ bucket: 'factory-bucket', region: 'eu-north-1', credentials: [S3_KEYS] });
    });
    afterEach(() => s3.close());

    it('builds the S3 store from the S3_* and AWS_* variables, which then works against an S3 endpoint', async () => {
      const config = loadReplyConfig({
        OPENAI_API_KEY: 'sk-factory',
        S3_BUCKET: 'factory-bucket',
        S3_REGION: 'eu-north-1',
        S3_ENDPOINT: s3.url,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: S3_KEYS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_KEYS.secretAccessKey,
      });
      const store = createObjectStore(config.history, CONTEXT);
      expect(store.description).toBe(`s3://factory-bucket at ${new URL(s3.url).host}`);
      expect(await store.put('history/c/u/1.json', Buffer.from('{}'), { ifAbsent: true })).toBe(true);
      expect(await store.put('history/c/u/1.json', Buffer.from('{}'), { ifAbsent: true })).toBe(false);
      expect(await store.list('history/c/u/', 10)).toEqual(['history/c/u/1.json']);
      expect(s3.requests.map((request) => request.ifNoneMatch)).toEqual(['*', '*', undefined]);
    });
  });
});
