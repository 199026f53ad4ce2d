/**
 * A local fake of the Function Compute 3.0 InvokeFunction API
 * (`POST /2023-03-30/functions/{name}/invocations`).
 *
 * It checks requests the way FC does, from the documented signing schemes (not from the client
 * libraries' code). FC's own scheme (what @alicloud/fc2 sends): the `FC {accessKeyId}:{signature}`
 * authorization, the clock skew of `date`, the account id, the STS security token, `content-md5`,
 * then the HMAC-SHA256 signature. ACS3-HMAC-SHA256 (what FC 3.0's SDK @alicloud/fc20230330 sends):
 * see ./acs3-signature.ts. Only a request that the real service would accept reaches the function
 * handler. `refuseFcSignature` makes it refuse FC's own scheme, as an FC 3.0 that only took ACS3
 * would, so both paths of the invoker are tested.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { fcStringToSign } from '../../local/fc-signature';
import { checkAcs3Signature, isAcs3Request } from './acs3-signature';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BodyTooLargeError,
  constantTimeEqual,
  flatHeaders,
  headerValue,
  listenOnLoopback,
  readBody,
  sendJson,
} from './http-helpers';

/** An access key the fake recognises. A key id starting with `STS` needs `securityToken`. */
export interface FcFakeCredential {
  accessKeyId: string;
  accessKeySecret: string;
  /**
   * The STS token expected in `x-fc-security-token` for key ids starting with `STS` (the only
   * ones for which FC, and @alicloud/fc2, use a token). Ignored for other key ids.
   */
  securityToken?: string;
}

/** What a handler learns about the invocation it serves (a subset of FC's `context`). */
export interface FcFakeInvokeInfo {
  requestId: string;
  /** The `x-fc-async-task-id` of an async task, when the function has `asyncTask: true`. */
  taskId?: string;
  functionName: string;
  invocationType: 'Sync' | 'Async';
  /** 1 for the first run; higher for FC's automatic retries of failed async invocations. */
  attempt: number;
}

/** A function deployed in the fake. */
export interface FcFakeFunction {
  /** Runs the function; the payload is the raw request body, as FC hands `event` to a handler. */
  handler: (payload: Buffer, info: FcFakeInvokeInfo) => Promise<unknown>;
  /** Mirrors `asyncInvokeConfig.asyncTask`: enables `x-fc-async-task-id` validation and dedup. */
  asyncTask?: boolean;
  /**
   * Mirrors `asyncInvokeConfig.maxAsyncRetryAttempts`: how many times a failed async run is
   * retried. Default 3, FC's default, so code under test meets retries as in production.
   * Retries run back to back (FC backs off; the fake does not).
   */
  maxAsyncRetryAttempts?: number;
}

/** Options of {@link startFcApiFake}. */
export interface FcApiFakeOptions {
  /** The account id expected in `x-fc-account-id`. */
  accountId: string;
  /** Access keys the fake accepts. */
  credentials: FcFakeCredential[];
  /** Functions by name. */
  functions: Record<string, FcFakeFunction>;
  /** Largest accepted distance between `date` and the fake's clock. Default 15 minutes. */
  maxClockSkewMs?: number;
  /**
   * Shape of error bodies. `'fc2'` (default): `{"ErrorCode","ErrorMessage"}`, which is what
   * `@alicloud/fc2` reads into `err.code`. `'fc3'`: `{"Code","Message","RequestId"}`, the Error
   * struct the FC 3.0 API reference documents; use it to check that code under test does not rely
   * on `err.code` alone (with that shape the fc2 client leaves `err.code` undefined).
   */
  errorFormat?: 'fc2' | 'fc3';
  /**
   * Refuse every request signed with FC's own scheme (`FC <id>:<signature>`) with this status and code,
   * e.g. `{ status: 403, code: 'SignatureNotMatch' }`; ACS3-signed requests are still checked and
   * accepted. Default: both schemes are accepted.
   */
  refuseFcSignature?: { status: number; code: string };
}

/** Which signing scheme a request used: FC's own (`fc2`) or ACS3-HMAC-SHA256 (`acs3`). */
export type FcFakeSigner = 'fc2' | 'acs3';

/** One request as it arrived, whatever the outcome. */
export interface FcFakeRequestLog {
  method: string;
  /** Path with query string. */
  path: string;
  operation: 'InvokeFunction' | 'Unknown';
  functionName?: string;
  /** HTTP status the fake answered. */
  status: number;
  /** FC error code when the request was refused. */
  errorCode?: string;
  requestId: string;
  /** The scheme the request was signed with, when it carried an Authorization header. */
  signer?: FcFakeSigner;
}

