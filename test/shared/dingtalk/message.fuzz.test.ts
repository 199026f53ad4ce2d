/**
 * Fuzzing the edge that reads untrusted bodies. DingTalk's signature covers only the timestamp, so
 * whoever holds one valid header pair can send any body for an hour: the parser and the whole
 * conversation core must answer every body with 200 (a message) or 400 (not one), never 500 or a throw,
 * and a 200 must hand the reply function a task it accepts.
 */
import fc from 'fast-check';
import { handleConversationRequest, type ConversationDeps } from '../../../shared/core/handle-conversation';
import { contentTextBytes, encodeReplyTask, MAX_TASK_PICTURES, MAX_TASK_TEXT_BYTES, parseReplyTask, toReplyTask } from '../../../shared/core/reply-task';
import { parseCommand } from '../../../shared/core/commands';
import {
  MAX_AT_USERS,
  MAX_DOWNLOAD_CODE_LENGTH,
  MAX_FIELD_LENGTH,
  MAX_FILE_NAME_LENGTH,
  parseIncomingMessage,
  type IncomingMessage,
  type MessageContent,
  type MessagePart,
  type Quote,
} from '../../../shared/dingtalk/message';
import { computeSignature } from '../../../shared/dingtalk/signature';
import { InvalidMessageError } from '../../../shared/errors';
import { MAX_BODY_BYTES, type HttpRequest } from '../../../shared/fc/http-trigger';
import { createLogger } from '../../../shared/logging/logger';
import { dingtalkSample, dingtalkSampleNames } from '../../helpers/fixtures';
import { guarantee, recordCases } from '../../helpers/guarantee';
import { ManualClock, RecordingInvoker } from '../../helpers/ports';

const SECRET = 'fuzz-app-secret-0123456789';
/** Bodies per property: the issue asks for at least 10,000. */
const RUNS = 10_000;
/** FC's limit on an async invocation's payload. */
const ASYNC_PAYLOAD_LIMIT = 128 * 1024;
/** What FC accepts as `x-fc-async-task-id`. */
const FC_TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** Every sample: the reference ones, the file and the quoted reply. */
const SAMPLES = new Map([...dingtalkSampleNames(), 'more/file', 'more/text-reply-quote'].map((name) => [name, dingtalkSample(name)]));
const TOP_LEVEL_FIELDS = [...new Set([...SAMPLES.values()].flatMap((body) => Object.keys(body)))];
/** Where mutations land: every field of the samples, the nested content DingTalk sends, and odd keys. */
const PATHS: Array<Array<string | number>> = [
  ...TOP_LEVEL_FIELDS.map((field) => [field]),
  ['text', 'content'],
  ['content', 'recognition'],
  ['content', 'richText'],
  ['content', 'richText', 0],
  ['content', 'richText', 0, 'text'],
  ['content', 'richText', 1, 'text'],
  ['content', 'richText', 1, 'type'],
  ['content', 'richText', 1, 'downloadCode'],
  ['content', 'richText', 3],
  ['content', 'downloadCode'],
  ['content', 'pictureDownloadCode'],
  ['content', 'fileName'],
  ['content', 'isReplyMsg'],
  ['content', 'repliedMsg'],
  ['text', 'isReplyMsg'],
  ['text', 'repliedMsg'],
  ['text', 'repliedMsg', 'msgType'],
  ['text', 'repliedMsg', 'msgId'],
  ['text', 'repliedMsg', 'content'],
  ['text', 'repliedMsg', 'content', 'text'],
  ['text', 'repliedMsg', 'content', 'downloadCode'],
  ['text', 'repliedMsg', 'content', 'richText'],
  ['text', 'repliedMsg', 'content', 'richText', 0],
  ['quoteMessage'],
  ['quoteMessage', 'msgId'],
  ['quoteMessage', 'text'],
  ['originalMsgId'],
  ['atUsers', 0, 'dingtalkId'],
  ['atUsers', 0, 'staffId'],
  ['atUsers', 1],
  ['toString'],
  ['hasOwnProperty'],
  ['valueOf'],
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

type Json = Record<string | number, unknown>;
type Mutation =
  | { kind: 'drop'; path: Array<string | number> }
  | { kind: 'set'; path: Array<string | number>; value: unknown }
  /** An own property named `__proto__`/`constructor`/`prototype`, as JSON.parse creates it. */
  | { kind: 'proto'; path: Array<string | number>; key: (typeof PROTO_KEYS)[number]; value: unknown };

const loneSurrogates = fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) });
/** Strings an attacker would try: path tricks, control characters, RTL and combining marks, odd URLs. */
const hostileStrings = fc.constantFrom(
  '', ' ', '\u3000', '../', '..\\..\\', '%2F..%2F', '\u0000', 'a\u0000b', '\u202e\u05d0\u05d1', 'e\u0301\u0301\u0301', '😀👨‍👩‍👧',
  '1', '2', '0', '-1', 'NaN', 'true', 'null', '{}', '[]', '__proto__',
  'https://oapi.dingtalk.com@evil.example/robot', 'https://oapi.dingtalk.com.evil.example/', 'javascript:alert(1)', 'http://127.0.0.1:1/',
  'text', 'picture', 'richText', 'audio', 'file', 'at', 'interactiveCard', 'a/b.txt', 'C:\\x\\y.md', 'x.txt\u202egpj',
  '@bot', '@bot ', '\\clear', '/clear', '\\help', '\\x y',
  '、clear', '＼ｃｌｅａｒ', '\u200b/clear\u2060', '、清除', '／帮助', '@Bot @Bot', '＠bot', ' @钉钉助手 \\clear', '@Override',
);
/** Big strings, sized to cross the id bound, the text cut and JSON escaping (a control character is 6 bytes). */
const hugeStrings = fc
  .tuple(fc.constantFrom('a', '长', '😀', '\u0001', '"', '\\', 'e\u0301'), fc.integer({ min: MAX_FIELD_LENGTH - 2, max: 60_000 }))
  .map(([unit, count]) => unit.repeat(count));
