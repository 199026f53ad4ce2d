/**
 * A local stand-in for DingTalk's server OpenAPI (`https://api.dingtalk.com`): the access token, AI cards
 * (create and deliver, update, streaming), robot sends (1:1 and group) and the file download URL.
 *
 * It checks what DingTalk checks, with DingTalk's error bodies (`{code, message, requestid}`, plus
 * `accessdenieddetail.requiredScopes` for a missing permission), so the real adapter maps its answers as it
 * would in production: the token body (JSON `appKey`/`appSecret`), the `x-acs-dingtalk-access-token` header of
 * every call (unknown or expired: 400 `InvalidAuthentication` "不合法的access_token", as DingTalk answers), the
 * card bodies (known template, unique `outTrackId`, `openSpaceId` matching its deliver model, `robotCode`, string
 * parameters), streaming bodies and robot messages (`msgParam` a JSON string of at most 15,000 bytes).
 *
 * Error codes marked "assumed" below are not documented by DingTalk; the adapter maps any other 4xx to
 * `rejected`, so only their status matters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord } from '../../shared/util/is-record';
import { flatHeaders, headerValue, listenOnLoopback, randomHex, readBody, sendJson, TimerBag } from './http-helpers';

/** The paths the fake serves. */
export const DINGTALK_PATHS = {
  token: '/v1.0/oauth2/accessToken',
  createAndDeliver: '/v1.0/card/instances/createAndDeliver',
  updateCard: '/v1.0/card/instances',
  streaming: '/v1.0/card/streaming',
  batchSend: '/v1.0/robot/oToMessages/batchSend',
  groupSend: '/v1.0/robot/groupMessages/send',
  download: '/v1.0/robot/messageFiles/download',
} as const;

/** One of {@link DINGTALK_PATHS}. */
export type DingTalkFakePath = (typeof DINGTALK_PATHS)[keyof typeof DINGTALK_PATHS];

/** `msgParam` limit of robot messages (groupMessages/send). */
export const FAKE_MAX_MSG_PARAM_BYTES = 15_000;

/** Robot message keys the fake knows, with the `msgParam` fields each requires. */
const MSG_KEYS: Record<string, readonly string[]> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleImageMsg: ['photoURL'],
  sampleLink: ['text', 'title', 'picUrl', 'messageUrl'],
};

/** Options of {@link startDingTalkOpenApiFake}. */
export interface DingTalkOpenApiFakeOptions {
  /** The only Client ID (appKey, robotCode) accepted. */
  clientId: string;
  /** Its Client Secret. */
  clientSecret: string;
  /** Published card template ids (default `['fake-ai-card.schema']`). */
  templates?: readonly string[];
  /** `expireIn` of issued tokens, seconds (default 7200). */
  tokenTtlSeconds?: number;
  /** HTTP status of a refused token header: 400 as DingTalk answers (default), or 401 as some gateways do. */
  invalidTokenStatus?: 400 | 401;
  /** The fake's clock (default `Date.now`): token expiry and the `at` of records. */
  now?: () => number;
}

/** A failure the next call(s) to a path answer (see {@link DingTalkOpenApiFake.fail}). */
export type DingTalkFakeFailure =
  /** 403 `Forbidden.AccessDenied.AccessTokenPermissionDenied` with `accessdenieddetail.requiredScopes`. */
  | { kind: 'missing-scope'; scopes: string[] }
  /** 400 `param.templateUnpublished` (createAndDeliver). */
  | { kind: 'template-unpublished' }
  /** 403 `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` ("请求过于频繁"). */
  | { kind: 'qps-limit' }
  /** HTTP 429, as reported for card streaming over 50 QPS per robot. */
  | { kind: 'too-many-requests' }
  /** 403 `Forbidden.AccessDenied.ApiCountLimitForOrg`: the monthly quota is used up. */
  | { kind: 'quota' }
  /** The token sent is expired from now on: 400 (or `invalidTokenStatus`) `InvalidAuthentication`. */
  | { kind: 'token-expired' }
  /** HTTP 5xx (default 500) `{code:"InternalError"}`. */
  | { kind: 'server-error'; status?: number }
  /** 200 whose `result.deliverResults[0]` has `success:false` (createAndDeliver): the card exists, undelivered. */
  | { kind: 'deliver-failed'; errorMsg?: string }
  /** 200 with the user in `invalidStaffIdList` (batchSend): nothing sent. */
  | { kind: 'invalid-staff' }
  /** 200 with the user in `flowControlledStaffIdList` (batchSend): nothing sent. */
  | { kind: 'flow-controlled' }
  /** Waits `ms`, then answers normally. */
  | { kind: 'delay'; ms: number }
  /** Closes the connection without answering. */
  | { kind: 'hang-up' };

