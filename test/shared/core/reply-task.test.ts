import {
  contentTextBytes,
  encodeReplyTask,
  MAX_TASK_PICTURES,
  MAX_TASK_TEXT_BYTES,
  parseReplyTask,
  PICTURES_NOTE,
  QUOTE_RESERVED_BYTES,
  toReplyTask,
  TRUNCATION_NOTE,
  truncateText,
  type ReplyTask,
} from '../../../shared/core/reply-task';
import {
  MAX_DOWNLOAD_CODE_LENGTH,
  MAX_FILE_NAME_LENGTH,
  MAX_RICH_TEXT_ELEMENTS,
  parseIncomingMessage,
  type MessageContent,
} from '../../../shared/dingtalk/message';
import { InvalidTaskError } from '../../../shared/errors';
import { dingtalkSample, dingtalkSampleNames } from '../../helpers/fixtures';
import { thrown } from '../../helpers/thrown';

const RECEIVED_AT = 1_732_000_001_234;
/** FC's limit on the payload of an asynchronous invocation. */
const ASYNC_PAYLOAD_LIMIT = 128 * 1024;
/** Bytes a string takes inside the JSON payload, which is what truncateText budgets. */
const jsonBytes = (text: string): number => Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
const NOTE_BYTES = jsonBytes(TRUNCATION_NOTE);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function taskOf(name: string, change: (sample: Record<string, unknown>) => void = () => undefined): ReplyTask {
  const sample = dingtalkSample(name);
  change(sample);
  return toReplyTask(parseIncomingMessage(sample), RECEIVED_AT);
}

function withText(text: string): ReplyTask {
  return taskOf('text-1to1', (sample) => {
    sample.text = { content: text };
  });
}

/** The InvalidTaskError parseReplyTask throws for `event`. */
const invalid = (event: unknown): InvalidTaskError => thrown(InvalidTaskError, () => parseReplyTask(event));

describe('toReplyTask', () => {
  it('builds the task of the 1:1 text sample', () => {
    const expected: ReplyTask = {
      v: 1,
      msgId: 'msgW1eLk8wQ7a1X2b3C4d5E6f7G==',
      conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==',
      conversationType: '1',
      userId: 'manager1234',
      senderStaffId: 'manager1234',
      senderNick: '张三',
      content: { kind: 'text', text: '你好，请介绍一下你自己' },
      truncated: false,
      sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=0123456789abcdef0123456789abcdef',
      sessionWebhookExpiredTime: 1732005400000,
      createdAt: 1732000000000,
      receivedAt: RECEIVED_AT,
    };
    expect(taskOf('text-1to1')).toEqual(expected);
  });

  it.each(dingtalkSampleNames())('keeps the ids, the staff id as userId and createAt of the %s sample', (name) => {
    const sample = dingtalkSample(name);
    const task = taskOf(name);
    expect(task.userId).toBe(sample.senderStaffId);
    expect(task.senderStaffId).toBe(sample.senderStaffId);
    expect(task.createdAt).toBe(sample.createAt);
    expect(task.receivedAt).toBe(RECEIVED_AT);
    expect(task.msgId).toBe(sample.msgId);
    expect(task.conversationId).toBe(sample.conversationId);
    expect(task.truncated).toBe(false);
  });

  it('uses senderId as userId when senderStaffId is absent, and carries no senderStaffId', () => {
    const task = taskOf('text-group-mention', (sample) => delete sample.senderStaffId);
    expect(task.userId).toBe('$:LWCP_v1:$senderIdExample11111111111');
    expect(task).not.toHaveProperty('senderStaffId');
  });

  it('uses receivedAt as createdAt when DingTalk sent no createAt', () => {
    const task = taskOf('text-1to1', (sample) => delete sample.createAt);
    expect(task.createdAt).toBe(RECEIVED_AT);
  });

  it('leaves sessionWebhookExpiredTime out when DingTalk sent none', () => {
    const task = taskOf('text-1to1', (sample) => delete sample.sessionWebhookExpiredTime);
    expect(task).not.toHaveProperty('sessionWebhookExpiredTime');
  });

  it('carries unsupported content as is', () => {
    expect(taskOf('picture', (sample) => (sample.msgtype = 'video')).content).toEqual({ kind: 'unsupported', msgtype: 'video' });
  });

  it.each<[string, MessageContent]>([
    ['picture', { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'downloadCodeExample000000000000' }] }],
    ['more/file', { kind: 'file', downloadCode: 'downloadCodeExample333333333333', fileName: 'error-log.txt' }],
    [
      'more/text-reply-quote',
      { kind: 'text', text: '这是什么意思？', quote: { kind: 'text', text: '部署窗口改到周五 22:00，灰度 10%。', msgId: 'msgEarlier0000000000000000==' } },
    ],
  ])('carries the content of the %s sample unchanged', (name, content) => {
    const task = taskOf(name);
    expect(task.content).toEqual(content);
    expect(task.truncated).toBe(false);
  });
});

