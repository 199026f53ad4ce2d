/**
 * The Stream gateway fake checks what DingTalk checks, driven by the real client of `npm run connect`
 * (local/connect-stream.ts): credentials and subscriptions at the open endpoint, a one-use ticket on the
 * WebSocket, the acknowledgement format, pings answered unchanged, and a new connection after a
 * disconnect, a dropped connection or a failed open.
 */
import WebSocket from 'ws';
import { openStreamConnection, ROBOT_MESSAGE_TOPIC, startStreamClient, StreamOpenError, type StreamAck, type StreamClient, type StreamEvent, type StreamFrame } from '../../local/connect-stream';
import { startDingTalkStreamFake, STREAM_OPEN_PATH, type DingTalkStreamFake } from './dingtalk-stream-fake';

const CLIENT_ID = 'dingstreamtestclient01';
const CLIENT_SECRET = 'stream-test-secret-0000000000000000';
const SUBSCRIPTIONS = [{ type: 'CALLBACK' as const, topic: ROBOT_MESSAGE_TOPIC }];

let fake: DingTalkStreamFake;
let client: StreamClient | undefined;

beforeEach(async () => {
  fake = await startDingTalkStreamFake({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
});

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await fake.close();
});

/** Starts the real client against the fake, reconnecting at once; records frames and events. */
async function startClient(handler?: (frame: StreamFrame) => Promise<StreamAck>): Promise<{ frames: StreamFrame[]; events: StreamEvent[] }> {
  const frames: StreamFrame[] = [];
  const events: StreamEvent[] = [];
  client = await startStreamClient({
    apiBase: fake.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ua: 'stream-fake-test',
    callbacks: {
      [ROBOT_MESSAGE_TOPIC]: async (frame) => {
        frames.push(frame);
        return handler ? handler(frame) : { code: 200, message: 'OK' };
      },
    },
    onEvent: (event) => events.push(event),
    reconnectDelayMs: () => 0,
  });
  return { frames, events };
}

/** Whether a WebSocket to `url` is refused before the upgrade, and with which status. */
function upgradeStatus(url: string): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

