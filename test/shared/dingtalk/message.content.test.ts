/**
 * What the parser makes of pictures, rich text, files, voice and quoted messages: typed values the reply
 * function can act on, and a refusal naming the field when DingTalk's shape is broken.
 */
import {
  MAX_FILE_NAME_LENGTH,
  MAX_RICH_TEXT_ELEMENTS,
  parseIncomingMessage,
  type MessageContent,
  type ParseOptions,
} from '../../../shared/dingtalk/message';
import { InvalidMessageError } from '../../../shared/errors';
import { dingtalkSample } from '../../helpers/fixtures';
import { thrown } from '../../helpers/thrown';

/** The content of `sample` with `changes` applied at the top level. */
function contentOf(sample: string, changes: Record<string, unknown> = {}, options: ParseOptions = {}): MessageContent {
  return parseIncomingMessage({ ...dingtalkSample(sample), ...changes }, options).content;
}

/** The InvalidMessageError's message for `sample` with `changes`. */
function refusal(sample: string, changes: Record<string, unknown>): string {
  return thrown(InvalidMessageError, () => parseIncomingMessage({ ...dingtalkSample(sample), ...changes })).message;
}

const richText = (...elements: unknown[]): Record<string, unknown> => ({ content: { richText: elements } });
const quoting = (repliedMsg: unknown, text: Record<string, unknown> = {}): Record<string, unknown> => ({
  text: { content: '这是什么意思？', isReplyMsg: true, repliedMsg, ...text },
});

describe('parseIncomingMessage on pictures', () => {
  it('reads a picture message as one picture part with its download code', () => {
    expect(contentOf('picture')).toEqual({ kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'downloadCodeExample000000000000' }] });
  });

  it('falls back on pictureDownloadCode when downloadCode is absent', () => {
    expect(contentOf('picture', { content: { pictureDownloadCode: 'dc-pic' } })).toEqual({
      kind: 'parts',
      parts: [{ kind: 'picture', downloadCode: 'dc-pic' }],
    });
  });

  it.each<[string, unknown, string]>([
    ['no content', undefined, '"content.downloadCode"'],
    ['content that is a string', 'downloadCode', '"content"'],
    ['a blank download code', { downloadCode: '  ' }, '"content.downloadCode"'],
    ['a numeric download code', { downloadCode: 42 }, '"content.downloadCode"'],
    ['a download code of 2,000 characters', { downloadCode: 'c'.repeat(2000) }, '"content.downloadCode"'],
  ])('refuses a picture with %s, naming the field', (_what, content, field) => {
    expect(refusal('picture', { content })).toContain(field);
  });
});

