import { formatReply, markdownTitle } from '../../../shared/dingtalk/outgoing';

describe('formatReply', () => {
  it('answers a one-to-one chat with markdown and no @', () => {
    const message = formatReply('**Hello** there', { conversationType: '1', senderStaffId: 'manager1234' });
    expect(message).toEqual({ msgtype: 'markdown', markdown: { title: 'Hello there', text: '**Hello** there' } });
    expect(message).not.toHaveProperty('at');
  });

  it('@s the asker in a group, in the text and in at.atUserIds', () => {
    const message = formatReply('Here is the answer.', { conversationType: '2', senderStaffId: 'user5678' });
    expect(message.msgtype).toBe('markdown');
    if (message.msgtype !== 'markdown') throw new Error('expected markdown');
    expect(message.markdown.text.startsWith('@user5678')).toBe(true);
    expect(message.markdown.text).toBe('@user5678\n\nHere is the answer.');
    expect(message.markdown.title).toBe('Here is the answer.');
    expect(message.at).toEqual({ atUserIds: ['user5678'] });
  });

  it('does not @ anyone in a group when the asker has no staff id', () => {
    const message = formatReply('Here is the answer.', { conversationType: '2' });
    expect(message).toEqual({ msgtype: 'markdown', markdown: { title: 'Here is the answer.', text: 'Here is the answer.' } });
    expect(message).not.toHaveProperty('at');
  });
});

describe('markdownTitle', () => {
  it('takes the first meaningful line without markdown symbols', () => {
    expect(markdownTitle('\n\n---\n# **Answer**: `x`\nmore text')).toBe('Answer: x');
    expect(markdownTitle('> quoted _line_\nsecond')).toBe('quoted line');
  });

  it('keeps a title of exactly 24 characters', () => {
    const title = 'abcdefghijklmnopqrstuvwx';
    expect(markdownTitle(title)).toBe(title);
  });

  it('cuts a longer line to 24 characters ending with …', () => {
    const title = markdownTitle('abcdefghijklmnopqrstuvwxyz0123');
    expect(title).toBe('abcdefghijklmnopqrstuvw…');
    expect(Array.from(title)).toHaveLength(24);
  });

  it('counts Chinese characters and emoji as one character each', () => {
    const chinese = markdownTitle('这是一个非常长的标题，用来测试截断是否按照字符而不是字节进行');
    expect(chinese).toBe('这是一个非常长的标题，用来测试截断是否按照字符…');
    expect(Array.from(chinese)).toHaveLength(24);
    const emoji = markdownTitle('😀'.repeat(30));
    expect(emoji).toBe(`${'😀'.repeat(23)}…`);
  });

  it("answers 'Reply' when there is no meaningful line", () => {
    expect(markdownTitle('')).toBe('Reply');
    expect(markdownTitle('   \n---\n***\n> \n')).toBe('Reply');
  });
});
