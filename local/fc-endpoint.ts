/**
 * A local Function Compute InvokeFunction endpoint (`POST /2023-03-30/functions/{name}/invocations`)
 * for `npm start`: the conversation bundle reaches it through FC_ENDPOINT with the real `@alicloud/fc2`
 * client, so the local run takes the same invoke path as the cloud. Like FC with `asyncTask` on, it
 * checks the signature, refuses a repeated `x-fc-async-task-id` with 409, answers an async call with
 * 202 at once and runs the function in the background, one event at a time per user.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeEventJson } from '../shared/fc/event-json';
import { describeError } from '../shared/errors';
import type { Clock, Logger } from '../shared/ports';
import { checkFcSignature, type FcAccessKey, type FcRefusal } from './fc-signature';
import { BodyTooLargeError, listen, readBody, sendJson } from './http-util';

/** A function served by the endpoint: FC's handler signature, `event` being the request body. */
export type LocalFunction = (event: Buffer, context: Record<string, unknown>) => Promise<unknown>;

/** Options of `startFcEndpoint`. */
export interface FcEndpointOptions {
  accountId: string;
  region: string;
  /** Keys whose signatures are accepted; they are also the canned context's credentials. */
  keys: readonly FcAccessKey[];
  functions: Readonly<Record<string, LocalFunction>>;
  logger: Logger;
  clock: Clock;
  /** Reruns of an async invocation that threw. Default 2, as `maxAsyncRetryAttempts` in s.yaml. */
  retries?: number;
  /** Pause before a rerun. Default 1000 ms. */
  retryDelayMs?: number;
}

/** A running endpoint. */
export interface FcEndpoint {
  /** `http://127.0.0.1:PORT`: the FC_ENDPOINT of the conversation function. */
  readonly url: string;
  /** Async invocations accepted and not finished (queued or running). */
  pending(): number;
  /** Resolves once every accepted invocation has finished (tests). */
  idle(): Promise<void>;
  /**
   * Stops accepting requests and waits up to `graceMs` for the invocations in flight; those still
   * running then are logged as abandoned (`local.invoke_abandoned`) and counted in the answer.
   */
  close(graceMs?: number): Promise<{ abandoned: number }>;
}

const INVOKE_PATH = /^\/2023-03-30\/functions\/([^/]+)\/invocations$/;
const TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const ASYNC_LIMIT = 128 * 1024;

/** The queue an event waits in: one per user of a conversation, as the reply's history is per user. */
function describeTask(payload: Buffer): { queue: string; msgId?: string } {
  const task = decodeEventJson(payload) as Record<string, unknown> | undefined;
  if (typeof task !== 'object' || task === null) return { queue: '' };
  const str = (value: unknown): string => (typeof value === 'string' ? value : '');
  const msgId = str(task.msgId);
  return { queue: `${str(task.conversationId)}\n${str(task.userId)}`, ...(msgId !== '' ? { msgId } : {}) };
}

function lowercaseHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Starts the endpoint on 127.0.0.1 (a free port): it is reachable only from this machine. */
export async function startFcEndpoint(options: FcEndpointOptions): Promise<FcEndpoint> {
  const { logger, clock } = options;
  const retries = options.retries ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const seenTasks = new Set<string>();
  const queues = new Map<string, Promise<void>>();
  const running = new Map<Promise<void>, { msgId?: string; requestId: string }>();
  let stopping = false;

  const context = (requestId: string, functionName: string): Record<string, unknown> => {
    const key = options.keys[0];
    return {
      requestId,
      region: options.region,
      accountId: options.accountId,
      ...(key !== undefined ? { credentials: { ...key } } : {}),
      function: { name: functionName, handler: 'index.handler', memory: 256, timeout: 180 },
      service: {},
      tracing: {},
    };
  };

  const runAsync = async (fn: LocalFunction, name: string, payload: Buffer, requestId: string): Promise<void> => {
    for (let attempt = 1; attempt <= retries + 1; attempt += 1) {
      if (attempt > 1) {
        if (stopping) return;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
      try {
        await fn(payload, context(requestId, name));
        return;
      } catch (error) {
        const last = attempt > retries;
        logger.warn('local.invoke_failed', { requestId, attempt, willRetry: !last && !stopping, error: describeError(error) });
      }
    }
  };

  /** Queues the run behind the same user's earlier events. */
  const enqueue = (fn: LocalFunction, name: string, payload: Buffer, requestId: string): void => {
    const { queue, msgId } = describeTask(payload);
    const previous = queues.get(queue) ?? Promise.resolve();
    const run = previous.then(() => runAsync(fn, name, payload, requestId));
    running.set(run, { requestId, ...(msgId !== undefined ? { msgId } : {}) });
    queues.set(queue, run);
    void run.finally(() => {
      running.delete(run);
      if (queues.get(queue) === run) queues.delete(queue);
    });
  };

  const refuse = (res: ServerResponse, requestId: string, refusal: FcRefusal): void => {
    logger.warn('local.invoke_refused', { requestId, status: refusal.status, code: refusal.code });
    sendJson(res, refusal.status, { Code: refusal.code, Message: refusal.message, RequestId: requestId }, { 'x-fc-request-id': requestId });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = req.method === 'POST' ? INVOKE_PATH.exec(path) : null;
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return refuse(res, requestId, { status: 400, code: 'EntityTooLarge', message: error.message });
      throw error;
    }
    if (route === null) return refuse(res, requestId, { status: 404, code: 'PathNotSupported', message: `${req.method ?? ''} ${path} is not supported` });
    if (stopping) return refuse(res, requestId, { status: 503, code: 'ServiceUnavailable', message: 'the local server is stopping' });
    const headers = lowercaseHeaders(req);
    const refusal = checkFcSignature({ method: 'POST', path, headers, body }, { keys: options.keys, accountId: options.accountId, now: clock.now() });
    if (refusal !== undefined) return refuse(res, requestId, refusal);
    const name = decodeURIComponent(route[1] ?? '');
    const fn = Object.prototype.hasOwnProperty.call(options.functions, name) ? options.functions[name] : undefined;
    if (fn === undefined) return refuse(res, requestId, { status: 404, code: 'FunctionNotFound', message: `function '${name}' does not exist` });
    const type = headers['x-fc-invocation-type'] ?? 'Sync';
    if (type !== 'Sync' && type !== 'Async') return refuse(res, requestId, { status: 400, code: 'InvalidArgument', message: `invalid X-Fc-Invocation-Type '${type}'` });

    if (type === 'Sync') {
      const result = await fn(body, context(requestId, name));
      sendJson(res, 200, result ?? null, { 'x-fc-request-id': requestId });
      return;
    }
    if (body.length > ASYNC_LIMIT) return refuse(res, requestId, { status: 400, code: 'EntityTooLarge', message: `payload exceeds ${ASYNC_LIMIT} bytes` });
    const taskId = headers['x-fc-async-task-id'];
    if (taskId !== undefined) {
      if (!TASK_ID.test(taskId)) return refuse(res, requestId, { status: 400, code: 'InvalidArgument', message: `invalid async task id '${taskId}'` });
      if (seenTasks.has(`${name}/${taskId}`)) return refuse(res, requestId, { status: 409, code: 'ResourceExists', message: `async task '${taskId}' already exists` });
      seenTasks.add(`${name}/${taskId}`);
    }
    res.writeHead(202, { 'x-fc-request-id': requestId, 'content-length': '0' });
    res.end();
    enqueue(fn, name, body, requestId);
  };

  const listener = await listen(handle);
  const idle = async (): Promise<void> => {
    while (running.size > 0) await Promise.allSettled([...running.keys()]);
  };

  return {
    url: listener.url,
    pending: () => running.size,
    idle,
    async close(graceMs = 10_000) {
      stopping = true;
      await listener.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const info of running.values()) logger.warn('local.invoke_abandoned', { ...info, graceMs });
      return { abandoned: running.size };
    },
  };
}
