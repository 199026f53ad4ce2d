import type { OutgoingMessage } from '../ports';
import type { ConversationType } from './message';

/** Longest markdown title DingTalk shows in the notification preview without cutting. */
const TITLE_MAX_CHARS = 24;

/** Who a reply is for: enough to @ them in a group. */
export interface ReplyRecipient {
  conversationType: ConversationType;
  senderStaffId?: string;
}

/** A plain-text notification title from the first meaningful line of a markdown answer. */
export function markdownTitle(text: string): string {
  const line =
    text
      .split('\n')
      .map((candidate) => candidate.replace(/[#>*_`~[\]()!|-]/g, '').trim())
      .find((candidate) => candidate !== '') ?? 'Reply';
  const chars = Array.from(line);
  return chars.length > TITLE_MAX_CHARS ? `${chars.slice(0, TITLE_MAX_CHARS - 1).join('')}…` : line;
}

/**
 * Builds the webhook message for an answer: markdown, and in a group an @ of the asker. DingTalk renders
 * the mention only when the text also contains `@<staffId>`, so both are set.
 */
export function formatReply(text: string, recipient: ReplyRecipient): OutgoingMessage {
  const staffId = recipient.senderStaffId;
  if (recipient.conversationType === '2' && staffId !== undefined) {
    return {
      msgtype: 'markdown',
      markdown: { title: markdownTitle(text), text: `@${staffId}\n\n${text}` },
      at: { atUserIds: [staffId] },
    };
  }
  return { msgtype: 'markdown', markdown: { title: markdownTitle(text), text } };
}