/** A task for a 1:1 rich text of `elements`, quoting `quoted` when given. */
function richTask(elements: unknown[], quoted?: string): ReplyTask {
  return taskOf('rich-text', (sample) => {
    sample.content = {
      richText: elements,
      ...(quoted !== undefined ? { isReplyMsg: true, repliedMsg: { msgType: 'text', msgId: 'q1', content: { text: quoted } } } : {}),
    };
  });
}

const pictures = (count: number, from = 0): Array<{ type: string; downloadCode: string }> =>
  Array.from({ length: count }, (_, index) => ({ type: 'picture', downloadCode: `dc${from + index}` }));

/** The JSON bytes of all the text of a task's content. */
const textBytes = (task: ReplyTask): number => contentTextBytes(task.content);

describe('toReplyTask bounds pictures and text across parts and quote', () => {
  it(`keeps the first ${MAX_TASK_PICTURES} pictures of a rich text, its text, and says the rest were left out`, () => {
    const task = richTask([{ text: '比较这些图' }, ...pictures(25), { text: '哪张最好？' }]);
    expect(task.truncated).toBe(true);
    expect(task.content).toEqual({
      kind: 'parts',
      parts: [
        { kind: 'text', text: '比较这些图' },
        ...pictures(MAX_TASK_PICTURES).map((picture) => ({ kind: 'picture', downloadCode: picture.downloadCode })),
        { kind: 'text', text: `哪张最好？\n\n${PICTURES_NOTE}` },
      ],
    });
  });

  it('keeps the text written between the pictures that were left out, joined', () => {
    const task = richTask([...pictures(MAX_TASK_PICTURES), { text: 'a' }, ...pictures(2, 100), { text: 'b' }]);
    const parts = task.content.kind === 'parts' ? task.content.parts : [];
    expect(parts.slice(MAX_TASK_PICTURES)).toEqual([{ kind: 'text', text: `a\nb\n\n${PICTURES_NOTE}` }]);
  });

  it(`leaves a rich text of exactly ${MAX_TASK_PICTURES} pictures whole`, () => {
    const task = richTask(pictures(MAX_TASK_PICTURES));
    expect(task.truncated).toBe(false);
    expect(task.content.kind === 'parts' && task.content.parts).toHaveLength(MAX_TASK_PICTURES);
  });

  it('cuts the text of a long rich text where the budget ends, keeps later pictures and drops later text', () => {
    const task = richTask([{ text: 'a'.repeat(30_000) }, ...pictures(1), { text: 'b'.repeat(30_000) }, ...pictures(1, 1), { text: 'c' }]);
    expect(task.truncated).toBe(true);
    const parts = task.content.kind === 'parts' ? task.content.parts : [];
    expect(parts.map((part) => part.kind)).toEqual(['text', 'picture', 'text', 'picture']);
    const second = parts[2];
    expect(second?.kind === 'text' && second.text).toBe('b'.repeat(MAX_TASK_TEXT_BYTES - 30_000 - NOTE_BYTES) + TRUNCATION_NOTE);
    expect(textBytes(task)).toBe(MAX_TASK_TEXT_BYTES);
  });

  it('leaves a short quote whole and cuts the long message it comes with', () => {
    const task = taskOf('more/text-reply-quote', (sample) => {
      (sample.text as Record<string, unknown>).content = '问'.repeat(50_000);
    });
    expect(task.truncated).toBe(true);
    expect(task.content).toMatchObject({ kind: 'text', quote: { kind: 'text', text: '部署窗口改到周五 22:00，灰度 10%。' } });
    expect(task.content.kind === 'text' && task.content.text.endsWith(TRUNCATION_NOTE)).toBe(true);
    expect(textBytes(task)).toBeLessThanOrEqual(MAX_TASK_TEXT_BYTES);
  });

  it('gives a long quote what a short question leaves', () => {
    const quoted = 'q'.repeat(100_000);
    const task = taskOf('more/text-reply-quote', (sample) => {
      sample.text = { content: '这是什么？', isReplyMsg: true, repliedMsg: { msgType: 'text', msgId: 'm', content: { text: quoted } } };
    });
    expect(task.truncated).toBe(true);
    expect(task.content).toEqual({
      kind: 'text',
      text: '这是什么？',
      quote: { kind: 'text', msgId: 'm', text: 'q'.repeat(MAX_TASK_TEXT_BYTES - Buffer.byteLength('这是什么？') - NOTE_BYTES) + TRUNCATION_NOTE },
    });
    expect(textBytes(task)).toBe(MAX_TASK_TEXT_BYTES);
  });

  it(`keeps ${QUOTE_RESERVED_BYTES} bytes for a long quote when the message is long too`, () => {
    const task = richTask([{ text: 'm'.repeat(100_000) }, ...pictures(1)], 'q'.repeat(100_000));
    expect(task.content.kind === 'parts' && task.content.quote).toEqual({
      kind: 'text',
      msgId: 'q1',
      text: 'q'.repeat(QUOTE_RESERVED_BYTES - NOTE_BYTES) + TRUNCATION_NOTE,
    });
    expect(textBytes(task)).toBe(MAX_TASK_TEXT_BYTES);
  });

  it('keeps the text within the bound with too many pictures, a long text and a long quote at once', () => {
    const task = richTask([{ text: '"\\'.repeat(40_000) }, ...pictures(30)], '\u0001'.repeat(20_000));
    expect(task.truncated).toBe(true);
    expect(textBytes(task)).toBeLessThanOrEqual(MAX_TASK_TEXT_BYTES);
    const parts = task.content.kind === 'parts' ? task.content.parts : [];
    expect(parts.filter((part) => part.kind === 'picture')).toHaveLength(MAX_TASK_PICTURES);
    expect(parts[parts.length - 1]).toEqual({ kind: 'text', text: PICTURES_NOTE });
    expect(Buffer.byteLength(encodeReplyTask(task), 'utf8')).toBeLessThan(ASYNC_PAYLOAD_LIMIT);
    expect(parseReplyTask(encodeReplyTask(task))).toEqual(task);
  });

  it('stays under the async limit with the most elements of the longest download codes', () => {
    const code = 'c'.repeat(MAX_DOWNLOAD_CODE_LENGTH);
    const task = richTask(Array.from({ length: MAX_RICH_TEXT_ELEMENTS }, () => ({ type: 'picture', downloadCode: code })), 'q'.repeat(60_000));
    expect(Buffer.byteLength(encodeReplyTask(task), 'utf8')).toBeLessThan(ASYNC_PAYLOAD_LIMIT / 2);
  });
});

