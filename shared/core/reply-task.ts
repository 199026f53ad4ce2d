import { InvalidTaskError } from '../errors';
import { decodeEventJson } from '../fc/event-json';
import {
  MAX_DOWNLOAD_CODE_LENGTH,
  MAX_FIELD_LENGTH,
  MAX_FILE_NAME_LENGTH,
  type ConversationType,
  type IncomingMessage,
  type MessageContent,
  type MessagePart,
  type Quote,
  type QuoteReference,
} from '../dingtalk/message';

/**
 * The async event the conversation function hands to the reply function: only the fields the reply
 * needs, so the payload stays far below FC's 128 KB async limit.
 */
export interface ReplyTask {
  v: 1;
  msgId: string;
  conversationId: string;
  conversationType: ConversationType;
  /** The id history is kept under: `senderStaffId`, or `senderId` for users outside the organisation. */
  userId: string;
  senderStaffId?: string;
  /** The sender's display name: a card or OpenAPI message in a group names the asker with it. */
  senderNick?: string;
  /**
   * What the user sent: its text (the message's and the quote's together) takes at most
   * {@link MAX_TASK_TEXT_BYTES}, a `parts` content at most {@link MAX_TASK_PICTURES} pictures.
   */
  content: MessageContent;
  /**
   * True when the content was cut to fit the payload limit: text cut ({@link TRUNCATION_NOTE}) or pictures
   * left out ({@link PICTURES_NOTE}); the note is already in the text.
   */
  truncated: boolean;
  sessionWebhook: string;
  sessionWebhookExpiredTime?: number;
  /** When the user sent it (DingTalk's `createAt`, else `receivedAt`): orders history, same on every redelivery. */
  createdAt: number;
  /** When the conversation function accepted the message (epoch ms). */
  receivedAt: number;
  /**
   * Set only for a deployment probe (`npm run doctor -- --url`), which the conversation function
   * recognises after the signature check: reply runs its path without posting, history or limits and
   * leaves its result under `<HISTORY_PREFIX>probes/<id>.json` (see shared/core/reply/probe.ts).
   */
  probe?: ProbeRequest;
}

/** A deployment probe's id: letters, digits, `_` and `-`, so it is safe in a storage key. */
export interface ProbeRequest {
  id: string;
}

/** What a probe id looks like (`npm run doctor` makes 32 hex digits). */
export const PROBE_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** The field of a signed callback body that marks it as a deployment probe: `{"dingtalkLlmProbe": {"id": "..."}}`. */
export const PROBE_BODY_FIELD = 'dingtalkLlmProbe';

/**
 * The probe a callback body asks for, or undefined for an ordinary message (or a malformed marker).
 * Read only after the signature check: only a holder of the app secret can start a probe.
 */
export function probeMarker(body: unknown): ProbeRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const marker = (body as Record<string, unknown>)[PROBE_BODY_FIELD];
  const id = typeof marker === 'object' && marker !== null ? (marker as { id?: unknown }).id : undefined;
  return typeof id === 'string' && PROBE_ID_PATTERN.test(id) ? { id } : undefined;
}

/**
 * UTF-8 bytes of text a task may carry, the message's and the quote's together: a third of FC's async
 * limit, leaving room for JSON escaping.
 */
export const MAX_TASK_TEXT_BYTES = 40 * 1024;

/** Most pictures a task carries; a rich text with more keeps the first ones and says so ({@link PICTURES_NOTE}). */
export const MAX_TASK_PICTURES = 20;

/**
 * Bytes of {@link MAX_TASK_TEXT_BYTES} a quoted text keeps even when the message itself is long: a quote
 * shorter than this is never cut, a longer one gets what the message leaves, and at least this.
 */
export const QUOTE_RESERVED_BYTES = MAX_TASK_TEXT_BYTES / 4;

/** The note appended to a message that was cut. */
export const TRUNCATION_NOTE = '\n\n[The message was too long and has been cut here.]';

/** The note that ends a rich text whose pictures beyond {@link MAX_TASK_PICTURES} were left out. */
export const PICTURES_NOTE = `[Only the first ${MAX_TASK_PICTURES} pictures of this message were kept.]`;

/** What joins the pictures note to a text part just before it. */
const PICTURES_NOTE_SEPARATOR = '\n\n';

/** Most parts a task's `parts` may have: pictures with text between them, and the pictures note. */
const MAX_TASK_PARTS = 2 * MAX_TASK_PICTURES + 2;

/** Bytes a string takes inside the JSON payload: UTF-8, with control characters and quotes escaped. */
const jsonBytes = (text: string): number => Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;

