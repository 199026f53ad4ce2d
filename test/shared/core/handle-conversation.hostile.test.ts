/**
 * Hostile and odd requests at the conversation function's door: forged or stale signatures, bodies
 * that are not DingTalk messages. Every refusal must be a 401 or 400 with nothing invoked; nothing may
 * ever answer 500 or throw.
 */
import { createHmac } from 'node:crypto';
import { handleConversationRequest, type ConversationDeps } from '../../../shared/core/handle-conversation';
import { MAX_TASK_TEXT_BYTES, parseReplyTask, type ReplyTask } from '../../../shared/core/reply-task';
import { parseHttpTriggerEvent, type HttpRequest, type HttpResponse } from '../../../shared/fc/http-trigger';
import { captureLogger } from '../../helpers/capture-logger';
import { dingtalkSample } from '../../helpers/fixtures';
import { guarantee } from '../../helpers/guarantee';
import { ManualClock, RecordingInvoker } from '../../helpers/ports';
import { signedEvent, type SignedEventOptions } from '../../helpers/signed-request';

const SECRET = 'hostile-test-app-secret-0123456789';
const HOUR = 60 * 60 * 1000;
/** FC's limit on an async invocation's payload. */
const ASYNC_PAYLOAD_LIMIT = 128 * 1024;

/**
 * DingTalk's signature computed here, independently of the product's `computeSignature`, so a bug
 * there (a wrong key encoding, say) cannot hide behind the same bug in the test.
 */
const dingtalkSign = (timestamp: string, secret: string): string =>
  createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(`${timestamp}\n${secret}`, 'utf8')).digest('base64');

/** The conversation core with an in-memory invoker; `secret` is the configured DINGTALK_APP_SECRET. */
function setup(secret = SECRET) {
  const clock = new ManualClock();
  const invoker = new RecordingInvoker();
  const logs = captureLogger({ level: 'debug', secrets: [secret] });
  const deps: ConversationDeps = { appSecret: secret, invoker, clock, logger: logs.logger };
  const send = (request: HttpRequest): Promise<HttpResponse> =>
    handleConversationRequest(request, {
      health: () => ({ name: 'test', version: '1', secretConfigured: true, replyTargetConfigured: true }),
      ready: () => deps,
      fallbackLogger: logs.logger,
    });
  /** A request through the real FC event parser; signed with `secret` at the clock's time unless overridden. */
  const request = (options: Partial<SignedEventOptions> = {}): HttpRequest =>
    parseHttpTriggerEvent(signedEvent({ secret, body: dingtalkSample('text-1to1'), timestamp: clock.now(), ...options }));
  /** Sends `body` (a string is sent as is) correctly signed. */
  const sendBody = (body: unknown): Promise<HttpResponse> => send(request({ body }));
  const tasks = (): ReplyTask[] => invoker.payloads.map((payload) => parseReplyTask(payload));
  return { clock, invoker, logs, send, request, sendBody, tasks };
}

/** The 1:1 text sample with `changes` applied; a field set to `undefined` is left out of the JSON. */
const sample = (changes: Record<string, unknown> = {}): Record<string, unknown> => ({ ...dingtalkSample('text-1to1'), ...changes });

