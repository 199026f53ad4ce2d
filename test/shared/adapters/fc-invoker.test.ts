import { createFcInvoker } from '../../../shared/adapters/fc-invoker';
import { InvokeError } from '../../../shared/errors';
import { startFcApiFake, type FcApiFake } from '../../fakes/fc-api-fake';
import { STS_CREDENTIALS } from '../../helpers/fc-context';
import { guarantee } from '../../helpers/guarantee';

const ACCOUNT = '1234567890123456';

describe('createFcInvoker (real @alicloud/fc2 against the FC API fake)', () => {
  let fc: FcApiFake;
  const received: Buffer[] = [];

  beforeEach(async () => {
    received.length = 0;
    fc = await startFcApiFake({
      accountId: ACCOUNT,
      credentials: [STS_CREDENTIALS],
      // As s.yaml deploys reply: async task mode, so FC dedupes x-fc-async-task-id.
      functions: { 'dingtalk-llm-reply': { asyncTask: true, handler: async (payload) => void received.push(payload) } },
    });
  });
  afterEach(() => fc.close());

  const invoker = (overrides: { functionName?: string; credentials?: typeof STS_CREDENTIALS } = {}) =>
    createFcInvoker({
      functionName: overrides.functionName ?? 'dingtalk-llm-reply',
      endpoint: fc.url,
      target: () => ({ accountId: ACCOUNT, region: 'cn-hangzhou', credentials: overrides.credentials ?? STS_CREDENTIALS }),
    });

  it('invokes the function asynchronously on the FC 3.0 path, signed with the STS credentials and token', async () => {
    const result = await invoker().invoke('{"hello":"世界"}');
    await fc.idle();
    expect(result.requestId).toEqual(expect.any(String));
    expect(received.map((payload) => payload.toString('utf8'))).toEqual(['{"hello":"世界"}']);
    const [invocation] = fc.invocations;
    expect(invocation?.invocationType).toBe('Async');
    expect(invocation?.headers['x-fc-security-token']).toBe(STS_CREDENTIALS.securityToken);
    expect(fc.requests[0]?.path).toBe('/2023-03-30/functions/dingtalk-llm-reply/invocations');
  });

  it('fails with InvokeError carrying status and code when the function does not exist', async () => {
    const error = await invoker({ functionName: 'missing' }).invoke('{}').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvokeError);
    expect(error).toMatchObject({ status: 404, code: 'FunctionNotFound' });
    expect(fc.invocations).toHaveLength(0);
  });

  it('fails with a 403 when the credentials are wrong, and never leaks the secret in the message', async () => {
    const wrong = { ...STS_CREDENTIALS, accessKeySecret: 'not-the-secret-at-all-000000' };
    const error = (await invoker({ credentials: wrong }).invoke('{}').catch((caught: unknown) => caught)) as InvokeError;
    expect(error).toBeInstanceOf(InvokeError);
    expect(error.status).toBe(403);
    expect(error.message).not.toContain(wrong.accessKeySecret);
  });

  it('fails with InvokeError without status when FC cannot be reached', async () => {
    const url = fc.url;
    await fc.close();
    const unreachable = createFcInvoker({
      functionName: 'dingtalk-llm-reply',
      endpoint: url,
      target: () => ({ accountId: ACCOUNT, region: 'cn-hangzhou', credentials: STS_CREDENTIALS }),
    });
    const error = (await unreachable.invoke('{}').catch((caught: unknown) => caught)) as InvokeError;
    expect(error).toBeInstanceOf(InvokeError);
    expect(error.status).toBeUndefined();
    fc = await startFcApiFake({ accountId: ACCOUNT, credentials: [STS_CREDENTIALS], functions: {} });
  });

  it('signs with the newest credentials when FC rotates them', async () => {
    const rotated = { ...STS_CREDENTIALS, accessKeyId: 'STS.NRotatedKey000000000', accessKeySecret: 'RotatedSecret0000000000000000000' };
    await fc.close();
    fc = await startFcApiFake({
      accountId: ACCOUNT,
      credentials: [rotated],
      functions: { 'dingtalk-llm-reply': { handler: async () => undefined } },
    });
    let current = STS_CREDENTIALS;
    const rotating = createFcInvoker({
      functionName: 'dingtalk-llm-reply',
      endpoint: fc.url,
      target: () => ({ accountId: ACCOUNT, region: 'cn-hangzhou', credentials: current }),
    });
    await expect(rotating.invoke('{}')).rejects.toBeInstanceOf(InvokeError);
    current = rotated;
    await expect(rotating.invoke('{}')).resolves.toEqual(expect.any(Object));
  });

  it('refuses to invoke without an account id or region, naming the variables', async () => {
    const lost = createFcInvoker({
      functionName: 'dingtalk-llm-reply',
      endpoint: fc.url,
      target: () => ({ accountId: undefined, region: undefined, credentials: STS_CREDENTIALS }),
    });
    await expect(lost.invoke('{}')).rejects.toThrow(/FC_ACCOUNT_ID and FC_REGION/);
  });

  describe(guarantee('Exactly one answer per message'), () => {
    it('sends the task id, and a second invocation with the same id resolves as a duplicate that FC refused with 409', async () => {
      const first = await invoker().invoke('{"n":1}', { taskId: 'mABC_def-1' });
      const second = await invoker().invoke('{"n":2}', { taskId: 'mABC_def-1' });
      await fc.idle();
      expect(first.duplicate).toBeUndefined();
      expect(second).toEqual({ duplicate: true, signer: 'fc2' });
      expect(fc.requests.map((request) => request.status)).toEqual([202, 409]);
      expect(received.map((payload) => payload.toString('utf8'))).toEqual(['{"n":1}']);
      expect(fc.invocations[0]?.taskId).toBe('mABC_def-1');
    });

    it('fails on a 409 when it sent no task id: that conflict is not a known task', async () => {
      fc.failNext(409, 'ConcurrentUpdateError');
      await expect(invoker().invoke('{}')).rejects.toMatchObject({ status: 409, code: 'ConcurrentUpdateError' });
    });

    it('fails with InvokeError when FC refuses a malformed task id', async () => {
      await expect(invoker().invoke('{}', { taskId: 'bad id with spaces' })).rejects.toMatchObject({ status: 400 });
    });
  });
});