/**
 * Cuts `text` on a character boundary so that it takes at most `maxBytes` in the JSON payload (where a
 * control character costs 6 bytes), adding the truncation note.
 */
export function truncateText(
  text: string,
  maxBytes: number = MAX_TASK_TEXT_BYTES,
  note: string = TRUNCATION_NOTE,
): { text: string; truncated: boolean } {
  if (jsonBytes(text) <= maxBytes) return { text, truncated: false };
  const budget = maxBytes - jsonBytes(note);
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = jsonBytes(char);
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  return { text: text.slice(0, end) + note, truncated: true };
}

/** The JSON bytes of all the text a content carries: its text or text parts, and a quoted text. */
export function contentTextBytes(content: MessageContent): number {
  const quote = 'quote' in content && content.quote?.kind === 'text' ? jsonBytes(content.quote.text) : 0;
  if (content.kind === 'text') return jsonBytes(content.text) + quote;
  if (content.kind === 'parts') return content.parts.reduce((sum, part) => sum + (part.kind === 'text' ? jsonBytes(part.text) : 0), quote);
  return 0;
}

/** Appends a text part, joining it to a text part just before it with `separator`. */
function appendText(parts: MessagePart[], text: string, separator: string): void {
  const last = parts[parts.length - 1];
  if (last?.kind === 'text') parts[parts.length - 1] = { kind: 'text', text: last.text + separator + text };
  else parts.push({ kind: 'text', text });
}

/** `parts` with the pictures after the first {@link MAX_TASK_PICTURES} left out (their text kept, joined). */
function keepFirstPictures(parts: readonly MessagePart[]): MessagePart[] {
  const kept: MessagePart[] = [];
  let pictures = 0;
  for (const part of parts) {
    if (part.kind === 'text') appendText(kept, part.text, '\n');
    else if (pictures < MAX_TASK_PICTURES) {
      kept.push(part);
      pictures += 1;
    }
  }
  return kept;
}

/**
 * The text parts of `parts` within `budget` JSON bytes: when they do not all fit, the text is cut where
 * the budget (less the note) ends, the note appended, and later text left out; pictures stay.
 */
function fitParts(parts: readonly MessagePart[], budget: number): { parts: MessagePart[]; truncated: boolean } {
  const total = parts.reduce((sum, part) => sum + (part.kind === 'text' ? jsonBytes(part.text) : 0), 0);
  if (total <= budget) return { parts: [...parts], truncated: false };
  let left = budget - jsonBytes(TRUNCATION_NOTE);
  let cut = false;
  const fitted: MessagePart[] = [];
  for (const part of parts) {
    if (part.kind === 'picture') fitted.push(part);
    else if (cut) continue;
    else if (jsonBytes(part.text) <= left) {
      fitted.push(part);
      left -= jsonBytes(part.text);
    } else {
      fitted.push({ kind: 'text', text: truncateText(part.text, Math.max(left, 0), '').text + TRUNCATION_NOTE });
      cut = true;
    }
  }
  return { parts: fitted, truncated: true };
}

/**
 * The content bounded for the payload: at most {@link MAX_TASK_PICTURES} pictures, and at most
 * {@link MAX_TASK_TEXT_BYTES} of text across the message and its quote. The message's text comes first;
 * a quoted text keeps up to {@link QUOTE_RESERVED_BYTES} whatever the message's length, and what the
 * message leaves beyond that.
 */
function fitContent(content: MessageContent): { content: MessageContent; truncated: boolean } {
  if (content.kind === 'file' || content.kind === 'unsupported') return { content, truncated: false };
  const quote = content.quote;
  const quoteBytes = quote?.kind === 'text' ? jsonBytes(quote.text) : 0;
  const pictures = content.kind === 'parts' ? content.parts.filter((part) => part.kind === 'picture').length : 0;
  const tooManyPictures = pictures > MAX_TASK_PICTURES;
  const noteBytes = tooManyPictures ? jsonBytes(PICTURES_NOTE_SEPARATOR + PICTURES_NOTE) : 0;
  const messageParts: MessagePart[] = content.kind === 'text' ? [{ kind: 'text', text: content.text }] : keepFirstPictures(content.parts);
  const message = fitParts(messageParts, MAX_TASK_TEXT_BYTES - Math.min(quoteBytes, QUOTE_RESERVED_BYTES) - noteBytes);
  if (tooManyPictures) appendText(message.parts, PICTURES_NOTE, PICTURES_NOTE_SEPARATOR);
  let truncated = message.truncated || tooManyPictures;
  let fittedQuote = quote;
  if (quote?.kind === 'text') {
    const used = message.parts.reduce((sum, part) => sum + (part.kind === 'text' ? jsonBytes(part.text) : 0), 0);
    const cut = truncateText(quote.text, MAX_TASK_TEXT_BYTES - used);
    if (cut.truncated) fittedQuote = { ...quote, text: cut.text };
    truncated ||= cut.truncated;
  }
  const quoted = fittedQuote !== undefined ? { quote: fittedQuote } : {};
  if (content.kind === 'text') {
    const first = message.parts[0];
    return { content: { kind: 'text', text: first?.kind === 'text' ? first.text : '', ...quoted }, truncated };
  }
  return { content: { kind: 'parts', parts: message.parts, ...quoted }, truncated };
}

