import { DingTalkApiError } from '../errors';
import { markdownTitle } from '../dingtalk/outgoing';
import type { DingTalkOpenApi, OpenSpace } from '../dingtalk/openapi';
import { splitAnswer } from '../dingtalk/split-answer';
import { nothingReached, partPause, type ChannelCallOptions, type ChannelSleep, type DeliveryChannel, type DeliveryReport } from './channel';

/** What the OpenAPI send channel uses. */
export interface OpenApiSendChannelDeps {
  openApi: DingTalkOpenApi;
  sleep: ChannelSleep;
}

/**
 * The robot OpenAPI send (`oToMessages/batchSend` for 1:1, `groupMessages/send` for a group), used when the
 * session webhook cannot reach the user any more: a slow answer is still delivered. `sampleMarkdown`
 * messages, split and paced like the webhook's; in a group the asker is named at the top (the OpenAPI's
 * markdown cannot @ someone).
 */
export function createOpenApiSendChannel(space: OpenSpace, asker: string | undefined, deps: OpenApiSendChannelDeps): DeliveryChannel {
  const heading = space.kind === 'group' && asker !== undefined ? `@${asker}\n\n` : '';
  /** What DingTalk answered for the messages sent (their `processQueryKey`s). */
  const ids: string[] = [];
  return {
    name: 'openapi',
    messageIds: () => [...ids],
    async open() {
      return undefined;
    },
    progress() {
      // Robot messages cannot be edited: the answer goes out complete.
    },
    async finish(text: string, _kind, options: ChannelCallOptions): Promise<DeliveryReport> {
      // msgParam (the JSON of title and text) may take 15,000 bytes: parts stay well under it.
      const { parts, truncated } = splitAnswer(text, { maxChars: 3_500 - heading.length, maxBytes: 13_000 });
      const fields = { ...(truncated ? { answerCut: true } : {}), ...(parts.length > 1 ? { parts: parts.length } : {}) };
      let sent = 0;
      try {
        for (const part of parts) {
          if (sent > 0) await deps.sleep(partPause(parts.length - sent, options.remainingMs()), options.signal);
          const body = heading + part;
          const delivered = await deps.openApi.sendMessage(space, { msgKey: 'sampleMarkdown', msgParam: { title: markdownTitle(part), text: body } }, { signal: options.signal });
          if (delivered !== undefined) ids.push(...delivered);
          sent += 1;
        }
        return { channel: 'openapi', reached: 'all', retryable: false, expired: false, misconfigured: false, fields };
      } catch (error) {
        const withParts = { ...fields, partsSent: sent };
        if (sent > 0) return { channel: 'openapi', reached: 'some', retryable: false, expired: false, misconfigured: false, error, fields: withParts };
        const failure = error instanceof DingTalkApiError ? error : undefined;
        return nothingReached('openapi', {
          retryable: failure?.retryable ?? false,
          misconfigured: failure?.isConfiguration ?? false,
          error,
          fields: withParts,
        });
      }
    },
  };
}