describe('truncateText', () => {
  it('leaves a text that fits unchanged', () => {
    expect(truncateText('短文本', 9)).toEqual({ text: '短文本', truncated: false });
  });

  it('uses MAX_TASK_TEXT_BYTES by default', () => {
    const fits = 'a'.repeat(MAX_TASK_TEXT_BYTES);
    expect(truncateText(fits)).toEqual({ text: fits, truncated: false });
    const cut = truncateText(`${fits}a`);
    expect(cut.truncated).toBe(true);
    expect(Buffer.byteLength(cut.text, 'utf8')).toBeLessThanOrEqual(MAX_TASK_TEXT_BYTES);
  });

  it('cuts Chinese text on a character boundary and adds the note', () => {
    // Room for 10 bytes of text: three 3-byte characters (9 bytes), never part of a fourth.
    const result = truncateText('中文字符'.repeat(100), NOTE_BYTES + 10);
    expect(result).toEqual({ text: `中文字${TRUNCATION_NOTE}`, truncated: true });
  });

  it('cuts emoji text without splitting a surrogate pair', () => {
    // Room for 10 bytes of text: two 4-byte emoji (8 bytes).
    const result = truncateText('😀'.repeat(100), NOTE_BYTES + 10);
    expect(result).toEqual({ text: `😀😀${TRUNCATION_NOTE}`, truncated: true });
  });

  it.each([
    ['Chinese', '长文本测试，包含标点。'.repeat(5000)],
    ['emoji', '😀👍🏽👨‍👩‍👧 '.repeat(5000)],
    ['mixed', 'Hello 世界 🌍 '.repeat(5000)],
  ])('keeps %s text at most maxBytes, as the longest prefix that fits', (_label, text) => {
    for (const maxBytes of [100, 101, 102, 103, 1000, 4097]) {
      const result = truncateText(text, maxBytes);
      expect(result.truncated).toBe(true);
      expect(result.text.endsWith(TRUNCATION_NOTE)).toBe(true);
      expect(jsonBytes(result.text)).toBeLessThanOrEqual(maxBytes);
      const kept = result.text.slice(0, -TRUNCATION_NOTE.length);
      expect(text.startsWith(kept)).toBe(true);
      expect(kept).not.toMatch(LONE_SURROGATE);
      const next = String.fromCodePoint(text.codePointAt(kept.length) ?? 0);
      expect(jsonBytes(kept + next) + NOTE_BYTES).toBeGreaterThan(maxBytes);
    }
  });
});

