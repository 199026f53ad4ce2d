/**
 * The callback DingTalk POSTs to a robot's message receiving address, built for the terminal chat: the
 * same fields and shapes as the samples in the reference folder (`text-1to1.json`,
 * `text-group-mention.json`), signed the way DingTalk signs.
 */
import { randomBytes } from 'node:crypto';
import { computeSignature } from '../shared/dingtalk/signature';

/** The robot's own ids in local chats (DingTalk's are opaque strings like these). */
const ROBOT_CODE = 'dinglocalrobot000000';
const ROBOT_USER_ID = '$:LWCP_v1:$localRobotUser000000000000';
const CORP_ID = 'dinglocalcorp00000000000000000000';

/** Who sends, where, and where the answer must go. */
export interface PayloadOptions {
  text: string;
  /** The sender's staff id (`--user`). */
  user: string;
  /** A group message with an @ mention (`--group`), else one-to-one. */
  group: boolean;
  /** The chat client's session webhook URL for this message. */
  sessionWebhook: string;
  now: number;
}

/**
 * A text message as DingTalk sends it. In a group the robot only receives messages that @ it, and the
 * text then starts with a space where the mention was removed.
 */
export function dingtalkTextMessage(options: PayloadOptions): Record<string, unknown> {
  const { user, group, now } = options;
  const common = {
    conversationId: group ? 'cidLocalGroup0000000000000==' : `cidLocal1to1-${user}==`,
    chatbotCorpId: CORP_ID,
    chatbotUserId: ROBOT_USER_ID,
    msgId: `msgLocal${randomBytes(12).toString('base64url')}==`,
    senderNick: user,
    isAdmin: false,
    senderStaffId: user,
    sessionWebhookExpiredTime: now + 60 * 60 * 1000,
    createAt: now,
    senderCorpId: CORP_ID,
    conversationType: group ? '2' : '1',
    senderId: `$:LWCP_v1:$local-${user}`,
    sessionWebhook: options.sessionWebhook,
    robotCode: ROBOT_CODE,
    msgtype: 'text',
    text: { content: group ? ` ${options.text}` : options.text },
  };
  return group
    ? { ...common, atUsers: [{ dingtalkId: ROBOT_USER_ID }], conversationTitle: 'Local test group', isInAtList: true }
    : common;
}

/** DingTalk's `timestamp` and `sign` headers for `secret` at `now`. */
export function dingtalkHeaders(secret: string, now: number): Record<string, string> {
  const timestamp = String(now);
  return { 'content-type': 'application/json; charset=utf-8', timestamp, sign: computeSignature(timestamp, secret), 'user-agent': 'DingTalk-Robot (local chat)' };
}
