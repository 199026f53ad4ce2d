import { createOssObjectStore } from '../../../shared/adapters/oss-object-store';
import { StorageError } from '../../../shared/errors';
import { ExchangeLog } from '../../../shared/history/exchange-log';
import { startOssFake, type OssFake } from '../../fakes/oss-fake';
import { STS_CREDENTIALS } from '../../helpers/fc-context';

const BUCKET = 'dingtalk-llm-history';

describe('createOssObjectStore (real ali-oss against the OSS fake)', () => {
  let oss: OssFake;
  beforeEach(async () => {
    oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  });
  afterEach(() => oss.close());

  const store = (overrides: { bucket?: string; credentials?: typeof STS_CREDENTIALS } = {}) =>
    createOssObjectStore({
      bucket: overrides.bucket ?? BUCKET,
      region: 'cn-hangzhou',
      endpoint: oss.url,
      internal: false,
      credentials: () => overrides.credentials ?? STS_CREDENTIALS,
      timeoutMs: 5000,
    });

  it('writes, reads, lists in key order with a limit, and deletes', async () => {
    const s = store();
    await s.put('h/a/2.json', Buffer.from('two'));
    await s.put('h/a/1.json', Buffer.from('one'));
    await s.put('h/b/1.json', Buffer.from('other'));
    expect(await s.list('h/a/', 10)).toEqual(['h/a/1.json', 'h/a/2.json']);
    expect(await s.list('h/a/', 1)).toEqual(['h/a/1.json']);
    expect((await s.get('h/a/2.json'))?.toString()).toBe('two');
    expect(await s.get('h/a/missing.json')).toBeUndefined();
    await s.deleteMany(['h/a/1.json', 'h/a/2.json', 'h/a/never.json']);
    expect(await s.list('h/a/', 10)).toEqual([]);
    expect(await s.list('h/b/', 10)).toEqual(['h/b/1.json']);
  });

  it('never overwrites with ifAbsent: the second write answers false and the first content stays', async () => {
    const s = store();
    expect(await s.put('k.json', Buffer.from('first'), { ifAbsent: true })).toBe(true);
    expect(await s.put('k.json', Buffer.from('second'), { ifAbsent: true })).toBe(false);
    expect((await s.get('k.json'))?.toString()).toBe('first');
  });

  it('deletes more than 1000 keys in batches', async () => {
    const s = store();
    for (let i = 0; i < 1005; i += 1) oss.seedObject(`bulk/${String(i).padStart(5, '0')}.json`, Buffer.from('x'));
    await s.deleteMany(await s.list('bulk/', 1000));
    expect(await s.list('bulk/', 1000)).toHaveLength(5);
    expect(oss.counts().DeleteMultipleObjects).toBe(1);
  });

  it('turns a missing bucket into a StorageError that names the fix', async () => {
    const error = await store({ bucket: 'no-such-bucket' })
      .list('h/', 1)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ operation: 'list', code: 'NoSuchBucket', status: 404 });
    expect((error as Error).message).toMatch(/OSS_BUCKET/);
  });

  it('turns a wrong secret into a StorageError without the secret in it', async () => {
    const wrong = { ...STS_CREDENTIALS, accessKeySecret: 'wrong-secret-value-00000000' };
    const error = (await store({ credentials: wrong })
      .put('k.json', Buffer.from('x'))
      .catch((caught: unknown) => caught)) as StorageError;
    expect(error).toMatchObject({ operation: 'write', code: 'SignatureDoesNotMatch' });
    expect(error.message).not.toContain(wrong.accessKeySecret);
  });

  it('reports an unavailable service as a StorageError on read', async () => {
    oss.setUnavailable(true);
    await expect(store().get('k.json')).rejects.toMatchObject({ operation: 'read', status: 503 });
  });

  it('keeps history as an exchange log: a normal read costs one LIST and one GET', async () => {
    const log = new ExchangeLog(store(), 'history/');
    const key = { conversationId: 'cid==', userId: 'user1' };
    const e1 = { id: ExchangeLog.exchangeId(1000, 'm1'), at: 1000, user: 'Q1', assistant: 'A1' };
    const e2 = { id: ExchangeLog.exchangeId(2000, 'm2'), at: 2000, user: 'Q2', assistant: 'A2' };
    await log.save(key, e1, []);
    await log.save(key, e2, [e1]);
    oss.resetCounts();
    expect(await log.loadRecent(key, 5)).toEqual([e1, e2]);
    expect(oss.counts()).toEqual({ ListObjectsV2: 1, GetObject: 1 });
    expect(await log.clear(key)).toBe(2);
    expect(await log.loadRecent(key, 5)).toEqual([]);
  });
});