describe('the encoded task of an over-long message', () => {
  it.each([
    ['ASCII', 'a'],
    ['Chinese', '中'],
    ['emoji', '😀'],
  ])('stays well under the async limit for 1 MB of %s text', (_label, unit) => {
    const text = unit.repeat(Math.ceil((1024 * 1024) / Buffer.byteLength(unit)));
    const task = withText(text);
    expect(task.truncated).toBe(true);
    expect(task.content.kind === 'text' && task.content.text.endsWith(TRUNCATION_NOTE)).toBe(true);
    expect(Buffer.byteLength(encodeReplyTask(task), 'utf8')).toBeLessThan(ASYNC_PAYLOAD_LIMIT / 2);
  });

  it('stays under the async limit for 1 MB of quotes and backslashes, which JSON doubles', () => {
    const task = withText('"\\'.repeat(512 * 1024));
    expect(task.truncated).toBe(true);
    expect(Buffer.byteLength(encodeReplyTask(task), 'utf8')).toBeLessThan(ASYNC_PAYLOAD_LIMIT);
  });

  it('stays under the async limit for 1 MB of control characters', () => {
    const task = withText('\u0001'.repeat(1024 * 1024));
    expect(Buffer.byteLength(encodeReplyTask(task), 'utf8')).toBeLessThan(ASYNC_PAYLOAD_LIMIT);
  });
});

