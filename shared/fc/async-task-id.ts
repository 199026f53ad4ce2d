import { createHash } from 'node:crypto';

/**
 * FC's rule for `x-fc-async-task-id` (InvokeFunction, `X-Fc-Stateful-Async-Invocation-Id`): letters, digits,
 * `_` and `-`, starting with a letter or `_`, at most 128 characters.
 */
export const ASYNC_TASK_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** What identifies one DingTalk message: its msgId is unique only together with where and from whom it came. */
export interface MessageIdentity {
  msgId: string;
  conversationId: string;
  /** DingTalk's `senderId` (or the staff id when that is all the message carries). */
  senderId: string;
}

/**
 * The async task id of a DingTalk message, so FC runs each message once however often DingTalk delivers
 * it: `t` + the SHA-256 (hex, 65 characters in all) of the message's identity — conversation, sender and
 * msgId. A body that reuses another conversation's or sender's msgId therefore gets a task id of its own
 * and cannot block that message. The three fields are hashed as a JSON array, an encoding that is
 * injective (lone surrogates are escaped, not replaced), so distinct identities differ before hashing.
 */
export function asyncTaskId(message: MessageIdentity): string {
  const identity = JSON.stringify([message.conversationId, message.senderId, message.msgId]);
  return `t${createHash('sha256').update(identity, 'utf8').digest('hex')}`;
}
