import { ConfigError, InvokeError } from '../../../shared/errors';
import { handleConversationRequest, type ConversationDeps } from '../../../shared/core/handle-conversation';
import { parseReplyTask } from '../../../shared/core/reply-task';
import { MAX_BODY_BYTES, parseHttpTriggerEvent, type HttpRequest } from '../../../shared/fc/http-trigger';
import { captureLogger } from '../../helpers/capture-logger';
import { dingtalkSample } from '../../helpers/fixtures';
import { guarantee } from '../../helpers/guarantee';
import { ManualClock, RecordingInvoker } from '../../helpers/ports';
import { asyncTaskId } from '../../../shared/fc/async-task-id';
import { signedEvent, type SignedEventOptions } from '../../helpers/signed-request';

const SECRET = 'test-app-secret-0123456789';

function setup() {
  const clock = new ManualClock();
  const invoker = new RecordingInvoker();
  const logs = captureLogger({ secrets: [SECRET] });
  const deps: ConversationDeps = { appSecret: SECRET, invoker, clock, logger: logs.logger };
  const health = { name: 'test', version: '1', secretConfigured: true, replyTargetConfigured: true };
  const send = (request: HttpRequest, ready: () => ConversationDeps = () => deps) =>
    handleConversationRequest(request, { health: () => health, ready, fallbackLogger: logs.logger });
  const request = (options: Partial<SignedEventOptions> = {}): HttpRequest =>
    parseHttpTriggerEvent(signedEvent({ secret: SECRET, body: dingtalkSample('text-1to1'), timestamp: clock.now(), ...options }));
  return { clock, invoker, logs, send, request };
}

describe('handleConversationRequest', () => {
  it('acknowledges a signed message with 200 and invokes the reply once with the task', async () => {
    const { send, request, invoker } = setup();
    const response = await send(request());
    expect(response.statusCode).toBe(200);
    expect(invoker.payloads).toHaveLength(1);
    const task = parseReplyTask(invoker.payloads[0]);
    expect(task).toMatchObject({
      msgId: 'msgW1eLk8wQ7a1X2b3C4d5E6f7G==',
      userId: 'manager1234',
      conversationType: '1',
      content: { kind: 'text', text: '你好，请介绍一下你自己' },
    });
  });

  it.each<[string, Record<string, unknown>]>([
    ['picture', { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'downloadCodeExample000000000000' }] }],
    [
      'rich-text',
      {
        kind: 'parts',
        parts: [
          { kind: 'text', text: '这张图里是什么？' },
          { kind: 'picture', downloadCode: 'downloadCodeExample111111111111' },
          { kind: 'text', text: '请简要说明' },
        ],
      },
    ],
    ['audio', { kind: 'text', text: '明天上午十点提醒我开会' }],
    ['more/file', { kind: 'file', downloadCode: 'downloadCodeExample333333333333', fileName: 'error-log.txt' }],
    [
      'more/text-reply-quote',
      { kind: 'text', text: '这是什么意思？', quote: { kind: 'text', text: '部署窗口改到周五 22:00，灰度 10%。', msgId: 'msgEarlier0000000000000000==' } },
    ],
  ])('accepts the %s sample and hands its content to the reply as a typed value', async (name, content) => {
    const { send, request, invoker } = setup();
    const response = await send(request({ body: dingtalkSample(name) }));
    expect(response.statusCode).toBe(200);
    expect(invoker.payloads).toHaveLength(1);
    expect(parseReplyTask(invoker.payloads[0]).content).toEqual(content);
  });

  it('answers 413 to a body over the bound before any other check, and invokes nothing', async () => {
    const { send, invoker } = setup();
    const ready = jest.fn(() => {
      throw new Error('the configuration must not be loaded for an oversized request');
    });
    const oversized: HttpRequest = { method: 'PUT', path: '/', headers: {}, body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) };
    const response = await send(oversized, ready);
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'payload_too_large' });
    expect(ready).not.toHaveBeenCalled();
    expect(invoker.payloads).toHaveLength(0);
  });

  it('matches the timestamp and sign headers whatever their case', async () => {
    const { send, request, invoker } = setup();
    expect((await send(request({ headerCase: 'title' }))).statusCode).toBe(200);
    expect(invoker.payloads).toHaveLength(1);
  });

  it('reads a base64-encoded body', async () => {
    const { send, request, invoker } = setup();
    expect((await send(request({ base64: true }))).statusCode).toBe(200);
    expect(invoker.payloads).toHaveLength(1);
  });

  it.each([
    ['a missing sign header', { omit: ['sign'] }],
    ['a missing timestamp header', { omit: ['timestamp'] }],
    ['a wrong sign', { sign: 'AAAAwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=' }],
    ['a sign made with another secret', { secret: 'another-secret-value' }],
  ])('answers 401 and invokes nothing for %s', async (_name, options) => {
    const { send, request, invoker } = setup();
    const response = await send(request(options as Partial<SignedEventOptions>));
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'unauthorized' });
    expect(invoker.payloads).toHaveLength(0);
  });

  it('answers 401 for a timestamp more than an hour old', async () => {
    const { send, request, invoker, clock } = setup();
    const response = await send(request({ timestamp: clock.now() - 60 * 60 * 1000 - 1 }));
    expect(response.statusCode).toBe(401);
    expect(invoker.payloads).toHaveLength(0);
  });

  it('checks the signature before it reads the body', async () => {
    const { send, request, invoker } = setup();
    const response = await send(request({ body: '{not json', sign: 'bad' }));
    expect(response.statusCode).toBe(401);
    expect(invoker.payloads).toHaveLength(0);
  });

  it.each([
    ['invalid JSON', '{"msgId":'],
    ['a JSON array', '[]'],
    ['a message without sessionWebhook', JSON.stringify({ ...dingtalkSample('text-1to1'), sessionWebhook: undefined })],
    ['a message without any sender id', JSON.stringify({ ...dingtalkSample('text-1to1'), senderStaffId: undefined, senderId: undefined })],
  ])('answers 400 with what is wrong and invokes nothing for %s', async (_name, body) => {
    const { send, request, invoker } = setup();
    const response = await send(request({ body }));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toEqual(expect.any(String));
    expect(invoker.payloads).toHaveLength(0);
  });

  it('answers GET with the health document and no secret', async () => {
    const { send, request } = setup();
    const response = await send(request({ method: 'GET' }));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ name: 'test', version: '1', secretConfigured: true, replyTargetConfigured: true });
    expect(response.body).not.toContain(SECRET);
  });

  it('answers 405 to other methods', async () => {
    const { send, request, invoker } = setup();
    expect((await send(request({ method: 'PUT' }))).statusCode).toBe(405);
    expect(invoker.payloads).toHaveLength(0);
  });

  it('answers 5xx and logs why when FC does not accept the invocation', async () => {
    const { send, request, invoker, logs } = setup();
    invoker.failWith = new InvokeError('async invocation of reply failed: FC answered 404 FunctionNotFound', { status: 404, code: 'FunctionNotFound' });
    const response = await send(request());
    expect(response.statusCode).toBe(502);
    const line = logs.find('conversation.invoke_failed');
    expect(line).toMatchObject({ msgId: 'msgW1eLk8wQ7a1X2b3C4d5E6f7G==', error: { code: 'FunctionNotFound', status: 404 } });
  });

  it('answers 503 when FC cannot be reached at all', async () => {
    const { send, request, invoker } = setup();
    invoker.failWith = new InvokeError('async invocation of reply failed: FC could not be reached');
    expect((await send(request())).statusCode).toBe(503);
  });

  it('answers 500 and logs the configuration problem when the function is misconfigured', async () => {
    const { send, request, logs } = setup();
    const response = await send(request(), () => {
      throw new ConfigError('DINGTALK_APP_SECRET is required: ...');
    });
    expect(response.statusCode).toBe(500);
    expect(logs.find('conversation.misconfigured')).toMatchObject({ error: { kind: 'config' } });
  });

  it('never logs the secret or the message text at info level', async () => {
    const { request, clock } = setup();
    const quiet = captureLogger({ level: 'info', secrets: [SECRET] });
    await handleConversationRequest(request(), {
      health: () => ({ name: 't', version: '1', secretConfigured: true, replyTargetConfigured: true }),
      ready: () => ({ appSecret: SECRET, invoker: new RecordingInvoker(), clock, logger: quiet.logger }),
      fallbackLogger: quiet.logger,
    });
    expect(quiet.lines.length).toBeGreaterThan(0);
    expect(quiet.lines.join('\n')).not.toContain(SECRET);
    expect(quiet.lines.join('\n')).not.toContain('你好');
    expect(quiet.lines.join('\n')).not.toContain('0123456789abcdef0123456789abcdef');
  });
});