describe(guarantee('Hostile input: signatures'), () => {
  it.each<[string, (now: number) => Partial<SignedEventOptions>]>([
    ['no sign header', () => ({ omit: ['sign'] })],
    ['no timestamp header', () => ({ omit: ['timestamp'] })],
    ['neither header', () => ({ omit: ['sign', 'timestamp'] })],
    ['an empty sign', () => ({ sign: '' })],
    ['an empty timestamp', () => ({ timestamp: '' })],
    ['a wrong sign of the right length', (now) => ({ sign: dingtalkSign(String(now), 'not-the-secret') })],
    ['a truncated sign', (now) => ({ sign: dingtalkSign(String(now), SECRET).slice(0, 43) })],
    ['the right sign with a trailing newline', (now) => ({ sign: `${dingtalkSign(String(now), SECRET)}\n` })],
    ['the right sign URL-encoded', (now) => ({ sign: encodeURIComponent(dingtalkSign(String(now), SECRET)) })],
    ['the right sign as hex instead of base64', (now) => ({ sign: Buffer.from(dingtalkSign(String(now), SECRET), 'base64').toString('hex') })],
    ['a sign signed with the secret of another robot', () => ({ secret: 'another-robot-secret-9876543210' })],
    ['the sign of another timestamp', (now) => ({ sign: dingtalkSign(String(now - 1), SECRET) })],
    ['a sign that is the secret itself', () => ({ sign: SECRET })],
  ])('answers 401 to %s and invokes nothing', async (_name, options) => {
    const { send, request, invoker, clock } = setup();
    const response = await send(request(options(clock.now())));
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
    expect(invoker.payloads).toHaveLength(0);
  });

  it.each<[string, (now: number) => number]>([
    ['replayed more than an hour later', (now) => now - HOUR - 1],
    ['replayed a day later', (now) => now - 24 * HOUR],
    ['stamped more than an hour in the future', (now) => now + HOUR + 1],
    ['stamped in seconds instead of milliseconds', (now) => Math.floor(now / 1000)],
    ['stamped at the epoch', () => 0],
  ])('answers 401 to a correctly signed request %s, and invokes nothing', async (_name, stamp) => {
    const { send, request, invoker, clock } = setup();
    // Signed correctly for its own timestamp: only the clock check can refuse it.
    const timestamp = String(stamp(clock.now()));
    const response = await send(request({ timestamp, sign: dingtalkSign(timestamp, SECRET) }));
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body).message).toMatch(/timestamp/);
    expect(invoker.payloads).toHaveLength(0);
  });

  it.each([
    ['an hour ago', -HOUR],
    ['an hour ahead', HOUR],
  ])('accepts a timestamp exactly %s (the documented tolerance)', async (_name, offset) => {
    const { send, request, invoker, clock } = setup();
    const timestamp = String(clock.now() + offset);
    expect((await send(request({ timestamp, sign: dingtalkSign(timestamp, SECRET) }))).statusCode).toBe(200);
    expect(invoker.payloads).toHaveLength(1);
  });

  it.each<[string, (now: number) => string]>([
    ['letters', () => 'yesterday'],
    ['a decimal fraction', (now) => `${now}.5`],
    ['exponent notation', (now) => (now / 1e12).toString() + 'e12'],
    ['a negative number', (now) => `-${now}`],
    ['a leading space', (now) => ` ${now}`],
    ['a leading plus', (now) => `+${now}`],
    ['hexadecimal', (now) => `0x${now.toString(16)}`],
    ['full-width digits', (now) => String(now).replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))],
    ['Arabic-Indic digits', (now) => String(now).replace(/\d/g, (d) => String.fromCharCode(0x0660 + Number(d)))],
    ['an ISO date', (now) => new Date(now).toISOString()],
    ['a 40-digit number', () => '9'.repeat(40)],
  ])('answers 401 to a non-numeric timestamp (%s) even when the sign matches it, and invokes nothing', async (_name, stamp) => {
    const { send, request, invoker, clock } = setup();
    const timestamp = stamp(clock.now());
    const response = await send(request({ timestamp, sign: dingtalkSign(timestamp, SECRET) }));
    expect(response.statusCode).toBe(401);
    expect(invoker.payloads).toHaveLength(0);
  });

  describe('with a secret that has non-ASCII characters', () => {
    const UNICODE_SECRET = '钉钉密钥-ключ-🔑-sécret-0123456789';

    it('accepts a request signed with the secret as UTF-8, as DingTalk signs it', async () => {
      const { send, request, invoker, clock } = setup(UNICODE_SECRET);
      const timestamp = String(clock.now());
      const response = await send(request({ timestamp, sign: dingtalkSign(timestamp, UNICODE_SECRET) }));
      expect(response.statusCode).toBe(200);
      expect(invoker.payloads).toHaveLength(1);
    });

    it.each<[string, (timestamp: string) => string]>([
      ['a sign made with the secret read as Latin-1', (t) => createHmac('sha256', Buffer.from(UNICODE_SECRET, 'latin1')).update(`${t}\n${UNICODE_SECRET}`, 'utf8').digest('base64')],
      ['a sign made with the secret without its non-ASCII characters', (t) => dingtalkSign(t, UNICODE_SECRET.replace(/[^\x20-\x7e]/g, ''))],
      ['a sign made with the secret NFD-normalised', (t) => dingtalkSign(t, UNICODE_SECRET.normalize('NFD'))],
      ['a sign made with another non-ASCII secret', (t) => dingtalkSign(t, '钉钉密钥-ключ-🔒-sécret-0123456789')],
    ])('refuses %s with 401 and invokes nothing', async (_name, sign) => {
      const { send, request, invoker, clock } = setup(UNICODE_SECRET);
      const timestamp = String(clock.now());
      const response = await send(request({ timestamp, sign: sign(timestamp) }));
      expect(response.statusCode).toBe(401);
      expect(invoker.payloads).toHaveLength(0);
    });
  });

  it('checks the signature before the body: a forged request with a large body is refused without parsing it', async () => {
    const { send, request, invoker } = setup();
    const response = await send(request({ body: `{"msgId":"${'x'.repeat(60 * 1024)}`, sign: 'A'.repeat(44) }));
    expect(response.statusCode).toBe(401);
    expect(invoker.payloads).toHaveLength(0);
  });

  it('refuses a body larger than any DingTalk callback with 413 before the signature, signed or not', async () => {
    const { send, request, invoker } = setup();
    const huge = `{"msgId":"${'x'.repeat(2 * 1024 * 1024)}`;
    // The FC event is refused before it is decoded (see http-trigger's tests); a request built otherwise, here.
    const small = request({ body: '{}' });
    for (const headers of [small.headers, { ...small.headers, sign: 'A'.repeat(44) }]) {
      expect((await send({ ...small, headers, body: Buffer.from(huge) })).statusCode).toBe(413);
    }
    expect(invoker.payloads).toHaveLength(0);
  });

  it('never writes the sign header or the secret into the log of a refusal', async () => {
    const { send, request, logs, clock } = setup();
    const forged = dingtalkSign(String(clock.now()), 'not-the-secret');
    await send(request({ sign: forged }));
    const correct = dingtalkSign(String(clock.now() - 2 * HOUR), SECRET);
    await send(request({ timestamp: clock.now() - 2 * HOUR, sign: correct }));
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThanOrEqual(2);
    for (const value of [forged, correct, SECRET]) expect(text).not.toContain(value);
  });
});

