import { createRequire } from 'node:module';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { startFcApiFake, type FcApiFake, type FcFakeInvokeInfo } from './fc-api-fake';

/** The part of @alicloud/fc2 (untyped) these tests use. */
interface Fc2Response {
  headers: Record<string, string | string[] | undefined>;
  data: unknown;
}
interface Fc2Client {
  version: string;
  securityToken?: string;
  post(
    path: string,
    body: Buffer | string | object,
    headers?: Record<string, string>,
    queries?: Record<string, string>,
    opts?: Record<string, unknown>,
  ): Promise<Fc2Response>;
}
interface Fc2Config {
  accessKeyID: string;
  accessKeySecret: string;
  securityToken?: string;
  region: string;
  endpoint: string;
  timeout: number;
}
interface Fc2Constructor {
  new (accountId: string, config: Fc2Config): Fc2Client;
  getSignature(
    accessKeyId: string,
    accessKeySecret: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    queries: null,
  ): string;
}
const FC = createRequire(__filename)('@alicloud/fc2') as Fc2Constructor;

const ACCOUNT = '1234567890123456';
const KEY = { accessKeyId: 'LTAIfakekey', accessKeySecret: 'secret-one' };
const STS = { accessKeyId: 'STS.NTfake', accessKeySecret: 'secret-sts', securityToken: 'token-abc' };

function client(fake: FcApiFake, cred: { accessKeyId: string; accessKeySecret: string; securityToken?: string }): Fc2Client {
  const c = new FC(ACCOUNT, {
    accessKeyID: cred.accessKeyId,
    accessKeySecret: cred.accessKeySecret,
    securityToken: cred.securityToken,
    region: 'cn-hangzhou',
    endpoint: fake.url,
    timeout: 5000,
  });
  c.version = '2023-03-30';
  return c;
}