describe('parseReplyTask', () => {
  it.each([...dingtalkSampleNames(), 'more/file', 'more/text-reply-quote'])('round-trips the task of the %s sample through a Buffer', (name) => {
    const task = taskOf(name);
    expect(parseReplyTask(Buffer.from(encodeReplyTask(task), 'utf8'))).toEqual(task);
  });

  it('round-trips a task through a string', () => {
    const task = taskOf('text-group-mention');
    expect(parseReplyTask(encodeReplyTask(task))).toEqual(task);
  });

  it('round-trips a task without the optional fields', () => {
    const task = taskOf('text-1to1', (sample) => {
      delete sample.senderStaffId;
      delete sample.sessionWebhookExpiredTime;
    });
    const parsed = parseReplyTask(encodeReplyTask(task));
    expect(parsed).toEqual(task);
    expect(parsed).not.toHaveProperty('senderStaffId');
    expect(parsed).not.toHaveProperty('sessionWebhookExpiredTime');
  });

  it('round-trips a truncated task', () => {
    const task = withText('x'.repeat(MAX_TASK_TEXT_BYTES + 1));
    expect(parseReplyTask(encodeReplyTask(task))).toEqual(task);
  });

  it.each<[string, unknown]>([
    ['text that is not JSON', 'not json {'],
    ['a Buffer that is not JSON', Buffer.from('\u0000\u0001garbage')],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['undefined', undefined],
  ])('refuses %s', (_label, event) => {
    expect(invalid(event).kind).toBe('invalid-task');
  });

  function encodedWith(change: (raw: Record<string, unknown>) => void): string {
    const raw = JSON.parse(encodeReplyTask(taskOf('text-1to1'))) as Record<string, unknown>;
    change(raw);
    return JSON.stringify(raw);
  }

  it.each<unknown>([2, 0, '1', undefined])('refuses version %j', (version) => {
    expect(invalid(encodedWith((raw) => (raw.v = version))).message).toContain('version');
  });

  it.each(['msgId', 'conversationId', 'userId', 'sessionWebhook', 'conversationType', 'content', 'createdAt', 'receivedAt'])(
    'refuses a task without %s',
    (field) => {
      expect(invalid(encodedWith((raw) => delete raw[field])).message).toMatch(/^not a reply task: /);
    },
  );

  it.each(['msgId', 'conversationId', 'userId', 'sessionWebhook'])('refuses a task whose %s is empty, naming it', (field) => {
    expect(invalid(encodedWith((raw) => (raw[field] = ''))).message).toContain(`"${field}"`);
  });

  it('refuses a conversationType other than "1" or "2"', () => {
    expect(invalid(encodedWith((raw) => (raw.conversationType = '3'))).message).toContain('conversationType');
    expect(invalid(encodedWith((raw) => (raw.conversationType = 1))).message).toContain('conversationType');
  });

  it('refuses malformed content', () => {
    for (const content of [null, 'text', { kind: 'text' }, { kind: 'image', text: 'x' }, { kind: 'unsupported' }]) {
      expect(invalid(encodedWith((raw) => (raw.content = content))).kind).toBe('invalid-task');
    }
  });

  it.each<[string, unknown, string]>([
    ['a content kind it does not know', { kind: 'image', downloadCode: 'x' }, '"content.kind"'],
    ['a text that is not a string', { kind: 'text', text: 5 }, '"content.text"'],
    ['a quote that is not an object', { kind: 'text', text: 'x', quote: 'q' }, '"content.quote"'],
    ['a quote of a kind it does not know', { kind: 'text', text: 'x', quote: { kind: 'file' } }, '"content.quote.kind"'],
    ['a quoted text that is not a string', { kind: 'text', text: 'x', quote: { kind: 'text', text: 1 } }, '"content.quote.text"'],
    ['an empty quoted msgId', { kind: 'text', text: 'x', quote: { kind: 'text', text: 'q', msgId: '' } }, '"content.quote.msgId"'],
    ['a reference without a msgId', { kind: 'text', text: 'x', quote: { kind: 'reference' } }, '"content.quote.msgId"'],
    ['a reference with a numeric msgType', { kind: 'text', text: 'x', quote: { kind: 'reference', msgId: 'm', msgType: 1 } }, '"content.quote.msgType"'],
    ['a quoted picture without a code', { kind: 'text', text: 'x', quote: { kind: 'picture' } }, '"content.quote.downloadCode"'],
    ['a reference dated by a string', { kind: 'text', text: 'x', quote: { kind: 'reference', msgId: 'm', createdAt: '1' } }, '"content.quote.createdAt"'],
    ['a reference dated before 1970', { kind: 'text', text: 'x', quote: { kind: 'reference', msgId: 'm', createdAt: -1 } }, '"content.quote.createdAt"'],
    ['a reference whose fromRobot is not a flag', { kind: 'text', text: 'x', quote: { kind: 'reference', msgId: 'm', fromRobot: 'yes' } }, '"content.quote.fromRobot"'],
    ['an empty processQueryKey', { kind: 'text', text: 'x', quote: { kind: 'reference', msgId: 'm', processQueryKey: '' } }, '"content.quote.processQueryKey"'],
    ['a processQueryKey over the bound', { kind: 'text', text: 'x', quote: { kind: 'reference', msgId: 'm', processQueryKey: 'k'.repeat(2000) } }, '"content.quote.processQueryKey"'],
    ['parts that are not a list', { kind: 'parts', parts: { kind: 'picture', downloadCode: 'p' } }, '"content.parts"'],
    ['parts without a picture', { kind: 'parts', parts: [{ kind: 'text', text: 'x' }] }, '"content.parts"'],
    ['a part of a kind it does not know', { kind: 'parts', parts: [{ kind: 'video', downloadCode: 'p' }] }, '"content.parts[0].kind"'],
    ['a picture part with a numeric code', { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 1 }] }, '"content.parts[0].downloadCode"'],
    ['a text part that is not a string', { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'p' }, { kind: 'text' }] }, '"content.parts[1].text"'],
    [
      `more than ${MAX_TASK_PICTURES} pictures`,
      { kind: 'parts', parts: Array.from({ length: MAX_TASK_PICTURES + 1 }, () => ({ kind: 'picture', downloadCode: 'p' })) },
      `more than ${MAX_TASK_PICTURES} pictures`,
    ],
    ['a picture code over the bound', { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'c'.repeat(MAX_DOWNLOAD_CODE_LENGTH + 1) }] }, '"content.parts[0].downloadCode"'],
    ['a file without a name', { kind: 'file', downloadCode: 'f' }, '"content.fileName"'],
    ['a file name with a path', { kind: 'file', downloadCode: 'f', fileName: '../etc/passwd' }, '"content.fileName"'],
    ['a file name over the bound', { kind: 'file', downloadCode: 'f', fileName: 'n'.repeat(MAX_FILE_NAME_LENGTH + 1) }, '"content.fileName"'],
    ['a file without a code', { kind: 'file', fileName: 'a.txt' }, '"content.downloadCode"'],
    ['text over the bound', { kind: 'text', text: 'x'.repeat(MAX_TASK_TEXT_BYTES + 1) }, 'bytes'],
    ['text and quote over the bound together', { kind: 'text', text: 'x'.repeat(MAX_TASK_TEXT_BYTES / 2), quote: { kind: 'text', text: 'q'.repeat(MAX_TASK_TEXT_BYTES / 2 + 1) } }, 'bytes'],
    ['parts text over the bound', { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'p' }, { kind: 'text', text: '\u0001'.repeat(MAX_TASK_TEXT_BYTES / 6 + 1) }] }, 'bytes'],
  ])('refuses content with %s, naming it', (_what, content, named) => {
    expect(invalid(encodedWith((raw) => (raw.content = content))).message).toContain(named);
  });

  it('carries what finds a quoted answer of the robot: the quoted message\'s time, sender and processQueryKey', () => {
    const task = taskOf('more/text-reply-quote', (sample) => {
      sample.originalProcessQueryKey = 'carrier-abc';
      sample.text = {
        content: '展开说说',
        isReplyMsg: true,
        repliedMsg: { msgType: 'interactiveCard', msgId: 'card1', senderId: sample.chatbotUserId, createdAt: 1731999000500 },
      };
    });
    const quote = { kind: 'reference', msgId: 'card1', msgType: 'interactiveCard', createdAt: 1731999000500, fromRobot: true, processQueryKey: 'carrier-abc' };
    expect(task.content).toEqual({ kind: 'text', text: '展开说说', quote });
    expect(parseReplyTask(encodeReplyTask(task))).toEqual(task);
  });

  it('accepts text and quote exactly at the bound together', () => {
    const content = { kind: 'text', text: 'x'.repeat(MAX_TASK_TEXT_BYTES / 2), quote: { kind: 'text', text: 'q'.repeat(MAX_TASK_TEXT_BYTES / 2) } };
    expect(parseReplyTask(encodedWith((raw) => (raw.content = content))).content).toEqual(content);
  });

  it('keeps only the fields of each content kind', () => {
    const content = { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'p', url: 'http://x' }], quote: { kind: 'reference', msgId: 'm', extra: 1 }, extra: true };
    expect(parseReplyTask(encodedWith((raw) => (raw.content = content))).content).toEqual({
      kind: 'parts',
      parts: [{ kind: 'picture', downloadCode: 'p' }],
      quote: { kind: 'reference', msgId: 'm' },
    });
  });

  it('refuses times that are not numbers', () => {
    expect(invalid(encodedWith((raw) => (raw.createdAt = '1732000000000'))).message).toContain('createdAt');
    expect(invalid(encodedWith((raw) => (raw.receivedAt = null))).message).toContain('receivedAt');
  });

  it('refuses an empty senderStaffId', () => {
    expect(invalid(encodedWith((raw) => (raw.senderStaffId = ''))).message).toContain('senderStaffId');
  });
});
