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
  /** The robot's own DingTalk id in this conversation: the `dingtalkId` its entry in `atUsers` carries. */
  chatbotUserId?: string;
  /** DingTalk's `isInAtList`: the robot was @-mentioned (group messages). */
  isInAtList?: boolean;
  /** Who the message @-mentions, the robot included (group messages); absent when DingTalk sent none. */
  atUsers?: AtUser[];
}

/** One entry of DingTalk's `atUsers`. */
export interface AtUser {
  dingtalkId: string;
  /** Absent for the robot and for users outside the organisation. */
  staffId?: string;
}

/** What the parser needs to know beyond the body. */
export interface ParseOptions {
  /**
   * The robot's display names. DingTalk sends no name in the callback, and removes the robot's linked
   * @-mention from a text message itself; where a mention of the robot is left in the text as
   * `@<name>` (reported for rich text), only a configured name lets the parser tell it from a user's
   * own `@words`. Without names, no `@word` is ever removed.
   */
  robotNames?: readonly string[];
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

/** `label` names the field in errors when it is nested (`atUsers[0].dingtalkId`). */
function requiredString(body: Json, field: string, label: string = field): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidMessageError(`"${label}" must be a non-empty string`);
  }
  return bounded(label, value);
}

/** An optional string field; blank counts as absent, so a blank `senderStaffId` never becomes a user id. */
function optionalString(body: Json, field: string, label: string = field): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidMessageError(`"${label}" must be a string`);
  return value.trim() === '' ? undefined : bounded(label, value);
}

/** An optional flag; DingTalk sends booleans, `"true"`/`"false"` are tolerated. */
function optionalBoolean(body: Json, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidMessageError(`"${field}" must be true or false`);
}

/** Most `atUsers` entries accepted: far more than a person @-mentions, small enough to bound a forged body. */
export const MAX_AT_USERS = 1000;

function parseAtUsers(value: unknown): AtUser[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new InvalidMessageError('"atUsers" must be a list');
  if (value.length > MAX_AT_USERS) throw new InvalidMessageError(`"atUsers" has more than ${MAX_AT_USERS} entries`);
  return value.map((entry: unknown, index): AtUser => {
    const label = `atUsers[${index}]`;
    if (!isObject(entry)) throw new InvalidMessageError(`"${label}" must be an object`);
    const user: AtUser = { dingtalkId: requiredString(entry, 'dingtalkId', `${label}.dingtalkId`) };
    const staffId = optionalString(entry, 'staffId', `${label}.staffId`);
    if (staffId !== undefined) user.staffId = staffId;
    return user;
  });
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

/** Whether a message @-mentions the robot: DingTalk's `isInAtList`, or the robot's own id among `atUsers`. */
export function mentionsRobot(message: Pick<IncomingMessage, 'isInAtList' | 'atUsers' | 'chatbotUserId'>): boolean {
  if (message.isInAtList === true) return true;
  const robot = message.chatbotUserId;
  return robot !== undefined && (message.atUsers ?? []).some((user) => user.dingtalkId === robot);
}

const ASCII_WORD_END = /[A-Za-z0-9_]$/;
const ASCII_WORD_START = /^[A-Za-z0-9_]/;
const LEADING_AT = /^\s*[@＠]/u;

/**
 * Removes the `@<name>` mentions of the robot at the start of `text` (case-insensitive, `＠` too), and
 * nothing else: the spaces around them stay, as DingTalk leaves them where it removed a mention. A
 * name that ends in an ASCII letter or digit must not be followed by another one (`@Botany` is not
 * `@Bot`); otherwise the text may follow directly, as DingTalk may glue it (`@助手你好`, `@Bot你好`).
 * Any other `@word` is the user's.
 */
export function stripRobotMentions(text: string, robotNames: readonly string[]): string {
  const names = robotNames
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .sort((a, b) => b.length - a.length);
  let rest = text;
  for (;;) {
    const at = LEADING_AT.exec(rest);
    if (at === null) return rest;
    const after = rest.slice(at[0].length);
    const name = names.find((candidate) => {
      if (after.slice(0, candidate.length).toLowerCase() !== candidate.toLowerCase()) return false;
      const next = after.charAt(candidate.length);
      return !(ASCII_WORD_END.test(candidate) && ASCII_WORD_START.test(next));
    });
    if (name === undefined) return rest;
    rest = after.slice(name.length);
  }
}

/**
 * The content with the robot's mention removed where DingTalk left it: only in a group message that
 * @-mentions the robot, and only `@<robot name>` at the start. Text in 1:1 chats is never changed.
 */
function withoutRobotMention(content: MessageContent, message: IncomingMessage, robotNames: readonly string[]): MessageContent {
  if (content.kind !== 'text' || message.conversationType !== '2' || robotNames.length === 0 || !mentionsRobot(message)) return content;
  return { kind: 'text', text: stripRobotMentions(content.text, robotNames) };
}

/**
 * Parses a DingTalk robot callback body (already JSON-decoded) into an `IncomingMessage`.
 * Throws `InvalidMessageError` naming the first field that is missing or mistyped.
 * Tolerates what DingTalk varies: `conversationType` as a number, times as numeric strings.
 *
 * The text is the user's as DingTalk sent it. DingTalk itself removes linked @-mentions from a text
 * message (the robot's and other people's, leaving a space where the robot's was); `@words` left in
 * it were typed by the user and are kept. Only in a group message that mentions the robot is a
 * leading `@<one of options.robotNames>` removed, as a mention DingTalk left in the text.
 */
export function parseIncomingMessage(body: unknown, options: ParseOptions = {}): IncomingMessage {
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
    chatbotUserId: optionalString(body, 'chatbotUserId'),
    isInAtList: optionalBoolean(body, 'isInAtList'),
    atUsers: parseAtUsers(body.atUsers),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (message as unknown as Record<string, unknown>)[key] = value;
  }
  message.content = withoutRobotMention(message.content, message, options.robotNames ?? []);
  return message;
}
