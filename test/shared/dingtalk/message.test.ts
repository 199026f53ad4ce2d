import { parseIncomingMessage, type IncomingMessage, type MessageContent } from '../../../shared/dingtalk/message';
import { InvalidMessageError } from '../../../shared/errors';
import { dingtalkSample, dingtalkSampleNames } from '../../helpers/fixtures';
import { thrown } from '../../helpers/thrown';

/** The InvalidMessageError parseIncomingMessage throws for `body`. */
const invalid = (body: unknown): InvalidMessageError => thrown(InvalidMessageError, () => parseIncomingMessage(body));

/** What each reference sample must parse to: its content and conversation type. */
const EXPECTED: Record<string, { content: MessageContent; conversationType: '1' | '2' }> = {
  'text-1to1': { content: { kind: 'text', text: '你好，请介绍一下你自己' }, conversationType: '1' },
  'text-group-mention': { content: { kind: 'text', text: ' \\clear' }, conversationType: '2' },
  audio: { content: { kind: 'text', text: '明天上午十点提醒我开会' }, conversationType: '1' },
  'rich-text': {
    content: {
      kind: 'parts',
      parts: [
        { kind: 'text', text: '这张图里是什么？' },
        { kind: 'picture', downloadCode: 'downloadCodeExample111111111111' },
        { kind: 'text', text: '请简要说明' },
      ],
    },
    conversationType: '1',
  },
  picture: { content: { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'downloadCodeExample000000000000' }] }, conversationType: '1' },
};

