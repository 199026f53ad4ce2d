import { createFcInvoker } from '../../shared/adapters/fc-invoker';
import { InvokeError } from '../../shared/errors';
import { systemClock } from '../../shared/ports';
import { startFcEndpoint, type FcEndpoint, type LocalFunction } from '../../local/fc-endpoint';
import type { FcAccessKey } from '../../local/fc-signature';
import { captureLogger } from '../helpers/capture-logger';
import { STS_CREDENTIALS } from '../helpers/fc-context';

const ACCOUNT = '1000000000000001';
const KEY: FcAccessKey = { accessKeyId: 'LTAIlocaltest0000', accessKeySecret: 'local-test-secret-0000000000' };

/** A promise and its resolver, to hold a handler in flight. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const task = (conversationId: string, userId: string, msgId: string): string => JSON.stringify({ v: 1, msgId, conversationId, userId });

describe('the local FC endpoint', () => {
  let endpoint: FcEndpoint | undefined;
  let log = captureLogger();
  beforeEach(() => {
    log = captureLogger();
  });
  afterEach(async () => {
    await endpoint?.close(0);
    endpoint = undefined;
  });

  async function start(handler: LocalFunction, keys: FcAccessKey[] = [KEY]): Promise<FcEndpoint> {
    endpoint = await startFcEndpoint({ accountId: ACCOUNT, region: 'cn-hangzhou', keys, functions: { reply: handler }, logger: log.logger, clock: systemClock, retryDelayMs: 1 });
    return endpoint;
  }

  const invoker = (url: string, credentials: FcAccessKey = KEY, functionName = 'reply') =>
    createFcInvoker({ functionName, endpoint: url, target: () => ({ accountId: ACCOUNT, region: 'cn-hangzhou', credentials }) });

  it('accepts an invocation signed by the real fc2 client, answers 202 and runs the function with a canned FC context', async () => {
    const runs: Array<{ event: string; context: Record<string, unknown> }> = [];
    const fc = await start(async (event, context) => {
      runs.push({ event: event.toString('utf8'), context });
    });
    const result = await invoker(fc.url).invoke(task('cid', 'u1', 'm1'));
    expect(result.requestId).toEqual(expect.any(String));
    await fc.idle();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.event).toBe(task('cid', 'u1', 'm1'));
    expect(runs[0]?.context).toMatchObject({
      requestId: result.requestId,
      region: 'cn-hangzhou',
      accountId: ACCOUNT,
      credentials: KEY,
      function: { name: 'reply', handler: 'index.handler' },
    });
  });

  it('checks STS security tokens like FC', async () => {
    const fc = await start(async () => undefined, [STS_CREDENTIALS]);
    await expect(invoker(fc.url, STS_CREDENTIALS).invoke('{}')).resolves.toEqual(expect.objectContaining({ requestId: expect.any(String) }));
    await expect(invoker(fc.url, { ...STS_CREDENTIALS, securityToken: 'wrong-token' }).invoke('{}')).rejects.toMatchObject({ status: 403 });
    expect(log.events().some((line) => line.code === 'InvalidSecurityToken')).toBe(true);
  });

  it('refuses a request signed with another secret (403 SignatureNotMatch) and runs nothing', async () => {
    let runs = 0;
    const fc = await start(async () => {
      runs += 1;
    });
    const refused = invoker(fc.url, { ...KEY, accessKeySecret: 'not-the-secret-000000000' }).invoke('{}');
    await expect(refused).rejects.toBeInstanceOf(InvokeError);
    await expect(refused).rejects.toMatchObject({ status: 403 });
    await fc.idle();
    expect(runs).toBe(0);
    expect(log.find('local.invoke_refused')).toMatchObject({ status: 403, code: 'SignatureNotMatch' });
  });

  it('refuses an unknown function with 404 FunctionNotFound', async () => {
    const fc = await start(async () => undefined);
    await expect(invoker(fc.url, KEY, 'other').invoke('{}')).rejects.toMatchObject({ status: 404 });
    expect(log.events().some((line) => line.code === 'FunctionNotFound')).toBe(true);
  });

  it('refuses a repeated x-fc-async-task-id with 409 ResourceExists, as FC in async task mode, and runs the task once', async () => {
    let runs = 0;
    const fc = await start(async () => {
      runs += 1;
    });
    const client = invoker(fc.url);
    await expect(client.invoke(task('c', 'u', 'm'), { taskId: 'msg_1' })).resolves.toEqual(expect.objectContaining({ requestId: expect.any(String) }));
    await expect(client.invoke(task('c', 'u', 'm'), { taskId: 'msg_1' })).resolves.toEqual({ duplicate: true, signer: 'fc2' });
    await fc.idle();
    expect(runs).toBe(1);

    const raw = await fetch(`${fc.url}/2023-03-30/functions/reply/invocations`, { method: 'POST' });
    expect(raw.status).toBe(400);
    expect(log.events().filter((line) => line.code === 'ResourceExists')).toHaveLength(1);
  });

  it("runs one user's events one at a time, in order, while another user's run alongside", async () => {
    const order: string[] = [];
    const gate = deferred();
    const fc = await start(async (event) => {
      const { msgId } = JSON.parse(event.toString('utf8')) as { msgId: string };
      order.push(`start ${msgId}`);
      if (msgId === 'a1') await gate.promise;
      order.push(`end ${msgId}`);
    });
    const client = invoker(fc.url);
    await client.invoke(task('c', 'alice', 'a1'));
    await client.invoke(task('c', 'alice', 'a2'));
    await client.invoke(task('c', 'bob', 'b1'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual(['start a1', 'start b1', 'end b1']);
    expect(fc.pending()).toBe(2);
    gate.resolve();
    await fc.idle();
    expect(order).toEqual(['start a1', 'start b1', 'end b1', 'end a1', 'start a2', 'end a2']);
  });

  it('reruns a function that threw, as FC retries a failed async invocation', async () => {
    let attempts = 0;
    const fc = await start(async () => {
      attempts += 1;
      if (attempts < 3) throw new Error('transient');
    });
    await invoker(fc.url).invoke('{}');
    await fc.idle();
    expect(attempts).toBe(3);
  });

  it('on close, waits for the run in flight up to the grace period and logs it as abandoned after that', async () => {
    const gate = deferred();
    const fc = await start(() => gate.promise);
    await invoker(fc.url).invoke(task('c', 'u', 'slow'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await fc.close(30)).toEqual({ abandoned: 1 });
    expect(log.find('local.invoke_abandoned')).toMatchObject({ msgId: 'slow', graceMs: 30 });
    gate.resolve();
    endpoint = undefined;
  });

  it('on close, lets a run in flight finish within the grace period', async () => {
    let finished = false;
    const fc = await start(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      finished = true;
    });
    await invoker(fc.url).invoke('{}');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await fc.close(2000)).toEqual({ abandoned: 0 });
    expect(finished).toBe(true);
    endpoint = undefined;
  });
});
