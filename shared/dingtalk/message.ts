import { InvalidMessageError } from '../errors';

/** `"1"` one-to-one, `"2"` group, as DingTalk sends it. */
export type ConversationType = '1' | '2';

/** One part of a message, in the order the user wrote it. */
export type MessagePart = { kind: 'text'; text: string } | { kind: 'picture'; downloadCode: string };

/** The message a user replied to (quoted). */
export type Quote =
  | { kind: 'text'; text: string; msgId?: string }
  | { kind: 'picture'; downloadCode: string; msgId?: string }
  /** Only an id is known (a quoted card of the bot's own, or a kind the bot cannot read): look it up in history. */
  | QuoteReference;

/**
 * A quoted message known only by its id and what DingTalk says around it: enough to find one of the bot's own
 * answers in the history (see `shared/core/reply/quoted-answer.ts`).
 */
export interface QuoteReference {
  kind: 'reference';
  msgId: string;
  msgType?: string;
  /** When DingTalk made the quoted message (`repliedMsg.createdAt`, epoch ms). */
  createdAt?: number;
  /**
   * Whether the robot sent the quoted message: `repliedMsg.senderId` compared with the callback's
   * `chatbotUserId`; absent when either is missing.
   */
  fromRobot?: boolean;
  /** DingTalk's `originalProcessQueryKey`: the key its send or card delivery answered for the quoted message. */
  processQueryKey?: string;
}

/**
 * What the bot can do with a message's content.
 *
 * - `text`: a text message, a voice message with DingTalk's `recognition`, or a rich text without pictures.
 * - `parts`: a picture (one picture part), or a rich text with at least one picture (text and picture parts
 *   in the order the user wrote them; `at` elements dropped; adjacent text joined with a line break; blank
 *   text left out). A `parts` content always holds at least one picture.
 * - `file`: DingTalk delivers files in 1:1 chats only. `fileName` is a base name: no path, no control or
 *   bidirectional-override characters, at most {@link MAX_FILE_NAME_LENGTH} characters.
 * - `unsupported`: anything the bot cannot read; `audio` without `recognition` comes here with msgtype 'audio',
 *   a rich text with neither text nor pictures with 'richText'.
 */
export type MessageContent =
  | { kind: 'text'; text: string; quote?: Quote }
  | { kind: 'parts'; parts: MessagePart[]; quote?: Quote }
  | { kind: 'file'; downloadCode: string; fileName: string }
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
function optionalBoolean(body: Json, field: string, label: string = field): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidMessageError(`"${label}" must be true or false`);
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

/** Longest download code accepted: DingTalk's are opaque and short; the bound keeps a forged body small. */
export const MAX_DOWNLOAD_CODE_LENGTH = MAX_FIELD_LENGTH;

/** Most elements a rich text (or a quoted one) may have: far more than a person writes, and a bound on a forged body. */
export const MAX_RICH_TEXT_ELEMENTS = 1000;

/** Longest file name kept, in characters (longer names are shortened, keeping the extension). */
export const MAX_FILE_NAME_LENGTH = 255;

/** Longest extension kept whole when a file name is shortened. */
const MAX_EXTENSION_LENGTH = 16;

/** `value` as an object, undefined when absent; anything else is refused, naming `label`. */
function optionalObject(value: unknown, label: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new InvalidMessageError(`"${label}" must be an object`);
  return value;
}

/** A string field that may be long (message text); undefined when absent, refused when not a string. */
function optionalText(body: Json, field: string, label: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidMessageError(`"${label}" must be a string`);
  return value;
}

/** A picture's download code: `downloadCode`, else `pictureDownloadCode` (DingTalk sends both for pictures). */
function optionalDownloadCode(body: Json, label: string): string | undefined {
  return optionalString(body, 'downloadCode', `${label}.downloadCode`) ?? optionalString(body, 'pictureDownloadCode', `${label}.pictureDownloadCode`);
}

function requiredDownloadCode(body: Json, label: string): string {
  const code = optionalDownloadCode(body, label);
  if (code === undefined) throw new InvalidMessageError(`"${label}.downloadCode" must be a non-empty string`);
  return code;
}

/** Appends a text part, joining it to a text part just before it; blank text is left out. */
function pushText(parts: MessagePart[], text: string): void {
  if (text.trim() === '') return;
  const last = parts[parts.length - 1];
  if (last?.kind === 'text') last.text = `${last.text}\n${text}`;
  else parts.push({ kind: 'text', text });
}

