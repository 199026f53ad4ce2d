/**
 * The port to DingTalk's server OpenAPI (`https://api.dingtalk.com`, Client ID/Secret): the calls the
 * card channel, the OpenAPI send channel and the picture download make, and nothing else. The adapter
 * (`shared/adapters/dingtalk-openapi.ts`) owns the access token, the HTTP and the mapping of DingTalk's
 * answers to `DingTalkApiError`; callers never see a token or a raw response.
 */

/** Where a card or robot message goes: a 1:1 chat with the robot, or a group. */
export type OpenSpace =
  | { kind: 'robot'; staffId: string }
  | {
      kind: 'group';
      conversationId: string;
      /** Staff ids to @ in the card (`atUserIds` maps staff id to display name). */
      atUsers?: Readonly<Record<string, string>>;
    };

/** `openSpaceId` of a card: `dtv1.card//IM_ROBOT.<staffId>` or `dtv1.card//IM_GROUP.<conversationId>`. */
export function openSpaceId(space: OpenSpace): string {
  return space.kind === 'robot' ? `dtv1.card//IM_ROBOT.${space.staffId}` : `dtv1.card//IM_GROUP.${space.conversationId}`;
}

/** Creates and delivers one card instance (`POST /v1.0/card/instances/createAndDeliver`). */
export interface CreateCardRequest {
  /** The AI card template (DINGTALK_CARD_TEMPLATE_ID). */
  templateId: string;
  /** Our id of this card: derived from the message so a retry addresses the same card. */
  outTrackId: string;
  /** The template's variables; DingTalk takes strings only. */
  cardData: Readonly<Record<string, string>>;
  space: OpenSpace;
}

/** One streaming update of a card's markdown variable (`PUT /v1.0/card/streaming`). */
export interface StreamCardRequest {
  outTrackId: string;
  /** The template variable bound to the streaming markdown component (DINGTALK_CARD_CONTENT_KEY). */
  key: string;
  /** The full text so far (sent with `isFull: true`). */
  content: string;
  /** The last update: the card leaves its "writing" state. */
  isFinalize: boolean;
  /** The card shows its failed state. */
  isError: boolean;
}

/** A robot message sent through the OpenAPI (`msgKey` and its `msgParam`, e.g. `sampleMarkdown` `{title, text}`). */
export interface RobotMessage {
  msgKey: 'sampleMarkdown' | 'sampleText';
  msgParam: Readonly<Record<string, string>>;
}

/**
 * The ids DingTalk answered for a message it made: a card delivery's `deliverResults[].carrierId` (and a
 * `processQueryKey` if it sends one), a robot send's `processQueryKey`. A later quote of that message may
 * carry one as `originalProcessQueryKey`. Empty when DingTalk answered none.
 */
export type MessageIds = readonly string[];

/** Options every call takes. */
export interface OpenApiCallOptions {
  /** The run's deadline: aborts the request and any wait before a retry. */
  signal?: AbortSignal;
}

/**
 * DingTalk's server OpenAPI, as the bot uses it. Every method throws `DingTalkApiError` on failure,
 * including a 200 answer whose body reports one (a failed card delivery).
 */
export interface DingTalkOpenApi {
  /** The app's Client ID, which is also the robot's `robotCode`. */
  readonly robotCode: string;
  /** Creates the card and delivers it to the space. A second call with the same `outTrackId` is refused by DingTalk. */
  createAndDeliverCard(request: CreateCardRequest, options?: OpenApiCallOptions): Promise<MessageIds | void>;
  /** Updates card variables other than the streamed one (`PUT /v1.0/card/instances`, `updateCardDataByKey`). */
  updateCard(outTrackId: string, cardData: Readonly<Record<string, string>>, options?: OpenApiCallOptions): Promise<void>;
  /** Replaces the streamed markdown of a card. */
  streamCard(request: StreamCardRequest, options?: OpenApiCallOptions): Promise<void>;
  /** Sends a robot message to a space: `oToMessages/batchSend` for 1:1, `groupMessages/send` for a group. */
  sendMessage(space: OpenSpace, message: RobotMessage, options?: OpenApiCallOptions): Promise<MessageIds | void>;
  /** A temporary download URL for a file the robot received (`messageFiles/download`). */
  fileDownloadUrl(downloadCode: string, options?: OpenApiCallOptions): Promise<string>;
  /** Fetches a token now (doctor): proves the Client ID and Secret. */
  checkToken(options?: OpenApiCallOptions): Promise<void>;
}
