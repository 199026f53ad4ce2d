import FCClient from '@alicloud/fc2';
import { InvokeError } from '../errors';
import { clientPerCredentials, type CloudCredentials } from '../fc/context';
import type { ReplyInvoker } from '../ports';

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
  const status = /failed with (\d{3})/.exec(error.message)?.[1];
  if (status !== undefined) details.status = Number(status);
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && code !== 'undefined') details.code = code;
  return details;
}

/**
 * Invokes the reply function asynchronously through FC 3.0's InvokeFunction API
 * (`POST /2023-03-30/functions/{name}/invocations`, `x-fc-invocation-type: Async`), signed by
 * @alicloud/fc2 with the current credentials. One client per instance, rebuilt when keys rotate.
 * A task id goes out as `x-fc-async-task-id`; FC's 409 for a known task id resolves as a duplicate.
 */
export function createFcInvoker(options: FcInvokerOptions): ReplyInvoker {
  let endpointFor: { endpoint: string; accountId: string; region: string } | undefined;
  const clientFor = clientPerCredentials((credentials: CloudCredentials) => {
    const target = endpointFor as { endpoint: string; accountId: string; region: string };
    const client = new FCClient(target.accountId, {
      accessKeyID: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(credentials.securityToken !== undefined ? { securityToken: credentials.securityToken } : {}),
      region: target.region,
      endpoint: target.endpoint,
      timeout: options.timeoutMs ?? 5000,
    });
    client.version = FC3_API_VERSION;
    return client;
  });
  const path = `/functions/${encodeURIComponent(options.functionName)}/invocations`;

  return {
    async invoke(payload, invokeOptions) {
      const { accountId, region, credentials } = options.target();
      if (accountId === undefined || region === undefined) {
        throw new InvokeError('no account id or region: FC passes them in the context; outside FC set FC_ACCOUNT_ID and FC_REGION');
      }
      endpointFor ??= { accountId, region, endpoint: options.endpoint ?? internalFcEndpoint(accountId, region) };
      const client = clientFor(credentials);
      const headers: Record<string, string> = { 'x-fc-invocation-type': 'Async' };
      if (invokeOptions?.taskId !== undefined) headers['x-fc-async-task-id'] = invokeOptions.taskId;
      try {
        const response = await client.post(path, Buffer.from(payload, 'utf8'), headers);
        const requestId = response.headers['x-fc-request-id'];
        return typeof requestId === 'string' ? { requestId } : {};
      } catch (error) {
        const details = errorDetails(error);
        // With async task mode, 409 means FC already holds this task: the message was accepted before.
        if (invokeOptions?.taskId !== undefined && details.status === 409) return { duplicate: true };
        const what = details.status !== undefined ? `FC answered ${details.status}${details.code ? ` ${details.code}` : ''}` : 'FC could not be reached';
        throw new InvokeError(`async invocation of ${options.functionName} failed: ${what}`, { ...details, cause: error });
      }
    },
  };
}
