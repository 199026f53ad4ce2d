import { DingTalkApiError, describeError, RetryLaterError } from '../../errors';
import type { DeliveryChannel, DeliveryKind, DeliveryReport } from '../../delivery/channel';
import { channelFor } from '../../delivery/channels-for';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';

/** What the operator must do about a channel's configuration failure, for the once-per-instance log line. */
function operatorHint(report: DeliveryReport): string {
  const error = report.error;
  if (error instanceof DingTalkApiError) {
    switch (error.reason) {
      case 'permission': {
        const scopes = error.requiredScopes.length > 0 ? error.requiredScopes.join(', ') : 'Card.Streaming.Write, Card.Instance.Write, qyapi_robot_sendmsg';
        return `grant the app the permission(s) ${scopes} in the DingTalk developer console (your app → Permissions); until then answers go through the session webhook`;
      }
      case 'template':
        return 'publish the AI card template in the card platform and check that DINGTALK_CARD_TEMPLATE_ID is its id; until then answers go through the session webhook';
      case 'auth':
        return 'DingTalk refused DINGTALK_CLIENT_ID / DINGTALK_APP_SECRET: copy both from the developer console (Credentials & Basic Info)';
      default:
        break;
    }
  }
  return `the ${report.channel} channel is misconfigured`;
}

/**
 * The channel for this message (its fallback order chosen once, see `shared/delivery/channels-for.ts`),
 * logging every fallback, and each configuration problem once per instance.
 */
export function channelForRun(run: ReplyRun, kind: DeliveryKind, resumed = false): DeliveryChannel {
  const { deps, task } = run;
  return channelFor(
    task,
    kind,
    {
      webhook: deps.webhook,
      clock: deps.clock,
      sleep: run.sleep,
      ...(deps.openApi !== undefined ? { openApi: deps.openApi } : {}),
      ...(deps.settings.card !== undefined ? { card: deps.settings.card } : {}),
    },
    {
      resumed,
      onFallback: (report) => {
        run.report.set({ [`${report.channel}Failed`]: true });
        if (report.misconfigured) {
          const code = report.error instanceof DingTalkApiError ? (report.error.code ?? report.error.reason) : 'unknown';
          run.configProblem(`${report.channel}:${code}`, { channel: report.channel, fix: operatorHint(report), error: describeError(report.error).message as string });
        }
        run.log.warn('reply.channel_fallback', {
          channel: report.channel,
          expired: report.expired,
          retryable: report.retryable,
          misconfigured: report.misconfigured,
          ...(report.error !== undefined ? { error: describeError(report.error) } : {}),
        });
      },
    },
  );
}

/** How a delivery ended, for the core: the outcome, and whether FC's retry could still deliver. */
export interface Delivered {
  outcome: ReplyOutcome;
  /** Set when nothing got through and a retry can help: the caller throws it (after recording what it must). */
  retry?: RetryLaterError;
}

/**
 * Delivers `text` through `channel` (opening it first when `open` is true), and maps what got through to
 * the run's outcome: `intended` when all of it did.
 */
export async function deliverText(
  run: ReplyRun,
  channel: DeliveryChannel,
  text: string,
  kind: DeliveryKind,
  intended: ReplyOutcome,
): Promise<Delivered> {
  const deadline = run.deadline;
  const report = await run.report.timed('deliver', () =>
    channel.finish(text, kind, { signal: deadline.end, remainingMs: () => deadline.remaining() }),
  );
  run.report.set({ channel: report.channel, ...report.fields });
  if (report.reached === 'all') return { outcome: intended };
  run.log.error('reply.delivery_failed', {
    channel: report.channel,
    reached: report.reached,
    intended,
    expired: report.expired,
    retryable: report.retryable,
    ...report.fields,
    ...(report.error !== undefined ? { error: describeError(report.error) } : {}),
  });
  if (report.reached === 'none' && report.retryable) {
    const reason = report.channel === 'webhook' ? 'webhook-unreachable' : 'dingtalk-unreachable';
    const message = `the ${kind} could not be delivered: ${describeError(report.error).message as string}`;
    return { outcome: 'delivery_failed', retry: new RetryLaterError(reason, message, { cause: report.error }) };
  }
  if (report.reached === 'none' && report.expired) return { outcome: 'delivery_expired' };
  return { outcome: 'delivery_failed' };
}

/**
 * Sends a fixed text (help, not allowed, cleared, the daily limit): no card, webhook then OpenAPI.
 * Throws `RetryLaterError` only when nothing got through and a retry can help.
 */
export async function deliverNotice(run: ReplyRun, text: string, outcome: ReplyOutcome): Promise<ReplyOutcome> {
  const channel = channelForRun(run, 'notice');
  const delivered = await deliverText(run, channel, text, 'notice', outcome);
  if (delivered.retry !== undefined) throw delivered.retry;
  return delivered.outcome;
}