const values: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 2 },
  { arbitrary: loneSurrogates, weight: 1 },
  { arbitrary: hostileStrings, weight: 3 },
  { arbitrary: hugeStrings, weight: 1 },
  { arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.constantFrom(1, 2, -0, 1e300, Number.MAX_SAFE_INTEGER + 2)), weight: 2 },
);
const paths = fc.oneof(
  { arbitrary: fc.constantFrom(...PATHS), weight: 5 },
  { arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.nat(3)), { minLength: 1, maxLength: 3 }), weight: 1 },
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: paths.map((path): Mutation => ({ kind: 'drop', path })), weight: 2 },
  { arbitrary: fc.record({ path: paths, value: values }).map((m): Mutation => ({ kind: 'set', ...m })), weight: 5 },
  {
    arbitrary: fc
      .record({ path: fc.constantFrom<Array<string | number>>([], ['text'], ['content']), key: fc.constantFrom(...PROTO_KEYS), value: values })
      .map((m): Mutation => ({ kind: 'proto', ...m })),
    weight: 1,
  },
);

const isContainer = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/** The container at `path` in `body`, creating (or replacing with) objects on the way. */
function containerAt(body: Json, path: ReadonlyArray<string | number>): Json {
  let node = body;
  for (const step of path) {
    const next = node[step];
    if (!isContainer(next)) {
      Object.defineProperty(node, step, { value: {}, enumerable: true, writable: true, configurable: true });
    }
    node = node[step] as Json;
  }
  return node;
}

function mutate(body: Json, change: Mutation): void {
  const parentPath = change.kind === 'proto' ? change.path : change.path.slice(0, -1);
  const parent = containerAt(body, parentPath);
  const key = change.kind === 'proto' ? change.key : (change.path[change.path.length - 1] as string | number);
  if (change.kind === 'drop') delete parent[key];
  // defineProperty, not assignment: `parent.__proto__ = x` would set the prototype instead of a field.
  else Object.defineProperty(parent, key, { value: change.value, enumerable: true, writable: true, configurable: true });
}

/** A DingTalk sample with a few mutations applied. */
const mutatedSample = fc
  .tuple(fc.constantFrom(...SAMPLES.keys()), fc.array(mutation, { maxLength: 4 }))
  .map(([name, changes]) => {
    const body = dingtalkSample(name) as Json;
    for (const change of changes) mutate(body, change);
    return body as unknown;
  });
