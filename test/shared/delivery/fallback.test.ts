import { nothingReached, type ChannelName, type DeliveryChannel, type DeliveryKind, type DeliveryReport } from '../../../shared/delivery/channel';
import { fallbackChannel } from '../../../shared/delivery/fallback';
import { roomyCallOptions } from '../../helpers/openapi-double';

/** A channel that answers from a script and records what it was asked. */
interface StubChannel extends DeliveryChannel {
  readonly opened: number;
  readonly progressed: string[];
  readonly finished: Array<{ text: string; kind: DeliveryKind }>;
}

function stub(name: ChannelName, script: { open?: Partial<DeliveryReport>; finish?: Partial<DeliveryReport> } = {}): StubChannel {
  const progressed: string[] = [];
  const finished: Array<{ text: string; kind: DeliveryKind }> = [];
  let opened = 0;
  return {
    name,
    get opened() {
      return opened;
    },
    progressed,
    finished,
    async open() {
      opened += 1;
      return script.open === undefined ? undefined : { ...nothingReached(name), ...script.open };
    },
    progress(text: string) {
      progressed.push(text);
    },
    async finish(text: string, kind: DeliveryKind) {
      finished.push({ text, kind });
      return script.finish === undefined
        ? { channel: name, reached: 'all', retryable: false, expired: false, misconfigured: false }
        : { ...nothingReached(name), ...script.finish };
    },
  };
}

function fallback(...channels: StubChannel[]) {
  const heard: DeliveryReport[] = [];
  const channel = fallbackChannel(channels, (report) => heard.push(report));
  return { channel, heard };
}

describe('fallbackChannel', () => {
  it('carries the answer through the webhook when the card cannot be opened, and tells of the card left behind', async () => {
    const card = stub('card', { open: { misconfigured: true } });
    const webhook = stub('webhook');
    const { channel, heard } = fallback(card, webhook);
    await expect(channel.open(roomyCallOptions())).resolves.toBeUndefined();
    expect(channel.name).toBe('webhook');
    channel.progress('The ans');
    await expect(channel.finish('The answer.', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', reached: 'all' });
    expect(card.progressed).toEqual([]);
    expect(card.finished).toEqual([]);
    expect(webhook.progressed).toEqual(['The ans']);
    expect(webhook.finished).toEqual([{ text: 'The answer.', kind: 'answer' }]);
    expect(heard).toEqual([expect.objectContaining({ channel: 'card', misconfigured: true })]);
  });

  it('delivers the whole text through the webhook when the card fails to finish', async () => {
    const card = stub('card', { finish: { retryable: true } });
    const webhook = stub('webhook');
    const { channel, heard } = fallback(card, webhook);
    await channel.open(roomyCallOptions());
    channel.progress('The');
    channel.progress('The answer');
    const report = await channel.finish('The answer, whole.', 'answer', roomyCallOptions());
    expect(report).toMatchObject({ channel: 'webhook', reached: 'all' });
    expect(card.progressed).toEqual(['The', 'The answer']);
    expect(webhook.opened).toBe(1);
    expect(webhook.finished).toEqual([{ text: 'The answer, whole.', kind: 'answer' }]);
    expect(heard.map((left) => left.channel)).toEqual(['card']);
  });

  it('sends through the OpenAPI when the session webhook has expired (at open or at finish)', async () => {
    const expiredAtOpen = fallback(stub('webhook', { open: { expired: true } }), stub('openapi'));
    await expiredAtOpen.channel.open(roomyCallOptions());
    await expect(expiredAtOpen.channel.finish('A', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'openapi', reached: 'all' });
    expect(expiredAtOpen.heard).toEqual([expect.objectContaining({ channel: 'webhook', expired: true })]);

    const openapi = stub('openapi');
    const expiredAtFinish = fallback(stub('webhook', { finish: { expired: true } }), openapi);
    await expiredAtFinish.channel.open(roomyCallOptions());
    await expect(expiredAtFinish.channel.finish('A', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'openapi', reached: 'all' });
    expect(openapi.finished).toEqual([{ text: 'A', kind: 'answer' }]);
    expect(expiredAtFinish.heard).toEqual([expect.objectContaining({ channel: 'webhook', expired: true })]);
  });

  it('opens the channels itself when finish comes without open (a notice)', async () => {
    const openapi = stub('openapi');
    const { channel } = fallback(stub('webhook', { open: { expired: true } }), openapi);
    await expect(channel.finish('help text', 'notice', roomyCallOptions())).resolves.toMatchObject({ channel: 'openapi', reached: 'all' });
    expect(openapi.opened).toBe(1);
    expect(openapi.finished).toEqual([{ text: 'help text', kind: 'notice' }]);
  });

  it('reports the retryable failure when every channel fails and one of them could succeed later', async () => {
    const { channel, heard } = fallback(
      stub('card', { finish: { misconfigured: true } }),
      stub('webhook', { finish: { retryable: true } }),
      stub('openapi', { finish: { misconfigured: true } }),
    );
    await channel.open(roomyCallOptions());
    await expect(channel.finish('A', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', reached: 'none', retryable: true });
    expect(heard.map((left) => left.channel)).toEqual(['card', 'webhook']);
  });

  it('reports the last failure when no channel could succeed later', async () => {
    const { channel } = fallback(stub('webhook', { finish: { expired: true } }), stub('openapi', { finish: { misconfigured: true } }));
    await expect(channel.finish('A', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'openapi', reached: 'none', retryable: false, misconfigured: true });
  });

  it('reports the refusal when no channel can even open, at open and again at a later finish', async () => {
    const webhook = stub('webhook', { open: { expired: true } });
    const { channel, heard } = fallback(webhook);
    await expect(channel.open(roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', expired: true });
    await expect(channel.finish('A', 'failure', roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', reached: 'none', expired: true });
    expect(webhook.finished).toEqual([]);
    expect(heard).toHaveLength(1);
  });

  it('keeps a channel that got part of the text through: no second channel repeats it', async () => {
    const webhook = stub('webhook');
    const { channel, heard } = fallback(stub('card', { finish: { reached: 'some' } }), webhook);
    await channel.open(roomyCallOptions());
    await expect(channel.finish('A', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'card', reached: 'some' });
    expect(webhook.opened).toBe(0);
    expect(heard).toEqual([]);
  });

  it('tells of each channel left behind once', async () => {
    const { channel, heard } = fallback(
      stub('card', { open: { retryable: true } }),
      stub('webhook', { finish: { expired: true } }),
      stub('openapi', { finish: { retryable: true } }),
    );
    await channel.open(roomyCallOptions());
    await channel.finish('A', 'answer', roomyCallOptions());
    expect(heard.map((left) => left.channel)).toEqual(['card', 'webhook']);
  });

  it('refuses to be built without a channel', () => {
    expect(() => fallbackChannel([], () => undefined)).toThrow(RangeError);
  });
});
