/**
 * A local fake of an OpenAI-compatible Chat Completions API (`POST {basePath}/chat/completions`),
 * the shape every provider the bot supports (OpenAI, DashScope, DeepSeek, Zhipu, Gemini's
 * compatibility layer, Ollama, vLLM) speaks.
 *
 * It checks the bearer key, the model and the request body as the real API does and answers in
 * OpenAI's JSON (or server-sent events with `stream: true`), with OpenAI's error bodies, so that
 * the official `openai` SDK maps its answers to the same error classes as in production.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constantTimeEqual, flatHeaders, headerValue, listenOnLoopback, parseJsonBody, readBody, sendJson, TimerBag } from './http-helpers';
import { isRecord } from '../../shared/util/is-record';

/** Options of {@link startOpenAiFake}. */
export interface OpenAiFakeOptions {
  /** The only API key accepted in `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Model ids that exist; any other answers 404 `model_not_found`. */
  models: string[];
  /** Path prefix of the API. Default `'/v1'`; the SDK `baseURL` is `url + basePath`. */
  basePath?: string;
  /**
   * Behave like Azure OpenAI instead: `POST /openai/deployments/{deployment}/chat/completions?api-version=V`
   * with the key in an `api-key` header; `models` are then the deployment names, `basePath` is ignored.
   */
  azure?: { apiVersions: string[] };
  /** The pace of every streamed answer (queued items may set their own). Default: no delays. */
  pace?: OpenAiFakePace;
  /**
   * Refuse `stream_options` with 400 `Unrecognized request argument supplied: stream_options`, as older
   * Azure API versions and some OpenAI-compatible servers do.
   */
  rejectStreamOptions?: boolean;
  /**
   * The models that take pictures. When given, a request whose messages carry an `image_url` part for any other
   * model answers 400 `Invalid content type. image_url is only supported by certain models.` (OpenAI's words).
   * Default: every model takes pictures.
   */
  visionModels?: string[];
}

/** How fast a streamed answer is written, after the headers. */
export interface OpenAiFakePace {
  /** Milliseconds before the first delta (reasoning or content). Default 0. */
  firstTokenDelayMs?: number;
  /** Milliseconds between two deltas. Default 0. */
  tokenDelayMs?: number;
  /** Characters per delta (a "token"; never splits a code point). Default 8. */
  tokenChars?: number;
}

/** How a scripted streamed answer stops without finishing. */
export interface OpenAiFakeStall {
  /**
   * Content deltas written before the stall (0: right after the headers); the stall comes when the next delta
   * would have. An answer with fewer deltas completes.
   */
  afterTokens: number;
  /**
   * Keep the connection busy as DeepSeek does under load: `: keep-alive` SSE comments (a blank line for a
   * JSON answer) every `keepAliveIntervalMs` (default 100), forever. Otherwise nothing more is written.
   */
  keepAlive?: boolean;
  keepAliveIntervalMs?: number;
}

/** How a scripted streamed answer fails midway. */
export interface OpenAiFakeFailure {
  /** Content deltas written before the failure, which comes when the next delta would have. */
  afterTokens: number;
  /** `destroy`: the connection is cut; `error-event`: an OpenAI error object as an SSE event, then the end. */
  how: 'destroy' | 'error-event';
}

/** A picture of a chat message: a `data:` URL decoded (bytes and media type), or a remote URL. */
export interface OpenAiFakeImage {
  url: string;
  /** The media type of a `data:` URL (`image/png`, ...); absent for a remote URL. */
  mediaType?: string;
  /** The decoded bytes of a `data:` URL, checked to be an image of that media type; absent for a remote URL. */
  bytes?: Buffer;
}

/** A chat message as the fake accepts it. */
export interface OpenAiFakeMessage {
  role: 'system' | 'user' | 'assistant';
  /** The text: a string content, or the text parts of an array content joined with a newline. */
  content: string;
  /** The `image_url` parts, in order, when the content was an array that had any. */
  images?: OpenAiFakeImage[];
}