/** Objects with DingTalk's field names and arbitrary values. */
const lookalike = fc.dictionary(fc.constantFrom(...TOP_LEVEL_FIELDS, ...PROTO_KEYS), values, { maxKeys: 12 });
/** Everything the JSON parser could hand the message parser. */
const bodies: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: mutatedSample, weight: 6 },
  { arbitrary: fc.jsonValue(), weight: 2 },
  { arbitrary: lookalike, weight: 2 },
);
/** Body text as it arrives over HTTP: JSON, JSON cut short, JSON with a stray character, or noise. */
const bodyTexts: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: bodies.map((body) => JSON.stringify(body) ?? ''), weight: 8 },
  {
    arbitrary: fc.tuple(mutatedSample, fc.nat()).map(([body, at]) => {
      const text = JSON.stringify(body);
      return text.slice(0, at % (text.length + 1));
    }),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(mutatedSample, fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })).map(([body, at, noise]) => {
      const text = JSON.stringify(body);
      const cut = at % (text.length + 1);
      return text.slice(0, cut) + noise + text.slice(cut);
    }),
    weight: 1,
  },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
);

/**
 * Fails the property with `what`. Plain checks, not `expect`: the properties run 10,000 times each and
 * a matcher costs more than the code under test.
 */
function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`property violated: ${what}`);
}

/** What a parsed message must look like, whatever the body was. */
function checkWellFormed(message: IncomingMessage): void {
  for (const field of [message.msgId, message.msgtype, message.conversationId, message.senderId, message.sessionWebhook]) {
    check(typeof field === 'string' && field.trim() !== '', `a required field is blank: ${JSON.stringify(field)}`);
    check(field.length <= MAX_FIELD_LENGTH, 'a field is longer than MAX_FIELD_LENGTH');
  }
  for (const field of [message.senderStaffId, message.senderNick, message.conversationTitle, message.robotCode]) {
    check(field === undefined || (typeof field === 'string' && field.trim() !== ''), `an optional field is blank: ${JSON.stringify(field)}`);
  }
  check(message.conversationType === '1' || message.conversationType === '2', 'conversationType is not "1" or "2"');
  check(message.isInAtList === undefined || typeof message.isInAtList === 'boolean', 'isInAtList is not a boolean');
  if (message.atUsers !== undefined) {
    check(Array.isArray(message.atUsers) && message.atUsers.length <= MAX_AT_USERS, 'atUsers is not a bounded list');
    for (const user of message.atUsers) {
      check(typeof user.dingtalkId === 'string' && user.dingtalkId.trim() !== '' && user.dingtalkId.length <= MAX_FIELD_LENGTH, 'an at user has no usable dingtalkId');
      check(user.staffId === undefined || (typeof user.staffId === 'string' && user.staffId.trim() !== ''), 'an at user has a blank staffId');
    }
  }
  const protocol = new URL(message.sessionWebhook).protocol;
  check(protocol === 'http:' || protocol === 'https:', `sessionWebhook has the scheme ${protocol}`);
  checkContent(message.content, message.msgtype);
}

const isCode = (code: unknown): boolean => typeof code === 'string' && code.trim() !== '' && code.length <= MAX_DOWNLOAD_CODE_LENGTH;

function checkQuote(quote: Quote | undefined): void {
  if (quote === undefined) return;
  check(quote.msgId === undefined || (typeof quote.msgId === 'string' && quote.msgId.trim() !== '' && quote.msgId.length <= MAX_FIELD_LENGTH), 'a quote has an unusable msgId');
  if (quote.kind === 'text') check(typeof quote.text === 'string' && quote.text.trim() !== '', 'a quoted text is blank');
  else if (quote.kind === 'picture') check(isCode(quote.downloadCode), 'a quoted picture has no usable download code');
  else check(quote.kind === 'reference' && typeof quote.msgId === 'string', `a quote of kind ${String((quote as { kind: unknown }).kind)}`);
}

function checkParts(parts: readonly MessagePart[]): void {
  check(parts.some((part) => part.kind === 'picture'), 'parts without a picture');
  parts.forEach((part, index) => {
    if (part.kind === 'picture') check(isCode(part.downloadCode), 'a picture part has no usable download code');
    else {
      check(part.kind === 'text' && typeof part.text === 'string' && part.text.trim() !== '', 'a text part is blank');
      check(parts[index - 1]?.kind !== 'text', 'two text parts follow each other');
    }
  });
}