/** One request as it arrived. */
export interface DingTalkFakeCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** HTTP status answered (0 while pending or after a hang-up). */
  status: number;
  /** DingTalk's error code when refused. */
  code?: string;
  /** Fake-clock time of arrival. */
  at: number;
}

/** One accepted streaming update of a card. */
export interface DingTalkFakeCardUpdate {
  key: string;
  content: string;
  isFull: boolean;
  isFinalize: boolean;
  isError: boolean;
  guid: string;
  at: number;
  /** The card had already been finalized when this update came. */
  afterFinalize: boolean;
}

/** What DingTalk holds about one card instance. */
export interface DingTalkFakeCard {
  outTrackId: string;
  templateId: string;
  openSpaceId: string;
  spaceType: 'IM_ROBOT' | 'IM_GROUP';
  /** The staff id (IM_ROBOT) or conversation id (IM_GROUP). */
  spaceId: string;
  /** `imGroupOpenDeliverModel.atUserIds` (group cards). */
  atUserIds?: Record<string, string>;
  /** False when the deliver result reported a failure. */
  delivered: boolean;
  createdAt: number;
  /** The card parameters: the create's `cardParamMap`, merged with every update. */
  params: Record<string, string>;
  /** `cardParamMap`s of `PUT /v1.0/card/instances`, in order. */
  paramUpdates: Array<Record<string, string>>;
  /** Accepted streaming updates, in order. */
  updates: DingTalkFakeCardUpdate[];
  /** The streamed text per key. */
  contents: Record<string, string>;
  /** The text of the last streaming update's key: what the user sees in the markdown component. */
  text: string;
  finalized: boolean;
  /** An update had `isError: true`. */
  error: boolean;
}

/** A robot message DingTalk accepted. */
export interface DingTalkFakeRobotMessage {
  kind: 'robot' | 'group';
  /** batchSend's `userIds`. */
  userIds?: string[];
  /** groupMessages/send's `openConversationId`. */
  openConversationId?: string;
  msgKey: string;
  /** `msgParam`, parsed. */
  msgParam: Record<string, unknown>;
  processQueryKey: string;
  at: number;
}

/** A running fake of DingTalk's OpenAPI. */
export interface DingTalkOpenApiFake {
  /** `http://127.0.0.1:PORT`: DINGTALK_API_BASE. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly calls: DingTalkFakeCall[];
  /** Cards by `outTrackId`. */
  readonly cards: Map<string, DingTalkFakeCard>;
  /** Accepted robot messages, in order. */
  readonly messages: DingTalkFakeRobotMessage[];
  /** Tokens issued so far. */
  readonly tokensIssued: number;
  /** Calls to `path` (any method, any outcome). */
  callsTo(path: string): DingTalkFakeCall[];
  /** The next `times` calls to `path` answer `failure` (queued after earlier ones for the path). */
  fail(path: DingTalkFakePath, failure: DingTalkFakeFailure, times?: number): void;
  /** Every call to `path` (or to any path with `'*'`) waits `ms` before it is handled: models latency. */
  setLatency(path: DingTalkFakePath | '*', ms: number): void;
  /** Makes every token issued so far invalid (as after its `expireIn`). */
  expireTokens(): void;
  /** A file the robot "received": `downloadCode` gets a download URL on this fake serving `bytes`. */
  addFile(downloadCode: string, bytes: Buffer, contentType: string): void;
  /**
   * Resolves once `check()` is true, re-checked when a call arrives and when it is answered; rejects after `timeoutMs`
   * (default 5000) naming `what`.
   */
  waitUntil(check: () => boolean, what?: string, timeoutMs?: number): Promise<void>;
  /** Stops the server, cancels delays and waits, destroys keep-alive sockets. */
  close(): Promise<void>;
}

/** A refusal: HTTP status and DingTalk's body. */
class Refusal {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
    readonly extra: Record<string, unknown> = {},
  ) {}
}