/** A validated chat completion request, handed to {@link OpenAiFake.respondWith} functions. */
export interface OpenAiFakeChatRequest {
  model: string;
  messages: OpenAiFakeMessage[];
  stream: boolean;
  /** `response_format.type` when the request asked for one (`json_object`: the answer must be a JSON object). */
  responseFormat?: 'text' | 'json_object' | 'json_schema';
  /** The whole parsed JSON body (temperature, max_tokens, ...). */
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** A scripted answer, consumed by one valid chat request (see {@link OpenAiFake.queue}). */
export type OpenAiFakeQueueItem =
  /** Answer this HTTP status; `body` defaults to an OpenAI error object for the status. */
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  /**
   * Answer a completion whose assistant message is `text` (streamed with `stream: true`). `reasoning` is the
   * model's thinking, sent first as `reasoning_content` deltas (DeepSeek-R1, Qwen thinking) or as
   * `message.reasoning_content`; `ignoreStream` answers a plain JSON completion even to `stream: true`
   * (a provider that does not stream); `stall` and `fail` end a streamed answer early. `think` is reasoning
   * written into the content itself, as Qwen3 and the DeepSeek-R1 distills on Ollama or vLLM do: the content
   * is `<think>\n{think}\n</think>\n\n{text}`, and streamed each tag is split across two deltas.
   * `contentParts` sends the content as an array of parts (`[{type: 'text', text}]`), as some compatible
   * servers do, in the message and in every delta.
   */
  | {
      text: string;
      finishReason?: 'stop' | 'length' | 'content_filter';
      delayMs?: number;
      reasoning?: string;
      think?: string;
      contentParts?: boolean;
      pace?: OpenAiFakePace;
      ignoreStream?: boolean;
      stall?: OpenAiFakeStall;
      fail?: OpenAiFakeFailure;
    }
  /** Destroy the connection without answering (after `delayMs`, default 0). */
  | { hangUp: true; delayMs?: number }
  /** Answer something that is not the API, with status 200 unless given: an HTML page, invalid JSON. */
  | { raw: string; contentType: string; status?: number; delayMs?: number };

/** One delta written to a streamed answer, with the time it was written (for the bench). */
export interface OpenAiFakeChunk {
  /** `Date.now()` when the chunk was written. */
  at: number;
  content?: string;
  reasoning?: string;
}

/** One request as it arrived. */
export interface OpenAiFakeRequestLog {
  method: string;
  path: string;
  operation: 'ChatCompletions' | 'Unknown';
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON, or undefined when empty. */
  body: unknown;
  /** HTTP status answered; 0 for a hang-up, or while an answer is still being delayed. */
  status: number;
  /** OpenAI error code of a refused request (`invalid_api_key`, `model_not_found`, ...). */
  errorCode?: string | null;
  /** The deltas written so far to a streamed answer, in order. */
  chunks: OpenAiFakeChunk[];
  /** Keep-alive comments (or blank lines) written while stalled. */
  keepAlives: number;
  /** True once the answer was written completely (false for a stall, a failure or a client that left). */
  completed: boolean;
}

/** A running OpenAI-compatible fake. */
export interface OpenAiFake {
  /** `http://127.0.0.1:PORT` (no base path). */
  readonly url: string;
  /** `url + basePath`, ready for the SDK's `baseURL`. */
  readonly baseURL: string;
  /** Every request, in arrival order. */
  readonly requests: OpenAiFakeRequestLog[];
  /**
   * Replaces the default answer (`Echo: <last user message> [history: N earlier messages]`) with
   * `fn`'s text; pass `null` to restore the default. Queued items take precedence.
   */
  respondWith(fn: ((request: OpenAiFakeChatRequest) => string | Promise<string>) | null): void;
  /** Appends scripted answers, each consumed by one valid chat request, in order. */
  queue(...items: OpenAiFakeQueueItem[]): void;
  /** Stops the server, cancels delayed answers and destroys keep-alive sockets. */
  close(): Promise<void>;
}

interface ApiError {
  status: number;
  message: string;
  type: string;
  code: string | null;
  param?: string | null;
}

const ROLES = new Set(['system', 'user', 'assistant']);

/** The picture formats OpenAI accepts, with the first bytes of each. */
const IMAGE_FORMATS: Record<string, (bytes: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')),
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

/** OpenAI's limit of one picture. */
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** A 1x1 transparent PNG: the smallest picture the fake (and OpenAI) accepts, for tests. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

/** The `data:` URL of `bytes` as `mediaType`, as the bot sends pictures. */
export function dataUrl(bytes: Buffer, mediaType = 'image/png'): string {
  return `data:${mediaType};base64,${bytes.toString('base64')}`;
}

/** The content that carries `think` as reasoning in `<think>` tags before the answer. */
function thinkContent(think: string, text: string): string {
  return `<think>\n${think}\n</think>\n\n${text}`;
}

function errorBody(err: ApiError): unknown {
  return { error: { message: err.message, type: err.type, param: err.param ?? null, code: err.code } };
}


/** A rough, deterministic token estimate (about four characters per token). */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** `text` cut into pieces of `size` characters (code points, so no surrogate pair is split). */
function splitTokens(text: string, size: number): string[] {
  const points = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; i += size) pieces.push(points.slice(i, i + size).join(''));
  return pieces;
}

function defaultErrorFor(status: number): ApiError {
  if (status === 429) {
    return { status, message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' };
  }
  if (status >= 500) {
    return { status, message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', code: null };
  }
  return { status, message: `Injected error with status ${status}`, type: 'invalid_request_error', code: null };
}

const bad = (message: string, param: string | null = null, code: string | null = null): ApiError => ({
  status: 400,
  message,
  type: 'invalid_request_error',
  code,
  param,
});

/**
 * The parts of an array content, checked as OpenAI does: text parts with a string, `image_url` parts (user
 * messages only) with a URL that is http(s) or a base64 `data:` URL of a PNG, JPEG, GIF or WebP whose bytes are
 * that format, at most 20 MB.
 */
function parseParts(parts: readonly unknown[], i: number, role: string): Omit<OpenAiFakeMessage, 'role'> | ApiError {
  const texts: string[] = [];
  const images: OpenAiFakeImage[] = [];
  for (let j = 0; j < parts.length; j += 1) {
    const part = parts[j];
    const param = `messages.[${i}].content.[${j}]`;
    if (!isRecord(part)) return bad(`Invalid type for '${param}': expected an object.`, param);
    if (part.type === 'text') {
      if (typeof part.text !== 'string') return bad(`Invalid type for '${param}.text': expected a string.`, `${param}.text`);
      texts.push(part.text);
      continue;
    }
    if (part.type !== 'image_url') {
      return bad(`Invalid value: '${String(part.type)}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', 'audio' and 'file'.`, `${param}.type`);
    }
    if (role !== 'user') {
      return bad(`Image URLs are only allowed for messages with role 'user', but this message with role '${role}' contains an image URL.`, `messages.[${i}].content`);
    }
    const url = isRecord(part.image_url) ? part.image_url.url : undefined;
    if (typeof url !== 'string') return bad(`Missing required parameter: '${param}.image_url.url'.`, `${param}.image_url.url`);
    if (/^https?:\/\//.test(url)) {
      images.push({ url });
      continue;
    }
    const data = /^data:([^;,]+);base64,([A-Za-z0-9+/]*={0,2})$/.exec(url);
    if (!data) return bad("Invalid 'image_url'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got an invalid value.", `${param}.image_url.url`, 'invalid_value');
    const mediaType = data[1] ?? '';
    const check = IMAGE_FORMATS[mediaType];
    if (!check) {
      return bad(`Invalid MIME type. Only image types are supported (got ${mediaType}).`, `${param}.image_url.url`, 'invalid_image_format');
    }
    const bytes = Buffer.from(data[2] ?? '', 'base64');
    if (bytes.length > MAX_IMAGE_BYTES) return bad('Image is too large: the limit is 20 MB per image.', `${param}.image_url.url`, 'image_too_large');
    if (!check(bytes)) {
      return bad('You uploaded an unsupported image. Please make sure your image is valid.', `${param}.image_url.url`, 'invalid_image');
    }
    images.push({ url, mediaType, bytes });
  }
  return images.length > 0 ? { content: texts.join('\n'), images } : { content: texts.join('\n') };
}

/** Validates a chat body; returns the typed request or the API error to answer. */
function validateChat(
  body: unknown,
  models: ReadonlySet<string>,
  headers: Record<string, string>,
  rejectStreamOptions: boolean,
  visionModels?: ReadonlySet<string>,
): OpenAiFakeChatRequest | ApiError {
  if (!isRecord(body)) return bad('We could not parse the JSON body of your request. The body must be a JSON object.');
  const { model, messages } = body;
  if (typeof model !== 'string' || model === '') return bad('you must provide a model parameter', 'model');
  if (!Array.isArray(messages) || messages.length === 0) {
    return bad("[] is too short - 'messages'", 'messages');
  }
  const typed: OpenAiFakeMessage[] = [];
  for (let i = 0; i < messages.length; i += 1) {
    const message: unknown = messages[i];
    if (!isRecord(message)) return bad(`Invalid type for 'messages[${i}]': expected an object.`, `messages[${i}]`);
    const { role, content } = message;
    if (typeof role !== 'string' || !ROLES.has(role)) {
      return bad(`Invalid value for 'messages[${i}].role': expected one of system, user, assistant.`, `messages[${i}].role`);
    }
    if (typeof content === 'string') {
      typed.push({ role: role as OpenAiFakeMessage['role'], content });
      continue;
    }
    if (!Array.isArray(content)) {
      return bad(`Invalid type for 'messages[${i}].content': expected one of a string or array of objects.`, `messages[${i}].content`);
    }
    const parsed = parseParts(content as unknown[], i, role);
    if ('status' in parsed) return parsed;
    typed.push({ role: role as OpenAiFakeMessage['role'], ...parsed });
  }
  const { temperature, top_p: topP, max_tokens: maxTokens, max_completion_tokens: maxCompletionTokens, stream } = body;
  if (temperature !== undefined && (typeof temperature !== 'number' || temperature < 0 || temperature > 2)) {
    return bad('Invalid temperature: must be a number between 0 and 2.', 'temperature');
  }
  if (topP !== undefined && (typeof topP !== 'number' || topP < 0 || topP > 1)) {
    return bad('Invalid top_p: must be a number between 0 and 1.', 'top_p');
  }
  for (const [name, value] of [
    ['max_tokens', maxTokens],
    ['max_completion_tokens', maxCompletionTokens],
  ] as const) {
    if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
      return bad(`Invalid '${name}': must be a positive integer.`, name);
    }
  }
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    return bad("Invalid type for 'stream': expected a boolean.", 'stream');
  }
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (rejectStreamOptions) return bad('Unrecognized request argument supplied: stream_options', 'stream_options');
    if (stream !== true) return bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
    if (!isRecord(streamOptions) || (streamOptions.include_usage !== undefined && typeof streamOptions.include_usage !== 'boolean')) {
      return bad("Invalid type for 'stream_options.include_usage': expected a boolean.", 'stream_options.include_usage');
    }
  }
  const responseFormat = checkResponseFormat(body.response_format, typed);
  if (responseFormat !== undefined && typeof responseFormat !== 'string') return responseFormat;
  if (!models.has(model)) {
    return {
      status: 404,
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      code: 'model_not_found',
    };
  }
  if (visionModels !== undefined && !visionModels.has(model)) {
    const i = typed.findIndex((message) => message.images !== undefined);
    if (i !== -1) {
      const raw: unknown = messages[i];
      const parts: unknown = isRecord(raw) ? raw.content : undefined;
      const j = Array.isArray(parts) ? parts.findIndex((part: unknown) => isRecord(part) && part.type === 'image_url') : 0;
      return bad('Invalid content type. image_url is only supported by certain models.', `messages.[${i}].content.[${j}].type`);
    }
  }
  return { model, messages: typed, stream: stream === true, body, headers, ...(responseFormat !== undefined ? { responseFormat } : {}) };
}

