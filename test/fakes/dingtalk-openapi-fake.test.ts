import axios from 'axios';
import { DINGTALK_PATHS, startDingTalkOpenApiFake, type DingTalkOpenApiFake } from './dingtalk-openapi-fake';

const CLIENT_ID = 'dingfakeclientid';
const CLIENT_SECRET = 'fake-client-secret-0123456789';
const TEMPLATE = 'fake-ai-card.schema';

/** A raw HTTP client: nothing between the test and the fake (validateStatus: any status is an answer). */
const http = axios.create({ validateStatus: () => true });

describe('DingTalk OpenAPI fake: refuses what DingTalk refuses', () => {
  let fake: DingTalkOpenApiFake;
  let time: number;

  const post = (path: string, body: unknown, token?: string) =>
    http.post<Record<string, unknown>>(`${fake.url}${path}`, body, {
      headers: token === undefined ? {} : { 'x-acs-dingtalk-access-token': token },
    });
  const put = (path: string, body: unknown, token?: string) =>
    http.put<Record<string, unknown>>(`${fake.url}${path}`, body, {
      headers: token === undefined ? {} : { 'x-acs-dingtalk-access-token': token },
    });
  const getToken = async (): Promise<string> => {
    const res = await post(DINGTALK_PATHS.token, { appKey: CLIENT_ID, appSecret: CLIENT_SECRET });
    return res.data.accessToken as string;
  };
  const robotCard = (outTrackId: string, staffId = 'staff1') => ({
    cardTemplateId: TEMPLATE,
    outTrackId,
    callbackType: 'STREAM',
    cardData: { cardParamMap: { content: '', flowStatus: '1' } },
    openSpaceId: `dtv1.card//IM_ROBOT.${staffId}`,
    imGroupOpenSpaceModel: { supportForward: true },
    imRobotOpenSpaceModel: { supportForward: true },
    userIdType: 1,
    imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' },
  });
  const groupCard = (outTrackId: string) => ({
    ...robotCard(outTrackId),
    imRobotOpenDeliverModel: undefined,
    openSpaceId: 'dtv1.card//IM_GROUP.cidGroup1==',
    imGroupOpenDeliverModel: { robotCode: CLIENT_ID, atUserIds: { staff1: 'Ann' } },
  });
  const update = (outTrackId: string, content: string, extra: Record<string, unknown> = {}) => ({
    outTrackId,
    guid: `g-${Math.random()}`,
    key: 'content',
    content,
    isFull: true,
    isFinalize: false,
    isError: false,
    ...extra,
  });
  const markdown = (text: string) => JSON.stringify({ title: 'Answer', text });

  beforeEach(async () => {
    time = Date.UTC(2026, 10, 21, 8, 0, 0);
    fake = await startDingTalkOpenApiFake({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: () => time });
  });

  afterEach(async () => {
    await fake.close();
  });

  describe('access token', () => {
    it('issues a token for the configured appKey and appSecret sent as JSON', async () => {
      const res = await post(DINGTALK_PATHS.token, { appKey: CLIENT_ID, appSecret: CLIENT_SECRET });
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ accessToken: expect.any(String), expireIn: 7200 });
      expect(fake.tokensIssued).toBe(1);
    });

    it('refuses a wrong secret with 400 invalidClientIdOrSecret and a form-encoded body as missing', async () => {
      const wrong = await post(DINGTALK_PATHS.token, { appKey: CLIENT_ID, appSecret: 'nope' });
      expect(wrong.status).toBe(400);
      expect(wrong.data).toMatchObject({ code: 'invalidClientIdOrSecret', requestid: expect.any(String) });
      const form = await http.post(`${fake.url}${DINGTALK_PATHS.token}`, `appKey=${CLIENT_ID}&appSecret=${CLIENT_SECRET}`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(400);
      expect(form.data).toMatchObject({ code: 'Missingbody' });
      expect(fake.tokensIssued).toBe(0);
    });

    it('refuses calls without a token, with an unknown one and with an expired one', async () => {
      const none = await put(DINGTALK_PATHS.streaming, update('c1', 'x'));
      const unknown = await put(DINGTALK_PATHS.streaming, update('c1', 'x'), 'not-a-token');
      expect([none.status, unknown.status]).toEqual([400, 400]);
      expect(unknown.data).toMatchObject({ code: 'InvalidAuthentication', message: '不合法的access_token' });

      const token = await getToken();
      expect((await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token)).status).toBe(200);
      time += 7200 * 1000;
      const expired = await put(DINGTALK_PATHS.streaming, update('c1', 'x'), token);
      expect(expired.status).toBe(400);
      expect(expired.data).toMatchObject({ code: 'InvalidAuthentication' });
      expect(fake.cards.get('c1')?.updates).toHaveLength(0);
    });

    it('answers a refused token with 401 when told to, and expireTokens invalidates every token issued', async () => {
      await fake.close();
      fake = await startDingTalkOpenApiFake({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, invalidTokenStatus: 401 });
      const token = await getToken();
      expect((await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token)).status).toBe(200);
      fake.expireTokens();
      const res = await post(DINGTALK_PATHS.createAndDeliver, robotCard('c2'), token);
      expect(res.status).toBe(401);
      expect(res.data).toMatchObject({ code: 'InvalidAuthentication' });
    });
  });

  describe('cards', () => {
    let token: string;
    beforeEach(async () => {
      token = await getToken();
    });

    it('creates and delivers a 1:1 card and a group card, recording their space and parameters', async () => {
      const one = await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1', 'staff9'), token);
      expect(one.status).toBe(200);
      expect(one.data).toMatchObject({
        success: true,
        result: { outTrackId: 'c1', deliverResults: [{ spaceType: 'IM_ROBOT', spaceId: 'staff9', success: true }] },
      });
      const group = await post(DINGTALK_PATHS.createAndDeliver, groupCard('c2'), token);
      expect(group.status).toBe(200);
      expect(fake.cards.get('c1')).toMatchObject({ spaceType: 'IM_ROBOT', spaceId: 'staff9', delivered: true, params: { flowStatus: '1' } });
      expect(fake.cards.get('c2')).toMatchObject({ spaceType: 'IM_GROUP', spaceId: 'cidGroup1==', atUserIds: { staff1: 'Ann' } });
    });

    it.each([
      ['an unknown template', { cardTemplateId: 'other.schema' }, 'param.templateNotExist'],
      ['no outTrackId', { outTrackId: '' }, 'InvalidParameter'],
      ['a parameter that is not a string', { cardData: { cardParamMap: { flowStatus: 1 } } }, 'InvalidParameter'],
      ['a malformed openSpaceId', { openSpaceId: 'IM_ROBOT.staff1' }, 'InvalidParameter'],
      ['a group openSpaceId with the 1:1 deliver model', { openSpaceId: 'dtv1.card//IM_GROUP.cid1' }, 'InvalidParameter'],
      ['a 1:1 openSpaceId without its deliver model', { imRobotOpenDeliverModel: undefined }, 'InvalidParameter'],
      ['no callbackType', { callbackType: undefined }, 'InvalidParameter'],
    ])('refuses a card with %s', async (_what, change, code) => {
      const res = await post(DINGTALK_PATHS.createAndDeliver, { ...robotCard('c1'), ...change }, token);
      expect(res.status).toBe(400);
      expect(res.data).toMatchObject({ code });
      expect(fake.cards.size).toBe(0);
    });

    it('refuses a group card whose robotCode is not the app', async () => {
      const card = groupCard('c1');
      const res = await post(DINGTALK_PATHS.createAndDeliver, { ...card, imGroupOpenDeliverModel: { robotCode: 'other' } }, token);
      expect(res.status).toBe(400);
      expect(fake.cards.size).toBe(0);
    });

    it('refuses a second create with the same outTrackId and keeps the first card', async () => {
      expect((await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1', 'a'), token)).status).toBe(200);
      const again = await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1', 'b'), token);
      expect(again.status).toBe(400);
      expect(fake.cards.get('c1')?.spaceId).toBe('a');
    });

    it('streams full text into a card, records each update in order and the finalization', async () => {
      await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token);
      for (const [content, extra] of [
        ['Hel', {}],
        ['Hello', {}],
        ['Hello world', { isFinalize: true }],
      ] as const) {
        const res = await put(DINGTALK_PATHS.streaming, update('c1', content, extra), token);
        expect(res.status).toBe(200);
        expect(res.data).toEqual({ success: true, result: true });
      }
      const card = fake.cards.get('c1');
      expect(card?.updates.map((u) => u.content)).toEqual(['Hel', 'Hello', 'Hello world']);
      expect(card).toMatchObject({ text: 'Hello world', finalized: true, error: false });
      expect(card?.updates.every((u) => !u.afterFinalize)).toBe(true);

      await put(DINGTALK_PATHS.streaming, update('c1', 'late', { isError: true }), token);
      expect(card?.updates.at(-1)).toMatchObject({ content: 'late', afterFinalize: true, isError: true });
      expect(card?.error).toBe(true);
    });

    it.each([
      ['an unknown card', { outTrackId: 'missing' }],
      ['no key', { key: '' }],
      ['no guid', { guid: undefined }],
      ['isFull that is not a boolean', { isFull: 'true' }],
      ['content that is not a string', { content: 42 }],
    ])('refuses a streaming update with %s', async (_what, change) => {
      await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token);
      const res = await put(DINGTALK_PATHS.streaming, { ...update('c1', 'x'), ...change }, token);
      expect(res.status).toBe(400);
      expect(fake.cards.get('c1')?.updates).toHaveLength(0);
    });

    it('merges card parameter updates and refuses non-string values', async () => {
      await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token);
      const body = { outTrackId: 'c1', cardData: { cardParamMap: { flowStatus: '3' } }, cardUpdateOptions: { updateCardDataByKey: true } };
      expect((await put(DINGTALK_PATHS.updateCard, body, token)).status).toBe(200);
      expect((await put(DINGTALK_PATHS.updateCard, { ...body, cardData: { cardParamMap: { flowStatus: 3 } } }, token)).status).toBe(400);
      expect(fake.cards.get('c1')).toMatchObject({ params: { content: '', flowStatus: '3' }, paramUpdates: [{ flowStatus: '3' }] });
    });
  });

  describe('robot messages and files', () => {
    let token: string;
    beforeEach(async () => {
      token = await getToken();
    });

    it('accepts a 1:1 batchSend and a group send with a JSON msgParam', async () => {
      const one = await post(DINGTALK_PATHS.batchSend, { robotCode: CLIENT_ID, userIds: ['staff1'], msgKey: 'sampleMarkdown', msgParam: markdown('hi') }, token);
      expect(one.status).toBe(200);
      expect(one.data).toMatchObject({ processQueryKey: expect.any(String), invalidStaffIdList: [], flowControlledStaffIdList: [] });
      const group = await post(DINGTALK_PATHS.groupSend, { robotCode: CLIENT_ID, openConversationId: 'cid1', msgKey: 'sampleText', msgParam: JSON.stringify({ content: 'yo' }) }, token);
      expect(group.status).toBe(200);
      expect(fake.messages).toEqual([
        expect.objectContaining({ kind: 'robot', userIds: ['staff1'], msgKey: 'sampleMarkdown', msgParam: { title: 'Answer', text: 'hi' } }),
        expect.objectContaining({ kind: 'group', openConversationId: 'cid1', msgParam: { content: 'yo' } }),
      ]);
    });

    it.each([
      ['another robotCode', { robotCode: 'other' }],
      ['an unknown msgKey', { msgKey: 'sampleNope' }],
      ['msgParam as an object', { msgParam: { title: 'a', text: 'b' } }],
      ['msgParam missing a required field', { msgParam: JSON.stringify({ text: 'no title' }) }],
      ['msgParam over 15,000 bytes', { msgParam: markdown('字'.repeat(5001)) }],
      ['no userIds', { userIds: [] }],
    ])('refuses a robot message with %s', async (_what, change) => {
      const body = { robotCode: CLIENT_ID, userIds: ['staff1'], msgKey: 'sampleMarkdown', msgParam: markdown('hi'), ...change };
      const res = await post(DINGTALK_PATHS.batchSend, body, token);
      expect(res.status).toBe(400);
      expect(fake.messages).toHaveLength(0);
    });

    it('gives a download URL for a known downloadCode that serves the bytes with their content type', async () => {
      fake.addFile('dl-1', Buffer.from('PNGDATA'), 'image/png');
      const unknown = await post(DINGTALK_PATHS.download, { downloadCode: 'dl-2', robotCode: CLIENT_ID }, token);
      expect(unknown.status).toBe(400);
      const res = await post(DINGTALK_PATHS.download, { downloadCode: 'dl-1', robotCode: CLIENT_ID }, token);
      expect(res.status).toBe(200);
      const file = await http.get<ArrayBuffer>(res.data.downloadUrl as string, { responseType: 'arraybuffer' });
      expect(file.status).toBe(200);
      expect(file.headers['content-type']).toBe('image/png');
      expect(Buffer.from(file.data).toString()).toBe('PNGDATA');
    });
  });

  describe('injected failures', () => {
    let token: string;
    beforeEach(async () => {
      token = await getToken();
    });

    it('answers a missing scope with 403 AccessTokenPermissionDenied and requiredScopes', async () => {
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'missing-scope', scopes: ['Card.Streaming.Write'] });
      const res = await put(DINGTALK_PATHS.streaming, update('c1', 'x'), token);
      expect(res.status).toBe(403);
      expect(res.data).toMatchObject({
        code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
        accessdenieddetail: { requiredScopes: ['Card.Streaming.Write'] },
      });
    });

    it('throttles the next N calls to a path with 403 QpsLimit, then answers normally', async () => {
      await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token);
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'qps-limit' }, 2);
      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await put(DINGTALK_PATHS.streaming, update('c1', `t${i}`), token)).status);
      expect(statuses).toEqual([403, 403, 200]);
      expect(fake.callsTo(DINGTALK_PATHS.streaming).map((c) => c.code)).toEqual([
        'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
        'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
        undefined,
      ]);
      expect(fake.cards.get('c1')?.updates.map((u) => u.content)).toEqual(['t2']);
    });

    it('answers 429, quota, 5xx and unpublished template as DingTalk does', async () => {
      fake.fail(DINGTALK_PATHS.batchSend, { kind: 'too-many-requests' });
      fake.fail(DINGTALK_PATHS.batchSend, { kind: 'quota' });
      fake.fail(DINGTALK_PATHS.batchSend, { kind: 'server-error', status: 503 });
      const body = { robotCode: CLIENT_ID, userIds: ['staff1'], msgKey: 'sampleMarkdown', msgParam: markdown('hi') };
      expect((await post(DINGTALK_PATHS.batchSend, body, token)).status).toBe(429);
      const quota = await post(DINGTALK_PATHS.batchSend, body, token);
      expect([quota.status, quota.data.code]).toEqual([403, 'Forbidden.AccessDenied.ApiCountLimitForOrg']);
      expect((await post(DINGTALK_PATHS.batchSend, body, token)).status).toBe(503);
      fake.fail(DINGTALK_PATHS.createAndDeliver, { kind: 'template-unpublished' });
      const card = await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token);
      expect([card.status, card.data.code]).toEqual([400, 'param.templateUnpublished']);
      expect(fake.messages).toHaveLength(0);
      expect(fake.cards.size).toBe(0);
    });

    it('reports a failed delivery with HTTP 200 and keeps the card undelivered', async () => {
      fake.fail(DINGTALK_PATHS.createAndDeliver, { kind: 'deliver-failed', errorMsg: 'robot not in group' });
      const res = await post(DINGTALK_PATHS.createAndDeliver, groupCard('c1'), token);
      expect(res.status).toBe(200);
      expect(res.data).toMatchObject({ result: { deliverResults: [{ success: false, errorMsg: 'robot not in group' }] } });
      expect(fake.cards.get('c1')?.delivered).toBe(false);
    });

    it('reports invalid and flow-controlled staff ids with HTTP 200 and sends nothing', async () => {
      fake.fail(DINGTALK_PATHS.batchSend, { kind: 'invalid-staff' });
      fake.fail(DINGTALK_PATHS.batchSend, { kind: 'flow-controlled' });
      const body = { robotCode: CLIENT_ID, userIds: ['staff1'], msgKey: 'sampleMarkdown', msgParam: markdown('hi') };
      expect((await post(DINGTALK_PATHS.batchSend, body, token)).data).toMatchObject({ invalidStaffIdList: ['staff1'] });
      expect((await post(DINGTALK_PATHS.batchSend, body, token)).data).toMatchObject({ flowControlledStaffIdList: ['staff1'] });
      expect(fake.messages).toHaveLength(0);
    });

    it('expires the token it was sent with, for that call and every later one', async () => {
      await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token);
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'token-expired' });
      expect((await put(DINGTALK_PATHS.streaming, update('c1', 'a'), token)).data).toMatchObject({ code: 'InvalidAuthentication' });
      expect((await post(DINGTALK_PATHS.createAndDeliver, robotCard('c2'), token)).status).toBe(400);
      const fresh = await getToken();
      expect((await put(DINGTALK_PATHS.streaming, update('c1', 'b'), fresh)).status).toBe(200);
    });

    it('hangs up without answering when told to', async () => {
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'hang-up' });
      await expect(http.put(`${fake.url}${DINGTALK_PATHS.streaming}`, update('c1', 'x'), { headers: { 'x-acs-dingtalk-access-token': token } })).rejects.toThrow();
      expect(fake.callsTo(DINGTALK_PATHS.streaming)[0]?.status).toBe(0);
    });

    it('records every call with its path, body, answer and time, and waitUntil sees them', async () => {
      const waiting = fake.waitUntil(() => fake.cards.has('c1'), 'card c1');
      await post(DINGTALK_PATHS.createAndDeliver, robotCard('c1'), token);
      await waiting;
      expect(fake.calls.map((c) => [c.method, c.path, c.status])).toEqual([
        ['POST', DINGTALK_PATHS.token, 200],
        ['POST', DINGTALK_PATHS.createAndDeliver, 200],
      ]);
      expect(fake.calls[1]).toMatchObject({ body: { outTrackId: 'c1' }, at: time, headers: { 'x-acs-dingtalk-access-token': token } });
    });
  });
});
