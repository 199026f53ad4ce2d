import { WebhookError } from '../errors';
import { formatReply } from '../dingtalk/outgoing';
import { MAX_PART_CHARS, splitAnswer } from '../dingtalk/split-answer';
import type { ConversationType } from '../dingtalk/message';
import type { Clock, WebhookSender } from '../ports';
import { nothingReached, partPause, type ChannelCallOptions, type ChannelSleep, type DeliveryChannel, type DeliveryReport } from './channel';

/** Where the session webhook of one message leads, from the reply task. */
export interface WebhookDestination {
  sessionWebhook: string;
  sessionWebhookExpiredTime?: number;
  conversationType: ConversationType;
  senderStaffId?: string;
}

/** What the webhook channel uses. */
export interface WebhookChannelDeps {
  webhook: WebhookSender;
  clock: Clock;
  sleep: ChannelSleep;
}

/**
 * The callback's session webhook: markdown, the asker @-mentioned in groups, a long answer in numbered
 * parts paced to DingTalk's rate limit (faster when the deadline would not fit the pauses). It shows no
 * progress: the text goes out once complete. An expired session (by its expiry time, or errcode 300001)
 * is reported as `expired`, so the OpenAPI channel can take over.
 */
export function createWebhookChannel(destination: WebhookDestination, deps: WebhookChannelDeps): DeliveryChannel {
  const expired = (): boolean =>
    destination.sessionWebhookExpiredTime !== undefined && destination.sessionWebhookExpiredTime <= deps.clock.now();
  return {
    name: 'webhook',
    async open() {
      return expired() ? nothingReached('webhook', { expired: true, fields: { webhookExpiredAt: destination.sessionWebhookExpiredTime } }) : undefined;
    },
    progress() {
      // The session webhook cannot edit a message: the answer goes out complete.
    },
    async finish(text: string, _kind, options: ChannelCallOptions): Promise<DeliveryReport> {
      if (expired()) return nothingReached('webhook', { expired: true, fields: { webhookExpiredAt: destination.sessionWebhookExpiredTime } });
      const mention = destination.conversationType === '2' && destination.senderStaffId !== undefined ? `@${destination.senderStaffId}\n\n` : '';
      const { parts, truncated } = splitAnswer(text, { maxChars: MAX_PART_CHARS - mention.length });
      const fields = { ...(truncated ? { answerCut: true } : {}), ...(parts.length > 1 ? { parts: parts.length } : {}) };
      let sent = 0;
      try {
        for (const part of parts) {
          if (sent > 0) await deps.sleep(partPause(parts.length - sent, options.remainingMs()), options.signal);
          await deps.webhook.send(destination.sessionWebhook, formatReply(part, destination), { signal: options.signal });
          sent += 1;
        }
        return { channel: 'webhook', reached: 'all', retryable: false, expired: false, misconfigured: false, fields };
      } catch (error) {
        const failure = error instanceof WebhookError ? error : undefined;
        const withParts = { ...fields, partsSent: sent };
        if (sent > 0) return { channel: 'webhook', reached: 'some', retryable: false, expired: false, misconfigured: false, error, fields: withParts };
        return nothingReached('webhook', {
          retryable: failure?.retryable ?? false,
          expired: failure?.reason === 'expired',
          error,
          fields: withParts,
        });
      }
    },
  };
}
