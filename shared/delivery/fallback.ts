import { nothingReached, type ChannelCallOptions, type DeliveryChannel, type DeliveryKind, type DeliveryReport } from './channel';

/**
 * Channels tried in a fixed order, chosen once per message (card, then session webhook, then OpenAPI
 * send): the first that opens carries the progress; at the end, when a channel got nothing through, the
 * next one delivers the whole text. `onFallback` hears of every channel left behind, with its report.
 * Reports the channel that delivered, or, when none did, the most hopeful failure: a retryable one if
 * any (FC's retry may still deliver), else the last.
 */
export function fallbackChannel(channels: readonly DeliveryChannel[], onFallback: (report: DeliveryReport) => void): DeliveryChannel {
  if (channels.length === 0) throw new RangeError('fallbackChannel needs at least one channel');
  let current = 0;
  let opened = -1;
  /** The last refusal to open: what `finish` reports when every channel refused before it was called. */
  let refused: DeliveryReport | undefined;

  /** Opens channels from `current` on until one is ready; the report of the last failure when none is. */
  const openFrom = async (options: ChannelCallOptions): Promise<DeliveryReport | undefined> => {
    let last: DeliveryReport | undefined;
    while (current < channels.length) {
      const channel = channels[current] as DeliveryChannel;
      const report = await channel.open(options);
      if (report === undefined) {
        opened = current;
        return undefined;
      }
      onFallback(report);
      last = report;
      refused = report;
      current += 1;
    }
    return last;
  };

  return {
    get name() {
      return (channels[Math.min(current, channels.length - 1)] as DeliveryChannel).name;
    },
    open: openFrom,
    progress(textSoFar: string) {
      if (opened === current) channels[current]?.progress(textSoFar);
    },
    messageIds() {
      return channels.flatMap((channel) => channel.messageIds?.() ?? []);
    },
    async finish(text: string, kind: DeliveryKind, options: ChannelCallOptions): Promise<DeliveryReport> {
      const failures: DeliveryReport[] = [];
      while (current < channels.length) {
        if (opened !== current) {
          const refusal = await openFrom(options);
          if (refusal !== undefined) {
            failures.push(refusal);
            break;
          }
        }
        const report = await (channels[current] as DeliveryChannel).finish(text, kind, options);
        if (report.reached !== 'none') return report;
        failures.push(report);
        current += 1;
        if (current < channels.length) onFallback(report);
      }
      return (
        failures.find((report) => report.retryable) ??
        failures[failures.length - 1] ??
        refused ??
        nothingReached((channels[channels.length - 1] as DeliveryChannel).name)
      );
    },
  };
}
