import { createHash } from 'node:crypto';

/** FC's rule for `x-fc-async-task-id`: letters, digits, `_` and `-`, starting with a letter or `_`, ≤ 128 characters. */
export const ASYNC_TASK_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/**
 * Longest msgId (in UTF-16 bytes, 47 characters) encoded reversibly; base64url of 95 bytes is 127
 * characters. UTF-16 rather than UTF-8 because UTF-8 maps every lone surrogate to the same U+FFFD,
 * which would let a forged msgId share another message's id.
 */
const MAX_ENCODED_BYTES = 95;

/**
 * The async task id of a DingTalk message, so FC runs each `msgId` once however often DingTalk
 * delivers it. Distinct msgIds never share an id: a msgId of up to 47 characters is encoded reversibly
 * (`m` + base64url, which is injective), a longer one becomes `h` + its SHA-256; the two forms differ
 * in their first letter, so they cannot meet either.
 */
export function asyncTaskId(msgId: string): string {
  const bytes = Buffer.from(msgId, 'utf16le');
  if (bytes.length <= MAX_ENCODED_BYTES) return `m${bytes.toString('base64url')}`;
  return `h${createHash('sha256').update(bytes).digest('hex')}`;
}
