import { FLOW_STATUS, type CardSettings } from '../../../shared/delivery/card-channel';
import type { DeliveryReport } from '../../../shared/delivery/channel';
import { cardTrackId, channelFor, openSpaceOf, type DeliveryServices, type MessageAddress } from '../../../shared/delivery/channels-for';
import { ManualClock, RecordingWebhook } from '../../helpers/ports';
import { dingTalkFailures, OpenApiDouble, roomyCallOptions } from '../../helpers/openapi-double';

const NOW = Date.UTC(2026, 0, 5, 9, 0, 0);
const CARD: CardSettings = { templateId: 'tpl-0001.schema', contentKey: 'content', updateIntervalMs: 500 };

const oneToOne: MessageAddress = {
  msgId: 'msgA1',
  conversationId: 'cidOneToOne==',
  conversationType: '1',
  userId: 'manager1234',
  senderStaffId: 'manager1234',
  senderNick: '张三',
  sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=1',
  sessionWebhookExpiredTime: NOW + 60_000,
};
const group: MessageAddress = { ...oneToOne, msgId: 'msgG1', conversationId: 'cidGroup==', conversationType: '2' };

function setup(options: { openApi?: boolean; card?: boolean } = {}) {
  const clock = new ManualClock(NOW);
  const webhook = new RecordingWebhook();
  const openApi = new OpenApiDouble(clock);
  const services: DeliveryServices = {
    webhook,
    clock,
    sleep: async () => undefined,
    ...(options.openApi !== false ? { openApi } : {}),
    ...(options.card !== false && options.openApi !== false ? { card: CARD } : {}),
  };
  const heard: DeliveryReport[] = [];
  const make = (address: MessageAddress, kind: 'answer' | 'notice' | 'failure' = 'answer', resumed = false) =>
    channelFor(address, kind, services, { resumed, onFallback: (report) => heard.push(report) });
  return { clock, webhook, openApi, make, heard };
}