/**
 * The parts of a rich text: `{text}` (or `{type:"text", text}`) is text, `{type:"picture", downloadCode}` a
 * picture, `{type:"at", …}` is dropped, as is any other element without text. A quoted rich text may spell
 * the type `msgType` and the text `content`, which are read too.
 */
function richTextParts(value: unknown, label: string): MessagePart[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidMessageError(`"${label}" must be a list`);
  if (value.length > MAX_RICH_TEXT_ELEMENTS) throw new InvalidMessageError(`"${label}" has more than ${MAX_RICH_TEXT_ELEMENTS} elements`);
  const parts: MessagePart[] = [];
  value.forEach((element: unknown, index) => {
    const at = `${label}[${index}]`;
    if (!isObject(element)) throw new InvalidMessageError(`"${at}" must be an object`);
    const type = optionalString(element, 'type', `${at}.type`) ?? optionalString(element, 'msgType', `${at}.msgType`);
    if (type === 'picture') {
      parts.push({ kind: 'picture', downloadCode: requiredDownloadCode(element, at) });
      return;
    }
    if (type === 'at') return;
    const text = optionalText(element, 'text', `${at}.text`) ?? (typeof element.content === 'string' ? element.content : undefined);
    if (text !== undefined) pushText(parts, text);
  });
  return parts;
}

