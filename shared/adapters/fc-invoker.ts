import FCClient from '@alicloud/fc2';
import { InvokeError } from '../errors';
import { clientPerCredentials, type CloudCredentials } from '../fc/context';
import type { InvokeResult, InvokeSigner, ReplyInvoker } from '../ports';
import { invokeWithAcs3 } from './fc-acs3-invoke';

/** FC 3.0's API version; @alicloud/fc2 defaults to FC 2.0's `2016-08-15`. */
export const FC3_API_VERSION = '2023-03-30';

/** Options of `createFcInvoker`. */
export interface FcInvokerOptions {
  functionName: string;
  /** Default: `https://<accountId>.<region>-internal.fc.aliyuncs.com` (FC_ENDPOINT overrides it). */
  endpoint?: string;
  /** Read on each call: FC gives every invocation fresh temporary credentials. */
  target: () => { accountId: string | undefined; region: string | undefined; credentials: CloudCredentials };
  /** Request timeout. Default 5 s: the ack must stay well inside DingTalk's ~10 s. */
  timeoutMs?: number;
}

/** The FC internal endpoint: free, and reachable from inside the region without internet access. */
export function internalFcEndpoint(accountId: string, region: string): string {
  return `https://${accountId}.${region}-internal.fc.aliyuncs.com`;
}

function errorDetails(error: unknown): { status?: number; code?: string } {
  if (!(error instanceof Error)) return {};
  const details: { status?: number; code?: string } = {};
  const given = (error as Error & { status?: unknown }).status;
  const status = typeof given === 'number' ? given : Number(/failed with (\d{3})/.exec(error.message)?.[1] ?? Number.NaN);
  if (!Number.isNaN(status)) details.status = status;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && code !== 'undefined') details.code = code;
  return details;
}

/**
 * True when FC's answer says it did not accept the request's signature or credentials (as opposed to a
 * refusal of the request itself: unknown function, permission, throttling). FC 3.0 is documented with
 * ACS3 signatures only, so such an answer to @alicloud/fc2's signature is worth one try with ACS3.
 */
export function isSignatureRefusal(status: number | undefined, code: string | undefined): boolean {
  if (status === 401) return true;
  if (status !== 400 && status !== 403) return false;
  if (code === undefined) return status === 403;
  return /signature|authoriz|accesskey|securitytoken|credential/i.test(code);
}

/**
 * Invokes the reply function asynchronously through FC 3.0's InvokeFunction API
 * (`POST /2023-03-30/functions/{name}/invocations`, `x-fc-invocation-type: Async`), signed by
 * @alicloud/fc2 with the current credentials. One client per instance, rebuilt when keys rotate.
 * A task id goes out as `x-fc-async-task-id`; FC's 409 for a known task id resolves as a duplicate.
 *
 * When FC refuses fc2's signature before any call of this instance has succeeded, the same call is
 * retried once through FC 3.0's own SDK (ACS3-HMAC-SHA256, loaded only then), and the instance keeps
 * whichever signer FC accepted first; each result says which (`signer`).
 */
export function createFcInvoker(options: FcInvokerOptions): ReplyInvoker {
  let endpointFor: { endpoint: string; accountId: string; region: string } | undefined;
  const timeoutMs = options.timeoutMs ?? 5000;
  const clientFor = clientPerCredentials((credentials: CloudCredentials) => {
    const target = endpointFor as { endpoint: string; accountId: string; region: string };
    const client = new FCClient(target.accountId, {
      accessKeyID: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(credentials.securityToken !== undefined ? { securityToken: credentials.securityToken } : {}),
      region: target.region,
      endpoint: target.endpoint,
      timeout: timeoutMs,
    });
    client.version = FC3_API_VERSION;
    return client;
  });
  const path = `/functions/${encodeURIComponent(options.functionName)}/invocations`;
  /** The signer FC accepted on this instance; undefined until a call succeeds. */
  let accepted: InvokeSigner | undefined;

  const viaFc2 = async (payload: string, credentials: CloudCredentials, headers: Record<string, string>): Promise<InvokeResult> => {
    const response = await clientFor(credentials).post(path, Buffer.from(payload, 'utf8'), headers);
    const requestId = response.headers['x-fc-request-id'];
    return typeof requestId === 'string' ? { requestId, signer: 'fc2' } : { signer: 'fc2' };
  };

  /** The same call through FC 3.0's SDK; its failures carry `status` and `code` like fc2's. */
  const viaAcs3 = async (payload: string, credentials: CloudCredentials, taskId: string | undefined): Promise<InvokeResult> => {
    const endpoint = (endpointFor as { endpoint: string }).endpoint;
    const result = await invokeWithAcs3({ endpoint, functionName: options.functionName, payload, credentials, timeoutMs, ...(taskId !== undefined ? { taskId } : {}) });
    return { ...result, signer: 'acs3' };
  };

  /** FC did not take the call: a duplicate (409 of a known task id, resolved), or an `InvokeError`. */
  const refused = (error: unknown, taskId: string | undefined, signer: InvokeSigner): InvokeResult => {
    const details = errorDetails(error);
    // With async task mode, 409 means FC already holds this task: the message was accepted before.
    if (taskId !== undefined && details.status === 409) {
      accepted ??= signer;
      return { duplicate: true, signer };
    }
    throw new InvokeError(`async invocation of ${options.functionName} failed: ${describeFailure(details)}`, { ...details, cause: error });
  };

  return {
    async invoke(payload, invokeOptions) {
      const { accountId, region, credentials } = options.target();
      if (accountId === undefined || region === undefined) {
        throw new InvokeError('no account id or region: FC passes them in the context; outside FC set FC_ACCOUNT_ID and FC_REGION');
      }
      endpointFor ??= { accountId, region, endpoint: options.endpoint ?? internalFcEndpoint(accountId, region) };
      const taskId = invokeOptions?.taskId;
      const headers: Record<string, string> = { 'x-fc-invocation-type': 'Async' };
      if (taskId !== undefined) headers['x-fc-async-task-id'] = taskId;

      if (accepted === 'acs3') {
        try {
          return await viaAcs3(payload, credentials, taskId);
        } catch (error) {
          return refused(error, taskId, 'acs3');
        }
      }
      try {
        const result = await viaFc2(payload, credentials, headers);
        accepted ??= 'fc2';
        return result;
      } catch (error) {
        const details = errorDetails(error);
        if (accepted !== undefined || !isSignatureRefusal(details.status, details.code)) return refused(error, taskId, 'fc2');
        try {
          const result = await viaAcs3(payload, credentials, taskId);
          accepted = 'acs3';
          return result;
        } catch (second) {
          const again = errorDetails(second);
          if (taskId !== undefined && again.status === 409) return refused(second, taskId, 'acs3');
          // The status and code stay fc2's (the primary signer); the message names both refusals.
          const what = `FC refused both signatures: fc2 ${describeFailure(details)}; ACS3 ${describeFailure(again)}`;
          throw new InvokeError(`async invocation of ${options.functionName} failed: ${what}`, { ...details, cause: second });
        }
      }
    },
  };
}

function describeFailure(details: { status?: number; code?: string }): string {
  return details.status !== undefined ? `FC answered ${details.status}${details.code ? ` ${details.code}` : ''}` : 'FC could not be reached';
}
