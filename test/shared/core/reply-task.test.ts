import {
  encodeReplyTask,
  MAX_TASK_TEXT_BYTES,
  parseReplyTask,
  toReplyTask,
  TRUNCATION_NOTE,
  truncateText,
  type ReplyTask,
} from '../../../shared/core/reply-task';
import { parseIncomingMessage } from '../../../shared/dingtalk/message';
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
    expect(taskOf('picture').content).toEqual({ kind: 'unsupported', msgtype: 'picture' });
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
  it.each(dingtalkSampleNames())('round-trips the task of the %s sample through a Buffer', (name) => {
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

  it('refuses times that are not numbers', () => {
    expect(invalid(encodedWith((raw) => (raw.createdAt = '1732000000000'))).message).toContain('createdAt');
    expect(invalid(encodedWith((raw) => (raw.receivedAt = null))).message).toContain('receivedAt');
  });

  it('refuses an empty senderStaffId', () => {
    expect(invalid(encodedWith((raw) => (raw.senderStaffId = ''))).message).toContain('senderStaffId');
  });
});
