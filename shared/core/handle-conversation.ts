import { describeError, InvalidMessageError, InvokeError, SignatureError } from '../errors';
import { parseIncomingMessage, type IncomingMessage } from '../dingtalk/message';
import { verifySignature } from '../dingtalk/signature';
import { asyncTaskId } from '../fc/async-task-id';
import { jsonResponse, MAX_BODY_BYTES, type HttpRequest, type HttpResponse } from '../fc/http-trigger';
import type { Clock, Logger, ReplyInvoker } from '../ports';
import { encodeReplyTask, probeMarker, toReplyTask } from './reply-task';

/** The health document a GET answers: enough to see the deploy is wired, never a secret value. */
export interface HealthDocument {
  name: string;
  version: string;
  secretConfigured: boolean;
  replyTargetConfigured: boolean;
}

/** What the ack path needs once configuration is loaded. */
export interface ConversationDeps {
  appSecret: string;
  invoker: ReplyInvoker;
  clock: Clock;
  logger: Logger;
}

/** Options of `handleConversationRequest`. */
export interface ConversationOptions {
  health: () => HealthDocument;
  /** Loads (once) and returns the dependencies; throws `ConfigError` when the function is misconfigured. */
  ready: () => ConversationDeps;
  /** Used when `ready()` fails, so the failure is still logged. */
  fallbackLogger: Logger;
}

/** DingTalk ignores a callback response that is not a message; the answer comes through the webhook. */
const ACK = {};

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidMessageError('the body is not valid JSON');
  }
}

/** The 413 answer to a request larger than any DingTalk callback. */
export function payloadTooLarge(): HttpResponse {
  return jsonResponse(413, { error: 'payload_too_large', message: `DingTalk callbacks are small; bodies over ${MAX_BODY_BYTES} bytes are refused` });
}

/**
 * The conversation function: checks a DingTalk callback in a fixed order — size, method, required
 * headers, signature, body — then invokes the reply function asynchronously and acknowledges. Nothing
 * slow happens before the ack, and nothing is invoked for a request that fails a check. The
 * invocation's task id is derived from the message's identity, so a redelivered message is
 * acknowledged without a second run. (The FC handler refuses an oversized event before it even
 * becomes a request: see `parseHttpTriggerEvent`.)
 */
export async function handleConversationRequest(request: HttpRequest, options: ConversationOptions): Promise<HttpResponse> {
  if (request.body.length > MAX_BODY_BYTES) {
    options.fallbackLogger.warn('conversation.rejected', { status: 413, bytes: request.body.length, limit: MAX_BODY_BYTES });
    return payloadTooLarge();
  }
  if (request.method === 'GET' || request.method === 'HEAD') return jsonResponse(200, options.health());
  if (request.method !== 'POST') {
    const response = jsonResponse(405, { error: 'method_not_allowed', message: 'DingTalk callbacks are POST requests' });
    response.headers.allow = 'GET, POST';
    return response;
  }
  const timestamp = request.headers.timestamp;
  const sign = request.headers.sign;
  if (timestamp === undefined || sign === undefined) {
    options.fallbackLogger.warn('conversation.rejected', { status: 401, reason: 'missing timestamp or sign header' });
    return jsonResponse(401, { error: 'unauthorized', message: 'missing "timestamp" or "sign" header' });
  }

  let deps: ConversationDeps;
  try {
    deps = options.ready();
  } catch (error) {
    options.fallbackLogger.error('conversation.misconfigured', { error: describeError(error) });
    return jsonResponse(500, { error: 'misconfigured', message: 'the function is not configured; see its logs' });
  }
  const { logger, clock } = deps;
  const started = clock.now();

  try {
    verifySignature({ timestamp, sign, secret: deps.appSecret, now: clock.now() });
  } catch (error) {
    const message = error instanceof SignatureError ? error.message : 'signature check failed';
    logger.warn('conversation.rejected', { status: 401, reason: message, sourceIp: request.sourceIp });
    return jsonResponse(401, { error: 'unauthorized', message });
  }

  let message: IncomingMessage;
  let body: unknown;
  try {
    body = parseJson(request.body);
    message = parseIncomingMessage(body);
  } catch (error) {
    const reason = error instanceof InvalidMessageError ? error.message : 'the body is not a DingTalk message';
    logger.warn('conversation.rejected', { status: 400, reason });
    return jsonResponse(400, { error: 'bad_request', message: reason });
  }

  const task = toReplyTask(message, clock.now());
  // A deployment probe (npm run doctor -- --url) is recognised only here, after the signature check.
  const probe = probeMarker(body);
  if (probe !== undefined) task.probe = probe;
  const log = logger.child({ msgId: message.msgId, user: task.userId, ...(probe !== undefined ? { probe: probe.id } : {}) });
  try {
    const { requestId, duplicate, signer } = await deps.invoker.invoke(encodeReplyTask(task), { taskId: asyncTaskId(message) });
    if (duplicate === true) {
      // DingTalk delivered this msgId again; FC already holds its task, so the answer is on its way.
      log.info('conversation.duplicate', { outcome: 'duplicate', ms: clock.now() - started });
      return jsonResponse(200, ACK);
    }
    log.info('conversation.accepted', {
      outcome: 'invoked',
      msgtype: message.msgtype,
      conversationType: message.conversationType,
      truncated: task.truncated,
      invokeRequestId: requestId,
      signer,
      ms: clock.now() - started,
      ...(log.debugEnabled && task.content.kind === 'text' ? { text: task.content.text } : {}),
    });
    return jsonResponse(200, probe === undefined ? ACK : { probe: { id: probe.id, invoked: true, signer, requestId, ms: clock.now() - started } });
  } catch (error) {
    const status = error instanceof InvokeError && error.status !== undefined && error.status < 500 ? 502 : 503;
    log.error('conversation.invoke_failed', { outcome: 'invoke_failed', error: describeError(error), ms: clock.now() - started });
    // The prober proved the app secret: it may learn why (the message names no secret).
    const detail = probe !== undefined ? { probe: { id: probe.id, invoked: false, error: describeError(error) } } : {};
    return jsonResponse(status, { error: 'invoke_failed', message: 'could not start the reply; see the function logs', ...detail });
  }
}