/**
 * `response_format` checked as OpenAI does: an object whose `type` is `text`, `json_object` or `json_schema`
 * (with its `json_schema`), and for `json_object` the word "json" (any case) somewhere in the messages, else
 * 400. Answers the type, undefined when absent, or the error.
 */
function checkResponseFormat(value: unknown, messages: readonly OpenAiFakeMessage[]): OpenAiFakeChatRequest['responseFormat'] | ApiError {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return bad(`Invalid type for 'response_format': expected an object, but got ${Array.isArray(value) ? 'an array' : `a ${typeof value}`} instead.`, 'response_format', 'invalid_type');
  const { type } = value;
  if (type !== 'text' && type !== 'json_object' && type !== 'json_schema') {
    return bad(`Invalid value: '${String(type)}'. Supported values are: 'json_object', 'json_schema', and 'text'.`, 'response_format.type', 'invalid_value');
  }
  if (type === 'json_schema' && !isRecord(value.json_schema)) {
    return bad("Missing required parameter: 'response_format.json_schema'.", 'response_format.json_schema', 'missing_required_parameter');
  }
  if (type === 'json_object' && !messages.some((message) => /json/i.test(message.content))) {
    return bad("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'messages');
  }
  return type;
}

/**
 * A `fetch` for the openai SDK's `fetch` option in Jest tests.
 *
 * Why: Jest runs tests in a separate VM realm, so the `DOMException` (AbortError) that Node's
 * fetch throws when the SDK's timeout fires is not `instanceof Error` there; the SDK then loses
 * the error name and reports a timeout as a plain `APIConnectionError` ("Connection error.")
 * instead of `APIConnectionTimeoutError`. Outside Jest (production) the SDK classifies it
 * correctly. This wrapper re-creates such errors in the test realm, keeping name and message,
 * so code under test sees the same error classes as in production. Other errors pass through.
 */
export const crossRealmSafeFetch: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch (err) {
    if (typeof err === 'object' && err !== null && !(err instanceof Error)) {
      const name = 'name' in err && typeof err.name === 'string' ? err.name : 'Error';
      const message = 'message' in err && typeof err.message === 'string' ? err.message : String(err);
      const copy = new Error(message, { cause: err });
      copy.name = name === 'TimeoutError' ? 'AbortError' : name;
      throw copy;
    }
    throw err;
  }
};

