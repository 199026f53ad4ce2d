/**
 * The invocation's signer fallback and the probe's conversation half, through the conversation bundle
 * `s deploy` ships (dist/conversation, with FC 3.0's SDK beside it in fc3-sdk.js).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROBE_BODY_FIELD } from '../../../shared/core/reply-task';
import { startFcApiFake, type FcApiFake } from '../../fakes/fc-api-fake';
import { captureStdout } from '../../helpers/capture-logger';
import { fcContext, STS_CREDENTIALS } from '../../helpers/fc-context';
import { dingtalkSample } from '../../helpers/fixtures';
import { signedEvent } from '../../helpers/signed-request';

const DIST = path.resolve(__dirname, '../../../dist/conversation');
const SECRET = 'bundle-signer-secret-0123456789';
const ACCOUNT = '1234567890123456';
const REPLY = 'dingtalk-llm-reply';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;

function loadConversation(): Handler {
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = (require(path.join(DIST, 'index.js')) as { handler: Handler }).handler;
  });
  return handler as Handler;
}

const savedEnv = { ...process.env };
let running: FcApiFake | undefined;
/** The FC fake of the current test. */
function fake(): FcApiFake {
  if (running === undefined) throw new Error('no FC fake started');
  return running;
}
const payloads: string[] = [];

async function startWith(refuseFc: boolean): Promise<Handler> {
  payloads.length = 0;
  running = await startFcApiFake({
    accountId: ACCOUNT,
    credentials: [STS_CREDENTIALS],
    functions: { [REPLY]: { asyncTask: true, handler: async (payload) => void payloads.push(payload.toString('utf8')) } },
    ...(refuseFc ? { refuseFcSignature: { status: 403, code: 'SignatureNotMatch' }, errorFormat: 'fc3' as const } : {}),
  });
  Object.assign(process.env, { DINGTALK_APP_SECRET: SECRET, REPLY_FUNCTION_NAME: REPLY, FC_ENDPOINT: fake().url, LOG_LEVEL: 'info' });
  return loadConversation();
}

afterEach(async () => {
  process.env = { ...savedEnv };
  await running?.close();
  running = undefined;
});

function callback(extra: Record<string, unknown> = {}): Buffer {
  const body = { ...dingtalkSample('text-1to1'), msgId: `msg-${Math.random().toString(36).slice(2)}`, createAt: Date.now(), ...extra };
  return signedEvent({ secret: SECRET, body });
}

async function send(conversation: Handler, event: Buffer): Promise<{ status: number; body: Record<string, unknown>; lines: Array<Record<string, unknown>> }> {
  const { result, lines } = await captureStdout(() => conversation(event, fcContext({ functionName: 'dingtalk-llm-conversation' })));
  await fake().idle();
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown>, lines };
}

describe('conversation bundle: which signer FC accepts', () => {
  it('keeps FC 3.0 SDK out of the bundle, in a file of its own beside it', () => {
    expect(existsSync(path.join(DIST, 'fc3-sdk.js'))).toBe(true);
    expect(readFileSync(path.join(DIST, 'index.js'), 'utf8')).not.toContain('ACS3-HMAC-SHA256');
  });

  it('invokes with fc2 when FC accepts it, logging the signer', async () => {
    const conversation = await startWith(false);
    const { status, lines } = await send(conversation, callback());
    expect(status).toBe(200);
    expect(lines.find((line) => line.event === 'conversation.accepted')).toMatchObject({ signer: 'fc2' });
    expect(fake().invocations.map((invocation) => invocation.signer)).toEqual(['fc2']);
  });

  it('falls back to ACS3 (loaded from fc3-sdk.js) when FC refuses the fc2 signature, and stays on it', async () => {
    const conversation = await startWith(true);
    const first = await send(conversation, callback());
    const second = await send(conversation, callback());
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.lines.find((line) => line.event === 'conversation.accepted')).toMatchObject({ signer: 'acs3' });
    expect(fake().requests.map((request) => [request.signer, request.status])).toEqual([
      ['fc2', 403],
      ['acs3', 202],
      ['acs3', 202],
    ]);
    expect(payloads).toHaveLength(2);
  });
});

describe('conversation bundle: the deployment probe', () => {
  const ID = 'abcdef0123456789abcdef0123456789';

  it('answers a signed probe with the invocation and its signer, and hands reply a task marked as a probe', async () => {
    const conversation = await startWith(true);
    const { status, body, lines } = await send(conversation, callback({ [PROBE_BODY_FIELD]: { id: ID } }));
    expect(status).toBe(200);
    expect(body).toMatchObject({ probe: { id: ID, invoked: true, signer: 'acs3', requestId: expect.any(String) } });
    expect(JSON.parse(payloads[0] ?? '{}')).toMatchObject({ probe: { id: ID } });
    expect(lines.find((line) => line.event === 'conversation.accepted')).toMatchObject({ probe: ID, signer: 'acs3' });
  });

  it('ignores the marker without a valid signature: 401, nothing invoked', async () => {
    const conversation = await startWith(false);
    const event = signedEvent({ secret: 'not-the-secret-00000000000', body: { ...dingtalkSample('text-1to1'), [PROBE_BODY_FIELD]: { id: ID } } });
    const { status, body } = await send(conversation, event);
    expect(status).toBe(401);
    expect(body.probe).toBeUndefined();
    expect(fake().invocations).toHaveLength(0);
  });

  it('says why FC did not take a probe invocation', async () => {
    const conversation = await startWith(false);
    fake().failNext(403, 'AccessDenied', 'the role may not invoke this function');
    const { status, body } = await send(conversation, callback({ [PROBE_BODY_FIELD]: { id: ID } }));
    expect(status).toBe(502);
    expect(body).toMatchObject({ probe: { id: ID, invoked: false, error: { status: 403, code: 'AccessDenied' } } });
  });
});