async function rejection(promise: Promise<unknown>): Promise<{ code?: unknown; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return { code: (err as Error & { code?: unknown }).code, message: err.message };
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** Raw POST through node:http, for requests the client library cannot produce. */
function rawPost(url: string, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('FC 3.0 InvokeFunction fake with the real @alicloud/fc2 client', () => {
  let fake: FcApiFake;
  const seen: Array<{ payload: string; info: FcFakeInvokeInfo }> = [];
  let failReply = 0;

  beforeEach(async () => {
    seen.length = 0;
    failReply = 0;
    fake = await startFcApiFake({
      accountId: ACCOUNT,
      credentials: [KEY, STS],
      functions: {
        reply: {
          handler: async (payload, info) => {
            seen.push({ payload: payload.toString('utf8'), info });
            if (failReply > 0) {
              failReply -= 1;
              throw new Error('boom');
            }
            return { ok: true };
          },
        },
        tasks: { asyncTask: true, handler: async () => 'done' },
        echo: { handler: async (payload) => ({ echoed: JSON.parse(payload.toString('utf8')) as unknown }) },
      },
    });
  });

  afterEach(async () => {
    await fake.idle();
    await fake.close();
  });

  it('accepts an async invocation with 202 and runs the handler in the background', async () => {
    const res = await client(fake, KEY).post(
      '/functions/reply/invocations',
      Buffer.from(JSON.stringify({ hello: 'world' })),
      { 'x-fc-invocation-type': 'Async' },
    );
    expect(res.headers['x-fc-request-id']).toEqual(expect.any(String));
    await fake.idle();
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]?.payload ?? '')).toEqual({ hello: 'world' });
    expect(fake.invocations[0]).toMatchObject({ functionName: 'reply', status: 202, state: 'succeeded', result: { ok: true } });
    expect(fake.requests[0]).toMatchObject({ method: 'POST', operation: 'InvokeFunction', status: 202 });
  });

  it('retries a failing async run like FC (3 retries by default) and records the outcome', async () => {
    failReply = 10;
    await client(fake, KEY).post('/functions/reply/invocations', Buffer.from('{}'), { 'x-fc-invocation-type': 'Async' });
    await fake.idle();
    expect(seen).toHaveLength(4);
    expect(seen.map((s) => s.info.attempt)).toEqual([1, 2, 3, 4]);
    expect(fake.invocations[0]).toMatchObject({ state: 'failed', attempts: 4 });
    expect((fake.invocations[0]?.error as Error).message).toBe('boom');
  });

  it('runs a sync invocation and answers 200 with the JSON result', async () => {
    const res = await client(fake, KEY).post('/functions/echo/invocations', Buffer.from('{"a":1}'));
    expect(res.data).toEqual({ echoed: { a: 1 } });
    expect(fake.invocations[0]).toMatchObject({ invocationType: 'Sync', status: 200 });
  });

  it('accepts an STS key that carries its security token', async () => {
    await client(fake, STS).post('/functions/reply/invocations', Buffer.from('{}'), { 'x-fc-invocation-type': 'Async' });
    await fake.idle();
    expect(seen).toHaveLength(1);
    expect(fake.invocations[0]?.headers['x-fc-security-token']).toBe('token-abc');
  });

  it('rejects a wrong secret with SignatureNotMatch', async () => {
    const err = await rejection(
      client(fake, { ...KEY, accessKeySecret: 'wrong' }).post('/functions/reply/invocations', Buffer.from('{}'), {
        'x-fc-invocation-type': 'Async',
      }),
    );
    expect(err.code).toBe('SignatureNotMatch');
    expect(err.message).toContain('failed with 403');
    expect(seen).toHaveLength(0);
  });

  it('rejects an unknown access key id', async () => {
    const err = await rejection(
      client(fake, { accessKeyId: 'LTAIother', accessKeySecret: 'x' }).post('/functions/reply/invocations', Buffer.from('{}')),
    );
    expect(err.code).toBe('InvalidAccessKeyID');
  });

  it('rejects an STS key whose token is missing or wrong', async () => {
    const noToken = client(fake, STS);
    noToken.securityToken = undefined;
    const missing = await rejection(noToken.post('/functions/reply/invocations', Buffer.from('{}')));
    expect(missing.code).toBe('InvalidSecurityToken');
    const wrong = await rejection(client(fake, { ...STS, securityToken: 'other' }).post('/functions/reply/invocations', Buffer.from('{}')));
    expect(wrong.code).toBe('InvalidSecurityToken');
    expect(seen).toHaveLength(0);
  });

  it('answers FunctionNotFound for an unknown function', async () => {
    const err = await rejection(client(fake, KEY).post('/functions/nope/invocations', Buffer.from('{}')));
    expect(err.code).toBe('FunctionNotFound');
    expect(err.message).toContain('failed with 404');
  });

  it('refuses an async payload over 128 KB', async () => {
    const big = Buffer.alloc(128 * 1024 + 1, 0x61);
    const err = await rejection(client(fake, KEY).post('/functions/reply/invocations', big, { 'x-fc-invocation-type': 'Async' }));
    expect(err.code).toBe('EntityTooLarge');
  });

  it('refuses a request whose Date is more than 15 minutes off, even when correctly signed', async () => {
    const body = Buffer.from('{}');
    const headers: Record<string, string> = {
      date: new Date(Date.now() - 16 * 60 * 1000).toUTCString(),
      'x-fc-account-id': ACCOUNT,
      'x-fc-invocation-type': 'Async',
      'content-type': 'application/octet-stream',
      'content-md5': Buffer.from(createHash('md5').update(body).digest('hex')).toString('base64'),
    };
    const path = '/2023-03-30/functions/reply/invocations';
    headers.authorization = FC.getSignature(KEY.accessKeyId, KEY.accessKeySecret, 'POST', path, headers, null);
    const stale = await rawPost(fake.url, path, headers, body);
    expect(stale.status).toBe(403);
    expect(JSON.parse(stale.body)).toMatchObject({ ErrorCode: 'RequestTimeTooSkewed' });

    // The same hand-made request with a current date is accepted: only the date was at fault.
    headers.date = new Date().toUTCString();
    headers.authorization = FC.getSignature(KEY.accessKeyId, KEY.accessKeySecret, 'POST', path, headers, null);
    expect((await rawPost(fake.url, path, headers, body)).status).toBe(202);
  });

  it('refuses a body that does not match content-md5', async () => {
    const body = Buffer.from('{}');
    const headers: Record<string, string> = {
      date: new Date().toUTCString(),
      'x-fc-account-id': ACCOUNT,
      'content-type': 'application/octet-stream',
      'content-md5': Buffer.from(createHash('md5').update('other').digest('hex')).toString('base64'),
    };
    const path = '/2023-03-30/functions/reply/invocations';
    headers.authorization = FC.getSignature(KEY.accessKeyId, KEY.accessKeySecret, 'POST', path, headers, null);
    const res = await rawPost(fake.url, path, headers, body);
    expect(res.status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  it('deduplicates async task ids with 409 and validates their format', async () => {
    const c = client(fake, KEY);
    const headers = { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': 'msg_abc-123' };
    await c.post('/functions/tasks/invocations', Buffer.from('{}'), headers);
    const dup = await rejection(c.post('/functions/tasks/invocations', Buffer.from('{}'), headers));
    expect(dup.code).toBe('ResourceExists');
    expect(dup.message).toContain('failed with 409');
    const bad = await rejection(
      c.post('/functions/tasks/invocations', Buffer.from('{}'), { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': '1starts-with-digit' }),
    );
    expect(bad.code).toBe('InvalidArgument');
    const tooLong = await rejection(
      c.post('/functions/tasks/invocations', Buffer.from('{}'), { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': `a${'b'.repeat(128)}` }),
    );
    expect(tooLong.code).toBe('InvalidArgument');
    await fake.idle();
    expect(fake.invocations).toHaveLength(1);
    expect(fake.invocations[0]?.taskId).toBe('msg_abc-123');
  });

  it('failNext makes the next authenticated invocation fail, then recovers', async () => {
    fake.failNext(429, 'ResourceExhausted');
    const c = client(fake, KEY);
    const err = await rejection(c.post('/functions/reply/invocations', Buffer.from('{}'), { 'x-fc-invocation-type': 'Async' }));
    expect(err.code).toBe('ResourceExhausted');
    expect(err.message).toContain('failed with 429');
    await c.post('/functions/reply/invocations', Buffer.from('{}'), { 'x-fc-invocation-type': 'Async' });
    await fake.idle();
    expect(seen).toHaveLength(1);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 202]);
  });

  it('answers 404 with a JSON error for any other route', async () => {
    const c = client(fake, KEY);
    const err = await rejection(c.post('/functions/reply', Buffer.from('{}')));
    expect(err.message).toContain('failed with 404');
    expect(err.code).toBe('PathNotSupported');
  });

  it('with errorFormat fc3 the fc2 client loses err.code (documents a real client limitation)', async () => {
    const fc3 = await startFcApiFake({ accountId: ACCOUNT, credentials: [KEY], functions: {}, errorFormat: 'fc3' });
    try {
      const err = await rejection(client(fc3, KEY).post('/functions/nope/invocations', Buffer.from('{}')));
      expect(err.code).toBeUndefined();
      expect(err.message).toContain('failed with 404');
    } finally {
      await fc3.close();
    }
  });
});
