/** Odd values in optional fields that the fuzz test found; pinned here as plain examples. */
import { parseCommand } from '../../../shared/core/commands';
import { toReplyTask } from '../../../shared/core/reply-task';
import { MAX_FILE_NAME_LENGTH, MAX_RICH_TEXT_ELEMENTS, parseIncomingMessage } from '../../../shared/dingtalk/message';
import { InvalidMessageError } from '../../../shared/errors';
import { dingtalkSample } from '../../helpers/fixtures';
import { guarantee } from '../../helpers/guarantee';

describe(guarantee('Hostile input: bodies (fuzzed)'), () => {
  it.each([' ', '\t\n', '\u3000'])('treats a blank senderStaffId (%j) as absent, so history is kept under senderId', (blank) => {
    const body = dingtalkSample('text-1to1');
    body.senderStaffId = blank;
    const message = parseIncomingMessage(body);
    expect(message).not.toHaveProperty('senderStaffId');
    expect(message.senderId).toBe(body.senderId);
  });

  it('refuses a message whose only sender ids are blank', () => {
    const body = dingtalkSample('text-1to1');
    body.senderStaffId = ' ';
    body.senderId = '  ';
    expect(() => parseIncomingMessage(body)).toThrow(/no usable sender/);
  });

  it('drops blank display fields instead of carrying them', () => {
    const body = dingtalkSample('text-group-mention');
    Object.assign(body, { senderNick: ' ', conversationTitle: '\n', robotCode: '  ' });
    const message = parseIncomingMessage(body);
    expect(message).not.toHaveProperty('senderNick');
    expect(message).not.toHaveProperty('conversationTitle');
    expect(message).not.toHaveProperty('robotCode');
  });

  it('removes 12,000 repeated robot mentions quickly, and keeps a user\'s @word behind a mile of spaces', () => {
    const started = Date.now();
    const body = { ...dingtalkSample('text-group-mention'), text: { content: '@Bot '.repeat(12_000) + 'hi' } };
    expect(parseIncomingMessage(body, { robotNames: ['Bot'] }).content).toEqual({ kind: 'text', text: ' hi' });
    const spaces = { ...dingtalkSample('text-group-mention'), text: { content: ' '.repeat(60_000) + '@Override' } };
    expect(parseIncomingMessage(spaces, { robotNames: ['Bot'] }).content).toEqual({ kind: 'text', text: ' '.repeat(60_000) + '@Override' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it.each<[string, string, string]>([
    ['60,000 zero-width spaces around a command', '\u200b'.repeat(30_000) + '\\clear' + '\u200b'.repeat(30_000), 'clear'],
    ['a command followed by 60,000 punctuation marks and a letter', '/clear' + '!'.repeat(60_000) + 'x', 'chat'],
    ['a prefix and a 60,000-letter word', '/' + 'a'.repeat(60_000) + ' b', 'chat'],
  ])('reads %s quickly, as %s', (_what, text, kind) => {
    const started = Date.now();
    const command = parseCommand(text);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(command.kind).toBe(kind);
  });

  it(`reads a rich text of ${MAX_RICH_TEXT_ELEMENTS} pictures quickly and hands on ${20} of them`, () => {
    const started = Date.now();
    const richText = Array.from({ length: MAX_RICH_TEXT_ELEMENTS }, (_, index) => ({ type: 'picture', downloadCode: `dc${index}` }));
    const message = parseIncomingMessage({ ...dingtalkSample('rich-text'), content: { richText } });
    const task = toReplyTask(message, 1);
    expect(task.content.kind === 'parts' && task.content.parts.filter((part) => part.kind === 'picture')).toHaveLength(20);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a quoted rich text with more elements than a message may have, naming it', () => {
    const richText = Array.from({ length: MAX_RICH_TEXT_ELEMENTS + 1 }, () => ({ text: 'x' }));
    const body = { ...dingtalkSample('more/text-reply-quote'), text: { content: '?', isReplyMsg: true, repliedMsg: { msgType: 'richText', msgId: 'm', content: { richText } } } };
    expect(() => parseIncomingMessage(body)).toThrow(InvalidMessageError);
    expect(() => parseIncomingMessage(body)).toThrow(/text\.repliedMsg\.content\.richText/);
  });

  it('refuses a file name of 60,000 path separators, and shortens the base name of a long path, quickly', () => {
    const started = Date.now();
    const body = { ...dingtalkSample('more/file'), content: { downloadCode: 'dc', fileName: '/'.repeat(60_000) + 'a.txt' } };
    // Longer than any id: refused as a field over the bound, before any path work.
    expect(() => parseIncomingMessage(body)).toThrow(/"content\.fileName"/);
    const shorter = { ...dingtalkSample('more/file'), content: { downloadCode: 'dc', fileName: '/\\'.repeat(100) + 'x'.repeat(MAX_FILE_NAME_LENGTH * 2) + '.txt' } };
    const content = parseIncomingMessage(shorter).content;
    expect(content.kind === 'file' && content.fileName).toBe('x'.repeat(MAX_FILE_NAME_LENGTH - 4) + '.txt');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a download code longer than any DingTalk id in a picture, a rich text, a file and a quote', () => {
    const code = 'c'.repeat(5000);
    for (const body of [
      { ...dingtalkSample('picture'), content: { downloadCode: code } },
      { ...dingtalkSample('rich-text'), content: { richText: [{ type: 'picture', downloadCode: code }] } },
      { ...dingtalkSample('more/file'), content: { downloadCode: code, fileName: 'a.txt' } },
      { ...dingtalkSample('more/text-reply-quote'), text: { content: '?', isReplyMsg: true, repliedMsg: { msgType: 'picture', content: { downloadCode: code } } } },
    ]) {
      expect(() => parseIncomingMessage(body)).toThrow(/downloadCode/);
    }
  });
});