/** 400 for a body DingTalk would not take (code assumed: DingTalk names the parameter in `message`). */
function invalid(message: string): Refusal {
  return new Refusal(400, 'InvalidParameter', message);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((v) => typeof v === 'string');
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** Parses `dtv1.card//IM_ROBOT.<staffId>` / `dtv1.card//IM_GROUP.<conversationId>`. */
function parseOpenSpaceId(value: unknown): { spaceType: 'IM_ROBOT' | 'IM_GROUP'; spaceId: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^dtv1\.card\/\/(IM_ROBOT|IM_GROUP)\.(.+)$/.exec(value);
  if (!match) return undefined;
  return { spaceType: match[1] as 'IM_ROBOT' | 'IM_GROUP', spaceId: match[2] as string };
}

/** The business-level failures a handler applies itself (after validating the body). */
type BusinessFailure = Extract<DingTalkFakeFailure, { kind: 'deliver-failed' | 'invalid-staff' | 'flow-controlled' | 'template-unpublished' }>;

/**
 * Starts the fake on 127.0.0.1 (ephemeral port). Defaults: templates `['fake-ai-card.schema']`, tokens valid
 * for 7200 s; every call answers as DingTalk does when all is well.
 */
export async function startDingTalkOpenApiFake(options: DingTalkOpenApiFakeOptions): Promise<DingTalkOpenApiFake> {
  const now = options.now ?? ((): number => Date.now());
  const templates = new Set(options.templates ?? ['fake-ai-card.schema']);
  const ttlSeconds = options.tokenTtlSeconds ?? 7200;
  const invalidTokenStatus = options.invalidTokenStatus ?? 400;
  const calls: DingTalkFakeCall[] = [];
  const cards = new Map<string, DingTalkFakeCard>();
  const messages: DingTalkFakeRobotMessage[] = [];
  const tokens = new Map<string, number>();
  const failures = new Map<string, DingTalkFakeFailure[]>();
  const latency = new Map<string, number>();
  const files = new Map<string, { bytes: Buffer; contentType: string }>();
  const served = new Map<string, string>();
  const timers = new TimerBag();
  const waiters = new Map<() => void, () => void>();
  let tokensIssued = 0;
  let baseUrl = '';

  const requestId = (): string => `${randomHex(8)}-${randomHex(4)}-${randomHex(4)}-${randomHex(4)}-${randomHex(12)}`;

  function answer(res: ServerResponse, call: DingTalkFakeCall, status: number, body: Record<string, unknown>): void {
    call.status = status;
    if (typeof body.code === 'string') call.code = body.code;
    sendJson(res, status, body);
  }

  function refuse(res: ServerResponse, call: DingTalkFakeCall, refusal: Refusal): void {
    answer(res, call, refusal.status, { code: refusal.code, requestid: requestId(), message: refusal.message, ...refusal.extra });
  }

  function tokenRefusal(): Refusal {
    return new Refusal(invalidTokenStatus, 'InvalidAuthentication', '不合法的access_token');
  }

  function issueToken(body: unknown): Record<string, unknown> | Refusal {
    if (!isRecord(body) || !('appKey' in body) || !('appSecret' in body)) {
      return invalid('appKey and appSecret are required');
    }
    if (body.appKey !== options.clientId || body.appSecret !== options.clientSecret) {
      return new Refusal(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
    }
    const token = randomHex(32).toLowerCase();
    tokens.set(token, now() + ttlSeconds * 1000);
    tokensIssued += 1;
    return { accessToken: token, expireIn: ttlSeconds };
  }

  function checkCardParams(value: unknown, where: string): Record<string, string> | Refusal {
    if (!isRecord(value) || !isStringMap(value.cardParamMap)) {
      return invalid(`${where}.cardParamMap must be an object whose values are all strings`);
    }
    return value.cardParamMap;
  }

  function createAndDeliver(body: Record<string, unknown>, failure: BusinessFailure | undefined): Record<string, unknown> | Refusal {
    const { cardTemplateId, outTrackId } = body;
    if (!nonEmptyString(cardTemplateId)) return invalid('cardTemplateId is required');
    if (failure?.kind === 'template-unpublished') {
      return new Refusal(400, 'param.templateUnpublished', '卡片模板未发布');
    }
    // Assumed code: DingTalk's answer for an unknown template is not documented.
    if (!templates.has(cardTemplateId)) return new Refusal(400, 'param.templateNotExist', '卡片模板不存在');
    if (!nonEmptyString(outTrackId)) return invalid('outTrackId is required');
    // Assumed code: a second create with the same outTrackId is refused.
    if (cards.has(outTrackId)) return new Refusal(400, 'param.outTrackIdRepeated', 'outTrackId 已存在');
    if (body.callbackType !== 'STREAM' && !(body.callbackType === 'HTTP' && nonEmptyString(body.callbackRouteKey))) {
      return invalid('callbackType must be STREAM, or HTTP with a callbackRouteKey');
    }
    const params = checkCardParams(body.cardData, 'cardData');
    if (params instanceof Refusal) return params;
    const space = parseOpenSpaceId(body.openSpaceId);
    if (space === undefined) return invalid('openSpaceId must be dtv1.card//IM_ROBOT.<staffId> or dtv1.card//IM_GROUP.<openConversationId>');
    if (body.userIdType !== undefined && body.userIdType !== 1 && body.userIdType !== 2) return invalid('userIdType must be 1 or 2');
    let atUserIds: Record<string, string> | undefined;
    if (space.spaceType === 'IM_ROBOT') {
      const model = body.imRobotOpenDeliverModel;
      if (!isRecord(model) || model.spaceType !== 'IM_ROBOT') {
        return invalid('imRobotOpenDeliverModel with spaceType IM_ROBOT is required for an IM_ROBOT openSpaceId');
      }
    } else {
      const model = body.imGroupOpenDeliverModel;
      if (!isRecord(model)) return invalid('imGroupOpenDeliverModel is required for an IM_GROUP openSpaceId');
      if (model.robotCode !== options.clientId) return invalid('imGroupOpenDeliverModel.robotCode must be the app\'s robotCode');
      if (model.atUserIds !== undefined) {
        if (!isStringMap(model.atUserIds)) return invalid('imGroupOpenDeliverModel.atUserIds must map staff ids to names');
        atUserIds = { ...model.atUserIds };
      }
    }
    const delivered = failure?.kind !== 'deliver-failed';
    cards.set(outTrackId, {
      outTrackId,
      templateId: cardTemplateId,
      openSpaceId: body.openSpaceId as string,
      ...space,
      ...(atUserIds !== undefined ? { atUserIds } : {}),
      delivered,
      createdAt: now(),
      params: { ...params },
      paramUpdates: [],
      updates: [],
      contents: {},
      text: '',
      finalized: false,
      error: false,
    });
    const result: Record<string, unknown> = { spaceType: space.spaceType, spaceId: space.spaceId, success: delivered };
    if (delivered) result.carrierId = randomHex(16).toLowerCase();
    else result.errorMsg = failure?.kind === 'deliver-failed' ? (failure.errorMsg ?? '机器人不在群内') : '';
    return { success: true, result: { outTrackId, deliverResults: [result] } };
  }

  function updateCard(body: Record<string, unknown>): Record<string, unknown> | Refusal {
    const card = nonEmptyString(body.outTrackId) ? cards.get(body.outTrackId) : undefined;
    // Assumed code for an unknown card.
    if (card === undefined) return new Refusal(400, 'param.cardNotExist', '卡片不存在');
    const params = checkCardParams(body.cardData, 'cardData');
    if (params instanceof Refusal) return params;
    if (body.cardUpdateOptions !== undefined && !isRecord(body.cardUpdateOptions)) return invalid('cardUpdateOptions must be an object');
    card.paramUpdates.push({ ...params });
    Object.assign(card.params, params);
    return { success: true, result: true };
  }

  function stream(body: Record<string, unknown>): Record<string, unknown> | Refusal {
    const card = nonEmptyString(body.outTrackId) ? cards.get(body.outTrackId) : undefined;
    if (card === undefined) return new Refusal(400, 'param.cardNotExist', '卡片不存在');
    const { guid, key, content, isFull, isFinalize = false, isError = false } = body;
    if (!nonEmptyString(guid)) return invalid('guid is required');
    if (!nonEmptyString(key)) return invalid('key is required');
    if (typeof content !== 'string') return invalid('content must be a string');
    if (typeof isFull !== 'boolean') return invalid('isFull must be a boolean');
    if (typeof isFinalize !== 'boolean' || typeof isError !== 'boolean') return invalid('isFinalize and isError must be booleans');
    card.updates.push({ key, content, isFull, isFinalize, isError, guid, at: now(), afterFinalize: card.finalized });
    card.contents[key] = isFull ? content : (card.contents[key] ?? '') + content;
    card.text = card.contents[key];
    if (isFinalize) card.finalized = true;
    if (isError) card.error = true;
    return { success: true, result: true };
  }

  function robotMessage(body: Record<string, unknown>): { msgKey: string; msgParam: Record<string, unknown> } | Refusal {
    if (body.robotCode !== options.clientId) return invalid('robotCode must be the app\'s robotCode (its Client ID)');
    const { msgKey, msgParam } = body;
    if (typeof msgKey !== 'string' || !(msgKey in MSG_KEYS)) return invalid(`msgKey ${String(msgKey)} is not a known message template`);
    if (typeof msgParam !== 'string') return invalid('msgParam must be a JSON string');
    // Assumed code for the documented 15,000-byte limit.
    if (Buffer.byteLength(msgParam, 'utf8') > FAKE_MAX_MSG_PARAM_BYTES) {
      return new Refusal(400, 'InvalidParameter.MsgParamTooLong', `msgParam exceeds ${FAKE_MAX_MSG_PARAM_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(msgParam) as unknown;
    } catch {
      return invalid('msgParam is not valid JSON');
    }
    if (!isRecord(parsed)) return invalid('msgParam must be a JSON object');
    for (const field of MSG_KEYS[msgKey] ?? []) {
      if (typeof parsed[field] !== 'string') return invalid(`msgParam.${field} is required for ${msgKey}`);
    }
    return { msgKey, msgParam: parsed };
  }

  function batchSend(body: Record<string, unknown>, failure: BusinessFailure | undefined): Record<string, unknown> | Refusal {
    const { userIds } = body;
    if (!Array.isArray(userIds) || userIds.length === 0 || userIds.length > 20 || !userIds.every(nonEmptyString)) {
      return invalid('userIds must hold 1 to 20 staff ids');
    }
    const message = robotMessage(body);
    if (message instanceof Refusal) return message;
    const processQueryKey = randomHex(24);
    if (failure?.kind === 'invalid-staff') return { processQueryKey, invalidStaffIdList: [...userIds], flowControlledStaffIdList: [] };
    if (failure?.kind === 'flow-controlled') return { processQueryKey, invalidStaffIdList: [], flowControlledStaffIdList: [...userIds] };
    messages.push({ kind: 'robot', userIds: [...userIds], ...message, processQueryKey, at: now() });
    return { processQueryKey, invalidStaffIdList: [], flowControlledStaffIdList: [] };
  }

  function groupSend(body: Record<string, unknown>): Record<string, unknown> | Refusal {
    if (!nonEmptyString(body.openConversationId)) return invalid('openConversationId is required');
    const message = robotMessage(body);
    if (message instanceof Refusal) return message;
    const processQueryKey = randomHex(24);
    messages.push({ kind: 'group', openConversationId: body.openConversationId, ...message, processQueryKey, at: now() });
    return { processQueryKey };
  }

  function download(body: Record<string, unknown>): Record<string, unknown> | Refusal {
    if (body.robotCode !== options.clientId) return invalid('robotCode must be the app\'s robotCode (its Client ID)');
    if (!nonEmptyString(body.downloadCode) || !files.has(body.downloadCode)) return invalid('downloadCode is invalid or expired');
    const id = randomHex(24).toLowerCase();
    served.set(id, body.downloadCode);
    return { downloadUrl: `${baseUrl}/files/${id}?Expires=${Math.floor(now() / 1000) + 3600}&Signature=${randomHex(16)}` };
  }

  const handlers: Record<string, { method: string; handle: (body: Record<string, unknown>, f: BusinessFailure | undefined) => Record<string, unknown> | Refusal }> = {
    [DINGTALK_PATHS.createAndDeliver]: { method: 'POST', handle: createAndDeliver },
    [DINGTALK_PATHS.updateCard]: { method: 'PUT', handle: updateCard },
    [DINGTALK_PATHS.streaming]: { method: 'PUT', handle: stream },
    [DINGTALK_PATHS.batchSend]: { method: 'POST', handle: batchSend },
    [DINGTALK_PATHS.groupSend]: { method: 'POST', handle: groupSend },
    [DINGTALK_PATHS.download]: { method: 'POST', handle: download },
  };

  /** The gateway-level answer of an injected failure, before the body is looked at; undefined to go on. */
  function gatewayRefusal(failure: DingTalkFakeFailure, token: string | undefined): Refusal | undefined {
    switch (failure.kind) {
      case 'missing-scope':
        return new Refusal(403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', `没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp-server/add-api-permission`, {
          accessdenieddetail: { requiredScopes: [...failure.scopes] },
        });
      case 'qps-limit':
        return new Refusal(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '请求过于频繁，请稍后重试');
      case 'too-many-requests':
        return new Refusal(429, 'Throttling', 'Request was denied due to request throttling');
      case 'quota':
        return new Refusal(403, 'Forbidden.AccessDenied.ApiCountLimitForOrg', '组织当月的接口调用量已超过上限');
      case 'token-expired':
        if (token !== undefined) tokens.set(token, 0);
        return tokenRefusal();
      case 'server-error':
        return new Refusal(failure.status ?? 500, 'InternalError', '系统繁忙');
      default:
        return undefined;
    }
  }

  function notify(): void {
    for (const waiter of [...waiters.keys()]) waiter();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = (await readBody(req, 1024 * 1024)).toString('utf8');
    let body: unknown = raw === '' ? undefined : raw;
    try {
      if (raw !== '') body = JSON.parse(raw) as unknown;
    } catch {
      // kept as text
    }
    const call: DingTalkFakeCall = { method: req.method ?? '', path: url.pathname, headers: flatHeaders(req), body, status: 0, at: now() };
    calls.push(call);
    notify();
    try {
      await route(req, res, url, call, body);
    } finally {
      notify();
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, call: DingTalkFakeCall, body: unknown): Promise<void> {
    const wait = latency.get(url.pathname) ?? latency.get('*') ?? 0;
    if (wait > 0) await timers.sleep(wait);

    if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      const code = served.get(url.pathname.slice('/files/'.length));
      const file = code === undefined ? undefined : files.get(code);
      if (file === undefined) {
        call.status = 404;
        res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
        return;
      }
      call.status = 200;
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.length) }).end(file.bytes);
      return;
    }

    const isToken = url.pathname === DINGTALK_PATHS.token;
    const handler = handlers[url.pathname];
    if ((!isToken && handler === undefined) || req.method !== (isToken ? 'POST' : handler?.method)) {
      refuse(res, call, new Refusal(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method.`));
      return;
    }
    const token = headerValue(req, 'x-acs-dingtalk-access-token');
    if (!isToken) {
      const expiresAt = token === undefined ? undefined : tokens.get(token);
      if (expiresAt === undefined || now() >= expiresAt) {
        refuse(res, call, tokenRefusal());
        return;
      }
    }

    const queued = failures.get(url.pathname);
    const failure = queued?.shift();
    if (failure?.kind === 'delay') await timers.sleep(failure.ms);
    if (failure?.kind === 'hang-up') {
      res.destroy();
      return;
    }
    const gateway = failure === undefined ? undefined : gatewayRefusal(failure, token);
    if (gateway !== undefined) {
      refuse(res, call, gateway);
      return;
    }

    const contentType = (headerValue(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json' || !isRecord(body)) {
      refuse(res, call, new Refusal(400, 'Missingbody', 'body is mandatory for this action.'));
      return;
    }
    const business = failure !== undefined && ['deliver-failed', 'invalid-staff', 'flow-controlled', 'template-unpublished'].includes(failure.kind)
      ? (failure as BusinessFailure)
      : undefined;
    const outcome = isToken ? issueToken(body) : (handler as NonNullable<typeof handler>).handle(body, business);
    if (outcome instanceof Refusal) refuse(res, call, outcome);
    else answer(res, call, 200, outcome);
  }

  const server = await listenOnLoopback(handle);
  baseUrl = server.url;
  return {
    url: server.url,
    calls,
    cards,
    messages,
    get tokensIssued() {
      return tokensIssued;
    },
    callsTo(path) {
      return calls.filter((call) => call.path === path);
    },
    fail(path, failure, times = 1) {
      const queue = failures.get(path) ?? [];
      for (let i = 0; i < times; i += 1) queue.push(failure);
      failures.set(path, queue);
    },
    setLatency(path, ms) {
      latency.set(path, ms);
    },
    expireTokens() {
      for (const token of tokens.keys()) tokens.set(token, 0);
    },
    addFile(downloadCode, bytes, contentType) {
      files.set(downloadCode, { bytes, contentType });
    },
    waitUntil(check, what = 'the condition', timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const waiter = (): void => {
          if (!check()) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`DingTalk OpenAPI fake: ${what} did not happen within ${timeoutMs} ms (${calls.length} calls)`));
        }, timeoutMs);
        waiters.set(waiter, () => {
          clearTimeout(timer);
          reject(new Error(`DingTalk OpenAPI fake closed while waiting for ${what}`));
        });
        waiter();
      });
    },
    close() {
      timers.clear();
      for (const cancel of [...waiters.values()]) cancel();
      waiters.clear();
      return server.close();
    },
  };
}