describe('parseIncomingMessage on rich text', () => {
  it('keeps text and pictures in the order the user wrote them and drops @ elements', () => {
    const content = contentOf(
      'rich-text',
      richText({ type: 'at', atName: '张三', atUserId: 'u1' }, { text: '看' }, { type: 'picture', downloadCode: 'p1' }, { type: 'picture', downloadCode: 'p2' }, { text: '和' }, { type: 'text', text: '这个' }),
    );
    expect(content).toEqual({
      kind: 'parts',
      parts: [
        { kind: 'text', text: '看' },
        { kind: 'picture', downloadCode: 'p1' },
        { kind: 'picture', downloadCode: 'p2' },
        { kind: 'text', text: '和\n这个' },
      ],
    });
  });

  it('leaves out blank text elements such as the line breaks DingTalk sends as their own elements', () => {
    expect(contentOf('rich-text', richText({ text: 'abcd' }, { text: '\n' }, { type: 'picture', downloadCode: 'p1' }, { text: '\n' }))).toEqual({
      kind: 'parts',
      parts: [
        { kind: 'text', text: 'abcd' },
        { kind: 'picture', downloadCode: 'p1' },
      ],
    });
  });

  it('reads a rich text of pictures only as picture parts', () => {
    expect(contentOf('rich-text', richText({ type: 'picture', downloadCode: 'p1' }, { text: ' ' }))).toEqual({
      kind: 'parts',
      parts: [{ kind: 'picture', downloadCode: 'p1' }],
    });
  });

  it('reads a rich text without pictures as text, its lines joined, so commands and history treat it as text', () => {
    expect(contentOf('rich-text', richText({ text: '第一行' }, { type: 'at', atName: 'x' }, { text: '第二行' }))).toEqual({ kind: 'text', text: '第一行\n第二行' });
  });

  it('drops elements of a type it does not know that carry no text', () => {
    expect(contentOf('rich-text', richText({ type: 'video', downloadCode: 'v1' }, { text: 'hi' }))).toEqual({ kind: 'text', text: 'hi' });
  });

  it('reads a picture element whose code is only in pictureDownloadCode', () => {
    expect(contentOf('rich-text', richText({ type: 'picture', pictureDownloadCode: 'pp' }))).toEqual({
      kind: 'parts',
      parts: [{ kind: 'picture', downloadCode: 'pp' }],
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['content.richText that is not a list', { content: { richText: { text: 'x' } } }, '"content.richText"'],
    ['an element that is not an object', richText({ text: 'a' }, 'b'), '"content.richText[1]"'],
    ['a numeric text', richText({ text: 7 }), '"content.richText[0].text"'],
    ['a picture without a download code', richText({ text: 'a' }, { type: 'picture' }), '"content.richText[1].downloadCode"'],
    ['a numeric type', richText({ type: 1, text: 'a' }), '"content.richText[0].type"'],
    [`more than ${MAX_RICH_TEXT_ELEMENTS} elements`, richText(...Array.from({ length: MAX_RICH_TEXT_ELEMENTS + 1 }, () => ({ text: 'a' }))), 'content.richText'],
  ])('refuses a rich text with %s, naming the field', (_what, changes, field) => {
    expect(refusal('rich-text', changes)).toContain(field);
  });

  it('accepts exactly the most elements allowed', () => {
    const elements = Array.from({ length: MAX_RICH_TEXT_ELEMENTS }, (_, index) => (index % 2 === 0 ? { text: `t${index}` } : { type: 'picture', downloadCode: `p${index}` }));
    const content = contentOf('rich-text', richText(...elements));
    expect(content.kind === 'parts' && content.parts).toHaveLength(MAX_RICH_TEXT_ELEMENTS);
  });
});

describe('parseIncomingMessage on files', () => {
  it('reads a file message as its download code and name', () => {
    expect(contentOf('more/file')).toEqual({ kind: 'file', downloadCode: 'downloadCodeExample333333333333', fileName: 'error-log.txt' });
  });

  it.each<[string, string, string]>([
    ['a Unix path', '../../etc/passwd', 'passwd'],
    ['a Windows path', 'C:\\Users\\me\\report.csv', 'report.csv'],
    ['a name with a line break and a tab', 'bad\nname\t.txt', 'badname.txt'],
    ['a right-to-left override hiding the extension', 'invoice\u202egpj.exe', 'invoicegpj.exe'],
    ['surrounding spaces', '  notes.md  ', 'notes.md'],
    ['a Chinese name', '季度报告.pdf', '季度报告.pdf'],
  ])('keeps only the base name of %s', (_what, fileName, expected) => {
    expect(contentOf('more/file', { content: { downloadCode: 'dc', fileName } })).toEqual({ kind: 'file', downloadCode: 'dc', fileName: expected });
  });

  it(`shortens a name over ${MAX_FILE_NAME_LENGTH} characters and keeps its extension`, () => {
    const content = contentOf('more/file', { content: { downloadCode: 'dc', fileName: `${'长'.repeat(600)}.json` } });
    expect(content).toEqual({ kind: 'file', downloadCode: 'dc', fileName: `${'长'.repeat(MAX_FILE_NAME_LENGTH - 5)}.json` });
  });

  it('shortens a long name without an extension on a character boundary', () => {
    const content = contentOf('more/file', { content: { downloadCode: 'dc', fileName: '😀'.repeat(300) } });
    expect(content.kind === 'file' && content.fileName).toBe('😀'.repeat(MAX_FILE_NAME_LENGTH));
  });

  it.each<[string, unknown, string]>([
    ['no content', undefined, '"content.downloadCode"'],
    ['no file name', { downloadCode: 'dc' }, '"content.fileName"'],
    ['a numeric file name', { downloadCode: 'dc', fileName: 5 }, '"content.fileName"'],
    ['a file name that is only a path', { downloadCode: 'dc', fileName: 'a/b/' }, '"content.fileName"'],
    ['the file name ".."', { downloadCode: 'dc', fileName: '..' }, '"content.fileName"'],
    ['a file name of control characters', { downloadCode: 'dc', fileName: '\u0000\u0001' }, '"content.fileName"'],
    ['no download code', { fileName: 'a.txt' }, '"content.downloadCode"'],
  ])('refuses a file with %s, naming the field', (_what, content, field) => {
    expect(refusal('more/file', { content })).toContain(field);
  });
});

describe('parseIncomingMessage on voice messages', () => {
  it('reads the recognition as text', () => {
    expect(contentOf('audio')).toEqual({ kind: 'text', text: '明天上午十点提醒我开会' });
  });

  it.each<[string, unknown]>([
    ['no recognition', { duration: 3000, downloadCode: 'dc' }],
    ['an empty recognition', { duration: 3000, downloadCode: 'dc', recognition: '' }],
    ['no content at all', undefined],
  ])('answers unsupported "audio" for a voice message with %s', (_what, content) => {
    expect(contentOf('audio', { content })).toEqual({ kind: 'unsupported', msgtype: 'audio' });
  });

  it('refuses a recognition that is not a string, naming it', () => {
    expect(refusal('audio', { content: { recognition: ['明天'] } })).toContain('"content.recognition"');
  });
});

describe('parseIncomingMessage on quoted messages', () => {
  it('reads the quoted text of the reply sample with its id', () => {
    expect(contentOf('more/text-reply-quote')).toEqual({
      kind: 'text',
      text: '这是什么意思？',
      quote: { kind: 'text', text: '部署窗口改到周五 22:00，灰度 10%。', msgId: 'msgEarlier0000000000000000==' },
    });
  });

  it('reads a quoted picture as its download code', () => {
    const content = contentOf('more/text-reply-quote', quoting({ msgType: 'picture', msgId: 'm1', content: { downloadCode: 'qp' } }));
    expect(content).toEqual({ kind: 'text', text: '这是什么意思？', quote: { kind: 'picture', downloadCode: 'qp', msgId: 'm1' } });
  });

  it('reads a quoted rich text as its text, also when its elements spell the type msgType and the text content', () => {
    const replied = { msgType: 'richText', msgId: 'm2', content: { richText: [{ text: '第一段' }, { type: 'picture', downloadCode: 'x' }, { msgType: 'text', content: '第二段' }] } };
    expect(contentOf('more/text-reply-quote', quoting(replied))).toMatchObject({ quote: { kind: 'text', text: '第一段\n第二段', msgId: 'm2' } });
  });

  it('reads a quoted rich text of pictures only as its first picture', () => {
    const replied = { msgType: 'richText', msgId: 'm3', content: { richText: [{ type: 'picture', downloadCode: 'q1' }, { type: 'picture', downloadCode: 'q2' }] } };
    expect(contentOf('more/text-reply-quote', quoting(replied))).toMatchObject({ quote: { kind: 'picture', downloadCode: 'q1', msgId: 'm3' } });
  });

  it('reads a quoted voice message as its recognition', () => {
    const replied = { msgType: 'audio', msgId: 'm4', content: { recognition: '明天开会', downloadCode: 'a' } };
    expect(contentOf('more/text-reply-quote', quoting(replied))).toMatchObject({ quote: { kind: 'text', text: '明天开会', msgId: 'm4' } });
  });

  it.each<[string, Record<string, unknown>]>([
    ['a card of the bot\'s own', { msgType: 'interactiveCard', msgId: 'card1' }],
    ['a file', { msgType: 'file', msgId: 'card1', content: { downloadCode: 'f', fileName: 'a.txt' } }],
    ['a text without its content', { msgType: 'text', msgId: 'card1' }],
    ['a text whose content is blank', { msgType: 'text', msgId: 'card1', content: { text: '  ' } }],
    ['a picture without a download code', { msgType: 'picture', msgId: 'card1', content: {} }],
  ])('keeps only the id and type of a quoted %s, to look up in history', (_what, replied) => {
    expect(contentOf('more/text-reply-quote', quoting(replied))).toMatchObject({ quote: { kind: 'reference', msgId: 'card1', msgType: replied.msgType } });
  });

  it('takes the quoted id from originalMsgId when repliedMsg has none', () => {
    const content = contentOf('more/text-reply-quote', { ...quoting({ msgType: 'interactiveCard' }), originalMsgId: 'orig1' });
    expect(content).toMatchObject({ quote: { kind: 'reference', msgId: 'orig1', msgType: 'interactiveCard' } });
  });

  it('refers to originalMsgId when isReplyMsg is set without repliedMsg', () => {
    const content = contentOf('text-1to1', { text: { content: '?', isReplyMsg: true }, originalMsgId: 'orig2' });
    expect(content).toEqual({ kind: 'text', text: '?', quote: { kind: 'reference', msgId: 'orig2' } });
  });

  it('carries no quote when the quoted message has neither content nor an id', () => {
    expect(contentOf('more/text-reply-quote', quoting({ msgType: 'interactiveCard' }))).toEqual({ kind: 'text', text: '这是什么意思？' });
  });

  it('keeps what finds a quoted answer of the robot: its time, that the robot sent it, and originalProcessQueryKey', () => {
    const robot = dingtalkSample('more/text-reply-quote').chatbotUserId;
    const replied = { msgType: 'interactiveCard', msgId: 'card1', senderId: robot, createdAt: 1731999000500 };
    expect(contentOf('more/text-reply-quote', { ...quoting(replied), originalProcessQueryKey: 'carrier-abc' })).toEqual({
      kind: 'text',
      text: '这是什么意思？',
      quote: { kind: 'reference', msgId: 'card1', msgType: 'interactiveCard', createdAt: 1731999000500, fromRobot: true, processQueryKey: 'carrier-abc' },
    });
  });

  it('says the robot did not send a quoted message from someone else, and leaves it unsaid when the callback has no chatbotUserId', () => {
    const replied = { msgType: 'file', msgId: 'f1', senderId: 'someone-else', createdAt: '1731999000500' };
    expect(contentOf('more/text-reply-quote', quoting(replied))).toMatchObject({ quote: { fromRobot: false, createdAt: 1731999000500 } });
    const body = { ...dingtalkSample('more/text-reply-quote'), ...quoting(replied) };
    delete body.chatbotUserId;
    expect(parseIncomingMessage(body).content).toMatchObject({ quote: { kind: 'reference', msgId: 'f1' } });
    expect((parseIncomingMessage(body).content as { quote: object }).quote).not.toHaveProperty('fromRobot');
  });

  it('carries originalProcessQueryKey with originalMsgId when isReplyMsg is set without repliedMsg', () => {
    const content = contentOf('text-1to1', { text: { content: '?', isReplyMsg: true }, originalMsgId: 'orig3', originalProcessQueryKey: 'pqk' });
    expect(content).toEqual({ kind: 'text', text: '?', quote: { kind: 'reference', msgId: 'orig3', processQueryKey: 'pqk' } });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a text in content.content', { msgType: 'text', msgId: 'm6', content: { content: '真实报文里的正文' } }, '真实报文里的正文'],
    ['a markdown answer of the bot', { msgType: 'markdown', msgId: 'm7', content: { text: '# 标题\n正文' } }, '# 标题\n正文'],
    [
      'a card with the TEXT nodes of its element tree',
      {
        msgType: 'interactiveCard',
        msgId: 'm8',
        content: { cardContent: [{ elementType: 'LIST', children: [{ elementType: 'RICHTEXT', children: [{ elementType: 'TEXT', value: '第一行' }, { elementType: 'TEXT', value: '第二行' }] }] }] },
      },
      '第一行\n第二行',
    ],
    ['a card with a flat text', { msgType: 'interactiveCard', msgId: 'm9', content: { text: '扁平卡片文本' } }, '扁平卡片文本'],
  ])('reads %s as a quoted text', (_what, replied, text) => {
    expect(contentOf('more/text-reply-quote', quoting(replied))).toMatchObject({ quote: { kind: 'text', text, msgId: replied.msgId } });
  });

  it('keeps only the id of a quoted card whose element tree has no text, skipping what it does not understand', () => {
    const replied = { msgType: 'interactiveCard', msgId: 'c2', content: { cardContent: [7, 'x', { elementType: 'IMAGE', value: 'pic' }, { elementType: 'TEXT', value: 5 }] } };
    expect(contentOf('more/text-reply-quote', quoting(replied))).toMatchObject({ quote: { kind: 'reference', msgId: 'c2' } });
  });

  it('reads a bounded part of a deep or wide card tree', () => {
    let deep: Record<string, unknown> = { elementType: 'TEXT', value: 'too deep' };
    for (let level = 0; level < 40; level += 1) deep = { elementType: 'LIST', children: [deep] };
    const wide = Array.from({ length: 5000 }, (_, n) => ({ elementType: 'TEXT', value: `t${n}` }));
    expect(contentOf('more/text-reply-quote', quoting({ msgType: 'interactiveCard', msgId: 'c3', content: { cardContent: [deep] } }))).toMatchObject({
      quote: { kind: 'reference', msgId: 'c3' },
    });
    const quote = (contentOf('more/text-reply-quote', quoting({ msgType: 'interactiveCard', msgId: 'c4', content: { cardContent: wide } })) as { quote: { text: string } }).quote;
    expect(quote.text.split('\n')).toHaveLength(1000);
  });

  it('refuses a quoted message whose createdAt is not a time, naming it', () => {
    expect(refusal('more/text-reply-quote', quoting({ msgType: 'interactiveCard', msgId: 'c5', createdAt: 'yesterday' }))).toContain('"text.repliedMsg.createdAt"');
  });

  it('ignores repliedMsg when isReplyMsg is false', () => {
    const content = contentOf('more/text-reply-quote', quoting({ msgType: 'text', msgId: 'm', content: { text: 'x' } }, { isReplyMsg: false }));
    expect(content).toEqual({ kind: 'text', text: '这是什么意思？' });
  });

  it('reads a quote without msgType from its content text', () => {
    expect(contentOf('more/text-reply-quote', quoting({ content: { text: '旧格式' } }))).toMatchObject({ quote: { kind: 'text', text: '旧格式' } });
  });

  it('reads the quote of a rich text from content.repliedMsg', () => {
    const content = contentOf('rich-text', {
      content: {
        richText: [{ text: '这张呢？' }, { type: 'picture', downloadCode: 'p' }],
        isReplyMsg: true,
        repliedMsg: { msgType: 'text', msgId: 'm5', content: { text: '上一张图的说明' } },
      },
    });
    expect(content).toEqual({
      kind: 'parts',
      parts: [
        { kind: 'text', text: '这张呢？' },
        { kind: 'picture', downloadCode: 'p' },
      ],
      quote: { kind: 'text', text: '上一张图的说明', msgId: 'm5' },
    });
  });

  it.each<[string, unknown]>([
    ['a text object', { msgId: 'legacy1', msgtype: 'text', text: { content: '旧的引用' } }],
    ['a text string', { msgId: 'legacy1', msgtype: 'text', text: '旧的引用' }],
  ])('reads the legacy quoteMessage with %s', (_what, quoteMessage) => {
    expect(contentOf('text-1to1', { quoteMessage })).toMatchObject({ quote: { kind: 'text', text: '旧的引用', msgId: 'legacy1' } });
  });

  it('reads a legacy quoteMessage of another kind as a reference', () => {
    expect(contentOf('text-1to1', { quoteMessage: { msgId: 'legacy2', msgtype: 'picture' } })).toMatchObject({
      quote: { kind: 'reference', msgId: 'legacy2', msgType: 'picture' },
    });
  });

  it('prefers repliedMsg over the legacy quoteMessage', () => {
    const content = contentOf('more/text-reply-quote', { quoteMessage: { msgId: 'legacy3', msgtype: 'text', text: { content: 'old' } } });
    expect(content).toMatchObject({ quote: { kind: 'text', msgId: 'msgEarlier0000000000000000==' } });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['isReplyMsg that is not a flag', quoting({ msgType: 'text' }, { isReplyMsg: 'yes' }), '"text.isReplyMsg"'],
    ['repliedMsg that is a string', quoting('msgEarlier'), '"text.repliedMsg"'],
    ['a numeric msgId', quoting({ msgType: 'text', msgId: 5, content: { text: 'x' } }), '"text.repliedMsg.msgId"'],
    ['a numeric msgType', quoting({ msgType: 1, msgId: 'm' }), '"text.repliedMsg.msgType"'],
    ['content that is a list', quoting({ msgType: 'text', msgId: 'm', content: ['x'] }), '"text.repliedMsg.content"'],
    ['a text that is an object', quoting({ msgType: 'text', msgId: 'm', content: { text: { t: 'x' } } }), '"text.repliedMsg.content.text"'],
    ['a numeric picture code', quoting({ msgType: 'picture', msgId: 'm', content: { downloadCode: 1 } }), '"text.repliedMsg.content.downloadCode"'],
    ['a rich text that is not a list', quoting({ msgType: 'richText', msgId: 'm', content: { richText: 'x' } }), '"text.repliedMsg.content.richText"'],
    ['a msgId of 2,000 characters', quoting({ msgType: 'text', msgId: 'm'.repeat(2000), content: { text: 'x' } }), '"text.repliedMsg.msgId"'],
    ['a legacy quoteMessage that is a string', { text: { content: '?' }, quoteMessage: 'x' }, '"quoteMessage"'],
    ['a legacy quote with a numeric text', { text: { content: '?' }, quoteMessage: { msgId: 'm', text: 3 } }, '"quoteMessage.text"'],
    ['a legacy quote with a numeric text content', { text: { content: '?' }, quoteMessage: { msgId: 'm', text: { content: 3 } } }, '"quoteMessage.text.content"'],
    ['a numeric originalMsgId', { text: { content: '?', isReplyMsg: true }, originalMsgId: 9 }, '"originalMsgId"'],
  ])('refuses a quote with %s, naming the field', (_what, changes, field) => {
    expect(refusal('more/text-reply-quote', changes)).toContain(field);
  });
});

describe('parseIncomingMessage on the robot\'s mention in a rich text', () => {
  const group = (elements: unknown[]): MessageContent =>
    contentOf('text-group-mention', { msgtype: 'richText', text: undefined, content: { richText: elements } }, { robotNames: ['FileBridge'] });

  it('removes a leading @<robot name> DingTalk left as the first text element', () => {
    expect(group([{ text: '@FileBridge' }, { text: 'abcd' }, { type: 'picture', downloadCode: 'p' }])).toEqual({
      kind: 'parts',
      parts: [
        { kind: 'text', text: '\nabcd' },
        { kind: 'picture', downloadCode: 'p' },
      ],
    });
  });

  it('drops the first text part when it held nothing but the mention', () => {
    expect(group([{ text: '@FileBridge ' }, { type: 'picture', downloadCode: 'p' }, { text: '这是什么' }])).toEqual({
      kind: 'parts',
      parts: [
        { kind: 'picture', downloadCode: 'p' },
        { kind: 'text', text: '这是什么' },
      ],
    });
  });

  it('keeps a user\'s own @word and any mention that is not at the start of the first text', () => {
    expect(group([{ text: '@Override 是什么' }, { type: 'picture', downloadCode: 'p' }, { text: '@FileBridge' }])).toEqual({
      kind: 'parts',
      parts: [
        { kind: 'text', text: '@Override 是什么' },
        { kind: 'picture', downloadCode: 'p' },
        { kind: 'text', text: '@FileBridge' },
      ],
    });
  });

  it('removes the mention from a text that quotes a message, and keeps the quote', () => {
    const content = contentOf(
      'text-group-mention',
      { text: { content: '@FileBridge 什么意思', isReplyMsg: true, repliedMsg: { msgType: 'text', msgId: 'm', content: { text: '原文' } } } },
      { robotNames: ['FileBridge'] },
    );
    expect(content).toEqual({ kind: 'text', text: ' 什么意思', quote: { kind: 'text', text: '原文', msgId: 'm' } });
  });

  it('changes nothing in a 1:1 rich text', () => {
    const content = contentOf('rich-text', richText({ text: '@FileBridge hi' }, { type: 'picture', downloadCode: 'p' }), { robotNames: ['FileBridge'] });
    expect(content).toMatchObject({ parts: [{ kind: 'text', text: '@FileBridge hi' }, { kind: 'picture' }] });
  });
});
