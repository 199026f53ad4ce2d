import { abortableSleep, type AbortableSleep } from '../../../shared/util/abortable-sleep';
import { createDingTalkOpenApi, type DingTalkOpenApiOptions } from '../../../shared/adapters/dingtalk-openapi';
import type { DingTalkOpenApi, OpenSpace } from '../../../shared/dingtalk/openapi';
import { DingTalkApiError, describeError } from '../../../shared/errors';
import { DINGTALK_PATHS, startDingTalkOpenApiFake, type DingTalkOpenApiFake } from '../../fakes/dingtalk-openapi-fake';
import { captureLogger } from '../../helpers/capture-logger';
import { ManualClock } from '../../helpers/ports';

const CLIENT_ID = 'dingfakeclientid';
const CLIENT_SECRET = 'fake-client-secret-0123456789';
const TEMPLATE = 'fake-ai-card.schema';
const ROBOT: OpenSpace = { kind: 'robot', staffId: 'staff1' };
const GROUP: OpenSpace = { kind: 'group', conversationId: 'cidGroup1==', atUsers: { staff1: 'Ann' } };

describe('DingTalk OpenAPI client against the fake', () => {
  let fake: DingTalkOpenApiFake;
  let clock: ManualClock;
  let waits: number[];
  /** Records each wait and returns at once, still refusing to wait on an aborted signal. */
  let sleep: AbortableSleep;
  const errors: unknown[] = [];

  const client = (overrides: Partial<DingTalkOpenApiOptions> = {}): DingTalkOpenApi =>
    createDingTalkOpenApi({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, apiBase: fake.url, clock, sleep, ...overrides });
  const card = (outTrackId: string, space: OpenSpace = ROBOT) => ({ templateId: TEMPLATE, outTrackId, cardData: { flowStatus: '1' }, space });
  const stream = (outTrackId: string, content: string, isFinalize = false) => ({ outTrackId, key: 'content', content, isFinalize, isError: false });
  /** The error `promise` rejects with (kept for the no-secret check at the end). */
  const failure = async (promise: Promise<unknown>): Promise<DingTalkApiError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    errors.push(error);
    if (!(error instanceof DingTalkApiError)) throw new Error(`expected a DingTalkApiError, got ${String(error)}`);
    return error;
  };

  beforeEach(async () => {
    clock = new ManualClock();
    waits = [];
    sleep = async (ms, signal) => {
      waits.push(ms);
      if (signal?.aborted) throw signal.reason;
    };
    fake = await startDingTalkOpenApiFake({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });

  afterEach(async () => {
    await fake.close();
  });

  describe('calls', () => {
    it('creates and delivers a 1:1 card with the body, token header and content type DingTalk expects', async () => {
      await client().createAndDeliverCard(card('c1'));
      expect(fake.cards.get('c1')).toMatchObject({ spaceType: 'IM_ROBOT', spaceId: 'staff1', delivered: true, params: { flowStatus: '1' } });
      const call = fake.callsTo(DINGTALK_PATHS.createAndDeliver)[0];
      expect(call?.body).toEqual({
        cardTemplateId: TEMPLATE,
        outTrackId: 'c1',
        callbackType: 'STREAM',
        cardData: { cardParamMap: { flowStatus: '1' } },
        openSpaceId: 'dtv1.card//IM_ROBOT.staff1',
        imGroupOpenSpaceModel: { supportForward: true },
        imRobotOpenSpaceModel: { supportForward: true },
        userIdType: 1,
        imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' },
      });
      expect(call?.headers['content-type']).toContain('application/json');
      expect(call?.headers['x-acs-dingtalk-access-token']).toEqual(expect.any(String));
    });

    it('delivers a group card with the robot code and the users to @', async () => {
      await client().createAndDeliverCard(card('c1', GROUP));
      expect(fake.cards.get('c1')).toMatchObject({ spaceType: 'IM_GROUP', spaceId: 'cidGroup1==', atUserIds: { staff1: 'Ann' } });
      expect(fake.callsTo(DINGTALK_PATHS.createAndDeliver)[0]?.body).toMatchObject({
        imGroupOpenDeliverModel: { robotCode: CLIENT_ID, atUserIds: { staff1: 'Ann' } },
      });
    });

    it('streams the full text with a fresh guid per update, finalizes and updates card variables', async () => {
      const api = client();
      await api.createAndDeliverCard(card('c1'));
      await api.streamCard(stream('c1', 'Hello'));
      await api.streamCard(stream('c1', 'Hello world', true));
      await api.updateCard('c1', { flowStatus: '3' });
      const got = fake.cards.get('c1');
      expect(got).toMatchObject({ text: 'Hello world', finalized: true, error: false, params: { flowStatus: '3' } });
      expect(got?.updates.map((u) => [u.content, u.isFull, u.isFinalize])).toEqual([
        ['Hello', true, false],
        ['Hello world', true, true],
      ]);
      expect(new Set(got?.updates.map((u) => u.guid)).size).toBe(2);
      expect(fake.callsTo(DINGTALK_PATHS.updateCard)[0]?.body).toMatchObject({ cardUpdateOptions: { updateCardDataByKey: true } });
    });

    it('sends robot messages to a 1:1 chat and to a group', async () => {
      const api = client();
      await api.sendMessage(ROBOT, { msgKey: 'sampleMarkdown', msgParam: { title: 'Answer', text: '**hi**' } });
      await api.sendMessage(GROUP, { msgKey: 'sampleText', msgParam: { content: 'yo' } });
      expect(fake.messages).toEqual([
        expect.objectContaining({ kind: 'robot', userIds: ['staff1'], msgKey: 'sampleMarkdown', msgParam: { title: 'Answer', text: '**hi**' } }),
        expect.objectContaining({ kind: 'group', openConversationId: 'cidGroup1==', msgKey: 'sampleText', msgParam: { content: 'yo' } }),
      ]);
      expect(api.robotCode).toBe(CLIENT_ID);
    });

    it('gets a download URL for a received file', async () => {
      fake.addFile('dl-1', Buffer.from('GIF89a'), 'image/gif');
      const url = await client().fileDownloadUrl('dl-1');
      expect(url.startsWith(`${fake.url}/files/`)).toBe(true);
      expect(Buffer.from(await (await fetch(url)).arrayBuffer()).toString()).toBe('GIF89a');
    });

    it('refuses a robot message whose msgParam is over 15,000 bytes without sending it', async () => {
      const api = client();
      const error = await failure(api.sendMessage(GROUP, { msgKey: 'sampleMarkdown', msgParam: { title: 'a', text: '字'.repeat(5001) } }));
      expect(error).toMatchObject({ reason: 'rejected', api: DINGTALK_PATHS.groupSend });
      expect(error.message).toContain('15000');
      expect(fake.callsTo(DINGTALK_PATHS.groupSend)).toHaveLength(0);
    });
  });

  describe('access token', () => {
    it('asks for one token for many concurrent calls and reuses it', async () => {
      const api = client();
      await Promise.all(Array.from({ length: 10 }, (_, i) => api.createAndDeliverCard(card(`c${i}`))));
      await api.streamCard(stream('c0', 'x'));
      expect(fake.callsTo(DINGTALK_PATHS.token)).toHaveLength(1);
      expect(fake.callsTo(DINGTALK_PATHS.token)[0]?.body).toEqual({ appKey: CLIENT_ID, appSecret: CLIENT_SECRET });
      expect(fake.cards.size).toBe(10);
    });

    it('renews the token five minutes before it expires, not sooner', async () => {
      const api = client();
      await api.checkToken();
      clock.advance((7200 - 300) * 1000 - 1);
      await api.createAndDeliverCard(card('c1'));
      expect(fake.tokensIssued).toBe(1);
      clock.advance(1);
      await api.streamCard(stream('c1', 'x'));
      expect(fake.tokensIssued).toBe(2);
      const [first, second] = [...fake.callsTo(DINGTALK_PATHS.createAndDeliver), ...fake.callsTo(DINGTALK_PATHS.streaming)];
      expect(first?.headers['x-acs-dingtalk-access-token']).not.toBe(second?.headers['x-acs-dingtalk-access-token']);
    });

    it('drops a token DingTalk calls invalid and retries the call once with a fresh one', async () => {
      const api = client();
      await api.createAndDeliverCard(card('c1'));
      fake.expireTokens();
      await api.streamCard(stream('c1', 'after expiry'));
      expect(fake.tokensIssued).toBe(2);
      expect(fake.cards.get('c1')?.text).toBe('after expiry');
    });

    it('fails as auth, without looping, when even a fresh token is refused (401 gateways too)', async () => {
      await fake.close();
      fake = await startDingTalkOpenApiFake({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, invalidTokenStatus: 401 });
      const api = client();
      await api.createAndDeliverCard(card('c1'));
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'token-expired' }, 5);
      const error = await failure(api.streamCard(stream('c1', 'x')));
      expect(error).toMatchObject({ reason: 'auth', status: 401, code: 'InvalidAuthentication', isConfiguration: true });
      expect(fake.callsTo(DINGTALK_PATHS.streaming)).toHaveLength(2);
    });

    it('reports refused credentials as a configuration error naming the variables, asks once, and again after a pause', async () => {
      const api = client({ clientSecret: 'wrong-secret-value' });
      const error = await failure(api.createAndDeliverCard(card('c1')));
      expect(error).toMatchObject({ reason: 'auth', status: 400, code: 'invalidClientIdOrSecret', retryable: false, isConfiguration: true });
      expect(error.message).toMatch(/DINGTALK_CLIENT_ID/);
      expect(error.message).toMatch(/DINGTALK_APP_SECRET/);
      expect(error.message).toMatch(/qyapi_base/);
      expect(error.message).not.toContain('wrong-secret-value');
      expect(fake.callsTo(DINGTALK_PATHS.token)).toHaveLength(1);

      expect(await failure(api.checkToken())).toMatchObject({ reason: 'auth' });
      expect(fake.callsTo(DINGTALK_PATHS.token)).toHaveLength(1);
      clock.advance(30_000);
      expect(await failure(api.checkToken())).toMatchObject({ reason: 'auth' });
      expect(fake.callsTo(DINGTALK_PATHS.token)).toHaveLength(2);
      expect(fake.callsTo(DINGTALK_PATHS.createAndDeliver)).toHaveLength(0);
    });
  });

  describe('failures', () => {
    let api: DingTalkOpenApi;
    beforeEach(async () => {
      api = client();
      await api.createAndDeliverCard(card('c1'));
    });

    it('maps a missing scope to permission, naming the scope and where to grant it', async () => {
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'missing-scope', scopes: ['Card.Streaming.Write'] });
      const error = await failure(api.streamCard(stream('c1', 'x')));
      expect(error).toMatchObject({ reason: 'permission', status: 403, requiredScopes: ['Card.Streaming.Write'], isConfiguration: true });
      expect(error.message).toContain('Card.Streaming.Write');
      expect(error.message).toContain('Permissions');
      expect(fake.callsTo(DINGTALK_PATHS.streaming)).toHaveLength(1);
    });

    it('maps an unpublished or unknown template to template, pointing at DINGTALK_CARD_TEMPLATE_ID', async () => {
      fake.fail(DINGTALK_PATHS.createAndDeliver, { kind: 'template-unpublished' });
      const unpublished = await failure(api.createAndDeliverCard(card('c2')));
      expect(unpublished).toMatchObject({ reason: 'template', code: 'param.templateUnpublished', isConfiguration: true });
      expect(unpublished.message).toContain('DINGTALK_CARD_TEMPLATE_ID');
      const unknown = await failure(api.createAndDeliverCard({ ...card('c3'), templateId: 'missing.schema' }));
      expect(unknown).toMatchObject({ reason: 'template' });
    });

    it('maps the monthly quota to quota, without retrying', async () => {
      fake.fail(DINGTALK_PATHS.batchSend, { kind: 'quota' });
      const error = await failure(api.sendMessage(ROBOT, { msgKey: 'sampleText', msgParam: { content: 'x' } }));
      expect(error).toMatchObject({ reason: 'quota', code: 'Forbidden.AccessDenied.ApiCountLimitForOrg', retryable: false });
      expect(fake.callsTo(DINGTALK_PATHS.batchSend)).toHaveLength(1);
    });

    it('retries a 5xx once: a single failure is absorbed, two are a retryable server error', async () => {
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'server-error' });
      await api.streamCard(stream('c1', 'one'));
      expect(fake.cards.get('c1')?.text).toBe('one');
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'server-error', status: 503 }, 2);
      const error = await failure(api.streamCard(stream('c1', 'two')));
      expect(error).toMatchObject({ reason: 'server', status: 503, retryable: true });
      expect(fake.callsTo(DINGTALK_PATHS.streaming)).toHaveLength(4);
    });

    it('maps any other refusal to rejected, e.g. a second card with the same outTrackId', async () => {
      const error = await failure(api.createAndDeliverCard(card('c1')));
      expect(error).toMatchObject({ reason: 'rejected', status: 400, api: DINGTALK_PATHS.createAndDeliver, isConfiguration: false });
      expect(fake.callsTo(DINGTALK_PATHS.createAndDeliver)).toHaveLength(2);
    });

    it('treats a failed deliver result answered with HTTP 200 as rejected, with DingTalk\'s reason', async () => {
      fake.fail(DINGTALK_PATHS.createAndDeliver, { kind: 'deliver-failed', errorMsg: 'robot is not in the group' });
      const error = await failure(api.createAndDeliverCard(card('c2', GROUP)));
      expect(error).toMatchObject({ reason: 'rejected', status: 200 });
      expect(error.message).toContain('robot is not in the group');
    });

    it('treats invalid staff ids answered with HTTP 200 as rejected', async () => {
      fake.fail(DINGTALK_PATHS.batchSend, { kind: 'invalid-staff' });
      const error = await failure(api.sendMessage(ROBOT, { msgKey: 'sampleText', msgParam: { content: 'x' } }));
      expect(error).toMatchObject({ reason: 'rejected', code: 'invalidStaffIdList' });
      expect(fake.messages).toHaveLength(0);
    });

    it('backs off on 403 QpsLimit with growing waits and then delivers the update', async () => {
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'qps-limit' }, 2);
      await api.streamCard(stream('c1', 'final text', true));
      expect(waits).toEqual([1000, 2000]);
      expect(fake.cards.get('c1')).toMatchObject({ text: 'final text', finalized: true });
      expect(fake.callsTo(DINGTALK_PATHS.streaming)).toHaveLength(3);
    });

    it('backs off on a flow-controlled batchSend and then sends the message once', async () => {
      fake.fail(DINGTALK_PATHS.batchSend, { kind: 'flow-controlled' });
      await api.sendMessage(ROBOT, { msgKey: 'sampleText', msgParam: { content: 'x' } });
      expect(waits).toEqual([1000]);
      expect(fake.messages).toHaveLength(1);
    });

    it('gives up as throttled after three 429 answers', async () => {
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'too-many-requests' }, 3);
      const error = await failure(api.streamCard(stream('c1', 'x')));
      expect(error).toMatchObject({ reason: 'throttled', status: 429, retryable: true });
      expect(waits).toEqual([1000, 2000]);
      expect(fake.callsTo(DINGTALK_PATHS.streaming)).toHaveLength(3);
    });

    it('maps a request that never reached DingTalk to a retryable network error, tried twice', async () => {
      const closed = await startDingTalkOpenApiFake({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      const url = closed.url;
      await closed.close();
      const error = await failure(client({ apiBase: url }).checkToken());
      expect(error).toMatchObject({ reason: 'network', retryable: true });
      expect(error.message).toContain('ECONNREFUSED');
      expect(waits).toEqual([500]);
    });

    it('maps a request DingTalk did not answer in time to timeout, not retried', async () => {
      const slow = client({ timeoutMs: 100 });
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'delay', ms: 3000 });
      await slow.checkToken();
      const error = await failure(slow.streamCard(stream('c1', 'x')));
      expect(error).toMatchObject({ reason: 'timeout', retryable: false });
      expect(fake.callsTo(DINGTALK_PATHS.streaming)).toHaveLength(1);
    });
  });

  describe('deadline', () => {
    it('fails at once with deadline, sending nothing, when the signal has already aborted', async () => {
      const api = client();
      const error = await failure(api.streamCard(stream('c1', 'x'), { signal: AbortSignal.abort() }));
      expect(error).toMatchObject({ reason: 'deadline', api: DINGTALK_PATHS.streaming });
      expect(fake.calls).toHaveLength(0);
    });

    it('stops a throttling backoff when the signal aborts during the wait', async () => {
      const controller = new AbortController();
      const api = client({
        throttleDelayMs: 60_000,
        sleep: (ms, signal) => {
          controller.abort();
          return abortableSleep(ms, signal);
        },
      });
      await api.createAndDeliverCard(card('c1'));
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'qps-limit' }, 3);
      const error = await failure(api.streamCard(stream('c1', 'x'), { signal: controller.signal }));
      expect(error).toMatchObject({ reason: 'deadline' });
      expect(fake.callsTo(DINGTALK_PATHS.streaming)).toHaveLength(1);
    });

    it('cuts a slow request short when the signal aborts', async () => {
      const api = client({ timeoutMs: 60_000 });
      await api.createAndDeliverCard(card('c1'));
      fake.fail(DINGTALK_PATHS.streaming, { kind: 'delay', ms: 10_000 });
      const controller = new AbortController();
      const pending = failure(api.streamCard(stream('c1', 'x'), { signal: controller.signal }));
      await fake.waitUntil(() => fake.callsTo(DINGTALK_PATHS.streaming).length === 1, 'the streaming call');
      controller.abort();
      expect(await pending).toMatchObject({ reason: 'deadline' });
    });

    it('lets a caller give up on a shared token request without failing the others', async () => {
      fake.fail(DINGTALK_PATHS.token, { kind: 'delay', ms: 300 });
      const api = client();
      const controller = new AbortController();
      const impatient = failure(api.checkToken({ signal: controller.signal }));
      const patient = api.createAndDeliverCard(card('c1'));
      await fake.waitUntil(() => fake.callsTo(DINGTALK_PATHS.token).length === 1, 'the token call');
      controller.abort();
      expect(await impatient).toMatchObject({ reason: 'deadline' });
      await patient;
      expect(fake.tokensIssued).toBe(1);
      expect(fake.cards.has('c1')).toBe(true);
    });
  });

  describe('QPS budget', () => {
    it('spreads a burst over the instance budget: calls beyond it wait their turn, none is lost', async () => {
      const api = client({ qps: 2 });
      await api.checkToken();
      await Promise.all(Array.from({ length: 5 }, (_, i) => api.createAndDeliverCard(card(`c${i}`))));
      expect(waits).toEqual([500, 1000, 1500]);
      expect(fake.cards.size).toBe(5);
    });
  });

  it('never puts the secret or a token into an error message, its description or its log lines', async () => {
    const { logger, lines } = captureLogger();
    const api = client({ logger });
    await api.createAndDeliverCard(card('c1'));
    fake.fail(DINGTALK_PATHS.streaming, { kind: 'qps-limit' }, 3);
    fake.fail(DINGTALK_PATHS.batchSend, { kind: 'missing-scope', scopes: ['qyapi_robot_sendmsg'] });
    errors.push(await api.streamCard(stream('c1', 'x')).catch((e: unknown) => e));
    errors.push(await api.sendMessage(ROBOT, { msgKey: 'sampleText', msgParam: { content: 'x' } }).catch((e: unknown) => e));
    fake.expireTokens();
    fake.fail(DINGTALK_PATHS.streaming, { kind: 'token-expired' }, 2);
    errors.push(await api.streamCard(stream('c1', 'x')).catch((e: unknown) => e));
    errors.push(await client({ clientSecret: `${CLIENT_SECRET}-wrong` }).checkToken().catch((e: unknown) => e));

    const tokens = fake.calls.map((c) => c.headers['x-acs-dingtalk-access-token']).filter((t): t is string => t !== undefined);
    expect(tokens.length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(10);
    for (const error of errors) {
      expect(error).toBeInstanceOf(DingTalkApiError);
      const text = [
        (error as Error).message,
        JSON.stringify(describeError(error)),
        String((error as Error).cause),
        JSON.stringify((error as Error).cause ?? null),
      ].join('\n');
      for (const secret of [CLIENT_SECRET, ...tokens]) expect(text).not.toContain(secret);
    }
    for (const line of lines) for (const secret of [CLIENT_SECRET, ...tokens]) expect(line).not.toContain(secret);
  });
});
