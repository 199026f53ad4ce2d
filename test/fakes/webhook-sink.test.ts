import axios from 'axios';
import { startWebhookSink, validateDingTalkMessage, type WebhookSink } from './webhook-sink';

describe('DingTalk session webhook sink with the real axios', () => {
  let sink: WebhookSink;

  beforeEach(async () => {
    sink = await startWebhookSink();
  });

  afterEach(async () => {
    await sink.close();
  });

  it('accepts a text reply with an @ mention and a markdown reply', async () => {
    const text = await axios.post(sink.webhookUrl('s1'), {
      msgtype: 'text',
      text: { content: '@user1 hello' },
      at: { atUserIds: ['user1'] },
    });
    expect(text.status).toBe(200);
    expect(text.data).toEqual({ errcode: 0, errmsg: 'ok' });
    await axios.post(sink.webhookUrl(), { msgtype: 'markdown', markdown: { title: 'Answer', text: '# hi' } });
    const got = await sink.waitForMessages(2);
    expect(got.map((m) => m.session)).toEqual(['s1', 'test-session']);
    expect(got[0]?.body).toMatchObject({ msgtype: 'text', at: { atUserIds: ['user1'] } });
    expect(got[1]?.headers['content-type']).toContain('application/json');
    expect(sink.webhookUrl('a b')).toBe(`${sink.url}/robot/sendBySession?session=a%20b`);
  });

  it('answers HTTP 200 with errcode 40035 for an invalid message and records it as rejected', async () => {
    const res = await axios.post(sink.webhookUrl(), { msgtype: 'text', text: { body: 'wrong field' } });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ errcode: 40035 });
    const md = await axios.post(sink.webhookUrl(), { msgtype: 'markdown', markdown: { text: 'no title' } });
    expect(md.data).toMatchObject({ errcode: 40035 });
    const badAt = await axios.post(sink.webhookUrl(), { msgtype: 'text', text: { content: 'x' }, at: { atUserIds: 'user1' } });
    expect(badAt.data).toMatchObject({ errcode: 40035 });
    const tooLong = await axios.post(sink.webhookUrl(), { msgtype: 'text', text: { content: '字'.repeat(7000) } });
    expect(tooLong.data).toMatchObject({ errcode: 460101 });
    expect(sink.messages).toHaveLength(0);
    expect(sink.rejected).toHaveLength(4);
  });

  it('requires Content-Type application/json', async () => {
    const res = await axios.post(sink.webhookUrl(), JSON.stringify({ msgtype: 'text', text: { content: 'x' } }), {
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.data).toMatchObject({ errcode: 43004 });
    expect(sink.rejected).toHaveLength(1);
  });

  it('answers 300001 for an expired session', async () => {
    sink.expireSession('old');
    const res = await axios.post(sink.webhookUrl('old'), { msgtype: 'text', text: { content: 'late reply' } });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ errcode: 300001, errmsg: 'session 不存在' });
    await axios.post(sink.webhookUrl('fresh'), { msgtype: 'text', text: { content: 'ok' } });
    expect(sink.messages.map((m) => m.session)).toEqual(['fresh']);
  });

  it('plays queued answers: throttling errcode, HTTP 500, then success', async () => {
    sink.queue({ errcode: 90030, errmsg: 'send too fast' }, { status: 500, errcode: -1 }, { delayMs: 50 });
    const body = { msgtype: 'text', text: { content: 'x' } };
    expect((await axios.post(sink.webhookUrl(), body)).data).toEqual({ errcode: 90030, errmsg: 'send too fast' });
    const failed: unknown = await axios.post(sink.webhookUrl(), body).catch((e: unknown) => e);
    expect(axios.isAxiosError(failed) && failed.response?.status).toBe(500);
    const started = Date.now();
    expect((await axios.post(sink.webhookUrl(), body)).data).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(sink.messages).toHaveLength(1);
    expect(sink.rejected).toHaveLength(2);
    expect(sink.requests).toHaveLength(3);
  });

  it('waitForMessages resolves on later arrivals and rejects clearly on timeout', async () => {
    const waiting = sink.waitForMessages(1, 2000);
    setTimeout(() => {
      void axios.post(sink.webhookUrl(), { msgtype: 'text', text: { content: 'later' } });
    }, 20);
    await expect(waiting).resolves.toHaveLength(1);

    await axios.post(sink.webhookUrl(), { msgtype: 'nope' });
    await expect(sink.waitForMessages(3, 100)).rejects.toThrow(/expected 3 accepted message\(s\) within 100 ms, got 1; 1 rejected: 40035/);
  });

  it('answers 460101 for a body over 20,000 bytes even when the text alone is under', async () => {
    const text = 'x'.repeat(19_990);
    const res = await axios.post(sink.webhookUrl(), { msgtype: 'markdown', markdown: { title: 'long', text } });
    expect(res.data).toEqual({ errcode: 460101, errmsg: 'message too long, exceed 20000 bytes' });
    const fits = await axios.post(sink.webhookUrl(), { msgtype: 'markdown', markdown: { title: 'ok', text: text.slice(100) } });
    expect(fits.data).toMatchObject({ errcode: 0 });
  });

  it('answers 130101 past its rate limit until the window has moved on, by the clock it is given', async () => {
    await sink.close();
    let now = 1_000_000;
    sink = await startWebhookSink({ rateLimit: { messages: 2, windowMs: 60_000, now: () => now } });
    const body = { msgtype: 'text', text: { content: 'x' } };
    const codes: unknown[] = [];
    for (const advance of [0, 1_000, 1_000, 58_000, 1_000]) {
      now += advance;
      codes.push(((await axios.post(sink.webhookUrl(), body)).data as { errcode: unknown }).errcode);
    }
    expect(codes).toEqual([0, 0, 130101, 0, 0]);
    expect(sink.rejected.map((m) => m.errmsg)).toEqual(['send too fast, exceed 20 times per minute']);
  });

  it('validateDingTalkMessage accepts only text and markdown robot messages', () => {
    expect(validateDingTalkMessage({ msgtype: 'text', text: { content: 'x' }, at: { isAtAll: false } })).toBeUndefined();
    expect(validateDingTalkMessage({ msgtype: 'link' })).toMatch(/unsupported msgtype/);
    expect(validateDingTalkMessage([])).toMatch(/JSON object/);
  });
});