/** One invocation that passed every check and reached (or will reach) its handler. */
export interface FcFakeInvocation {
  requestId: string;
  functionName: string;
  payload: Buffer;
  /** Request headers, lowercase names. */
  headers: Record<string, string>;
  invocationType: 'Sync' | 'Async';
  taskId?: string;
  /** The scheme the accepted request was signed with. */
  signer: FcFakeSigner;
  /** HTTP status answered: 200 (sync) or 202 (async). */
  status: number;
  state: 'running' | 'succeeded' | 'failed';
  /** How many times the handler ran (retries included). */
  attempts: number;
  /** What the handler resolved with, once it succeeded. */
  result?: unknown;
  /** What the last failed run threw. */
  error?: unknown;
}

/** A running FC fake. */
export interface FcApiFake {
  /** `http://127.0.0.1:PORT`: pass it as the fc2 client's `endpoint`. */
  readonly url: string;
  readonly accountId: string;
  /** Every request, in arrival order. */
  readonly requests: FcFakeRequestLog[];
  /** Every accepted invocation, in arrival order. */
  readonly invocations: FcFakeInvocation[];
  /** Resolves once every background (async) run, including runs they trigger, has settled. */
  idle(): Promise<void>;
  /**
   * Makes the next invocation that passes authentication answer `status` with `errorCode`
   * instead of running (e.g. 429 `ResourceExhausted`, 500 `InternalServerError`). Queued: call
   * it several times to fail several invocations.
   */
  failNext(status: number, errorCode: string, message?: string): void;
  /** Stops the server and destroys keep-alive sockets. Does not wait for background runs. */
  close(): Promise<void>;
}

const API_VERSION = '2023-03-30';
const ASYNC_PAYLOAD_LIMIT = 128 * 1024;
const SYNC_PAYLOAD_LIMIT = 32 * 1024 * 1024;
const TASK_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const INVOKE_PATH = /^\/2023-03-30\/functions\/([^/?]+)\/invocations$/;

class FcError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the FC InvokeFunction fake on 127.0.0.1 (ephemeral port).
 *
 * Defaults: 15-minute clock skew, error bodies shaped `{ErrorCode, ErrorMessage}`, async payload
 * limit 128 KB, sync payload limit 32 MB, 3 automatic retries of failed async runs.
 */
