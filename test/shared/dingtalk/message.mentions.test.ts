/**
 * Mentions: DingTalk removes the robot's linked @-mention from a text message itself (the group sample
 * starts with the space it leaves), so `@words` in the text are the user's. The parser removes only
 * a leading `@<robot name>` DingTalk left, in a group message that mentions the robot, and never
 * touches a 1:1 message.
 */
import { parseCommand } from '../../../shared/core/commands';
import { MAX_AT_USERS, mentionsRobot, parseIncomingMessage, stripRobotMentions, type ParseOptions } from '../../../shared/dingtalk/message';
import { InvalidMessageError } from '../../../shared/errors';
import { dingtalkSample } from '../../helpers/fixtures';
import { thrown } from '../../helpers/thrown';

const ROBOT_ID = '$:LWCP_v1:$botUserIdExample0000000000';
const ALICE = { dingtalkId: '$:LWCP_v1:$aliceExample000000000000', staffId: 'alice01' };
const NAMED: ParseOptions = { robotNames: ['钉钉助手', 'Bot'] };

/** The text the parser hands on for a 1:1 message saying `content`. */
function oneToOne(content: string, options: ParseOptions = NAMED): string {
  const body = dingtalkSample('text-1to1');
  body.text = { content };
  const message = parseIncomingMessage(body, options);
  if (message.content.kind !== 'text') throw new Error('expected text');
  return message.content.text;
}

/** The text the parser hands on for a group message saying `content` (the robot mentioned, as in the sample). */
function group(content: string, changes: Record<string, unknown> = {}, options: ParseOptions = NAMED): string {
  const body = { ...dingtalkSample('text-group-mention'), text: { content }, ...changes };
  const message = parseIncomingMessage(body, options);
  if (message.content.kind !== 'text') throw new Error('expected text');
  return message.content.text;
}

describe('parseIncomingMessage in 1:1 chats: the text reaches the bot as typed', () => {
  it('keeps "@Override what does this annotation do in Java?" whole, and it reaches the LLM whole', () => {
    const text = '@Override what does this annotation do in Java?';
    expect(oneToOne(text)).toBe(text);
    expect(parseCommand(oneToOne(text))).toEqual({ kind: 'chat', text });
  });

  it('keeps a lone "@Override", which is a question for the LLM, not a request for help', () => {
    expect(oneToOne('@Override')).toBe('@Override');
    expect(parseCommand(oneToOne('@Override'))).toEqual({ kind: 'chat', text: '@Override' });
  });

  it('removes nothing even when the text starts with the robot\'s own name and the body claims a mention', () => {
    const body = { ...dingtalkSample('text-1to1'), text: { content: '@Bot hello' }, isInAtList: true, atUsers: [{ dingtalkId: ROBOT_ID }] };
    expect(parseIncomingMessage(body, NAMED).content).toEqual({ kind: 'text', text: '@Bot hello' });
  });

  it('keeps a voice message recognised as "@bot"', () => {
    const body = { ...dingtalkSample('audio'), content: { duration: 800, downloadCode: 'dc', recognition: '@bot' } };
    expect(parseIncomingMessage(body, NAMED).content).toEqual({ kind: 'text', text: '@bot' });
  });
});

describe('parseIncomingMessage in groups: only the robot\'s mention goes', () => {
  it('keeps the text of the sample, where DingTalk already removed the mention, and reads its command', () => {
    expect(group(' \\clear')).toBe(' \\clear');
    expect(parseCommand(group(' \\clear'))).toEqual({ kind: 'clear' });
  });

  it('keeps a user\'s own @word that is not the robot: "@Override …" reaches the LLM whole', () => {
    expect(group(' @Override what does this annotation do?')).toBe(' @Override what does this annotation do?');
  });

  it('keeps the @name of another member the user typed, with the robot\'s name configured', () => {
    expect(group(' @Alice please review', { atUsers: [{ dingtalkId: ROBOT_ID }, ALICE] })).toBe(' @Alice please review');
  });

  it('removes nothing when no robot name is configured, whatever the text starts with', () => {
    expect(group('@钉钉助手 hello', {}, {})).toBe('@钉钉助手 hello');
  });

  it.each<[string, string, string]>([
    ['the robot\'s Chinese name', '@钉钉助手 \\clear', ' \\clear'],
    ['the robot\'s name in another case', '@bot hello', ' hello'],
    ['a full-width at sign', '＠Bot hello', ' hello'],
    ['the name repeated', ' @Bot @Bot hi', ' hi'],
    ['a CJK name glued to the text', '@钉钉助手你好', '你好'],
    ['an ASCII name glued to CJK text', '@Bot你好', '你好'],
    ['the name alone', '@Bot', ''],
    ['the name then another member', '@Bot @Alice hi', ' @Alice hi'],
  ])('removes a leading mention DingTalk left, %s: %j', (_what, content, expected) => {
    expect(group(content)).toBe(expected);
  });

  it.each<[string, string]>([
    ['a longer word that starts with the name', '@Botany is a science'],
    ['the name followed by a digit', '@Bot2 is another robot'],
    ['the name not at the start', 'hello @Bot'],
    ['a name that is a user\'s word', '@Override what is this'],
  ])('keeps %s: %j', (_what, content) => {
    expect(group(content)).toBe(content);
  });

  it('removes the robot\'s name only when the message mentions the robot', () => {
    const notMentioned = { isInAtList: false, atUsers: [ALICE] };
    expect(group('@Bot hello', notMentioned)).toBe('@Bot hello');
  });

  it('knows the robot is mentioned from atUsers alone, when isInAtList is absent', () => {
    const body: Record<string, unknown> = { ...dingtalkSample('text-group-mention'), text: { content: '@Bot hello' } };
    delete body.isInAtList;
    expect(parseIncomingMessage(body, NAMED).content).toEqual({ kind: 'text', text: ' hello' });
  });

  it('removes the robot\'s name from a group rich-text message', () => {
    const body = {
      ...dingtalkSample('text-group-mention'),
      msgtype: 'richText',
      text: undefined,
      content: { richText: [{ text: '@Bot 这张图里是什么？' }, { downloadCode: 'dc', type: 'picture' }] },
    };
    expect(parseIncomingMessage(body, NAMED).content).toEqual({
      kind: 'parts',
      parts: [
        { kind: 'text', text: ' 这张图里是什么？' },
        { kind: 'picture', downloadCode: 'dc' },
      ],
    });
  });

  it('removes the robot\'s name from a group rich-text message without pictures, which is text', () => {
    const body = { ...dingtalkSample('text-group-mention'), msgtype: 'richText', text: undefined, content: { richText: [{ text: '@Bot \\clear' }] } };
    expect(parseIncomingMessage(body, NAMED).content).toEqual({ kind: 'text', text: ' \\clear' });
  });

  it('hands a command after the robot\'s name to the command parser', () => {
    expect(parseCommand(group('@Bot 、清除'))).toEqual({ kind: 'clear' });
  });
});