/** Builds the reply task for a verified, parsed message. */
export function toReplyTask(message: IncomingMessage, receivedAt: number): ReplyTask {
  const { content, truncated } = fitContent(message.content);
  const task: ReplyTask = {
    v: 1,
    msgId: message.msgId,
    conversationId: message.conversationId,
    conversationType: message.conversationType,
    userId: message.senderStaffId ?? message.senderId,
    content,
    truncated,
    sessionWebhook: message.sessionWebhook,
    createdAt: message.createAt ?? receivedAt,
    receivedAt,
  };
  if (message.senderStaffId !== undefined) task.senderStaffId = message.senderStaffId;
  if (message.senderNick !== undefined) task.senderNick = Array.from(message.senderNick).slice(0, 64).join('');
  if (message.sessionWebhookExpiredTime !== undefined) task.sessionWebhookExpiredTime = message.sessionWebhookExpiredTime;
  return task;
}

/** Serialises a task for the async invocation. */
export function encodeReplyTask(task: ReplyTask): string {
  return JSON.stringify(task);
}

function fail(what: string): never {
  throw new InvalidTaskError(`not a reply task: ${what}`);
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') fail(`"${field}" must be a non-empty string`);
  return value;
}

/** A non-empty string of at most `max` characters. */
function boundedStr(value: unknown, field: string, max: number): string {
  const text = str(value, field);
  if (text.length > max) fail(`"${field}" is longer than ${max} characters`);
  return text;
}

function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`"${field}" must be an object`);
  return value as Record<string, unknown>;
}

function textAt(value: unknown, field: string): string {
  if (typeof value !== 'string') fail(`"${field}" must be a string`);
  return value;
}

const downloadCodeAt = (value: unknown, field: string): string => boundedStr(value, field, MAX_DOWNLOAD_CODE_LENGTH);

/** An optional `msgId` of a quote: absent, or an id as the parser accepts one. */
function withMsgId(raw: Record<string, unknown>, field: string): { msgId?: string } {
  return raw.msgId === undefined ? {} : { msgId: boundedStr(raw.msgId, `${field}.msgId`, MAX_FIELD_LENGTH) };
}

/** A quoted message known by its id: each field as the parser makes it, the optional ones only when present. */
function parseReferenceField(raw: Record<string, unknown>, field: string): QuoteReference {
  const quote: QuoteReference = { kind: 'reference', msgId: boundedStr(raw.msgId, `${field}.msgId`, MAX_FIELD_LENGTH) };
  if (raw.msgType !== undefined) quote.msgType = boundedStr(raw.msgType, `${field}.msgType`, MAX_FIELD_LENGTH);
  if (raw.createdAt !== undefined) {
    if (typeof raw.createdAt !== 'number' || !Number.isSafeInteger(raw.createdAt) || raw.createdAt < 0) fail(`"${field}.createdAt" must be a time in epoch milliseconds`);
    quote.createdAt = raw.createdAt;
  }
  if (raw.fromRobot !== undefined) {
    if (typeof raw.fromRobot !== 'boolean') fail(`"${field}.fromRobot" must be true or false`);
    quote.fromRobot = raw.fromRobot;
  }
  if (raw.processQueryKey !== undefined) quote.processQueryKey = boundedStr(raw.processQueryKey, `${field}.processQueryKey`, MAX_FIELD_LENGTH);
  return quote;
}

function parseQuoteField(value: unknown, field: string): Quote {
  const raw = objectAt(value, field);
  switch (raw.kind) {
    case 'text':
      return { kind: 'text', text: textAt(raw.text, `${field}.text`), ...withMsgId(raw, field) };
    case 'picture':
      return { kind: 'picture', downloadCode: downloadCodeAt(raw.downloadCode, `${field}.downloadCode`), ...withMsgId(raw, field) };
    case 'reference':
      return parseReferenceField(raw, field);
    default:
      fail(`"${field}.kind" must be "text", "picture" or "reference"`);
  }
}