describe(guarantee('Exactly one answer per message'), () => {
  it("invokes the reply with the task id derived from the message's identity", async () => {
    const { send, request, invoker } = setup();
    await send(request());
    const sample = dingtalkSample('text-1to1');
    expect(invoker.taskIds).toEqual([
      asyncTaskId({ msgId: String(sample.msgId), conversationId: String(sample.conversationId), senderId: String(sample.senderId) }),
    ]);
  });

  it("starts a reply for a message whose msgId another conversation's message already used", async () => {
    const { send, request, invoker } = setup();
    const sample = dingtalkSample('text-1to1');
    expect((await send(request())).statusCode).toBe(200);
    const reused = request({ body: { ...sample, conversationId: 'cidAnotherConversation==' } });
    expect((await send(reused)).statusCode).toBe(200);
    const otherSender = request({ body: { ...sample, senderId: '$:LWCP_v1:$anotherSender==', senderStaffId: 'someone-else' } });
    expect((await send(otherSender)).statusCode).toBe(200);
    expect(invoker.payloads.map((payload) => parseReplyTask(payload).conversationId)).toEqual([
      sample.conversationId,
      'cidAnotherConversation==',
      sample.conversationId,
    ]);
    expect(new Set(invoker.taskIds).size).toBe(3);
  });

  it('acknowledges a redelivered msgId with 200 and starts no second reply', async () => {
    const { send, request, invoker, logs } = setup();
    expect((await send(request())).statusCode).toBe(200);
    expect((await send(request())).statusCode).toBe(200);
    expect(invoker.payloads).toHaveLength(1);
    expect(logs.find('conversation.duplicate')).toMatchObject({ outcome: 'duplicate', msgId: 'msgW1eLk8wQ7a1X2b3C4d5E6f7G==' });
  });
});