describe('open endpoint', () => {
  it('hands out an endpoint and a ticket for the right Client ID and Secret with subscriptions', async () => {
    const opened = await openStreamConnection({ apiBase: fake.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, subscriptions: SUBSCRIPTIONS, ua: 'test/1' });
    expect(opened.endpoint).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/connect$/);
    expect(opened.url).toBe(`${opened.endpoint}?ticket=${opened.ticket}`);
    expect(fake.opens).toEqual([{ status: 200, ticket: opened.ticket, body: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, subscriptions: SUBSCRIPTIONS, ua: 'test/1' } }]);
  });

  it("answers a wrong secret or Client ID 401 authFailed as DingTalk does, which the client calls a credentials error", async () => {
    for (const [clientId, clientSecret] of [
      [CLIENT_ID, 'wrong-secret'],
      ['dingotherclient', CLIENT_SECRET],
    ] as const) {
      const error = await openStreamConnection({ apiBase: fake.url, clientId, clientSecret, subscriptions: SUBSCRIPTIONS, ua: 'test/1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StreamOpenError);
      expect(error).toMatchObject({ reason: 'credentials', status: 401 });
      expect((error as Error).message).toContain('authFailed: 鉴权失败');
      expect((error as Error).message).not.toContain(clientSecret);
    }
  });

  it('refuses a body without subscriptions, and a body that is not JSON (400)', async () => {
    const error = await openStreamConnection({ apiBase: fake.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, subscriptions: [], ua: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'rejected', status: 400 });
    const raw = await fetch(`${fake.url}${STREAM_OPEN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'clientId=x' });
    expect(raw.status).toBe(400);
  });

  it('accepts a ticket once: an unknown or used ticket is refused before the upgrade', async () => {
    const opened = await openStreamConnection({ apiBase: fake.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, subscriptions: SUBSCRIPTIONS, ua: 'x' });
    expect(await upgradeStatus(`${opened.endpoint}?ticket=not-a-ticket`)).toBe(401);
    expect(await upgradeStatus(opened.endpoint)).toBe(401);
    expect(await upgradeStatus(opened.url)).toBe('open');
    expect(await upgradeStatus(opened.url)).toBe(401);
    expect(fake.refusedUpgrades).toBe(3);
    expect(fake.connections).toHaveLength(1);
  });
});

describe('connection', () => {
  it('delivers a robot message and records its acknowledgement in the format DingTalk expects', async () => {
    const { frames } = await startClient();
    const message = { msgtype: 'text', text: { content: 'hello' }, msgId: 'msg1' };
    const ack = await fake.deliver(message, { messageId: 'mid_1' });
    expect(frames).toHaveLength(1);
    expect(frames[0]?.data).toBe(JSON.stringify(message));
    expect(frames[0]?.headers).toMatchObject({ topic: ROBOT_MESSAGE_TOPIC, messageId: 'mid_1', contentType: 'application/json' });
    expect(ack).toEqual({ code: 200, message: 'OK', messageId: 'mid_1', data: { response: null }, connection: 1 });
    expect(fake.invalidFrames).toEqual([]);
    expect(fake.connections[0]?.subscriptions).toEqual([`CALLBACK ${ROBOT_MESSAGE_TOPIC}`]);
  });

  it('acknowledges a failing handler with 500, so the gateway may deliver the message again', async () => {
    await startClient(() => Promise.reject(new Error('pipeline down')));
    expect(await fake.deliver({ msgtype: 'text' })).toMatchObject({ code: 500, message: 'pipeline down' });
  });

  it('answers a ping with the same headers and data', async () => {
    await startClient();
    const data = await fake.ping();
    expect(JSON.parse(data)).toHaveProperty('opaque');
    expect(fake.invalidFrames).toEqual([]);
  });

  it('opens a new connection with a new ticket after a disconnect, and receives on it', async () => {
    const { frames, events } = await startClient();
    fake.disconnect('persistent connection is timeout');
    const second = await fake.waitForConnections(2);
    expect(fake.connections[0]?.open).toBe(false);
    expect(second.ticket).not.toBe(fake.connections[0]?.ticket);
    expect(fake.opens.filter((open) => open.status === 200)).toHaveLength(2);
    expect(events).toContainEqual({ type: 'disconnect-requested', connection: 1, reason: 'persistent connection is timeout' });
    expect(await fake.deliver({ after: 'reconnect' })).toMatchObject({ code: 200, connection: 2 });
    expect(frames.map((frame) => frame.data)).toEqual([JSON.stringify({ after: 'reconnect' })]);
  });

  it('reconnects after a dropped connection, through failed opens, with increasing attempts', async () => {
    const { events } = await startClient();
    fake.failOpens(2, 503);
    fake.drop();
    await fake.waitForConnections(2);
    expect(fake.opens.map((open) => open.status)).toEqual([200, 503, 503, 200]);
    const attempts = events.filter((event) => event.type === 'reconnecting').map((event) => (event.type === 'reconnecting' ? event.attempt : 0));
    expect(attempts).toEqual([1, 2, 3]);
    expect(await fake.deliver({ n: 1 })).toMatchObject({ code: 200, connection: 2 });
  });

  it('opens a new connection when a WebSocket ping of its own gets no pong (a connection gone silent)', async () => {
    await fake.close();
    fake = await startDingTalkStreamFake({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, answerPings: false });
    const events: StreamEvent[] = [];
    client = await startStreamClient({
      apiBase: fake.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      ua: 'x',
      callbacks: { [ROBOT_MESSAGE_TOPIC]: async () => ({ code: 200, message: 'OK' }) },
      onEvent: (event) => events.push(event),
      reconnectDelayMs: () => 0,
      keepAliveMs: 10,
    });
    await fake.waitForConnections(2);
    expect(events).toContainEqual(expect.objectContaining({ type: 'closed', connection: 1 }));
  });

  it('stops: acknowledges the callback in flight, closes, and never reconnects', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await startClient(async () => {
      await held;
      return { code: 200, message: 'OK' };
    });
    const acknowledged = fake.deliver({ slow: true });
    // The handler has the frame once the fake's send reached the client: a ping answered after it proves that.
    await fake.ping();
    const stopping = (client as StreamClient).stop();
    client = undefined;
    release();
    expect(await acknowledged).toMatchObject({ code: 200 });
    await stopping;
    expect(fake.connections[0]?.open).toBe(false);
    expect(fake.opens).toHaveLength(1);
  });

  it('keeps a malformed answer out of the acknowledgements', async () => {
    const opened = await openStreamConnection({ apiBase: fake.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, subscriptions: SUBSCRIPTIONS, ua: 'x' });
    const ws = new WebSocket(opened.url);
    ws.on('message', (raw: Buffer) => {
      const frame = JSON.parse(raw.toString('utf8')) as { headers: { messageId: string } };
      // No contentType, and data that is not a JSON string: the gateway would not take it.
      ws.send(JSON.stringify({ code: 200, headers: { messageId: frame.headers.messageId }, message: 'OK', data: '{not json' }));
    });
    await new Promise((resolve) => ws.once('open', resolve));
    await expect(fake.deliver({ x: 1 }, { timeoutMs: 500 })).rejects.toThrow(/no ack/);
    expect(fake.invalidFrames.map((frame) => frame.reason)).toEqual(['headers.contentType must be application/json']);
    expect(fake.acks).toEqual([]);
    ws.terminate();
  });

  it('delivers callbacks only to a connection subscribed to their topic', async () => {
    await startClient();
    await expect(fake.deliver({ x: 1 }, { topic: '/v1.0/card/instances/callback' })).rejects.toThrow(/did not subscribe/);
  });
});