describe('parseIncomingMessage on the reference samples', () => {
  it('has an expectation for every sample in the reference folder', () => {
    expect(dingtalkSampleNames().sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(dingtalkSampleNames())('parses the %s sample', (name) => {
    const sample = dingtalkSample(name);
    const message = parseIncomingMessage(sample);
    const expected = EXPECTED[name];
    if (expected === undefined) throw new Error(`no expectation for sample ${name}`);
    expect(message.content).toEqual(expected.content);
    expect(message.conversationType).toBe(expected.conversationType);
    expect(message.msgId).toBe(sample.msgId);
    expect(message.msgtype).toBe(sample.msgtype);
    expect(message.conversationId).toBe(sample.conversationId);
    expect(message.senderStaffId).toBe(sample.senderStaffId);
    expect(message.senderId).toBe(sample.senderId);
    expect(message.senderNick).toBe(sample.senderNick);
    expect(message.sessionWebhook).toBe(sample.sessionWebhook);
    expect(message.sessionWebhookExpiredTime).toBe(sample.sessionWebhookExpiredTime);
    expect(message.createAt).toBe(sample.createAt);
    expect(message.robotCode).toBe(sample.robotCode);
  });

  it('parses the 1:1 text sample into exactly the fields the bot uses', () => {
    const expected: IncomingMessage = {
      msgId: 'msgW1eLk8wQ7a1X2b3C4d5E6f7G==',
      msgtype: 'text',
      content: { kind: 'text', text: '你好，请介绍一下你自己' },
      conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==',
      conversationType: '1',
      senderStaffId: 'manager1234',
      senderId: '$:LWCP_v1:$senderIdExample00000000000',
      senderNick: '张三',
      sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=0123456789abcdef0123456789abcdef',
      sessionWebhookExpiredTime: 1732005400000,
      createAt: 1732000000000,
      robotCode: 'dingrobotcode000000',
      chatbotUserId: '$:LWCP_v1:$botUserIdExample0000000000',
    };
    expect(parseIncomingMessage(dingtalkSample('text-1to1'))).toEqual(expected);
  });

  it('keeps the leading space of a group mention and the group title', () => {
    const message = parseIncomingMessage(dingtalkSample('text-group-mention'));
    expect(message.content).toEqual({ kind: 'text', text: ' \\clear' });
    expect(message.conversationType).toBe('2');
    expect(message.conversationTitle).toBe('产品研发群');
  });

  it('reads who a group message mentions: isInAtList, atUsers and the robot\'s own id', () => {
    const message = parseIncomingMessage(dingtalkSample('text-group-mention'));
    expect(message.isInAtList).toBe(true);
    expect(message.atUsers).toEqual([{ dingtalkId: '$:LWCP_v1:$botUserIdExample0000000000' }]);
    expect(message.chatbotUserId).toBe('$:LWCP_v1:$botUserIdExample0000000000');
  });

  it('treats audio without a recognition as unsupported', () => {
    const sample = dingtalkSample('audio');
    sample.content = { duration: 3000, downloadCode: 'x', recognition: '  ' };
    expect(parseIncomingMessage(sample).content).toEqual({ kind: 'unsupported', msgtype: 'audio' });
  });

  it('treats rich text with neither text nor a picture as unsupported', () => {
    const sample = dingtalkSample('rich-text');
    sample.content = { richText: [{ type: 'at', atName: 'Bot', atUserId: 'bot' }, { text: '   ' }] };
    expect(parseIncomingMessage(sample).content).toEqual({ kind: 'unsupported', msgtype: 'richText' });
  });

  it('refuses a text message without text.content', () => {
    const sample = dingtalkSample('text-1to1');
    delete sample.text;
    expect(invalid(sample).message).toContain('text.content');
  });
});

describe('parseIncomingMessage on malformed bodies', () => {
  it.each(['msgId', 'conversationId', 'sessionWebhook', 'msgtype'])('refuses a message without %s, naming it', (field) => {
    const sample = dingtalkSample('text-1to1');
    delete sample[field];
    expect(invalid(sample).message).toContain(`"${field}"`);
  });

  it.each(['msgId', 'conversationId', 'sessionWebhook'])('refuses a blank or non-string %s, naming it', (field) => {
    for (const value of ['', '   ', 42, null, { id: 'x' }]) {
      const sample = dingtalkSample('text-1to1');
      sample[field] = value;
      expect(invalid(sample).message).toContain(`"${field}"`);
    }
  });

  it('refuses a message with neither senderStaffId nor senderId, naming both', () => {
    const sample = dingtalkSample('text-1to1');
    delete sample.senderStaffId;
    delete sample.senderId;
    const message = invalid(sample).message;
    expect(message).toContain('senderStaffId');
    expect(message).toContain('senderId');
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [dingtalkSample('text-1to1')]],
    ['a string', JSON.stringify(dingtalkSample('text-1to1'))],
    ['a number', 42],
    ['undefined', undefined],
  ])('refuses %s as the body', (_label, body) => {
    expect(invalid(body).kind).toBe('invalid-message');
  });

  it.each<[unknown, '1' | '2']>([
    [1, '1'],
    [2, '2'],
    ['1', '1'],
    ['2', '2'],
  ])('accepts conversationType %j', (value, expected) => {
    const sample = dingtalkSample('text-1to1');
    sample.conversationType = value;
    expect(parseIncomingMessage(sample).conversationType).toBe(expected);
  });

  it.each<unknown>([3, '3', 0, '', null, 'group'])('refuses conversationType %j', (value) => {
    const sample = dingtalkSample('text-1to1');
    sample.conversationType = value;
    expect(invalid(sample).message).toContain('"conversationType"');
  });

  it('refuses a message without conversationType', () => {
    const sample = dingtalkSample('text-1to1');
    delete sample.conversationType;
    expect(invalid(sample).message).toContain('"conversationType"');
  });

  it.each(['sticker', 'video', 'interactiveCard', 'markdown'])('answers unsupported for msgtype %s', (msgtype) => {
    const sample = dingtalkSample('text-1to1');
    sample.msgtype = msgtype;
    expect(parseIncomingMessage(sample).content).toEqual({ kind: 'unsupported', msgtype });
  });

  it.each(['not a url', '/robot/sendBySession?session=x', 'oapi.dingtalk.com/robot/sendBySession'])(
    'refuses the sessionWebhook %j that is not an absolute URL',
    (sessionWebhook) => {
      const sample = dingtalkSample('text-1to1');
      sample.sessionWebhook = sessionWebhook;
      expect(invalid(sample).message).toContain('"sessionWebhook"');
    },
  );

  it.each(['ftp://oapi.dingtalk.com/robot/sendBySession?session=x', 'file:///etc/passwd', 'javascript:alert(1)'])(
    'refuses the non-http(s) sessionWebhook %j',
    (sessionWebhook) => {
      const sample = dingtalkSample('text-1to1');
      sample.sessionWebhook = sessionWebhook;
      expect(invalid(sample).message).toContain('"sessionWebhook"');
    },
  );

  it('falls back on senderId when senderStaffId is absent', () => {
    const sample = dingtalkSample('text-1to1');
    delete sample.senderStaffId;
    const message = parseIncomingMessage(sample);
    expect(message.senderId).toBe('$:LWCP_v1:$senderIdExample00000000000');
    expect(message).not.toHaveProperty('senderStaffId');
  });

  it('uses senderStaffId as senderId when senderId is absent', () => {
    const sample = dingtalkSample('text-1to1');
    delete sample.senderId;
    const message = parseIncomingMessage(sample);
    expect(message.senderId).toBe('manager1234');
    expect(message.senderStaffId).toBe('manager1234');
  });

  it('accepts times sent as numeric strings', () => {
    const sample = dingtalkSample('text-1to1');
    sample.createAt = '1732000000000';
    sample.sessionWebhookExpiredTime = '1732005400000';
    const message = parseIncomingMessage(sample);
    expect(message.createAt).toBe(1732000000000);
    expect(message.sessionWebhookExpiredTime).toBe(1732005400000);
  });

  it.each<unknown>(['yesterday', -1, 1.5, '17e11'])('refuses createAt %j', (createAt) => {
    const sample = dingtalkSample('text-1to1');
    sample.createAt = createAt;
    expect(invalid(sample).message).toContain('"createAt"');
  });

  it('leaves optional fields out when they are absent, rather than undefined', () => {
    const sample = dingtalkSample('text-1to1');
    for (const field of ['senderNick', 'createAt', 'sessionWebhookExpiredTime', 'robotCode']) delete sample[field];
    const message = parseIncomingMessage(sample);
    for (const field of ['senderNick', 'createAt', 'sessionWebhookExpiredTime', 'robotCode', 'conversationTitle']) {
      expect(Object.keys(message)).not.toContain(field);
    }
  });
});