/** `image/png 68 B` for each picture of a message, for the default answer. */
function describeImages(images: readonly OpenAiFakeImage[]): string {
  return images.map((image) => (image.bytes ? `${image.mediaType ?? ''} ${image.bytes.length} B` : image.url)).join(', ');
}

/**
 * The default deterministic answer: echoes the last user message (its text parts) and counts earlier ones;
 * pictures in the prompt are listed after, per message (`[pictures: image/png 68 B]`), so that a test sees they
 * arrived (and came again with a follow-up).
 */
export function defaultOpenAiFakeAnswer(request: OpenAiFakeChatRequest): string {
  let lastUser = -1;
  for (let i = request.messages.length - 1; i >= 0; i -= 1) {
    if (request.messages[i]?.role === 'user') {
      lastUser = i;
      break;
    }
  }
  const text = lastUser >= 0 ? (request.messages[lastUser]?.content ?? '') : '';
  const earlier = request.messages.filter((m, i) => i < lastUser && m.role !== 'system').length;
  const pictures = request.messages.filter((m) => m.images !== undefined).map((m) => describeImages(m.images ?? []));
  return `Echo: ${text} [history: ${earlier} earlier messages]${pictures.length > 0 ? ` [pictures: ${pictures.join('; ')}]` : ''}`;
}

