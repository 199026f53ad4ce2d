/**
 * The small interfaces the core talks to. Adapters (OSS, filesystem, FC invoke, openai, axios) implement
 * them with only the methods the core calls, so the core never imports a cloud SDK and tests can pass
 * in-memory versions without monkey-patching.
 */

/** Milliseconds since the epoch; injected so tests can freeze or advance time. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Scalar values that may go into a log line. */
export type LogValue = string | number | boolean | null | undefined | LogValue[] | { [key: string]: LogValue };

/** Extra fields of one log line. */
export type LogFields = Record<string, LogValue>;

/** One JSON line per event; see `shared/logging/logger.ts`. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` (e.g. msgId, user) to every line. */
  child(fields: LogFields): Logger;
  /** Whether message bodies may be logged (LOG_LEVEL=debug). */
  readonly debugEnabled: boolean;
}

/**
 * A flat key/value blob store: the only storage operations history needs. Keys are `/`-separated and
 * built by the core from sanitized segments; stores must still refuse a key that would escape their root.
 */
export interface ObjectStore {
  /** Up to `limit` keys under `prefix`, in ascending byte order of the key. */
  list(prefix: string, limit: number): Promise<string[]>;
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  /** Writes the object; with `ifAbsent`, never overwrites and answers false when the key already exists. */
  put(key: string, body: Buffer, options?: { ifAbsent?: boolean }): Promise<boolean>;
  /** Deletes the keys (missing keys are not an error). */
  deleteMany(keys: readonly string[]): Promise<void>;
  /**
   * When the object was last written (epoch ms), or undefined when it does not exist. Only stores whose
   * create-only write can show an object before its content (a filesystem without hard links) have it:
   * a claim that cannot be read yet is then busy, not abandoned, until its lease runs out from this time.
   */
  lastModified?(key: string): Promise<number | undefined>;
  /** Where the objects live, for logs and the health of the configuration (no secrets). */
  readonly description: string;
}

/** A part of a user message: text, or a picture as a `data:` URL of its bytes (OpenAI's `image_url` part). */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** A chat message in the OpenAI wire format: user messages may carry parts (text and pictures). */
export type ChatMessage =
  | { role: 'system' | 'assistant'; content: string }
  | { role: 'user'; content: string | ContentPart[] };

/** What the LLM answered and what it cost. */
export interface LlmAnswer {
  text: string;
  model: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** Options of one LLM call. */
export interface LlmCallOptions {
  /**
   * Aborts the whole call, response body included, and every retry: the run's deadline. An aborted call
   * throws `LlmUnavailableError` with reason `deadline`.
   */
  signal?: AbortSignal;
  /**
   * Called with the whole answer so far each time it grows (streaming). After a retry inside the call the
   * text may start again from the beginning; a receiver shows the latest text as a whole.
   */
  onText?: (textSoFar: string) => void;
  /** The model for this call instead of the configured one (VISION_MODEL for a prompt with pictures). */
  model?: string;
  /** `json_object` asks for a JSON object answer (`response_format`), for machine-read answers such as memory updates. */
  responseFormat?: 'json_object';
}

/** An OpenAI-compatible chat model. Throws `LlmRefusedError` or `LlmUnavailableError`. */
export interface LlmClient {
  /** One answer, returned when complete. */
  complete(messages: readonly ChatMessage[], options?: LlmCallOptions): Promise<LlmAnswer>;
  /**
   * The same answer, streamed (`stream: true`): `onText` sees it grow. A provider that does not stream
   * still works: `onText` is called once with the whole answer.
   */
  stream(messages: readonly ChatMessage[], options: LlmCallOptions): Promise<LlmAnswer>;
}

/**
 * How an FC API request was signed: `fc2` is FC's own scheme (`FC <id>:<signature>`, @alicloud/fc2),
 * `acs3` is `ACS3-HMAC-SHA256` (FC 3.0's SDK, @alicloud/fc20230330).
 */
export type InvokeSigner = 'fc2' | 'acs3';

/** How FC took an async invocation. */
export interface InvokeResult {
  requestId?: string;
  /** FC already had a task with this id (a redelivered message): nothing new was started. */
  duplicate?: boolean;
  /** The signature FC accepted, when the invoker knows it. */
  signer?: InvokeSigner;
}

/** Starts the reply function asynchronously. Throws `InvokeError` when FC does not accept it. */
export interface ReplyInvoker {
  /** `taskId` makes FC refuse a second invocation of the same task (async task mode). */
  invoke(payload: string, options?: { taskId?: string }): Promise<InvokeResult>;
}

/** A message for DingTalk's session webhook. */
export type OutgoingMessage =
  | { msgtype: 'text'; text: { content: string }; at?: OutgoingAt }
  | { msgtype: 'markdown'; markdown: { title: string; text: string }; at?: OutgoingAt };

/** Whom to @ in a group. */
export interface OutgoingAt {
  atUserIds?: string[];
  isAtAll?: boolean;
}

/** Posts to a session webhook that the core has already checked against the allowlist. Throws `WebhookError`. */
export interface WebhookSender {
  /** `signal` (the run's deadline) cuts the request and any wait between attempts short. */
  send(url: string, message: OutgoingMessage, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Bytes fetched from a URL, and the media type the server said they were. */
export interface Downloaded {
  bytes: Buffer;
  contentType?: string;
}

/**
 * Fetches a file by URL (DingTalk's temporary download links), bounded in size and time. Throws
 * `DownloadError` (`too-large` as soon as more than `maxBytes` arrived, without reading the rest).
 */
export interface Downloader {
  download(url: string, options: { maxBytes: number; signal?: AbortSignal }): Promise<Downloaded>;
}