describe('mentionsRobot', () => {
  it.each<[string, Parameters<typeof mentionsRobot>[0], boolean]>([
    ['isInAtList', { isInAtList: true }, true],
    ['the robot among atUsers', { chatbotUserId: ROBOT_ID, atUsers: [ALICE, { dingtalkId: ROBOT_ID }] }, true],
    ['only other members in atUsers', { chatbotUserId: ROBOT_ID, atUsers: [ALICE], isInAtList: false }, false],
    ['atUsers without the robot\'s id to compare', { atUsers: [{ dingtalkId: ROBOT_ID }] }, false],
    ['nothing', {}, false],
  ])('%s', (_what, message, expected) => {
    expect(mentionsRobot(message)).toBe(expected);
  });
});

describe('stripRobotMentions', () => {
  it('matches names as text, not as patterns', () => {
    expect(stripRobotMentions('@C++ Bot hi', ['C++ Bot'])).toBe(' hi');
    expect(stripRobotMentions('@anything hi', ['.*'])).toBe('@anything hi');
  });

  it('ignores blank names', () => {
    expect(stripRobotMentions('@ hi', ['', '  '])).toBe('@ hi');
  });

  it('prefers the longest name', () => {
    expect(stripRobotMentions('@Bot Pro hi', ['Bot', 'Bot Pro'])).toBe(' hi');
  });
});

describe('parseIncomingMessage on the mention fields', () => {
  const invalid = (changes: Record<string, unknown>): InvalidMessageError =>
    thrown(InvalidMessageError, () => parseIncomingMessage({ ...dingtalkSample('text-group-mention'), ...changes }));

  it('keeps an at user\'s staffId and drops a blank one', () => {
    const body = { ...dingtalkSample('text-group-mention'), atUsers: [ALICE, { dingtalkId: 'x', staffId: ' ' }, { dingtalkId: 'y', staffId: null }] };
    expect(parseIncomingMessage(body).atUsers).toEqual([ALICE, { dingtalkId: 'x' }, { dingtalkId: 'y' }]);
  });

  it('leaves the mention fields out when they are absent or null', () => {
    const body: Record<string, unknown> = { ...dingtalkSample('text-group-mention'), atUsers: null, isInAtList: null };
    delete body.chatbotUserId;
    const message = parseIncomingMessage(body);
    for (const field of ['atUsers', 'isInAtList', 'chatbotUserId']) expect(Object.keys(message)).not.toContain(field);
  });

  it.each<[unknown, boolean]>([
    [true, true],
    [false, false],
    ['true', true],
    ['false', false],
  ])('reads isInAtList %j as %j', (value, expected) => {
    expect(parseIncomingMessage({ ...dingtalkSample('text-group-mention'), isInAtList: value }).isInAtList).toBe(expected);
  });

  it.each<unknown>(['yes', 1, {}, []])('refuses isInAtList %j, naming it', (value) => {
    expect(invalid({ isInAtList: value }).message).toContain('"isInAtList"');
  });

  it.each<unknown>(['$:LWCP_v1:$x', { dingtalkId: 'x' }, 42])('refuses atUsers %j that is not a list', (value) => {
    expect(invalid({ atUsers: value }).message).toContain('"atUsers"');
  });

  it.each<[unknown, string]>([
    ['x', '"atUsers[0]"'],
    [null, '"atUsers[0]"'],
    [{}, '"atUsers[0].dingtalkId"'],
    [{ dingtalkId: ' ' }, '"atUsers[0].dingtalkId"'],
    [{ dingtalkId: 7 }, '"atUsers[0].dingtalkId"'],
    [{ dingtalkId: 'x', staffId: 7 }, '"atUsers[0].staffId"'],
  ])('refuses the at user %j, naming %s', (entry, field) => {
    expect(invalid({ atUsers: [entry] }).message).toContain(field);
  });

  it('refuses more than MAX_AT_USERS at users, and accepts that many', () => {
    const users = Array.from({ length: MAX_AT_USERS }, (_, index) => ({ dingtalkId: `id${index}` }));
    expect(parseIncomingMessage({ ...dingtalkSample('text-group-mention'), atUsers: users }).atUsers).toHaveLength(MAX_AT_USERS);
    expect(invalid({ atUsers: [...users, { dingtalkId: 'one more' }] }).message).toContain('"atUsers"');
  });
});
