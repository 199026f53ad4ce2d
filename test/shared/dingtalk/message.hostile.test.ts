/** Odd values in optional fields that the fuzz test found; pinned here as plain examples. */
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
});