function parsePartsField(value: unknown): MessagePart[] {
  if (!Array.isArray(value)) fail('"content.parts" must be a list');
  if (value.length > MAX_TASK_PARTS) fail(`"content.parts" has more than ${MAX_TASK_PARTS} parts`);
  const parts = value.map((entry: unknown, index): MessagePart => {
    const field = `content.parts[${index}]`;
    const raw = objectAt(entry, field);
    if (raw.kind === 'text') return { kind: 'text', text: textAt(raw.text, `${field}.text`) };
    if (raw.kind === 'picture') return { kind: 'picture', downloadCode: downloadCodeAt(raw.downloadCode, `${field}.downloadCode`) };
    fail(`"${field}.kind" must be "text" or "picture"`);
  });
  const pictures = parts.filter((part) => part.kind === 'picture').length;
  if (pictures === 0) fail('"content.parts" has no picture');
  if (pictures > MAX_TASK_PICTURES) fail(`"content.parts" has more than ${MAX_TASK_PICTURES} pictures`);
  return parts;
}

/** The content of a task, each kind with exactly its fields, its text within {@link MAX_TASK_TEXT_BYTES}. */
function parseContentField(value: unknown): MessageContent {
  const raw = objectAt(value, 'content');
  const quoted = (): { quote?: Quote } => (raw.quote === undefined ? {} : { quote: parseQuoteField(raw.quote, 'content.quote') });
  let content: MessageContent;
  switch (raw.kind) {
    case 'text':
      content = { kind: 'text', text: textAt(raw.text, 'content.text'), ...quoted() };
      break;
    case 'parts':
      content = { kind: 'parts', parts: parsePartsField(raw.parts), ...quoted() };
      break;
    case 'file': {
      const fileName = boundedStr(raw.fileName, 'content.fileName', 2 * MAX_FILE_NAME_LENGTH);
      if (/[/\\]/.test(fileName) || Array.from(fileName).length > MAX_FILE_NAME_LENGTH) {
        fail(`"content.fileName" must be a base name of at most ${MAX_FILE_NAME_LENGTH} characters`);
      }
      content = { kind: 'file', downloadCode: downloadCodeAt(raw.downloadCode, 'content.downloadCode'), fileName };
      break;
    }
    case 'unsupported':
      content = { kind: 'unsupported', msgtype: boundedStr(raw.msgtype, 'content.msgtype', MAX_FIELD_LENGTH) };
      break;
    default:
      fail('"content.kind" must be "text", "parts", "file" or "unsupported"');
  }
  if (contentTextBytes(content) > MAX_TASK_TEXT_BYTES) fail(`the text of "content" is over ${MAX_TASK_TEXT_BYTES} bytes`);
  return content;
}

/**
 * Parses the reply function's event (a Buffer, string or object) into a `ReplyTask`.
 * Throws `InvalidTaskError`: the event did not come from our conversation function.
 */
export function parseReplyTask(event: unknown): ReplyTask {
  const value = decodeEventJson(event);
  if (value === undefined) fail('the event is not JSON');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('the event is not a JSON object');
  const raw = value as Record<string, unknown>;
  if (raw.v !== 1) fail('unknown version');
  const type = raw.conversationType;
  if (type !== '1' && type !== '2') fail('"conversationType" must be "1" or "2"');
  const parsedContent = parseContentField(raw.content);
  if (typeof raw.receivedAt !== 'number') fail('"receivedAt" must be a number');
  if (typeof raw.createdAt !== 'number') fail('"createdAt" must be a number');
  const task: ReplyTask = {
    v: 1,
    msgId: str(raw.msgId, 'msgId'),
    conversationId: str(raw.conversationId, 'conversationId'),
    conversationType: type,
    userId: str(raw.userId, 'userId'),
    content: parsedContent,
    truncated: raw.truncated === true,
    sessionWebhook: str(raw.sessionWebhook, 'sessionWebhook'),
    createdAt: raw.createdAt,
    receivedAt: raw.receivedAt,
  };
  if (raw.senderStaffId !== undefined) task.senderStaffId = str(raw.senderStaffId, 'senderStaffId');
  if (typeof raw.senderNick === 'string' && raw.senderNick !== '') task.senderNick = raw.senderNick;
  if (typeof raw.sessionWebhookExpiredTime === 'number') task.sessionWebhookExpiredTime = raw.sessionWebhookExpiredTime;
  if (raw.probe !== undefined) {
    const id = (raw.probe as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !PROBE_ID_PATTERN.test(id)) fail('"probe.id" must be 8 to 64 letters, digits, _ or -');
    task.probe = { id };
  }
  return task;
}