export async function startFcApiFake(options: FcApiFakeOptions): Promise<FcApiFake> {
  const maxSkew = options.maxClockSkewMs ?? 15 * 60 * 1000;
  const errorFormat = options.errorFormat ?? 'fc2';
  const requests: FcFakeRequestLog[] = [];
  const invocations: FcFakeInvocation[] = [];
  const pending = new Set<Promise<void>>();
  const injected: Array<{ status: number; code: string; message: string }> = [];
  const seenTaskIds = new Set<string>();

  function sendError(res: ServerResponse, requestId: string, err: FcError): void {
    const body =
      errorFormat === 'fc2'
        ? { ErrorCode: err.code, ErrorMessage: err.message }
        : { Code: err.code, Message: err.message, RequestId: requestId };
    sendJson(res, err.status, body, { 'x-fc-request-id': requestId });
  }

  const nonces = new Set<string>();

  /** Checks the request's signature (either scheme); answers which scheme it used. */
  function authenticate(req: IncomingMessage, body: Buffer, rawPath: string, query: string): FcFakeSigner {
    const headers = flatHeaders(req);
    if (isAcs3Request(headers)) {
      const refusal = checkAcs3Signature(
        { method: req.method ?? '', path: rawPath, query, headers, body },
        { keys: options.credentials, now: Date.now(), maxSkewMs: maxSkew, nonces, version: API_VERSION, action: 'InvokeFunction' },
      );
      if (refusal !== undefined) throw new FcError(refusal.status, refusal.code, refusal.message);
      return 'acs3';
    }
    authenticateFc(req, body, rawPath);
    if (options.refuseFcSignature !== undefined) {
      const { status, code } = options.refuseFcSignature;
      throw new FcError(status, code, 'The request signature we calculated does not match the signature you provided');
    }
    return 'fc2';
  }

  function authenticateFc(req: IncomingMessage, body: Buffer, rawPath: string): void {
    const authorization = headerValue(req, 'authorization');
    if (!authorization) {
      throw new FcError(400, 'MissingRequiredHeader', 'required HTTP header Authorization was not specified');
    }
    const match = /^FC ([^:\s]+):(\S+)$/.exec(authorization);
    if (!match) {
      throw new FcError(400, 'InvalidArgument', 'Authorization header is malformed, expected "FC <AccessKeyId>:<Signature>"');
    }
    const keyId = match[1] ?? '';
    const signature = match[2] ?? '';
    const credential = options.credentials.find((c) => c.accessKeyId === keyId);
    if (!credential) {
      throw new FcError(403, 'InvalidAccessKeyID', `invalid access key ID '${keyId}'`);
    }

    const date = headerValue(req, 'date');
    if (!date) {
      throw new FcError(400, 'MissingRequiredHeader', 'required HTTP header Date was not specified');
    }
    const when = Date.parse(date);
    if (Number.isNaN(when)) {
      throw new FcError(400, 'InvalidArgument', `Date header '${date}' is not a valid HTTP date`);
    }
    if (Math.abs(Date.now() - when) > maxSkew) {
      throw new FcError(
        403,
        'RequestTimeTooSkewed',
        `the difference between the request time '${date}' and the server time is larger than ${maxSkew / 1000}s`,
      );
    }

    const accountId = headerValue(req, 'x-fc-account-id');
    if (!accountId) {
      throw new FcError(400, 'MissingRequiredHeader', 'required HTTP header X-Fc-Account-Id was not specified');
    }
    if (accountId !== options.accountId) {
      throw new FcError(403, 'AccessDenied', `account id '${accountId}' does not match the endpoint's account`);
    }

    // STS access key ids start with "STS"; only those carry (and need) x-fc-security-token.
    if (keyId.startsWith('STS')) {
      const token = headerValue(req, 'x-fc-security-token');
      if (!token) {
        throw new FcError(403, 'InvalidSecurityToken', 'the security token is required for STS access keys');
      }
      if (credential.securityToken === undefined || !constantTimeEqual(token, credential.securityToken)) {
        throw new FcError(403, 'InvalidSecurityToken', 'the security token you provided is invalid');
      }
    }

    // FC's Content-MD5: Base64 of the *hex* MD5 digest string (what @alicloud/fc2 sends).
    const contentMd5 = headerValue(req, 'content-md5');
    if (contentMd5 !== undefined) {
      const expected = Buffer.from(createHash('md5').update(body).digest('hex'), 'utf8').toString('base64');
      if (contentMd5 !== expected) {
        throw new FcError(400, 'InvalidArgument', 'Content-MD5 does not match the request body');
      }
    }

    // The string FC signs, as the local FC endpoint builds it (one definition of FC's scheme).
    const stringToSign = fcStringToSign({ method: req.method ?? '', path: rawPath, headers: flatHeaders(req), body });
    const expected = createHmac('sha256', credential.accessKeySecret).update(stringToSign, 'utf8').digest('base64');
    if (!constantTimeEqual(signature, expected)) {
      throw new FcError(
        403,
        'SignatureNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your access key and signing method',
      );
    }
  }

  function runInBackground(fn: FcFakeFunction, invocation: FcFakeInvocation): void {
    const retries = fn.maxAsyncRetryAttempts ?? 3;
    const run = async (): Promise<void> => {
      // Let the 202 reach the caller before the handler starts, as on FC.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (let attempt = 1; attempt <= retries + 1; attempt += 1) {
        invocation.attempts = attempt;
        try {
          invocation.result = await fn.handler(invocation.payload, {
            requestId: invocation.requestId,
            taskId: invocation.taskId,
            functionName: invocation.functionName,
            invocationType: 'Async',
            attempt,
          });
          invocation.state = 'succeeded';
          return;
        } catch (err) {
          invocation.error = err;
        }
      }
      invocation.state = 'failed';
    };
    const promise = run();
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const fullPath = req.url ?? '/';
    const [rawPath = '/', query = ''] = fullPath.split('?');
    const route = req.method === 'POST' ? INVOKE_PATH.exec(rawPath) : null;
    const functionName = route?.[1] === undefined ? undefined : decodeURIComponent(route[1]);
    const log: FcFakeRequestLog = {
      method: req.method ?? '',
      path: fullPath,
      operation: route ? 'InvokeFunction' : 'Unknown',
      functionName,
      status: 0,
      requestId,
    };
    requests.push(log);
    const fail = (err: FcError): void => {
      log.status = err.status;
      log.errorCode = err.code;
      sendError(res, requestId, err);
    };

    let body: Buffer;
    try {
      body = await readBody(req, SYNC_PAYLOAD_LIMIT);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        fail(new FcError(400, 'EntityTooLarge', `payload size exceeds maximum allowed size (${SYNC_PAYLOAD_LIMIT} bytes)`));
        return;
      }
      throw err;
    }

    if (!route || functionName === undefined) {
      fail(new FcError(404, 'PathNotSupported', `'${req.method ?? ''}' against '${rawPath}' is not supported`));
      return;
    }
    try {
      if (headerValue(req, 'authorization') !== undefined) log.signer = isAcs3Request(flatHeaders(req)) ? 'acs3' : 'fc2';
      const signer = authenticate(req, body, rawPath, query);
      const fn = Object.prototype.hasOwnProperty.call(options.functions, functionName)
        ? options.functions[functionName]
        : undefined;
      if (!fn) {
        throw new FcError(404, 'FunctionNotFound', `function '${functionName}' does not exist`);
      }
      const typeHeader = headerValue(req, 'x-fc-invocation-type') ?? 'Sync';
      if (typeHeader !== 'Sync' && typeHeader !== 'Async') {
        throw new FcError(400, 'InvalidArgument', `invalid X-Fc-Invocation-Type '${typeHeader}', expected Sync or Async`);
      }
      if (typeHeader === 'Async' && body.length > ASYNC_PAYLOAD_LIMIT) {
        throw new FcError(400, 'EntityTooLarge', `payload size exceeds maximum allowed size (${ASYNC_PAYLOAD_LIMIT} bytes)`);
      }
      let taskId: string | undefined;
      const taskHeader = headerValue(req, 'x-fc-async-task-id');
      if (typeHeader === 'Async' && fn.asyncTask && taskHeader !== undefined) {
        if (!TASK_ID_PATTERN.test(taskHeader)) {
          throw new FcError(
            400,
            'InvalidArgument',
            `invalid async task id '${taskHeader}': use letters, digits, '_' and '-', start with a letter or '_', at most 128 characters`,
          );
        }
        if (seenTaskIds.has(`${functionName}/${taskHeader}`)) {
          throw new FcError(409, 'ResourceExists', `async task '${taskHeader}' already exists`);
        }
        taskId = taskHeader;
      }
      const injection = injected.shift();
      if (injection) {
        throw new FcError(injection.status, injection.code, injection.message);
      }
      if (taskId !== undefined) seenTaskIds.add(`${functionName}/${taskId}`);

      const invocation: FcFakeInvocation = {
        requestId,
        functionName,
        payload: body,
        headers: flatHeaders(req),
        invocationType: typeHeader,
        taskId,
        signer,
        status: typeHeader === 'Async' ? 202 : 200,
        state: 'running',
        attempts: 0,
      };
      invocations.push(invocation);
      log.status = invocation.status;

      if (typeHeader === 'Async') {
        res.writeHead(202, { 'x-fc-request-id': requestId, 'content-length': '0' });
        res.end();
        runInBackground(fn, invocation);
        return;
      }

      invocation.attempts = 1;
      try {
        const result = await fn.handler(body, {
          requestId,
          functionName,
          invocationType: 'Sync',
          attempt: 1,
        });
        invocation.result = result;
        invocation.state = 'succeeded';
        if (Buffer.isBuffer(result)) {
          res.writeHead(200, { 'x-fc-request-id': requestId, 'content-type': 'application/octet-stream' });
          res.end(result);
        } else if (typeof result === 'string') {
          res.writeHead(200, { 'x-fc-request-id': requestId, 'content-type': 'text/plain; charset=utf-8' });
          res.end(result);
        } else {
          sendJson(res, 200, result ?? null, { 'x-fc-request-id': requestId });
        }
      } catch (err) {
        // FC answers 200 with x-fc-error-type for an error thrown by the function itself.
        invocation.error = err;
        invocation.state = 'failed';
        sendJson(
          res,
          200,
          {
            errorMessage: err instanceof Error ? err.message : String(err),
            errorType: err instanceof Error ? err.name : 'Error',
          },
          { 'x-fc-request-id': requestId, 'x-fc-error-type': 'UnhandledInvocationError' },
        );
      }
    } catch (err) {
      if (err instanceof FcError) {
        fail(err);
        return;
      }
      throw err;
    }
  }

  const server = await listenOnLoopback(handle);
  return {
    url: server.url,
    accountId: options.accountId,
    requests,
    invocations,
    async idle(): Promise<void> {
      while (pending.size > 0) {
        await Promise.allSettled([...pending]);
      }
    },
    failNext(status: number, errorCode: string, message = `injected ${errorCode}`): void {
      injected.push({ status, code: errorCode, message });
    },
    close(): Promise<void> {
      return server.close();
    },
  };
}

/** The API version path prefix the fake serves; set it as the fc2 client's `version`. */
export const FC_FAKE_API_VERSION = API_VERSION;