describe(guarantee('Hostile input: bodies (fuzzed)'), () => {
  it.each([
    ['an empty body', ''],
    ['a truncated object', '{"msgId":'],
    ['single quotes', "{'msgId':'x'}"],
    ['trailing garbage', `${JSON.stringify(sample())}x`],
    ['a byte-order mark before the JSON', `\ufeff${JSON.stringify(sample())}`],
    ['NaN', 'NaN'],
    ['XML', '<xml><msgId>1</msgId></xml>'],
    ['a form-encoded body', 'msgId=1&msgtype=text'],
    ['a raw control character inside a string', '{"msgId":"a\u0001b"}'],
  ])('answers 400 to invalid JSON (%s) and invokes nothing', async (_name, body) => {
    const { sendBody, invoker } = setup();
    const response = await sendBody(body);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'bad_request', message: expect.any(String) });
    expect(invoker.payloads).toHaveLength(0);
  });

  it.each([
    ['an array', '[]'],
    ['an array holding the message', JSON.stringify([sample()])],
    ['a number', '42'],
    ['a string', '"hello"'],
    ['null', 'null'],
    ['true', 'true'],
    ['the message JSON-encoded twice', JSON.stringify(JSON.stringify(sample()))],
  ])('answers 400 to JSON that is not an object (%s) and invokes nothing', async (_name, body) => {
    const { sendBody, invoker } = setup();
    const response = await sendBody(body);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toMatch(/object/);
    expect(invoker.payloads).toHaveLength(0);
  });

  it.each(['msgtype', 'msgId', 'conversationId', 'conversationType', 'sessionWebhook', 'text'])(
    'answers 400 naming the field when %s is missing, and invokes nothing',
    async (field) => {
      const { sendBody, invoker } = setup();
      const response = await sendBody(sample({ [field]: undefined }));
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).message).toContain(field);
      expect(invoker.payloads).toHaveLength(0);
    },
  );

  it('answers 400 when both sender ids are missing', async () => {
    const { sendBody, invoker } = setup();
    expect((await sendBody(sample({ senderStaffId: undefined, senderId: undefined }))).statusCode).toBe(400);
    expect(invoker.payloads).toHaveLength(0);
  });

  it.each<[string, Record<string, unknown>]>([
    ['msgId as a number', { msgId: 12345 }],
    ['msgId as blanks', { msgId: '   ' }],
    ['msgtype as an object', { msgtype: { type: 'text' } }],
    ['text as a string', { text: 'hello' }],
    ['text.content as a number', { text: { content: 42 } }],
    ['text.content as null', { text: { content: null } }],
    ['conversationId as an array', { conversationId: ['cid'] }],
    ['conversationType "3"', { conversationType: '3' }],
    ['conversationType "group"', { conversationType: 'group' }],
    ['conversationType true', { conversationType: true }],
    ['conversationType 1.5', { conversationType: 1.5 }],
    ['senderStaffId as an object', { senderStaffId: { id: 'x' } }],
    ['sessionWebhook that is not a URL', { sessionWebhook: 'not a url' }],
    ['sessionWebhook with a javascript: scheme', { sessionWebhook: 'javascript:alert(1)' }],
    ['sessionWebhook with a file: scheme', { sessionWebhook: 'file:///etc/passwd' }],
    ['createAt as words', { createAt: 'yesterday' }],
    ['createAt negative', { createAt: -1 }],
    ['sessionWebhookExpiredTime beyond a safe integer', { sessionWebhookExpiredTime: 1e300 }],
    ['msgId longer than any DingTalk id', { msgId: 'm'.repeat(10_000) }],
  ])('answers 400 to a mistyped field (%s) and invokes nothing', async (_name, changes) => {
    const { sendBody, invoker } = setup();
    const response = await sendBody(sample(changes));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toEqual(expect.any(String));
    expect(invoker.payloads).toHaveLength(0);
  });

  it.each<[unknown, '1' | '2']>([
    [1, '1'],
    [2, '2'],
    ['1', '1'],
    ['2', '2'],
  ])('accepts conversationType %j and passes it on as %j', async (value, expected) => {
    const { sendBody, tasks } = setup();
    expect((await sendBody(sample({ conversationType: value }))).statusCode).toBe(200);
    expect(tasks()).toEqual([expect.objectContaining({ conversationType: expected })]);
  });

  it.each(['interactiveCard', 'markdown', 'chatRecord', 'unknown-type-from-the-future', '文本'])(
    'accepts an unknown msgtype (%s) for a polite "text only" reply instead of an error',
    async (msgtype) => {
      const { sendBody, tasks } = setup();
      expect((await sendBody(sample({ msgtype, text: undefined, content: { whatever: true } }))).statusCode).toBe(200);
      expect(tasks()).toEqual([expect.objectContaining({ content: { kind: 'unsupported', msgtype } })]);
    },
  );

  it('accepts a 60 KB text message, cutting it so the async payload stays under FC\'s 128 KB', async () => {
    const { sendBody, invoker, tasks } = setup();
    const huge = '长'.repeat(20_000);
    const response = await sendBody(sample({ text: { content: huge } }));
    expect(response.statusCode).toBe(200);
    expect(Buffer.byteLength(invoker.payloads[0] ?? '', 'utf8')).toBeLessThan(ASYNC_PAYLOAD_LIMIT);
    const [task] = tasks();
    expect(task?.truncated).toBe(true);
    expect(task?.content.kind === 'text' && Buffer.byteLength(task.content.text, 'utf8')).toBeLessThanOrEqual(MAX_TASK_TEXT_BYTES);
  });

  it('accepts a message padded with 60 KB of fields nobody reads, without growing the payload', async () => {
    const { sendBody, invoker } = setup();
    const response = await sendBody(sample({ padding: 'p'.repeat(60 * 1024) }));
    expect(response.statusCode).toBe(200);
    expect(Buffer.byteLength(invoker.payloads[0] ?? '', 'utf8')).toBeLessThan(4096);
  });

  it('answers 400 to a 60 KB body of garbage and 413 to a 2 MB one', async () => {
    const { send, request, sendBody, invoker } = setup();
    expect((await sendBody('{'.repeat(60 * 1024))).statusCode).toBe(400);
    expect((await send({ ...request({ body: '{}' }), body: Buffer.from('{'.repeat(2 * 1024 * 1024)) })).statusCode).toBe(413);
    expect(invoker.payloads).toHaveLength(0);
  });

  it('survives JSON nested 30,000 levels deep', async () => {
    const { sendBody } = setup();
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    expect((await sendBody(deep)).statusCode).toBe(400);
    const nestedField = JSON.stringify(sample()).replace(/}$/, `,"extra":${deep}}`);
    expect((await sendBody(nestedField)).statusCode).toBe(200);
  });

  it('takes nothing from "__proto__" or "constructor" keys and pollutes no prototype', async () => {
    const { sendBody, invoker, tasks } = setup();
    const onlyInProto = `{"__proto__":${JSON.stringify(sample())},"constructor":{"prototype":{"msgtype":"text"}}}`;
    expect((await sendBody(onlyInProto)).statusCode).toBe(400);
    expect(invoker.payloads).toHaveLength(0);

    const withProto = JSON.stringify(sample()).replace(/^{/, '{"__proto__":{"isAdmin":true,"userId":"admin","conversationType":"2"},');
    expect((await sendBody(withProto)).statusCode).toBe(200);
    expect(tasks()[0]).toMatchObject({ userId: 'manager1234', conversationType: '1' });
    const probe: Record<string, unknown> = {};
    expect([probe.isAdmin, probe.userId, probe.msgtype, probe.conversationType]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('answers with a JSON error that never echoes the body back', async () => {
    const { sendBody } = setup();
    const marker = '<script>alert("echo")</script>';
    const response = await sendBody(sample({ conversationType: marker }));
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain(marker);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
  });
});