/** What each content kind must look like, and which msgtype may carry it. */
function checkContent(content: MessageContent, msgtype: string): void {
  switch (content.kind) {
    case 'text':
      check(typeof content.text === 'string', 'text content is not a string');
      check(['text', 'audio', 'richText'].includes(msgtype), `a ${msgtype} message became text`);
      checkQuote(content.quote);
      break;
    case 'parts':
      check(msgtype === 'picture' || msgtype === 'richText', `a ${msgtype} message became parts`);
      checkParts(content.parts);
      checkQuote(content.quote);
      break;
    case 'file':
      check(msgtype === 'file', `a ${msgtype} message became a file`);
      check(isCode(content.downloadCode), 'a file has no usable download code');
      check(content.fileName.trim() !== '' && !/[/\\\p{Cc}\u202a-\u202e\u2066-\u2069]/u.test(content.fileName), `unsafe file name ${JSON.stringify(content.fileName)}`);
      check(Array.from(content.fileName).length <= MAX_FILE_NAME_LENGTH, 'a file name over MAX_FILE_NAME_LENGTH');
      break;
    case 'unsupported':
      check(content.msgtype === msgtype, 'unsupported content names another msgtype');
      break;
  }
}

const prototypeNames = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();

describe(guarantee('Hostile input: bodies (fuzzed)'), () => {
  it('parseIncomingMessage returns a well-formed message or throws InvalidMessageError for every generated body', () => {
    const before = prototypeNames();
    let tried = 0;
    let accepted = 0;
    fc.assert(
      fc.property(bodies, (body) => {
        tried += 1;
        // What JSON.parse hands the parser in production: own `__proto__` keys stay plain fields.
        const value: unknown = JSON.parse(JSON.stringify(body) ?? 'null');
        let message: IncomingMessage;
        try {
          message = parseIncomingMessage(value);
        } catch (error) {
          if (!(error instanceof InvalidMessageError)) throw error;
          return;
        }
        accepted += 1;
        checkWellFormed(message);
      }),
      { numRuns: RUNS },
    );
    recordCases('Hostile input: bodies (fuzzed)', tried);
    expect(tried).toBe(RUNS);
    // Both sides of the parser were exercised, not only refusals.
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(RUNS - accepted).toBeGreaterThan(RUNS / 10);
    expect(prototypeNames()).toEqual(before);
  });

  it('changes no 1:1 text, and removes from a group text at most leading robot mentions, for every generated text', () => {
    const names = ['Bot', '钉钉助手'];
    const robotMention = /^(?:\s*[@＠](?:bot|钉钉助手))*$/iu;
    const texts = fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 2 },
      { arbitrary: fc.array(fc.oneof(hostileStrings, fc.constantFrom('@', '＠', 'Bot', 'bot', 'BOT', '钉钉助手', 'any', ' ', '\u3000', '\n')), { maxLength: 8 }).map((parts) => parts.join('')), weight: 3 },
    );
    let tried = 0;
    fc.assert(
      fc.property(texts, fc.constantFrom('1', '2'), fc.boolean(), (text, conversationType, mentioned) => {
        tried += 1;
        const body = { ...dingtalkSample('text-group-mention'), conversationType, isInAtList: mentioned, atUsers: mentioned ? [{ dingtalkId: 'bot' }] : [], text: { content: text } };
        const content = parseIncomingMessage(body, { robotNames: names }).content;
        check(content.kind === 'text', 'a text message did not parse as text');
        if (conversationType === '1' || !mentioned) {
          check(content.text === text, `the text ${JSON.stringify(text)} became ${JSON.stringify(content.text)}`);
          return;
        }
        check(text.endsWith(content.text), 'the parser changed more than the start of the text');
        check(robotMention.test(text.slice(0, text.length - content.text.length)), `removed more than robot mentions from ${JSON.stringify(text)}`);
        // The command parser reads whatever is left without throwing.
        check(typeof parseCommand(content.text).kind === 'string', 'parseCommand failed');
      }),
      { numRuns: 2000 },
    );
    recordCases('Hostile input: bodies (fuzzed)', tried);
    expect(tried).toBe(2000);
  });

  it('toReplyTask bounds every rich text and quote: pictures, text bytes across parts and quote, payload size', () => {
    const texts = fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 3 },
      { arbitrary: hugeStrings, weight: 1 },
    );
    const element = fc.oneof(
      { arbitrary: texts.map((text) => ({ text })), weight: 2 },
      { arbitrary: fc.string({ minLength: 1, maxLength: 40 }).map((code) => ({ type: 'picture', downloadCode: `dc-${code}` })), weight: 3 },
      { arbitrary: fc.constant({ type: 'at', atName: 'Bot' }), weight: 1 },
    );
    const runs = 300;
    let tried = 0;
    let cut = 0;
    let capped = 0;
    fc.assert(
      fc.property(fc.array(element, { maxLength: 60, size: 'max' }), fc.option(texts, { nil: undefined }), (elements, quoted) => {
        tried += 1;
        const repliedMsg = quoted === undefined ? undefined : { msgType: 'text', msgId: 'q1', content: { text: quoted } };
        const body = { ...dingtalkSample('rich-text'), content: { richText: elements, isReplyMsg: repliedMsg !== undefined, repliedMsg } };
        const message = parseIncomingMessage(body);
        const task = toReplyTask(message, 1);
        const payload = encodeReplyTask(task);
        check(Buffer.byteLength(payload, 'utf8') < ASYNC_PAYLOAD_LIMIT, 'the task is over FC\'s async payload limit');
        check(contentTextBytes(task.content) <= MAX_TASK_TEXT_BYTES, 'the task text is over MAX_TASK_TEXT_BYTES');
        if (task.content.kind === 'parts') {
          check(task.content.parts.filter((part) => part.kind === 'picture').length <= MAX_TASK_PICTURES, 'more than MAX_TASK_PICTURES pictures');
        }
        check(task.truncated === (JSON.stringify(task.content) !== JSON.stringify(message.content)), 'truncated does not say whether the content changed');
        if (contentTextBytes(message.content) > MAX_TASK_TEXT_BYTES) cut += 1;
        if (message.content.kind === 'parts' && message.content.parts.filter((part) => part.kind === 'picture').length > MAX_TASK_PICTURES) capped += 1;
        check(JSON.stringify(parseReplyTask(payload)) === JSON.stringify(task), 'the task does not round-trip');
      }),
      { numRuns: runs },
    );
    recordCases('Hostile input: bodies (fuzzed)', tried);
    expect(tried).toBe(runs);
    // Both bounds were reached, not only small messages.
    expect(cut).toBeGreaterThan(runs / 20);
    expect(capped).toBeGreaterThan(runs / 20);
  });

  it('handleConversationRequest answers every signed body with 200 and one valid task, or 400 and nothing invoked', async () => {
    const clock = new ManualClock();
    const logger = createLogger({ level: 'debug', secrets: [SECRET], write: () => undefined });
    /** A fresh invoker per body: the samples share msgIds, and a repeated msgId is (rightly) not invoked again. */
    const run = (request: HttpRequest) => {
      const invoker = new RecordingInvoker();
      const deps: ConversationDeps = { appSecret: SECRET, invoker, clock, logger };
      const health = () => ({ name: 'fuzz', version: '1', secretConfigured: true, replyTargetConfigured: true });
      return handleConversationRequest(request, { health, ready: () => deps, fallbackLogger: logger }).then((response) => ({ response, invoker }));
    };
    const timestamp = String(clock.now());
    const headers = { timestamp, sign: computeSignature(timestamp, SECRET), 'content-type': 'application/json' };
    const before = prototypeNames();
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(bodyTexts, async (text) => {
        const request: HttpRequest = { method: 'POST', path: '/', headers, body: Buffer.from(text, 'utf8') };
        const { response, invoker } = await run(request);
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (request.body.length > MAX_BODY_BYTES) {
          check(response.statusCode === 413 && invoker.taskIds.length === 0, `a body over MAX_BODY_BYTES was answered ${response.statusCode}`);
          return;
        }
        check(response.statusCode === 200 || response.statusCode === 400, `answered ${response.statusCode}: ${response.body}`);
        JSON.parse(response.body);
        if (response.statusCode === 400) {
          check(invoker.taskIds.length === 0, 'a refused body was invoked');
          return;
        }
        check(invoker.taskIds.length === 1, 'an accepted body was not invoked exactly once');
        check(FC_TASK_ID.test(invoker.taskIds[0] ?? ''), `FC would refuse the task id ${JSON.stringify(invoker.taskIds[0])}`);
        const payload = invoker.payloads[0] ?? '';
        check(Buffer.byteLength(payload, 'utf8') < ASYNC_PAYLOAD_LIMIT, 'the task is over FC\'s async payload limit');
        const task = parseReplyTask(payload);
        check(contentTextBytes(task.content) <= MAX_TASK_TEXT_BYTES, 'the task text is over MAX_TASK_TEXT_BYTES');
        if (task.content.kind === 'parts') {
          check(task.content.parts.filter((part) => part.kind === 'picture').length <= MAX_TASK_PICTURES, 'the task has more than MAX_TASK_PICTURES pictures');
        }
      }),
      { numRuns: RUNS },
    );
    const tried = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    recordCases('Hostile input: bodies (fuzzed)', tried);
    expect(tried).toBe(RUNS);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS / 10);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 10);
    expect(prototypeNames()).toEqual(before);
  });
});
