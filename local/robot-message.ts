/**
 * The robot messages DingTalk's session webhook accepts (`text` or `markdown`, optional `at`). The chat
 * client's webhook and the tests' webhook sink validate with this one function, so a reply the local
 * chat shows is one DingTalk would show too.
 */
import { isRecord } from '../shared/util/is-record';

/** Reported DingTalk limit on a robot message's content. */
export const MAX_CONTENT_BYTES = 20000;


function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Returns why `body` is not a valid robot message (text or markdown), or undefined if it is. */
export function validateDingTalkMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return 'body must be a JSON object';
  const { msgtype, at } = body;
  let content: string;
  if (msgtype === 'text') {
    const { text } = body;
    if (!isRecord(text) || typeof text.content !== 'string') return 'text.content must be a string';
    if (text.content.trim() === '') return 'text.content is empty';
    content = text.content;
  } else if (msgtype === 'markdown') {
    const { markdown } = body;
    if (!isRecord(markdown) || typeof markdown.title !== 'string' || typeof markdown.text !== 'string') {
      return 'markdown.title and markdown.text must be strings';
    }
    if (markdown.title.trim() === '' || markdown.text.trim() === '') return 'markdown.title or markdown.text is empty';
    content = markdown.text;
  } else {
    return `unsupported msgtype ${JSON.stringify(msgtype)}; expected "text" or "markdown"`;
  }
  if (Buffer.byteLength(content, 'utf8') > MAX_CONTENT_BYTES) return `content exceeds ${MAX_CONTENT_BYTES} bytes`;
  if (at !== undefined) {
    if (!isRecord(at)) return 'at must be an object';
    if (at.atUserIds !== undefined && !isStringArray(at.atUserIds)) return 'at.atUserIds must be an array of strings';
    if (at.atMobiles !== undefined && !isStringArray(at.atMobiles)) return 'at.atMobiles must be an array of strings';
    if (at.isAtAll !== undefined && typeof at.isAtAll !== 'boolean') return 'at.isAtAll must be a boolean';
  }
  return undefined;
}

/** The text a valid robot message shows: the markdown or the plain text. */
export function robotMessageText(body: unknown): string {
  if (!isRecord(body)) return '';
  const part = body.msgtype === 'markdown' ? body.markdown : body.text;
  if (!isRecord(part)) return '';
  const text = body.msgtype === 'markdown' ? part.text : part.content;
  return typeof text === 'string' ? text : '';
}