/** The default answer in the format asked for: with `json_object`, the echo as a JSON object `{"echo": …}`. */
function defaultAnswerFor(request: OpenAiFakeChatRequest): string {
  const text = defaultOpenAiFakeAnswer(request);
  return request.responseFormat === 'json_object' ? JSON.stringify({ echo: text }) : text;
}

/**
 * Starts the OpenAI-compatible fake on 127.0.0.1 (ephemeral port).
 *
 * Defaults: base path `/v1`; answers `Echo: <last user message> [history: N earlier messages]` (as
 * `{"echo": "…"}` when `response_format` is `json_object`)
 * (N counts the user/assistant messages before the last user message); usage counts about four
 * characters per token. Order of checks: route, bearer key (401), JSON body (400), model (404),
 * then the queue / scripted answer.
 */
export async function startOpenAiFake(options: OpenAiFakeOptions): Promise<OpenAiFake> {
  const basePath = (options.basePath ?? '/v1').replace(/\/+$/, '');
  const models = new Set(options.models);
  const visionModels = options.visionModels ? new Set(options.visionModels) : undefined;
  const requests: OpenAiFakeRequestLog[] = [];
  const scripted: OpenAiFakeQueueItem[] = [];
  const timers = new TimerBag();
  let responder: ((request: OpenAiFakeChatRequest) => string | Promise<string>) | null = null;

  function completionId(): string {
    return `chatcmpl-${randomBytes(12).toString('hex')}`;
  }

  type TextItem = Extract<OpenAiFakeQueueItem, { text: string }>;

  /** Stops writing when the client left or the fake is closing; `sleep` that never resolves after `close()`. */
  function gone(res: ServerResponse): boolean {
    return res.destroyed || res.writableEnded;
  }

  /** Writes keep-alive lines every interval until the client leaves or the fake closes. */
  async function keepAliveForever(res: ServerResponse, log: OpenAiFakeRequestLog, stall: OpenAiFakeStall, line: string): Promise<void> {
    if (stall.keepAlive !== true) return;
    const interval = stall.keepAliveIntervalMs ?? 100;
    for (;;) {
      await timers.sleep(interval);
      if (gone(res)) return;
      res.write(line);
      log.keepAlives += 1;
    }
  }

  async function sendCompletion(res: ServerResponse, log: OpenAiFakeRequestLog, request: OpenAiFakeChatRequest, item: TextItem): Promise<void> {
    const { text, reasoning, think } = item;
    const content = think !== undefined ? thinkContent(think, text) : text;
    /** What goes on the wire as `content`: the string, or the parts of the string. */
    const wireContent = (piece: string): string | Array<{ type: 'text'; text: string }> => (item.contentParts === true ? [{ type: 'text', text: piece }] : piece);
    const finishReason = item.finishReason ?? 'stop';
    const id = completionId();
    const created = Math.floor(Date.now() / 1000);
    // About 85 tokens a picture (OpenAI's low detail).
    const promptTokens = request.messages.reduce((sum, m) => sum + estimateTokens(m.content) + 4 + 85 * (m.images?.length ?? 0), 0);
    const completionTokens = estimateTokens(content) + (reasoning ? estimateTokens(reasoning) : 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    log.status = 200;
    if (!request.stream || item.ignoreStream === true) {
      const message = { role: 'assistant', content: wireContent(content), refusal: null, ...(reasoning ? { reasoning_content: reasoning } : {}) };
      const payload = {
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        usage,
        system_fingerprint: 'fp_fake',
      };
      if (item.stall || item.fail) {
        // Headers, then nothing usable: the body stalls (blank lines, as DeepSeek's non-streaming keep-alive) or is cut.
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId });
        res.flushHeaders();
        if (item.fail) {
          res.write(JSON.stringify(payload).slice(0, 20));
          res.destroy();
          return;
        }
        if (item.stall) await keepAliveForever(res, log, item.stall, '\n');
        return;
      }
      sendJson(res, 200, payload, { 'x-request-id': requestId });
      log.completed = true;
      return;
    }

    const pace = { ...options.pace, ...item.pace };
    const tokenChars = Math.max(1, pace.tokenChars ?? 8);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': requestId });
    res.flushHeaders();
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices, ...extra })}\n\n`);
    };
    // Each <think> tag split across two deltas, as a tokenizer may.
    const thinking = think !== undefined ? ['<thi', 'nk>\n', ...splitTokens(think, tokenChars), '\n</th', 'ink>\n\n'] : [];
    const deltas: Array<{ content?: string; reasoning?: string }> = [
      ...splitTokens(reasoning ?? '', tokenChars).map((piece) => ({ reasoning: piece })),
      ...[...thinking, ...splitTokens(text, tokenChars)].map((piece) => ({ content: piece })),
    ];
    let contentWritten = 0;
    for (let i = 0; ; i += 1) {
      const delta = deltas[i];
      const stall = item.stall && contentWritten === item.stall.afterTokens ? item.stall : undefined;
      const fail = item.fail && contentWritten === item.fail.afterTokens ? item.fail : undefined;
      if (delta === undefined && !stall && !fail) break;
      // A stall or a failure takes the place of the next delta, at its time.
      const delay = i === 0 ? (pace.firstTokenDelayMs ?? 0) : (pace.tokenDelayMs ?? 0);
      if (delay > 0) await timers.sleep(delay);
      if (gone(res)) return;
      if (stall) {
        await keepAliveForever(res, log, stall, ': keep-alive\n\n');
        return;
      }
      if (fail?.how === 'destroy') {
        // Cut the connection once what was written has left, as a crashed server or a broken network would.
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.destroy();
        return;
      }
      if (fail) {
        res.end(`data: ${JSON.stringify(errorBody(defaultErrorFor(500)))}\n\n`);
        return;
      }
      if (delta === undefined) break;
      if (i === 0) chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
      const wire = delta.content !== undefined ? { content: wireContent(delta.content) } : { content: null, reasoning_content: delta.reasoning };
      chunk([{ index: 0, delta: wire, finish_reason: null }]);
      log.chunks.push({ at: Date.now(), ...delta });
      if (delta.content !== undefined) contentWritten += 1;
    }
    if (gone(res)) return;
    chunk([{ index: 0, delta: {}, finish_reason: finishReason }]);
    const streamOptions = request.body.stream_options;
    if (isRecord(streamOptions) && streamOptions.include_usage === true) chunk([], { usage });
    res.end('data: [DONE]\n\n');
    log.completed = true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const headers = flatHeaders(req);
    const raw = await readBody(req);
    const { body, parsed } = parseJsonBody(raw);
    const [pathname = '', query = ''] = path.split('?');
    const azureDeployment = options.azure ? /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(pathname)?.[1] : undefined;
    const isChat = req.method === 'POST' && (options.azure ? azureDeployment !== undefined : pathname === `${basePath}/chat/completions`);
    const log: OpenAiFakeRequestLog = {
      method: req.method ?? '',
      path,
      operation: isChat ? 'ChatCompletions' : 'Unknown',
      headers,
      body,
      status: 0,
      chunks: [],
      keepAlives: 0,
      completed: false,
    };
    requests.push(log);
    const fail = (err: ApiError): void => {
      log.status = err.status;
      log.errorCode = err.code;
      sendJson(res, err.status, errorBody(err), { 'x-request-id': `req_${randomBytes(8).toString('hex')}` });
    };

    if (!isChat) {
      fail({ status: 404, message: `Invalid URL (${req.method ?? ''} ${path})`, type: 'invalid_request_error', code: null });
      return;
    }
    if (options.azure) {
      const apiVersion = new URLSearchParams(query).get('api-version') ?? '';
      if (!options.azure.apiVersions.includes(apiVersion)) {
        fail({ status: 404, message: 'Resource not found', type: 'invalid_request_error', code: '404' });
        return;
      }
      if (!constantTimeEqual(headerValue(req, 'api-key') ?? '', options.apiKey)) {
        fail({
          status: 401,
          message: 'Access denied due to invalid subscription key or wrong API endpoint.',
          type: 'invalid_request_error',
          code: '401',
        });
        return;
      }
      if (!models.has(decodeURIComponent(azureDeployment ?? ''))) {
        fail({ status: 404, message: 'The API deployment for this resource does not exist.', type: 'invalid_request_error', code: 'DeploymentNotFound' });
        return;
      }
    }
    const authorization = headerValue(req, 'authorization') ?? '';
    const bearer = options.azure ? [authorization, options.apiKey] : /^Bearer (.+)$/.exec(authorization);
    if (!bearer) {
      fail({
        status: 401,
        message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      });
      return;
    }
    if (!constantTimeEqual(bearer[1] ?? '', options.apiKey)) {
      fail({ status: 401, message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' });
      return;
    }
    if (!parsed) {
      fail({ status: 400, message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', code: null });
      return;
    }
    const validated = validateChat(body, models, headers, options.rejectStreamOptions === true, visionModels);
    if ('status' in validated) {
      fail(validated);
      return;
    }

    const item = scripted.shift();
    if (item?.delayMs) await timers.sleep(item.delayMs);
    if (item && 'hangUp' in item) {
      log.status = 0;
      req.socket.destroy();
      return;
    }
    if (item && 'raw' in item) {
      log.status = item.status ?? 200;
      const payload = Buffer.from(item.raw, 'utf8');
      res.writeHead(log.status, { 'content-type': item.contentType, 'content-length': String(payload.length) });
      res.end(payload);
      log.completed = true;
      return;
    }
    if (item && 'status' in item) {
      log.status = item.status;
      if (item.body === undefined) {
        const err = defaultErrorFor(item.status);
        log.errorCode = err.code;
        sendJson(res, item.status, errorBody(err), item.headers);
      } else {
        sendJson(res, item.status, item.body, item.headers);
      }
      return;
    }
    const textItem: TextItem = item ?? { text: await (responder ?? defaultAnswerFor)(validated) };
    await sendCompletion(res, log, validated, textItem);
  }

  const server = await listenOnLoopback(handle);
  return {
    url: server.url,
    baseURL: `${server.url}${basePath}`,
    requests,
    respondWith(fn): void {
      responder = fn;
    },
    queue(...items: OpenAiFakeQueueItem[]): void {
      scripted.push(...items);
    },
    close(): Promise<void> {
      timers.clear();
      return server.close();
    },
  };
}
