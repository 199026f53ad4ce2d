import { createHash } from 'node:crypto';
import type { ConversationType } from '../dingtalk/message';
import type { DingTalkOpenApi, OpenSpace } from '../dingtalk/openapi';
import type { Clock, WebhookSender } from '../ports';
import { createCardChannel, type CardSettings } from './card-channel';
import type { ChannelSleep, DeliveryChannel, DeliveryKind, DeliveryReport } from './channel';
import { fallbackChannel } from './fallback';
import { createOpenApiSendChannel } from './openapi-send-channel';
import { createWebhookChannel } from './webhook-channel';

/** Who asked and where: the fields of the reply task that delivery needs. */
export interface MessageAddress {
  msgId: string;
  conversationId: string;
  conversationType: ConversationType;
  /** `senderStaffId`, or `senderId` for users outside the organisation. */
  userId: string;
  senderStaffId?: string;
  senderNick?: string;
  sessionWebhook: string;
  sessionWebhookExpiredTime?: number;
}

/** What the channels are built from: the instance's clients and settings. */
export interface DeliveryServices {
  webhook: WebhookSender;
  clock: Clock;
  sleep: ChannelSleep;
  /** DingTalk's server OpenAPI, when DINGTALK_CLIENT_ID is set. */
  openApi?: DingTalkOpenApi;
  /** AI cards, when DINGTALK_CARD_TEMPLATE_ID is set too. */
  card?: CardSettings;
}

/**
 * The card's `outTrackId`: the same for every delivery and retry of one message (so a retry finds the
 * card its first run made), different for every message, and free of anything personal.
 */
export function cardTrackId(address: MessageAddress): string {
  return `dtllm-${createHash('sha256').update(`${address.conversationId}\n${address.userId}\n${address.msgId}`).digest('hex').slice(0, 32)}`;
}

/** The OpenAPI space of the message: the group, or the 1:1 chat with a staff member (none for outsiders). */
export function openSpaceOf(address: MessageAddress): OpenSpace | undefined {
  if (address.conversationType === '2') {
    const atUsers = address.senderStaffId !== undefined ? { [address.senderStaffId]: address.senderNick ?? address.senderStaffId } : undefined;
    return { kind: 'group', conversationId: address.conversationId, ...(atUsers !== undefined ? { atUsers } : {}) };
  }
  return address.senderStaffId !== undefined ? { kind: 'robot', staffId: address.senderStaffId } : undefined;
}

/**
 * The channel for one message, its fallback order chosen once: an answer streams into an AI card when
 * cards are configured, else goes to the session webhook; when the webhook cannot (expired), the robot
 * OpenAPI sends it. Notices (help, cleared, limits) never make a card. Without DINGTALK_CLIENT_ID this is
 * the session webhook alone, as before the OpenAPI existed.
 */
export function channelFor(
  address: MessageAddress,
  kind: DeliveryKind,
  services: DeliveryServices,
  options: { resumed: boolean; onFallback: (report: DeliveryReport) => void },
): DeliveryChannel {
  const space = services.openApi !== undefined ? openSpaceOf(address) : undefined;
  const channels: DeliveryChannel[] = [];
  if (kind === 'answer' && services.openApi !== undefined && services.card !== undefined && space !== undefined) {
    channels.push(
      createCardChannel({ outTrackId: cardTrackId(address), space, resumed: options.resumed }, services.card, {
        openApi: services.openApi,
        clock: services.clock,
      }),
    );
  }
  channels.push(createWebhookChannel(address, services));
  if (services.openApi !== undefined && space !== undefined) {
    channels.push(createOpenApiSendChannel(space, address.senderNick ?? address.senderStaffId, { openApi: services.openApi, sleep: services.sleep }));
  }
  return fallbackChannel(channels, options.onFallback);
}
