import { createFcInvoker, isSignatureRefusal } from '../../../shared/adapters/fc-invoker';
import { InvokeError } from '../../../shared/errors';
import { startFcApiFake, type FcApiFake, type FcApiFakeOptions } from '../../fakes/fc-api-fake';
import { STS_CREDENTIALS } from '../../helpers/fc-context';

const ACCOUNT = '1234567890123456';
const REPLY = 'dingtalk-llm-reply';

describe('createFcInvoker: the ACS3 fallback when FC refuses the fc2 signature', () => {
  let fc: FcApiFake;
  const received: string[] = [];

  const start = async (overrides: Partial<FcApiFakeOptions> = {}): Promise<void> => {
    received.length = 0;
    fc = await startFcApiFake({
      accountId: ACCOUNT,
      credentials: [STS_CREDENTIALS],
      functions: { [REPLY]: { asyncTask: true, handler: async (payload) => void received.push(payload.toString('utf8')) } },
      ...overrides,
    });
  };
  afterEach(() => fc.close());

  const invoker = (credentials = STS_CREDENTIALS) =>
    createFcInvoker({ functionName: REPLY, endpoint: fc.url, target: () => ({ accountId: ACCOUNT, region: 'cn-hangzhou', credentials }) });

  it('uses fc2 alone when FC accepts its signature, and says so', async () => {
    await start();
    const result = await invoker().invoke('{"n":1}');
    await fc.idle();
    expect(result).toMatchObject({ signer: 'fc2', requestId: expect.any(String) });
    expect(fc.requests.map((request) => [request.signer, request.status])).toEqual([['fc2', 202]]);
  });

  it('retries a refused fc2 signature once through FC 3.0 SDK (ACS3-HMAC-SHA256) with the same task, and keeps ACS3 afterwards', async () => {
    await start({ refuseFcSignature: { status: 403, code: 'SignatureNotMatch' } });
    const fcInvoker = invoker();
    const first = await fcInvoker.invoke('{"n":1,"text":"世界"}', { taskId: 'mFirst_1' });
    const second = await fcInvoker.invoke('{"n":2}', { taskId: 'mSecond_2' });
    await fc.idle();
    expect(first).toMatchObject({ signer: 'acs3', requestId: expect.any(String) });
    expect(second).toMatchObject({ signer: 'acs3' });
    // One refused fc2 request, then only ACS3 ones: the instance remembers what FC accepted.
    expect(fc.requests.map((request) => [request.signer, request.status])).toEqual([
      ['fc2', 403],
      ['acs3', 202],
      ['acs3', 202],
    ]);
    expect(received).toEqual(['{"n":1,"text":"世界"}', '{"n":2}']);
    expect(fc.invocations.map((invocation) => [invocation.invocationType, invocation.taskId, invocation.headers['x-acs-security-token']])).toEqual([
      ['Async', 'mFirst_1', STS_CREDENTIALS.securityToken],
      ['Async', 'mSecond_2', STS_CREDENTIALS.securityToken],
    ]);
  });

  it('resolves a redelivered task as a duplicate through ACS3 too', async () => {
    await start({ refuseFcSignature: { status: 403, code: 'SignatureNotMatch' } });
    const fcInvoker = invoker();
    await fcInvoker.invoke('{}', { taskId: 'mSame_1' });
    await expect(fcInvoker.invoke('{}', { taskId: 'mSame_1' })).resolves.toEqual({ duplicate: true, signer: 'acs3' });
  });

  it('names both refusals when FC takes neither signature (wrong secret), never the secret itself', async () => {
    // FC 3.0's error body ({Code, Message}): fc2 cannot read the code, the status alone triggers the fallback.
    await start({ refuseFcSignature: { status: 403, code: 'SignatureNotMatch' }, errorFormat: 'fc3' });
    const wrong = { ...STS_CREDENTIALS, accessKeySecret: 'not-the-secret-at-all-000000' };
    const error = (await invoker(wrong)
      .invoke('{}')
      .catch((caught: unknown) => caught)) as InvokeError;
    expect(error).toBeInstanceOf(InvokeError);
    expect(error.message).toMatch(/both signatures: fc2 FC answered 403; ACS3 FC answered 400 SignatureDoesNotMatch/);
    expect(error.status).toBe(403);
    expect(error.message).not.toContain(wrong.accessKeySecret);
    expect(fc.invocations).toHaveLength(0);
  });

  it('does not fall back for a refusal that is not about the signature (unknown function)', async () => {
    await start();
    const error = await createFcInvoker({ functionName: 'missing', endpoint: fc.url, target: () => ({ accountId: ACCOUNT, region: 'cn-hangzhou', credentials: STS_CREDENTIALS }) })
      .invoke('{}')
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 404, code: 'FunctionNotFound' });
    expect(fc.requests.map((request) => request.signer)).toEqual(['fc2']);
  });

  it('does not fall back once fc2 has been accepted on this instance', async () => {
    await start();
    const fcInvoker = invoker();
    await fcInvoker.invoke('{}');
    fc.failNext(403, 'SignatureNotMatch');
    await expect(fcInvoker.invoke('{}')).rejects.toMatchObject({ status: 403 });
    expect(fc.requests.map((request) => request.signer)).toEqual(['fc2', 'fc2']);
  });
});

describe('isSignatureRefusal', () => {
  it.each([
    [401, undefined, true],
    [403, undefined, true],
    [403, 'SignatureNotMatch', true],
    [400, 'IncompleteSignature', true],
    [403, 'InvalidAccessKeyID', true],
    [403, 'InvalidSecurityToken', true],
    [403, 'AccessDenied', false],
    [404, 'FunctionNotFound', false],
    [429, 'ResourceExhausted', false],
    [400, 'InvalidArgument', false],
    [undefined, undefined, false],
  ])('status %p code %p → %p', (status, code, expected) => {
    expect(isSignatureRefusal(status, code)).toBe(expected);
  });
});
