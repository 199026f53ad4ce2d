/**
 * Every failure the bot expects, in one place, so callers branch on a type instead of parsing messages.
 * Messages say what happened and what to do; they never carry a secret, a provider's body or a stack.
 */

/** Base of all expected failures; `kind` is stable and safe to log. */
export abstract class BotError extends Error {
  abstract readonly kind: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A variable is missing or malformed; raised once per cold start by the config loader. */
export class ConfigError extends BotError {
  readonly kind = 'config';
}

/** The DingTalk `timestamp`/`sign` pair is missing, stale or wrong: answer 401, invoke nothing. */
export class SignatureError extends BotError {
  readonly kind = 'signature';
}

/** The request body is not a usable DingTalk message: answer 400, invoke nothing. */
export class InvalidMessageError extends BotError {
  readonly kind = 'invalid-message';
}

/** The async event handed to the reply function is not a reply task we produced. Retrying cannot help. */
export class InvalidTaskError extends BotError {
  readonly kind = 'invalid-task';
}

/**
 * The request is larger than any DingTalk callback: answer 413, before the body is decoded or copied, so an
 * oversized request costs the function no memory. `bytes` is at least the size seen, `limit` the bound.
 */
export class PayloadTooLargeError extends BotError {
  readonly kind = 'too-large';

  constructor(
    message: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(message);
  }
}

/** The asynchronous invocation of the reply function was not accepted by FC. */
export class InvokeError extends BotError {
  readonly kind = 'invoke';
  /** HTTP status FC answered, when it answered at all. */
  readonly status: number | undefined;
  /** FC's ErrorCode, e.g. `FunctionNotFound`. */
  readonly code: string | undefined;

  constructor(message: string, details: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, { cause: details.cause });
    this.status = details.status;
    this.code = details.code;
  }
}

/**
 * Why the LLM provider refused: retrying the same request will not help. `incompatible`: OPENAI_BASE_URL
 * answered something that is not an OpenAI-compatible API (an HTML page, invalid JSON, a stream that is not
 * SSE); `endpoint`: its host cannot be reached for a reason a retry cannot fix (DNS name unknown, connection
 * refused, certificate rejected). Both are configuration, like `auth` and `model`. `vision`: the prompt
 * carried pictures and the provider said the model cannot take images; the fix is VISION_MODEL.
 */
export type LlmRefusalReason = 'auth' | 'model' | 'request' | 'filtered' | 'empty' | 'incompatible' | 'endpoint' | 'vision';

/**
 * Why the provider could not be reached or did not finish. `timeout`, `network`, `rate-limit` and `server`
 * are after the bounded attempts; `deadline` means the run's own time ran out (the signal aborted the call).
 */
export type LlmUnavailableReason = 'timeout' | 'network' | 'rate-limit' | 'server' | 'deadline';