/** The text of `parts`, its text parts joined with line breaks; undefined when there is none. */
function textOf(parts: readonly MessagePart[]): string | undefined {
  const texts = parts.flatMap((part) => (part.kind === 'text' ? [part.text] : []));
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** A non-blank `recognition` of a voice message, undefined when missing or blank. */
function recognitionOf(content: Json | undefined, label: string): string | undefined {
  const recognition = content === undefined ? undefined : optionalText(content, 'recognition', `${label}.recognition`);
  return recognition !== undefined && recognition.trim() !== '' ? recognition : undefined;
}

/** Most nodes of a quoted card's element tree that are read, and how deep: a bound on a forged body. */
const MAX_CARD_NODES = MAX_RICH_TEXT_ELEMENTS;
const MAX_CARD_DEPTH = 16;

/**
 * The visible text of a quoted card's `cardContent` element tree (`{elementType, value, children}`): the
 * `value` of its `TEXT` nodes in order, one per line. Reported as DingTalk's shape by peers (soimy
 * openclaw-channel-dingtalk#598, QwenLM/qwen-code#9536); the tree is undocumented, so anything else in it is
 * skipped rather than refused, and the walk stops after {@link MAX_CARD_NODES} nodes.
 */
function cardText(tree: unknown): string | undefined {
  const texts: string[] = [];
  let visited = 0;
  const walk = (node: unknown, depth: number): void => {
    if (depth > MAX_CARD_DEPTH || visited >= MAX_CARD_NODES) return;
    if (Array.isArray(node)) {
      for (const child of node) walk(child, depth + 1);
      return;
    }
    if (!isObject(node)) return;
    visited += 1;
    if (node.elementType === 'TEXT' && typeof node.value === 'string' && node.value.trim() !== '') texts.push(node.value);
    walk(node.children, depth + 1);
  };
  walk(tree, 0);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** A non-blank string field of a quoted message's content, undefined otherwise (these shapes vary; odd ones are skipped). */
function quotedString(content: Json, field: string): string | undefined {
  const value = content[field];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** What the callback says around a quote: what a reference to the quoted message carries besides its id. */
interface QuoteSurroundings {
  /** `originalMsgId`: the quoted message's id when `repliedMsg` has none. */
  originalMsgId?: string;
  /** `originalProcessQueryKey`. */
  processQueryKey?: string;
  /** The callback's `chatbotUserId`, to tell whether the robot sent the quoted message. */
  chatbotUserId?: string;
}

/** A quoted message's `createdAt`: epoch ms (a numeric string too); undefined when absent. */
function quotedTime(replied: Json, label: string): number | undefined {
  const value = replied.createdAt;
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw new InvalidMessageError(`"${label}.createdAt" must be a time in epoch milliseconds`);
  }
  return number;
}

/**
 * The message a `repliedMsg` quotes: its text, or its picture, or only its id (a card whose text DingTalk
 * left out, a file, a kind the bot cannot read, or no content). Undefined when it carries neither content
 * nor an id. A quoted text's body is `content.text` or `content.content`, a markdown's `content.text`, a
 * card's the `TEXT` nodes of `content.cardContent` (else `content.text`): peers report all of these shapes.
 */
function parseRepliedMessage(replied: Json, label: string, around: QuoteSurroundings): Quote | undefined {
  const msgType = optionalString(replied, 'msgType', `${label}.msgType`);
  const msgId = optionalString(replied, 'msgId', `${label}.msgId`) ?? around.originalMsgId;
  const senderId = optionalString(replied, 'senderId', `${label}.senderId`);
  const createdAt = quotedTime(replied, label);
  const id = msgId !== undefined ? { msgId } : {};
  const reference = (): Quote | undefined =>
    msgId === undefined
      ? undefined
      : {
          kind: 'reference',
          msgId,
          ...(msgType !== undefined ? { msgType } : {}),
          ...(createdAt !== undefined ? { createdAt } : {}),
          ...(senderId !== undefined && around.chatbotUserId !== undefined ? { fromRobot: senderId === around.chatbotUserId } : {}),
          ...(around.processQueryKey !== undefined ? { processQueryKey: around.processQueryKey } : {}),
        };
  const contentLabel = `${label}.content`;
  const content = optionalObject(replied.content, contentLabel);
  if (content === undefined) return reference();
  if (msgType === 'text' || msgType === undefined) {
    const text = optionalText(content, 'text', `${contentLabel}.text`) ?? quotedString(content, 'content');
    if (text !== undefined && text.trim() !== '') return { kind: 'text', text, ...id };
    if (msgType === 'text') return reference();
  }
  if (msgType === 'markdown' || msgType === 'interactiveCard') {
    const text = (msgType === 'interactiveCard' ? cardText(content.cardContent) : undefined) ?? quotedString(content, 'text');
    return text !== undefined ? { kind: 'text', text, ...id } : reference();
  }
  if (msgType === 'picture') {
    const downloadCode = optionalDownloadCode(content, contentLabel);
    return downloadCode !== undefined ? { kind: 'picture', downloadCode, ...id } : reference();
  }
  if (msgType === 'richText' || msgType === undefined) {
    const parts = richTextParts(content.richText, `${contentLabel}.richText`);
    const text = textOf(parts);
    if (text !== undefined) return { kind: 'text', text, ...id };
    const picture = parts.find((part) => part.kind === 'picture');
    if (picture !== undefined) return { kind: 'picture', downloadCode: picture.downloadCode, ...id };
  }
  if (msgType === 'audio') {
    const text = recognitionOf(content, contentLabel);
    if (text !== undefined) return { kind: 'text', text, ...id };
  }
  return reference();
}

/**
 * The quote of a text or rich-text message: `isReplyMsg`/`repliedMsg` in `holder` (`text`, or `content` for
 * rich text), else `originalMsgId` when `isReplyMsg` is set without `repliedMsg`, else the legacy top-level
 * `quoteMessage:{msgId, msgtype, text}`.
 */
function parseQuote(body: Json, holder: Json, holderLabel: string): Quote | undefined {
  const isReply = optionalBoolean(holder, 'isReplyMsg', `${holderLabel}.isReplyMsg`);
  const originalMsgId = optionalString(body, 'originalMsgId');
  const processQueryKey = optionalString(body, 'originalProcessQueryKey');
  if (isReply !== false) {
    const replied = optionalObject(holder.repliedMsg, `${holderLabel}.repliedMsg`);
    if (replied !== undefined) {
      const around: QuoteSurroundings = { originalMsgId, processQueryKey, chatbotUserId: optionalString(body, 'chatbotUserId') };
      const quote = parseRepliedMessage(replied, `${holderLabel}.repliedMsg`, around);
      if (quote !== undefined) return quote;
    } else if (isReply === true && originalMsgId !== undefined) {
      return { kind: 'reference', msgId: originalMsgId, ...(processQueryKey !== undefined ? { processQueryKey } : {}) };
    }
  }
  const legacy = optionalObject(body.quoteMessage, 'quoteMessage');
  if (legacy === undefined) return undefined;
  const msgId = optionalString(legacy, 'msgId', 'quoteMessage.msgId');
  const msgtype = optionalString(legacy, 'msgtype', 'quoteMessage.msgtype');
  const rawText = legacy.text;
  const text = isObject(rawText) ? optionalText(rawText, 'content', 'quoteMessage.text.content') : optionalText(legacy, 'text', 'quoteMessage.text');
  if ((msgtype === undefined || msgtype === 'text') && text !== undefined && text.trim() !== '') {
    return { kind: 'text', text, ...(msgId !== undefined ? { msgId } : {}) };
  }
  return msgId === undefined ? undefined : { kind: 'reference', msgId, ...(msgtype !== undefined ? { msgType: msgtype } : {}) };
}

/** Control characters and the bidirectional controls that can disguise a file name's extension. */
const UNSAFE_NAME_CHARACTERS = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * A file name to show and to judge the type by: the base name (no `/` or `\` path), without control or
 * bidirectional-override characters, trimmed, shortened to {@link MAX_FILE_NAME_LENGTH} characters keeping
 * its extension. Refuses a name that leaves nothing (`..`, `/`).
 */
function baseFileName(raw: string, label: string): string {
  const segments = raw.split(/[/\\]/);
  const name = (segments[segments.length - 1] ?? '').replace(UNSAFE_NAME_CHARACTERS, '').trim();
  if (name === '' || name === '.' || name === '..') throw new InvalidMessageError(`"${label}" must name a file`);
  const characters = Array.from(name);
  if (characters.length <= MAX_FILE_NAME_LENGTH) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && Array.from(name.slice(dot)).length <= MAX_EXTENSION_LENGTH ? name.slice(dot) : '';
  const stem = Array.from(extension === '' ? name : name.slice(0, dot));
  return stem.slice(0, MAX_FILE_NAME_LENGTH - Array.from(extension).length).join('') + extension;
}

function parseContent(body: Json, msgtype: string): MessageContent {
  if (msgtype === 'text') {
    const text = body.text;
    if (!isObject(text) || typeof text.content !== 'string') {
      throw new InvalidMessageError('a "text" message needs "text.content" as a string');
    }
    const quote = parseQuote(body, text, 'text');
    return { kind: 'text', text: text.content, ...(quote !== undefined ? { quote } : {}) };
  }
  if (msgtype === 'audio') {
    const recognition = recognitionOf(optionalObject(body.content, 'content'), 'content');
    return recognition !== undefined ? { kind: 'text', text: recognition } : { kind: 'unsupported', msgtype };
  }
  if (msgtype === 'picture') {
    const content = optionalObject(body.content, 'content') ?? {};
    return { kind: 'parts', parts: [{ kind: 'picture', downloadCode: requiredDownloadCode(content, 'content') }] };
  }
  if (msgtype === 'richText') {
    const content = optionalObject(body.content, 'content') ?? {};
    const parts = richTextParts(content.richText, 'content.richText');
    const quote = parseQuote(body, content, 'content');
    const quoted = quote !== undefined ? { quote } : {};
    if (parts.some((part) => part.kind === 'picture')) return { kind: 'parts', parts, ...quoted };
    const text = textOf(parts);
    return text !== undefined ? { kind: 'text', text, ...quoted } : { kind: 'unsupported', msgtype };
  }
  if (msgtype === 'file') {
    const content = optionalObject(body.content, 'content') ?? {};
    return {
      kind: 'file',
      downloadCode: requiredString(content, 'downloadCode', 'content.downloadCode'),
      fileName: baseFileName(requiredString(content, 'fileName', 'content.fileName'), 'content.fileName'),
    };
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
const LEADING_AT = /^\s*[@\uff20]/u;

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
 * @-mentions the robot, and only `@<robot name>` at the start of the text, or of the first text part of a
 * rich text (a part left blank by it is dropped). Text in 1:1 chats is never changed.
 */
function withoutRobotMention(content: MessageContent, message: IncomingMessage, robotNames: readonly string[]): MessageContent {
  if (message.conversationType !== '2' || robotNames.length === 0 || !mentionsRobot(message)) return content;
  if (content.kind === 'text') return { ...content, text: stripRobotMentions(content.text, robotNames) };
  if (content.kind !== 'parts') return content;
  const first = content.parts.findIndex((part) => part.kind === 'text');
  const part = content.parts[first];
  if (part?.kind !== 'text') return content;
  const text = stripRobotMentions(part.text, robotNames);
  const parts = [...content.parts];
  if (text.trim() === '') parts.splice(first, 1);
  else parts[first] = { kind: 'text', text };
  return { ...content, parts };
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
