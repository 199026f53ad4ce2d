import { dingtalkSample } from '../test/helpers/fixtures';
import { signedEvent } from '../test/helpers/signed-request';

/** Sentences mixed into generated texts: English and Chinese, so token counts look like real chats. */
const SENTENCES = [
  'Please summarise the quarterly report and list the three biggest risks. ',
  '请帮我把这段话翻译成英文，并保持正式的语气。',
  'The deployment failed with a timeout after 45 seconds; what should I check first? ',
  '我们下周二下午三点开会讨论预算，请准备一下材料。',
  'Write a short, friendly reminder for the team about Friday’s release freeze. ',
  '这个函数的时间复杂度是多少？有没有更好的写法？',
];

/** A deterministic text of exactly `chars` characters (UTF-16 units), starting at sentence `seed`. */
export function fillerText(chars: number, seed: number): string {
  let text = '';
  for (let i = seed; text.length < chars; i += 1) text += SENTENCES[i % SENTENCES.length];
  return text.slice(0, chars);
}

/** Who sends a message, and where the answer goes. */
export interface Sender {
  conversationId: string;
  staffId: string;
  /** The session webhook URL DingTalk would hand out (here: the webhook sink). */
  webhook: string;
}

/**
 * A DingTalk 1:1 text callback (from the reference sample) from `sender`, with a unique `msgId` and a
 * `createAt` that orders it in the history.
 */
export function dingtalkMessage(sender: Sender, text: string, msgId: string, createAt: number): Record<string, unknown> {
  return {
    ...dingtalkSample('text-1to1'),
    conversationId: sender.conversationId,
    senderStaffId: sender.staffId,
    msgId,
    createAt,
    sessionWebhook: sender.webhook,
    sessionWebhookExpiredTime: Date.now() + 2 * 60 * 60 * 1000,
    text: { content: text },
  };
}

/**
 * A DingTalk 1:1 picture callback (from the reference sample) from `sender`: the picture is fetched with
 * `downloadCode` through DingTalk's OpenAPI.
 */
export function dingtalkPictureMessage(sender: Sender, downloadCode: string, msgId: string, createAt: number): Record<string, unknown> {
  const message = dingtalkMessage(sender, '', msgId, createAt);
  delete message.text;
  return { ...message, msgtype: 'picture', content: { downloadCode, pictureDownloadCode: downloadCode } };
}

/** The FC HTTP-trigger event DingTalk's callback arrives as, correctly signed with `secret`. */
export function signedMessageEvent(secret: string, message: Record<string, unknown>): Buffer {
  return signedEvent({ secret, body: message });
}