describe('channelFor', () => {
  it('streams a 1:1 answer into a card in the robot chat of the asker', async () => {
    const { openApi, webhook, make } = setup();
    const channel = make(oneToOne);
    await expect(channel.open(roomyCallOptions())).resolves.toBeUndefined();
    await expect(channel.finish('42', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'card', reached: 'all' });
    expect(openApi.card(cardTrackId(oneToOne))).toMatchObject({ space: { kind: 'robot', staffId: 'manager1234' }, text: '42', finalized: true });
    expect(webhook.sent).toEqual([]);
  });

  it('streams a group answer into a card in the group, with the asker to @', async () => {
    const { openApi, make } = setup();
    const channel = make(group);
    await channel.open(roomyCallOptions());
    await channel.finish('42', 'answer', roomyCallOptions());
    expect(openApi.card(cardTrackId(group)).space).toEqual({ kind: 'group', conversationId: 'cidGroup==', atUsers: { manager1234: '张三' } });
  });

  it('delivers the whole answer through the session webhook when the card cannot be created, and says why', async () => {
    const { openApi, webhook, make, heard } = setup();
    openApi.failAlways('createAndDeliverCard', () => dingTalkFailures.permission());
    const channel = make(oneToOne);
    await expect(channel.open(roomyCallOptions())).resolves.toBeUndefined();
    channel.progress('4');
    await expect(channel.finish('42', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', reached: 'all' });
    expect(webhook.texts()).toEqual(['42']);
    expect(heard).toEqual([expect.objectContaining({ channel: 'card', misconfigured: true })]);
  });

  it('delivers the whole answer through the session webhook when the card cannot be finished', async () => {
    const { openApi, webhook, make } = setup();
    const channel = make(oneToOne);
    await channel.open(roomyCallOptions());
    openApi.failAlways('streamCard', () => dingTalkFailures.server());
    await expect(channel.finish('The whole answer.', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', reached: 'all' });
    expect(webhook.texts()).toEqual(['The whole answer.']);
  });

  it('sends through the robot OpenAPI to the 1:1 chat when the session webhook has expired', async () => {
    const { clock, openApi, webhook, make } = setup({ card: false });
    clock.advance(60_000);
    const channel = make(oneToOne);
    await channel.open(roomyCallOptions());
    await expect(channel.finish('42', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'openapi', reached: 'all' });
    expect(webhook.sent).toEqual([]);
    expect(openApi.sent).toEqual([{ space: { kind: 'robot', staffId: 'manager1234' }, message: expect.objectContaining({ msgKey: 'sampleMarkdown', msgParam: { title: '42', text: '42' } }) }]);
  });

  it('sends through the robot OpenAPI to the group, naming the asker, when the session webhook has expired', async () => {
    const { clock, openApi, make } = setup({ card: false });
    clock.advance(60_000);
    const channel = make(group);
    await channel.open(roomyCallOptions());
    await channel.finish('42', 'answer', roomyCallOptions());
    expect(openApi.sent).toEqual([
      { space: expect.objectContaining({ kind: 'group', conversationId: 'cidGroup==' }), message: { msgKey: 'sampleMarkdown', msgParam: { title: '42', text: '@张三\n\n42' } } },
    ]);
  });

  it('never makes a card for a notice or a failure sent without a channel', async () => {
    const { openApi, webhook, make } = setup();
    const channel = make(oneToOne, 'notice');
    await channel.finish('help', 'notice', roomyCallOptions());
    expect(openApi.cards.size).toBe(0);
    expect(webhook.texts()).toEqual(['help']);
  });

  it('is the session webhook alone without DINGTALK_CLIENT_ID: an expired session stays undelivered', async () => {
    const { clock, webhook, make } = setup({ openApi: false });
    clock.advance(60_000);
    const channel = make(oneToOne);
    await expect(channel.open(roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', expired: true });
    await expect(channel.finish('42', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'webhook', reached: 'none', expired: true });
    expect(webhook.sent).toEqual([]);
  });

  it('makes no card and no OpenAPI send for a 1:1 sender outside the organisation (no staff id)', async () => {
    const outsider: MessageAddress = { ...oneToOne, senderStaffId: undefined, userId: '$:LWCP_v1:$outsider' };
    expect(openSpaceOf(outsider)).toBeUndefined();
    const { openApi, webhook, make } = setup();
    const channel = make(outsider);
    await channel.open(roomyCallOptions());
    await channel.finish('42', 'answer', roomyCallOptions());
    expect(openApi.calls).toEqual([]);
    expect(webhook.texts()).toEqual(['42']);
  });

  it('passes resumed to the card, so a retry finishes the card its first run made', async () => {
    const { openApi, make } = setup();
    const first = make(oneToOne);
    await first.open(roomyCallOptions());
    const retry = make(oneToOne, 'answer', true);
    await expect(retry.open(roomyCallOptions())).resolves.toBeUndefined();
    await retry.finish('42', 'answer', roomyCallOptions());
    expect(openApi.cards.size).toBe(1);
    expect(openApi.card(cardTrackId(oneToOne)).params.flowStatus).toBe(FLOW_STATUS.finished);
  });
});

describe('cardTrackId', () => {
  it('is the same for every delivery of one message, different for another message, sender or conversation, and personal-data free', () => {
    const id = cardTrackId(oneToOne);
    expect(cardTrackId({ ...oneToOne })).toBe(id);
    expect(cardTrackId({ ...oneToOne, msgId: 'msgA2' })).not.toBe(id);
    expect(cardTrackId({ ...oneToOne, userId: 'someone-else' })).not.toBe(id);
    expect(cardTrackId({ ...oneToOne, conversationId: 'cidOther==' })).not.toBe(id);
    expect(id).toMatch(/^dtllm-[0-9a-f]{32}$/);
    expect(id).not.toContain('manager1234');
  });
});
