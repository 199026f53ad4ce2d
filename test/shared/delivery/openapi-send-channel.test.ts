import { PART_INTERVAL_MS } from '../../../shared/delivery/channel';
import { createOpenApiSendChannel } from '../../../shared/delivery/openapi-send-channel';
import type { OpenSpace } from '../../../shared/dingtalk/openapi';
import { DingTalkApiError } from '../../../shared/errors';
import { dingTalkFailures, OpenApiDouble, roomyCallOptions } from '../../helpers/openapi-double';

const ROBOT: OpenSpace = { kind: 'robot', staffId: 'manager1234' };
const GROUP: OpenSpace = { kind: 'group', conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==' };

/** An answer of `paragraphs` paragraphs of about 1,500 characters. */
const longAnswer = (paragraphs: number): string =>
  Array.from({ length: paragraphs }, (_, n) => `## ${n + 1}\n\n${'很长的回答。'.repeat(250)}`).join('\n\n');

function setup(space: OpenSpace, asker: string | undefined = '张三') {
  const openApi = new OpenApiDouble();
  const sleeps: number[] = [];
  const channel = createOpenApiSendChannel(space, asker, { openApi, sleep: async (ms) => void sleeps.push(ms) });
  return { openApi, sleeps, channel };
}

describe('OpenAPI send channel', () => {
  it('sends a 1:1 answer to the robot chat of the asker as sampleMarkdown, unprefixed', async () => {
    const { openApi, channel } = setup(ROBOT);
    await expect(channel.open(roomyCallOptions())).resolves.toBeUndefined();
    await expect(channel.finish('## Answer\n\n42', 'answer', roomyCallOptions())).resolves.toMatchObject({ channel: 'openapi', reached: 'all' });
    expect(openApi.sent).toEqual([{ space: ROBOT, message: { msgKey: 'sampleMarkdown', msgParam: { title: 'Answer', text: '## Answer\n\n42' } } }]);
  });

  it('sends a group answer to the group, naming the asker at the top', async () => {
    const { openApi, channel } = setup(GROUP, '张三');
    await channel.finish('42', 'answer', roomyCallOptions());
    expect(openApi.sent).toEqual([{ space: GROUP, message: { msgKey: 'sampleMarkdown', msgParam: { title: '42', text: '@张三\n\n42' } } }]);
  });

  it('sends a long answer in numbered parts, paced, each part naming the asker in a group', async () => {
    const { openApi, sleeps, channel } = setup(GROUP, '张三');
    const report = await channel.finish(longAnswer(5), 'answer', roomyCallOptions(120_000));
    const texts = openApi.sentTexts();
    expect(texts.length).toBeGreaterThan(1);
    texts.forEach((text, n) => {
      expect(text.startsWith('@张三\n\n')).toBe(true);
      expect(text.length).toBeLessThanOrEqual(3_500);
      expect(text.endsWith(`(${n + 1}/${texts.length})`)).toBe(true);
    });
    expect(sleeps).toEqual(Array(texts.length - 1).fill(PART_INTERVAL_MS));
    expect(report).toMatchObject({ reached: 'all', fields: { parts: texts.length } });
  });

  it('reports a missing robot-send permission as misconfigured, reaching nothing', async () => {
    const { openApi, channel } = setup(ROBOT);
    openApi.failNext('sendMessage', () => dingTalkFailures.permission('/v1.0/robot/oToMessages/batchSend', 'qyapi_robot_sendmsg'));
    const report = await channel.finish('42', 'answer', roomyCallOptions());
    expect(report).toMatchObject({ channel: 'openapi', reached: 'none', misconfigured: true, retryable: false, expired: false });
    expect(report.error).toBeInstanceOf(DingTalkApiError);
  });

  it('reports throttling or a DingTalk failure as retryable', async () => {
    const { openApi, channel } = setup(ROBOT);
    openApi.failNext('sendMessage', () => dingTalkFailures.server('/v1.0/robot/oToMessages/batchSend'));
    await expect(channel.finish('42', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'none', retryable: true, misconfigured: false });
    openApi.failNext('sendMessage', () => dingTalkFailures.throttled('/v1.0/robot/oToMessages/batchSend'));
    await expect(channel.finish('42', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'none', retryable: true });
  });

  it('reports a used-up monthly quota as neither retryable nor misconfigured', async () => {
    const { openApi, channel } = setup(GROUP);
    openApi.failNext('sendMessage', () => dingTalkFailures.quota('/v1.0/robot/groupMessages/send'));
    await expect(channel.finish('42', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'none', retryable: false, misconfigured: false });
  });

  it('reports some parts through, not retryable, when a later part fails', async () => {
    const { openApi, channel } = setup(ROBOT);
    const send = openApi.sendMessage.bind(openApi);
    let calls = 0;
    openApi.sendMessage = async (space, message, options) => {
      calls += 1;
      if (calls === 2) throw dingTalkFailures.server('/v1.0/robot/oToMessages/batchSend');
      return send(space, message, options);
    };
    const report = await channel.finish(longAnswer(5), 'answer', roomyCallOptions());
    expect(report).toMatchObject({ reached: 'some', retryable: false, fields: expect.objectContaining({ partsSent: 1 }) });
  });
});
