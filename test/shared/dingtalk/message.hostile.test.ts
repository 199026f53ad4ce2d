/** Odd values in optional fields that the fuzz test found; pinned here as plain examples. */
import { parseCommand } from '../../../shared/core/commands';
import { parseIncomingMessage } from '../../../shared/dingtalk/message';
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
});
