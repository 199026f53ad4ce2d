import OpenAI from 'openai';
import { LlmRefusedError, LlmUnavailableError } from '../errors';

/**
 * Connection error codes that name a configuration a retry cannot fix: the host name does not resolve, nothing
 * listens on the port, or TLS rejects the server's certificate (or the port does not speak TLS at all).
 * Temporary failures (ECONNRESET, ETIMEDOUT, EAI_AGAIN, ...) are not in this list: they are retried.
 */
const ENDPOINT_CODES = new Set([
  'ENOTFOUND',
  'ECONNREFUSED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/**
 * The host (and port) of a base URL, for messages and logs: never the path, the query or credentials.
 * `unknown host` when the URL does not parse.
 */
export function hostOf(baseURL: string): string {
  try {
    return new URL(baseURL).host || 'unknown host';
  } catch {
    return 'unknown host';
  }
}

/**
 * The system error code of a failed connection (`ECONNREFUSED`, `ENOTFOUND`, `CERT_HAS_EXPIRED`, ...), found
 * along the `cause` chain that fetch and the SDK wrap it in. Duck-typed: the error may come from another realm.
 */
export function connectionErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, cause, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
    // Node's happy-eyeballs connect rejects with an AggregateError of one error per address.
    current = cause ?? (Array.isArray(errors) ? (errors[0] as unknown) : undefined);
  }
  return undefined;
}

/**
 * A failure to connect, or a connection broken mid-answer: `endpoint` (a refusal: a retry cannot fix it) for the
 * codes above, otherwise a retryable `network` failure. Both name the code and the host.
 */
export function connectionError(error: unknown, host: string, attempts = 1): LlmRefusedError | LlmUnavailableError {
  const code = connectionErrorCode(error);
  if (code !== undefined && ENDPOINT_CODES.has(code)) {
    return new LlmRefusedError('endpoint', `the LLM endpoint cannot be reached: ${code} from ${host}; check OPENAI_BASE_URL`, undefined, {
      cause: error,
    });
  }
  return new LlmUnavailableError(
    'network',
    `the LLM at ${host} could not be reached or broke off${code !== undefined ? ` (${code})` : ''}${afterAttempts(attempts)}; check the network and OPENAI_BASE_URL`,
    undefined,
    { cause: error },
  );
}

/** The refusal for an answer that is not an OpenAI-compatible API's, e.g. `an HTML page (text/html)`. */
export function incompatibleError(host: string, what: string): LlmRefusedError {
  return new LlmRefusedError(
    'incompatible',
    `OPENAI_BASE_URL is not an OpenAI-compatible API: ${host} answered ${what}; check OPENAI_BASE_URL (see the README's provider table)`,
    200,
  );
}

/**
 * How providers say that a model cannot take pictures, matched against the SDK's message (`400 <provider's
 * message>`) of a request that carried `image_url` parts:
 * - OpenAI and Azure OpenAI: `Invalid content type. image_url is only supported by certain models.`;
 * - DeepSeek: `Failed to deserialize the JSON body into the target type: messages[1]: unknown variant
 *   \`image_url\`, expected \`text\``;
 * - DashScope (Qwen, compatible mode): `<400> InternalError.Algo.InvalidParameter: The provided messages input
 *   is invalid. The error info is [Unexpected item type in content.]`, `The model does not support image`,
 *   `url error, please check url!`;
 * - Ollama: `<model> does not support vision` (its capability check), `this model does not support image input`;
 * - vLLM: `<model> is not a multimodal model`; LM Studio: `Model does not support images`; OpenRouter:
 *   `No endpoints found that support image input`; others: `image input is not supported`, `Unsupported content
 *   part type for text-only server: image_url`.
 */
const VISION_REFUSALS: readonly RegExp[] = [
  /image_url is only supported by certain models/i,
  /unknown variant [`'"]?image_url/i,
  /unexpected item type in content/i,
  /does(?: not|n't) support (?:images?|image input|vision|multi-?modal)/i,
  /not a multi-?modal model/i,
  /no endpoints found that support image/i,
  /(?:image|vision)(?: input)?s? (?:is |are )?not supported/i,
  /unsupported content[^.]{0,60}image_url/i,
  /\burl error\b/i,
];

/** Whether a provider's error for a request with pictures says that the model cannot take images. */
export function isVisionRefusal(error: unknown): boolean {
  return error instanceof OpenAI.APIError && VISION_REFUSALS.some((pattern) => pattern.test(error.message));
}

/**
 * The refusal for a prompt with pictures sent to a model that cannot take images, naming the model, where it
 * came from (`VISION_MODEL`, or `OPENAI_MODEL` when VISION_MODEL is not set) and the fix. Never retried.
 */
export function visionError(error: unknown, model: string, source: 'VISION_MODEL' | 'OPENAI_MODEL'): LlmRefusedError {
  const status = error instanceof OpenAI.APIError && typeof error.status === 'number' ? error.status : undefined;
  const code = error instanceof OpenAI.APIError && typeof error.code === 'string' ? ` (${error.code})` : '';
  const from = source === 'VISION_MODEL' ? 'VISION_MODEL' : 'OPENAI_MODEL; VISION_MODEL is not set';
  return new LlmRefusedError(
    'vision',
    `the model ${model} (${from}) cannot take pictures: ${status ?? 'refused'}${code}; set VISION_MODEL to a model that can, e.g. qwen-vl-max, gpt-4o or glm-4v`,
    status,
    { cause: error },
  );
}

/** ` after N attempts` when there was more than one. */
export function afterAttempts(attempts: number): string {
  return attempts > 1 ? ` after ${attempts} attempts` : '';
}

/**
 * Maps the SDK's errors to ours. The provider's message and body stay out: they may echo the prompt. `host`
 * (see {@link hostOf}) is named in connection failures; `attempts` in the failures that were retried.
 */
export function mapOpenAiError(error: unknown, host = 'the configured host', attempts = 1): Error {
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmUnavailableError('timeout', `the LLM at ${host} did not answer within LLM_TIMEOUT_SECONDS${afterAttempts(attempts)}`, undefined, {
      cause: error,
    });
  }
  if (error instanceof OpenAI.APIConnectionError) return connectionError(error, host, attempts);
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    const status = error.status;
    const code = typeof error.code === 'string' ? ` (${error.code})` : '';
    if (status === 401 || status === 403) {
      return new LlmRefusedError('auth', `the LLM refused the API key: ${status}${code}; check OPENAI_API_KEY`, status, { cause: error });
    }
    if (status === 404) {
      return new LlmRefusedError('model', `the LLM does not know the model or path: 404${code}; check OPENAI_MODEL and OPENAI_BASE_URL`, status, { cause: error });
    }
    if (status === 429) {
      return new LlmUnavailableError('rate-limit', `the LLM is rate-limiting: 429${code}${afterAttempts(attempts)}`, status, { cause: error });
    }
    if (status >= 500) return new LlmUnavailableError('server', `the LLM failed: ${status}${code}${afterAttempts(attempts)}`, status, { cause: error });
    if (error.code === 'content_filter') {
      return new LlmRefusedError('filtered', 'the LLM provider filtered the prompt', status, { cause: error });
    }
    return new LlmRefusedError('request', `the LLM rejected the request: ${status}${code}`, status, { cause: error });
  }
  return connectionError(error, host, attempts);
}
