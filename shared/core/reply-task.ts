import { InvalidTaskError } from '../errors';
import { decodeEventJson } from '../fc/event-json';
import type { ConversationType, IncomingMessage, MessageContent } from '../dingtalk/message';

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
  content: MessageContent;
  /** True when the text was cut to fit the payload limit (the note is already in the text). */
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

/** UTF-8 bytes of text a task may carry: a third of FC's async limit, leaving room for JSON escaping. */
export const MAX_TASK_TEXT_BYTES = 40 * 1024;

/** The note appended to a message that was cut. */
export const TRUNCATION_NOTE = '\n\n[The message was too long and has been cut here.]';

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

/** Builds the reply task for a verified, parsed message. */
export function toReplyTask(message: IncomingMessage, receivedAt: number): ReplyTask {
  let content = message.content;
  let truncated = false;
  if (content.kind === 'text') {
    const cut = truncateText(content.text);
    content = { kind: 'text', text: cut.text };
    truncated = cut.truncated;
  }
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
  const content = raw.content as Record<string, unknown> | null;
  let parsedContent: MessageContent;
  if (content !== null && typeof content === 'object' && content.kind === 'text' && typeof content.text === 'string') {
    parsedContent = { kind: 'text', text: content.text };
  } else if (content !== null && typeof content === 'object' && content.kind === 'unsupported') {
    parsedContent = { kind: 'unsupported', msgtype: str(content.msgtype, 'content.msgtype') };
  } else {
    fail('"content" is malformed');
  }
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
