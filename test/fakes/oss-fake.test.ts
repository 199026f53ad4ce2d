import OSS from 'ali-oss';
import { startOssFake, type OssFake } from './oss-fake';

const BUCKET = 'bot-state';
const REGION = 'oss-cn-hangzhou';
const KEY = { accessKeyId: 'LTAIossfake', accessKeySecret: 'oss-secret' };
const STS = { accessKeyId: 'STS.ossfake', accessKeySecret: 'sts-secret', securityToken: 'sts-token' };

interface OssErrorShape {
  code?: unknown;
  status?: unknown;
  name?: unknown;
}

function client(
  fake: OssFake,
  overrides: Partial<{ bucket: string; accessKeyId: string; accessKeySecret: string; stsToken: string; region: string }> = {},
): OSS {
  return new OSS({
    region: REGION,
    bucket: BUCKET,
    accessKeyId: KEY.accessKeyId,
    accessKeySecret: KEY.accessKeySecret,
    endpoint: fake.url,
    timeout: 5000,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<OssErrorShape> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err as Error & OssErrorShape;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('OSS fake with the real ali-oss client', () => {
  let fake: OssFake;

  beforeEach(async () => {
    fake = await startOssFake({ bucket: BUCKET, region: REGION, credentials: [KEY, STS] });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('puts, gets, heads and deletes an object', async () => {
    const oss = client(fake);
    const put = await oss.put('conv/a b+c.json', Buffer.from('{"x":1}'), { headers: { 'x-oss-meta-owner': 'bot' } });
    expect(put.res.status).toBe(200);
    const stored = fake.objects.get('conv/a b+c.json');
    expect(stored?.body.toString()).toBe('{"x":1}');
    expect(stored?.contentType).toBe('application/json');
    expect(stored?.etag).toMatch(/^"[0-9A-F]{32}"$/);

    const got = await oss.get('conv/a b+c.json');
    expect(Buffer.isBuffer(got.content) ? got.content.toString() : '').toBe('{"x":1}');
    expect(got.res.headers).toMatchObject({ etag: stored?.etag });

    const head = await oss.head('conv/a b+c.json');
    expect(head.status).toBe(200);
    expect(head.meta).toEqual({ owner: 'bot' });

    await oss.delete('conv/a b+c.json');
    expect(fake.objects.has('conv/a b+c.json')).toBe(false);
    // Deleting a missing key still answers 204.
    await expect(oss.delete('conv/a b+c.json')).resolves.toBeDefined();

    const missing = await failure(oss.get('conv/a b+c.json'));
    expect(missing).toMatchObject({ code: 'NoSuchKey', status: 404 });
    const missingHead = await failure(oss.head('conv/a b+c.json'));
    expect(missingHead).toMatchObject({ code: 'NoSuchKey', status: 404 });

    expect(fake.counts()).toMatchObject({ PutObject: 1, GetObject: 2, HeadObject: 2, DeleteObject: 2 });
    expect(fake.requests.map((r) => r.operation)).toEqual([
      'PutObject',
      'GetObject',
      'HeadObject',
      'DeleteObject',
      'DeleteObject',
      'GetObject',
      'HeadObject',
    ]);
    fake.resetCounts();
    expect(fake.counts()).toEqual({});
  });

  it('refuses to overwrite with x-oss-forbid-overwrite: true (409 FileAlreadyExists)', async () => {
    const oss = client(fake);
    const headers = { 'x-oss-forbid-overwrite': 'true' };
    await oss.put('lock/1', Buffer.from('first'), { headers });
    const err = await failure(oss.put('lock/1', Buffer.from('second'), { headers }));
    expect(err).toMatchObject({ code: 'FileAlreadyExists', status: 409 });
    expect(fake.objects.get('lock/1')?.body.toString()).toBe('first');
    // Without the header the write overwrites.
    await oss.put('lock/1', Buffer.from('third'));
    expect(fake.objects.get('lock/1')?.body.toString()).toBe('third');
  });

  it('honours If-Match / If-None-Match on reads', async () => {
    const oss = client(fake);
    await oss.put('c/1', Buffer.from('v1'));
    const etag = fake.objects.get('c/1')?.etag ?? '';
    const notModified = await oss.get('c/1', { headers: { 'If-None-Match': etag } });
    expect(notModified.res.status).toBe(304);
    const failed = await failure(oss.get('c/1', { headers: { 'If-Match': '"0000"' } }));
    expect(failed).toMatchObject({ code: 'PreconditionFailed', status: 412 });
  });

  it('lists with prefix, max-keys, marker and delimiter in UTF-8 byte order (v1)', async () => {
    const oss = client(fake);
    for (const key of ['p/b', 'p/a', 'p/\u00e9', 'p/z/1', 'p/z/2', 'q/1', 'p/c']) fake.seedObject(key, key);
    const first = await oss.list({ prefix: 'p/', 'max-keys': 2 }, {});
    expect(first.objects.map((o) => o.name)).toEqual(['p/a', 'p/b']);
    expect(first.isTruncated).toBe(true);
    expect(first.nextMarker).toBe('p/b');
    const second = await oss.list({ prefix: 'p/', 'max-keys': 10, marker: first.nextMarker ?? '' }, {});
    // "p/z/.." sorts before "p/é" because 'z' (0x7a) < 0xc3, the first UTF-8 byte of é.
    expect(second.objects.map((o) => o.name)).toEqual(['p/c', 'p/z/1', 'p/z/2', 'p/\u00e9']);
    expect(second.isTruncated).toBe(false);
    expect(second.objects[0]?.size).toBe(3);

    const folded = await oss.list({ prefix: 'p/', delimiter: '/', 'max-keys': 100 }, {});
    expect(folded.objects.map((o) => o.name)).toEqual(['p/a', 'p/b', 'p/c', 'p/\u00e9']);
    expect(folded.prefixes).toEqual(['p/z/']);

    const bad = await failure(oss.list({ 'max-keys': 1001 }, {}));
    expect(bad).toMatchObject({ code: 'InvalidArgument', status: 400 });
  });

  it('pages ListObjectsV2 with continuation tokens and KeyCount', async () => {
    const oss = client(fake);
    for (let i = 0; i < 5; i += 1) fake.seedObject(`v2/${i}`, String(i));
    fake.seedObject('other', 'x');
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await oss.listV2({ prefix: 'v2/', 'max-keys': '2', ...(token ? { 'continuation-token': token } : {}) }, {});
      pages += 1;
      names.push(...page.objects.map((o) => o.name));
      expect(page.keyCount).toBe(page.objects.length);
      token = page.nextContinuationToken ?? undefined;
      if (page.isTruncated) expect(token).toBeTruthy();
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(['v2/0', 'v2/1', 'v2/2', 'v2/3', 'v2/4']);

    const after = await oss.listV2({ prefix: 'v2/', 'start-after': 'v2/2' }, {});
    expect(after.objects.map((o) => o.name)).toEqual(['v2/3', 'v2/4']);
    expect(fake.counts().ListObjectsV2).toBe(4);
  });

  it('deletes several objects with deleteMulti (Content-MD5 checked), quiet or verbose', async () => {
    const oss = client(fake);
    for (const key of ['m/a&b', 'm/<c>', 'm/d']) fake.seedObject(key, 'x');
    const verbose = await oss.deleteMulti(['m/a&b', 'm/<c>', 'm/never-existed']);
    // @types/ali-oss says string[], but ali-oss returns the parsed <Deleted> elements: { Key }.
    const deleted = (verbose.deleted ?? []) as unknown[];
    expect(deleted.map((d) => (d as { Key?: unknown }).Key)).toEqual(['m/a&b', 'm/<c>', 'm/never-existed']);
    const quiet = await oss.deleteMulti(['m/d'], { quiet: true });
    expect(quiet.deleted).toEqual([]);
    expect([...fake.objects.keys()]).toEqual([]);
    expect(fake.counts().DeleteMultipleObjects).toBe(2);
  });

  it('rejects a wrong secret with SignatureDoesNotMatch and an unknown key id with InvalidAccessKeyId', async () => {
    const wrongSecret = await failure(client(fake, { accessKeySecret: 'nope' }).put('k', Buffer.from('v')));
    expect(wrongSecret).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    const unknownKey = await failure(client(fake, { accessKeyId: 'LTAIother' }).get('k'));
    expect(unknownKey).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    expect(fake.objects.size).toBe(0);
  });

  it('answers NoSuchBucket for another bucket and AccessDenied for another region', async () => {
    const wrongBucket = await failure(client(fake, { bucket: 'someone-else' }).get('k'));
    expect(wrongBucket).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    const wrongRegion = await failure(client(fake, { region: 'oss-cn-beijing' }).get('k'));
    expect(wrongRegion).toMatchObject({ code: 'AccessDenied', status: 403 });
  });

  it('checks the STS security token', async () => {
    // ali-oss warns about refreshSTSToken whenever stsToken is set; keep the output clean.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ok = client(fake, { accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret, stsToken: STS.securityToken });
    await ok.put('sts/1', Buffer.from('v'));
    expect(fake.objects.has('sts/1')).toBe(true);
    const wrongToken = client(fake, { accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret, stsToken: 'other' });
    expect(await failure(wrongToken.get('sts/1'))).toMatchObject({ code: 'InvalidSecurityToken', status: 403 });
    const noToken = client(fake, { accessKeyId: STS.accessKeyId, accessKeySecret: STS.accessKeySecret });
    expect(await failure(noToken.get('sts/1'))).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    warn.mockRestore();
  });

  it('refuses a request dated more than 15 minutes away (RequestTimeTooSkewed)', async () => {
    const oss = client(fake);
    // ali-oss adds options.amendTimeSkewed (ms) to its clock when it stamps x-oss-date.
    (oss as unknown as { options: { amendTimeSkewed: number } }).options.amendTimeSkewed = -16 * 60 * 1000;
    expect(await failure(oss.put('late', Buffer.from('v')))).toMatchObject({ code: 'RequestTimeTooSkewed', status: 403 });
  });

  it('injects failures per operation and goes unavailable on demand', async () => {
    const oss = client(fake);
    fake.failNext('GetObject', 500, 'InternalError');
    await oss.put('f/1', Buffer.from('v'));
    expect(await failure(oss.get('f/1'))).toMatchObject({ code: 'InternalError', status: 500 });
    expect((await oss.get('f/1')).res.status).toBe(200);

    fake.failNext('*', 429, 'TooManyRequests');
    expect(await failure(oss.head('f/1'))).toMatchObject({ code: 'TooManyRequests', status: 429 });

    fake.setUnavailable(true);
    expect(await failure(oss.get('f/1'))).toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(await failure(oss.put('f/2', Buffer.from('v')))).toMatchObject({ status: 503 });
    fake.setUnavailable(false);
    expect((await oss.get('f/1')).res.status).toBe(200);
  });
});