/** An LLM failure with a machine-readable reason and the provider's HTTP status when it answered. */
abstract class LlmError<Reason extends string> extends BotError {
  constructor(
    readonly reason: Reason,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The provider answered but refused or gave nothing usable (bad key, unknown model, a model without vision
 * for a prompt with pictures, filtered, empty), or the configured endpoint is not a usable OpenAI-compatible
 * API (`incompatible`, `endpoint`).
 */
export class LlmRefusedError extends LlmError<LlmRefusalReason> {
  readonly kind = 'llm-refused';
}

/** The LLM was unreachable, too slow, rate-limited or failing (after the SDK's own bounded retries). */
export class LlmUnavailableError extends LlmError<LlmUnavailableReason> {
  readonly kind = 'llm-unavailable';
}

/** Which storage operation failed. */
export type StorageOperation = 'list' | 'read' | 'write' | 'delete';

/** The history store (OSS, filesystem, ...) failed; `operation` tells the reply what it can still do. */
export class StorageError extends BotError {
  readonly kind = 'storage';

  constructor(
    readonly operation: StorageOperation,
    message: string,
    options?: { cause?: unknown; code?: string; status?: number },
  ) {
    super(message, options);
    this.code = options?.code;
    this.status = options?.status;
  }

  /** The store's own error code (e.g. OSS `NoSuchBucket`), when it gave one. */
  readonly code: string | undefined;
  /** HTTP status, for HTTP-backed stores. */
  readonly status: number | undefined;
}

/**
 * Why a reply could not be delivered to the session webhook. `throttled`: DingTalk still said "send too fast"
 * after the bounded waits; `too-long`: the message was over DingTalk's size limit (never retried);
 * `not-dingtalk`: a 2xx answer without DingTalk's JSON `errcode` (a proxy or another server answered, so
 * whether the message was posted is unknown); `deadline`: the run's own time ran out (the signal aborted).
 */
export type WebhookFailureReason =
  | 'refused-url'
  | 'expired'
  | 'http'
  | 'errcode'
  | 'network'
  | 'throttled'
  | 'too-long'
  | 'not-dingtalk'
  | 'deadline';

/** Posting to DingTalk's session webhook failed or was refused before any request was made. */
export class WebhookError extends BotError {
  readonly kind = 'webhook';

  constructor(
    readonly reason: WebhookFailureReason,
    message: string,
    details: { status?: number; errcode?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.status = details.status;
    this.errcode = details.errcode;
    this.retryable = details.retryable ?? false;
  }

  readonly status: number | undefined;
  /** True when posting again cannot produce a duplicate (the request never arrived, or DingTalk failed with 5xx). */
  readonly retryable: boolean;
  /** DingTalk's `errcode` when it answered with one, e.g. 300001 for an expired session. */
  readonly errcode: number | undefined;
}

/**
 * Why a DingTalk OpenAPI call failed.
 * - `auth`: the Client ID/Secret were refused when asking for a token (configuration, never retried);
 * - `permission`: the app lacks a scope (`requiredScopes` names it), configuration;
 * - `template`: the card template is unknown or unpublished, configuration;
 * - `throttled`: `QpsLimit` or HTTP 429, after the bounded backoff;
 * - `quota`: the organisation's monthly API quota is used up (`ApiCountLimitForOrg`);
 * - `rejected`: any other refusal of this request, including a 200 whose body reports a failed delivery;
 * - `server`, `network`, `timeout`: DingTalk failed or could not be reached;
 * - `deadline`: the run's own time ran out (the signal aborted the call).
 */
export type DingTalkApiFailureReason =
  | 'auth'
  | 'permission'
  | 'template'
  | 'throttled'
  | 'quota'
  | 'rejected'
  | 'server'
  | 'network'
  | 'timeout'
  | 'deadline';

/** A DingTalk OpenAPI call (token, card, robot send, file download) failed. */
export class DingTalkApiError extends BotError {
  readonly kind = 'dingtalk-api';

  constructor(
    readonly reason: DingTalkApiFailureReason,
    message: string,
    details: { api?: string; status?: number; code?: string; requiredScopes?: readonly string[]; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.api = details.api;
    this.status = details.status;
    this.code = details.code;
    this.requiredScopes = details.requiredScopes ?? [];
    this.retryable = details.retryable ?? false;
  }

  /** The endpoint path, e.g. `/v1.0/card/streaming` (never a token or a query). */
  readonly api: string | undefined;
  readonly status: number | undefined;
  /** DingTalk's error code, e.g. `Forbidden.AccessDenied.AccessTokenPermissionDenied`. */
  readonly code: string | undefined;
  /** Scopes DingTalk said the app lacks. */
  readonly requiredScopes: readonly string[];
  /** True when the same request may succeed later and cannot cause a duplicate. */
  readonly retryable: boolean;

  /** The operator must change the app's configuration; a retry cannot help. */
  get isConfiguration(): boolean {
    return this.reason === 'auth' || this.reason === 'permission' || this.reason === 'template';
  }
}

/**
 * The reason of the run's deadline signal: the function's time is (nearly) up. Adapters that see their
 * signal abort map it to their own error with reason `deadline`.
 */
export class DeadlineError extends BotError {
  readonly kind = 'deadline';
}

/** Why a file could not be fetched: over the size bound, refused, unreachable, too slow, or out of the run's time. */
export type DownloadFailureReason = 'too-large' | 'http' | 'network' | 'timeout' | 'deadline';

/** A file the user sent (a picture, a text file) could not be downloaded. */
export class DownloadError extends BotError {
  readonly kind = 'download';

  constructor(
    readonly reason: DownloadFailureReason,
    message: string,
    details: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.status = details.status;
  }

  readonly status: number | undefined;
}

/**
 * Why a call to the memory service (Mem0, MEM0_API_KEY) failed. `auth`: the key was refused (configuration);
 * `rejected`: any other 4xx for this request; `throttled`: 429; `server`: 5xx; `network`, `timeout`: it could not
 * be reached in time; `incompatible`: MEM0_BASE_URL answered something that is not Mem0's API; `deadline`: the
 * run's own time ran out (the signal aborted the call).
 */
export type MemoryServiceFailureReason = 'auth' | 'rejected' | 'throttled' | 'server' | 'network' | 'timeout' | 'incompatible' | 'deadline';

/**
 * A long-term memory service call failed. The message names the operation and the status, never the key, a
 * memory's text or the service's body, so it is safe to log; the reply treats memory as optional and answers
 * without it.
 */
export class MemoryServiceError extends BotError {
  readonly kind = 'memory-service';

  constructor(
    readonly reason: MemoryServiceFailureReason,
    message: string,
    details: { operation?: string; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.operation = details.operation;
    this.status = details.status;
  }

  /** `add`, `search`, `list` or `delete`. */
  readonly operation: string | undefined;
  /** The service's HTTP status, when it answered. */
  readonly status: number | undefined;
}

/** Why the reply function asks FC to run it again. */
export type RetryReason = 'webhook-unreachable' | 'dingtalk-unreachable' | 'claim-busy';

/**
 * Thrown by the reply function, and only then, so that FC retries the invocation: nothing was posted
 * to the user and a later attempt can succeed (DingTalk could not be reached, or another attempt for
 * the same message still holds its claim). Every other failure ends the invocation normally.
 */
export class RetryLaterError extends BotError {
  readonly kind = 'retry';

  constructor(
    readonly reason: RetryReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A short, loggable description of any thrown value: never the stack, never a response body. */
export function describeError(error: unknown): Record<string, string | number> {
  if (error instanceof BotError) {
    const out: Record<string, string | number> = { type: error.name, kind: error.kind, message: error.message };
    for (const field of ['reason', 'status', 'code', 'errcode', 'operation', 'api'] as const) {
      const value = (error as unknown as Record<string, unknown>)[field];
      if (typeof value === 'string' || typeof value === 'number') out[field] = value;
    }
    return out;
  }
  if (error instanceof Error) return { type: error.name, message: error.message };
  return { type: typeof error, message: String(error) };
}
