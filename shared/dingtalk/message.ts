import { InvalidMessageError } from '../errors';

/** `"1"` one-to-one, `"2"` group, as DingTalk sends it. */
export type ConversationType = '1' | '2';

/** What the bot can do with a message's content. */
export type MessageContent =
  | { kind: 'text'; text: string }
  /** A message type the bot cannot read (picture, file, video, audio without recognition, unknown types). */
  | { kind: 'unsupported'; msgtype: string };

/** A DingTalk robot callback, parsed once at the edge into the fields the bot uses. */
export interface IncomingMessage {
  msgId: string;
  msgtype: string;
  content: MessageContent;
  conversationId: string;
  conversationType: ConversationType;
  conversationTitle?: string;
  /** `senderStaffId`, absent for users outside the organisation. */
  senderStaffId?: string;
  senderId: string;
  /** A display name: never used as an identifier. */
  senderNick?: string;
  sessionWebhook: string;
  sessionWebhookExpiredTime?: number;
  createAt?: number;
  robotCode?: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Longest id or URL accepted. DingTalk's ids are well under 100 characters; the bound keeps a forged
 * body (the signature does not cover it) from inflating the async payload or the storage keys.
 */
export const MAX_FIELD_LENGTH = 1024;

function bounded(field: string, value: string): string {
  if (value.length > MAX_FIELD_LENGTH) throw new InvalidMessageError(`"${field}" is longer than ${MAX_FIELD_LENGTH} characters`);
  return value;
}

function requiredString(body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidMessageError(`"${field}" must be a non-empty string`);
  }
  return bounded(field, value);
}

/** An optional string field; blank counts as absent, so a blank `senderStaffId` never becomes a user id. */
function optionalString(body: Json, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidMessageError(`"${field}" must be a string`);
  return value.trim() === '' ? undefined : bounded(field, value);
}

function optionalEpochMs(body: Json, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw new InvalidMessageError(`"${field}" must be a time in epoch milliseconds`);
  }
  return number;
}

function parseConversationType(value: unknown): ConversationType {
  if (value === '1' || value === 1) return '1';
  if (value === '2' || value === 2) return '2';
  throw new InvalidMessageError('"conversationType" must be "1" (one-to-one) or "2" (group)');
}

function parseWebhook(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidMessageError('"sessionWebhook" must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidMessageError('"sessionWebhook" must be an http(s) URL');
  }
  return value;
}

function textOfRichText(content: unknown): string | undefined {
  if (!isObject(content) || !Array.isArray(content.richText)) return undefined;
  const parts = content.richText
    .map((part: unknown) => (isObject(part) && typeof part.text === 'string' ? part.text : ''))
    .filter((text) => text.trim() !== '');
  return parts.length > 0 ? parts.join('\n') : undefined;
}

function parseContent(body: Json, msgtype: string): MessageContent {
  if (msgtype === 'text') {
    const text = body.text;
    if (!isObject(text) || typeof text.content !== 'string') {
      throw new InvalidMessageError('a "text" message needs "text.content" as a string');
    }
    return { kind: 'text', text: text.content };
  }
  if (msgtype === 'audio') {
    const content = body.content;
    const recognition = isObject(content) && typeof content.recognition === 'string' ? content.recognition : '';
    return recognition.trim() !== '' ? { kind: 'text', text: recognition } : { kind: 'unsupported', msgtype };
  }
  if (msgtype === 'richText') {
    const text = textOfRichText(body.content);
    return text !== undefined ? { kind: 'text', text } : { kind: 'unsupported', msgtype };
  }
  return { kind: 'unsupported', msgtype };
}

/**
 * Parses a DingTalk robot callback body (already JSON-decoded) into an `IncomingMessage`.
 * Throws `InvalidMessageError` naming the first field that is missing or mistyped.
 * Tolerates what DingTalk varies: `conversationType` as a number, times as numeric strings.
 */
export function parseIncomingMessage(body: unknown): IncomingMessage {
  if (!isObject(body)) throw new InvalidMessageError('the body must be a JSON object (a DingTalk robot message)');
  const msgtype = requiredString(body, 'msgtype');
  const senderStaffId = optionalString(body, 'senderStaffId');
  const senderId = optionalString(body, 'senderId') ?? senderStaffId;
  if (senderId === undefined) {
    throw new InvalidMessageError('the message has no usable sender: "senderStaffId" and "senderId" are both missing');
  }
  const message: IncomingMessage = {
    msgId: requiredString(body, 'msgId'),
    msgtype,
    content: parseContent(body, msgtype),
    conversationId: requiredString(body, 'conversationId'),
    conversationType: parseConversationType(body.conversationType),
    senderId,
    sessionWebhook: parseWebhook(requiredString(body, 'sessionWebhook')),
  };
  const optional = {
    conversationTitle: optionalString(body, 'conversationTitle'),
    senderStaffId,
    senderNick: optionalString(body, 'senderNick'),
    sessionWebhookExpiredTime: optionalEpochMs(body, 'sessionWebhookExpiredTime'),
    createAt: optionalEpochMs(body, 'createAt'),
    robotCode: optionalString(body, 'robotCode'),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (message as unknown as Record<string, unknown>)[key] = value;
  }
  return message;
}
