/**
 * The reply invocation through FC 3.0's own SDK (`@alicloud/fc20230330`), which signs
 * `ACS3-HMAC-SHA256`. It is the fallback for an FC that refuses `@alicloud/fc2`'s signature, so the SDK
 * (about 100 ms to load) is imported only the first time this path runs, never on the ordinary ack
 * path. In the conversation bundle it lives in a file of its own beside the bundle (scripts/build.mjs).
 */
import { Readable } from 'node:stream';
import type { CloudCredentials } from '../fc/context';

/** One async InvokeFunction call. */
export interface Acs3InvokeRequest {
  /** `https://<accountId>.<region>-internal.fc.aliyuncs.com`, or a local fake's `http://127.0.0.1:PORT`. */
  endpoint: string;
  functionName: string;
  payload: string;
  taskId?: string;
  credentials: CloudCredentials;
  timeoutMs: number;
}

/** What FC answered: its request id, or the refusal's status and code (thrown as `Acs3InvokeFailure`). */
export interface Acs3InvokeResult {
  requestId?: string;
}

/** FC refused the call (status and code as FC sent them) or could not be reached (no status). */
export class Acs3InvokeFailure extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'Acs3InvokeFailure';
  }
}

/** FC 3.0's SDK module, typed; loaded with `require` so it stays lazy both in the bundle and under Jest. */
type Fc3Module = typeof import('@alicloud/fc20230330');
type Fc3Client = InstanceType<Fc3Module['default']>;
type Fc3Config = ConstructorParameters<Fc3Module['default']>[0];
type Fc3Runtime = Parameters<Fc3Client['invokeFunctionWithOptions']>[3];

/**
 * Loads the SDK (once: require caches it). The conversation bundle points this require at a bundle of
 * its own beside it (`dist/conversation/fc3-sdk.js`, see scripts/build.mjs).
 */
function loadSdk(): Fc3Module {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@alicloud/fc20230330') as Fc3Module;
}

let cached: { key: string; client: Fc3Client } | undefined;

function clientFor(endpoint: string, credentials: CloudCredentials, timeoutMs: number): Fc3Client {
  const key = [endpoint, credentials.accessKeyId, credentials.accessKeySecret, credentials.securityToken ?? '', timeoutMs].join('\n');
  if (cached?.key === key) return cached.client;
  const fc3 = loadSdk();
  const url = new URL(endpoint);
  // The client reads these fields only; a plain object spares importing @alicloud/openapi-core for its Config class.
  const config = {
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    ...(credentials.securityToken !== undefined ? { securityToken: credentials.securityToken } : {}),
    endpoint: url.host,
    protocol: url.protocol.replace(':', ''),
    readTimeout: timeoutMs,
    connectTimeout: timeoutMs,
  } as unknown as Fc3Config;
  const client = new fc3.default(config);
  cached = { key, client };
  return client;
}

/**
 * Invokes `functionName` asynchronously (`x-fc-invocation-type: Async`, with `x-fc-async-task-id` when
 * given), signed ACS3-HMAC-SHA256 by the official client. Throws `Acs3InvokeFailure`.
 */
export async function invokeWithAcs3(request: Acs3InvokeRequest): Promise<Acs3InvokeResult> {
  const fc3 = loadSdk();
  const client = clientFor(request.endpoint, request.credentials, request.timeoutMs);
  const headers = new fc3.InvokeFunctionHeaders({
    xFcInvocationType: 'Async',
    ...(request.taskId !== undefined ? { xFcAsyncTaskId: request.taskId } : {}),
  });
  const body = new fc3.InvokeFunctionRequest({ body: Readable.from([Buffer.from(request.payload, 'utf8')]) });
  try {
    // No runtime options: the timeouts are the client's; the SDK's own retries stay off (one attempt).
    const response = await client.invokeFunctionWithOptions(request.functionName, body, headers, {} as Fc3Runtime);
    response.body?.resume();
    const requestId = response.headers?.['x-fc-request-id'];
    return typeof requestId === 'string' ? { requestId } : {};
  } catch (error) {
    const raw = error as { statusCode?: unknown; code?: unknown; message?: unknown };
    const status = typeof raw.statusCode === 'number' ? raw.statusCode : undefined;
    const code = typeof raw.code === 'string' && raw.code !== '' && raw.code !== 'undefined' ? raw.code : undefined;
    const what = status !== undefined ? `FC answered ${status}${code !== undefined ? ` ${code}` : ''}` : 'FC could not be reached';
    throw new Acs3InvokeFailure(what, status, code, { cause: error });
  }
}
