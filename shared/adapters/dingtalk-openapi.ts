import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent } from 'node:https';
import axios, { isAxiosError, type AxiosInstance } from 'axios';
import { openSpaceId, type DingTalkOpenApi, type MessageIds, type OpenSpace } from '../dingtalk/openapi';
import { DingTalkApiError } from '../errors';
import { systemClock, type Clock, type Logger } from '../ports';
import { abortableSleep, raceSignal, type AbortableSleep } from '../util/abortable-sleep';
import { createQpsBudget } from './qps-budget';
import { createAccessTokenCache } from './dingtalk-token';
import { isStaleTokenError, mapDingTalkAnswer, TOKEN_API, type ErrorScrubber } from './dingtalk-errors';
import { isRecord } from '../util/is-record';

/** DingTalk's OpenAPI origin for mainland apps (DINGTALK_API_BASE's default). */
export const DEFAULT_DINGTALK_API_BASE = 'https://api.dingtalk.com';

/** Default per-request timeout. */
export const DEFAULT_OPENAPI_TIMEOUT_MS = 10_000;

/**
 * Calls per second of one instance, all APIs together. DingTalk's standard edition allows 20 calls a second per
 * app and API (its "接口的应用维度QPS限流" page); peers report 40 to 60 on paid tiers. 20 keeps one instance inside
 * the smallest limit.
 */
export const DEFAULT_OPENAPI_QPS = 20;

/** Attempts of one call while DingTalk answers `QpsLimit`/429: waits of 1 s and 2 s (DingTalk's limit window is 1 s). */
export const OPENAPI_THROTTLE_ATTEMPTS = 3;

/** First wait after a throttled answer; the n-th wait is n times longer. DingTalk's own advice is to sleep 1 s. */
export const OPENAPI_THROTTLE_DELAY_MS = 1_000;

/** `msgParam` of a robot message is limited to 15,000 bytes (groupMessages/send). */
export const MAX_MSG_PARAM_BYTES = 15_000;

/** Codes of network failures where the request cannot have reached DingTalk: sending again cannot duplicate it. */
const NEVER_SENT_CODES: readonly string[] = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'];

/** Options of {@link createDingTalkOpenApi}; everything but the credentials has a default. */
export interface DingTalkOpenApiOptions {
  /** DINGTALK_CLIENT_ID: the app's Client ID (`appKey` of the token call, `robotCode` of robot calls). */
  clientId: string;
  /** DINGTALK_APP_SECRET: the app's Client Secret. */
  clientSecret: string;
  /** DINGTALK_API_BASE, without a trailing slash (default {@link DEFAULT_DINGTALK_API_BASE}). */
  apiBase?: string;
  /** Timeout of each HTTP request (default {@link DEFAULT_OPENAPI_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Calls per second of this instance (default {@link DEFAULT_OPENAPI_QPS}). */
  qps?: number;
  /** Attempts while throttled (default {@link OPENAPI_THROTTLE_ATTEMPTS}). */
  throttleAttempts?: number;
  /** First wait while throttled, growing linearly (default {@link OPENAPI_THROTTLE_DELAY_MS}). */
  throttleDelayMs?: number;
  /** Wait before the one retry after a 5xx or a request that never left (default 500 ms). */
  retryDelayMs?: number;
  /** A cached token is renewed this long before it expires (default 5 minutes, at most half its life). */
  tokenRefreshMarginMs?: number;
  /** After DingTalk refused the credentials, calls fail at once for this long before asking again (default 30 s). */
  authRetryPauseMs?: number;
  clock?: Clock;
  sleep?: AbortableSleep;
  logger?: Logger;
}

/** One HTTP call of the API: what to send and how to read a 2xx answer. */
interface CallSpec<T> {
  api: string;
  method: 'POST' | 'PUT';
  body: unknown;
  /** Reads the 2xx body; throws `DingTalkApiError` for a failure reported with 200. */
  read: (body: Record<string, unknown>, scrub: ErrorScrubber) => T;
  signal: AbortSignal | undefined;
}

/** The card answers' common envelope: `{success:false}` with 200 is a failure. */
function checkSuccess(api: string, body: Record<string, unknown>): void {
  if (body.success === false) {
    throw new DingTalkApiError('rejected', `DingTalk answered ${api} with success:false`, { api, status: 200 });
  }
}

/**
 * DingTalk's server OpenAPI over axios, one client per instance (keep-alive agents). It owns the access token
 * (cached until 5 minutes before it expires, one request shared by concurrent callers, renewed once when
 * DingTalk calls it invalid), a per-instance QPS budget, the bounded retries (throttling with growing waits,
 * one retry after a 5xx or a request that never left) and the mapping of DingTalk's answers, 200s that report
 * a failure included, to `DingTalkApiError`. `options.signal` of a call bounds its requests and every wait.
 * No message it produces carries the token, the secret or a response body.
 */
export function createDingTalkOpenApi(options: DingTalkOpenApiOptions): DingTalkOpenApi {
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? abortableSleep;
  const log = options.logger;
  const throttleAttempts = Math.max(1, options.throttleAttempts ?? OPENAPI_THROTTLE_ATTEMPTS);
  const throttleDelayMs = options.throttleDelayMs ?? OPENAPI_THROTTLE_DELAY_MS;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const robotCode = options.clientId;
  const http: AxiosInstance = axios.create({
    baseURL: (options.apiBase ?? DEFAULT_DINGTALK_API_BASE).replace(/\/+$/, ''),
    timeout: options.timeoutMs ?? DEFAULT_OPENAPI_TIMEOUT_MS,
    httpsAgent: new Agent({ keepAlive: true }),
    httpAgent: new HttpAgent({ keepAlive: true }),
    maxRedirects: 0,
    headers: { 'Content-Type': 'application/json' },
    validateStatus: () => true,
  });
  const budget = createQpsBudget({ perSecond: options.qps ?? DEFAULT_OPENAPI_QPS, clock, sleep });

  /** Removes the secret and any token this instance holds from a text DingTalk sent, and bounds its length. */
  const scrub: ErrorScrubber = (text) => {
    let out = text;
    for (const secret of [options.clientSecret, tokens.current()]) {
      if (secret !== undefined && secret.length >= 4) out = out.split(secret).join('***');
    }
    return out.length > 200 ? `${out.slice(0, 200)}…` : out;
  };

  const deadline = (api: string, cause: unknown): DingTalkApiError =>
    new DingTalkApiError('deadline', `the run's deadline passed during DingTalk ${api}; nothing more is tried`, { api, cause });

  /** One HTTP request; every failure becomes a `DingTalkApiError`. */
  const send = async (
    api: string,
    method: 'POST' | 'PUT',
    body: unknown,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> => {
    let response;
    try {
      response = await http.request<unknown>({
        url: api,
        method,
        data: body,
        signal,
        headers: token === undefined ? {} : { 'x-acs-dingtalk-access-token': token },
      });
    } catch (error) {
      if (signal?.aborted) throw deadline(api, signal.reason);
      const code = isAxiosError(error) && error.code ? error.code : 'network error';
      const detail = new Error(`${code}: ${error instanceof Error ? scrub(error.message) : 'request failed'}`);
      if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
        throw new DingTalkApiError('timeout', `DingTalk did not answer ${api} in time (${code}); it may still have acted on it`, {
          api,
          cause: detail,
        });
      }
      throw new DingTalkApiError('network', `DingTalk could not be reached for ${api}: ${code}`, {
        api,
        cause: detail,
        retryable: NEVER_SENT_CODES.includes(code),
      });
    }
    const data = isRecord(response.data) ? response.data : {};
    if (response.status >= 200 && response.status < 300) {
      if (!isRecord(response.data)) {
        throw new DingTalkApiError('server', `DingTalk answered ${api} with HTTP ${response.status} but no JSON object`, {
          api,
          status: response.status,
        });
      }
      return data;
    }
    throw mapDingTalkAnswer(api, response.status, data, scrub);
  };

  const tokens = createAccessTokenCache({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    clock,
    marginMs: options.tokenRefreshMarginMs,
    authRetryPauseMs: options.authRetryPauseMs,
    logger: log,
    request: (body) => withRetries({ api: TOKEN_API, method: 'POST', body, read: (data) => data, signal: undefined }, false),
  });

  /** The wait before the next attempt after `error`, or undefined when the call must fail with it. */
  const nextWait = (error: DingTalkApiError, counts: { throttled: number; failed: number }): number | undefined => {
    if (error.reason === 'throttled') {
      counts.throttled += 1;
      return counts.throttled < throttleAttempts ? throttleDelayMs * counts.throttled : undefined;
    }
    if (error.retryable && (error.reason === 'server' || error.reason === 'network')) {
      counts.failed += 1;
      return counts.failed < 2 ? retryDelayMs : undefined;
    }
    return undefined;
  };

  /**
   * Sends one call with its bounded retries. With `authenticated`, each attempt takes a token and a slot of the
   * QPS budget, and an answer calling the token invalid renews it once.
   */
  async function withRetries<T>(spec: CallSpec<T>, authenticated: boolean): Promise<T> {
    const counts = { throttled: 0, failed: 0 };
    let renewed = false;
    for (;;) {
      if (spec.signal?.aborted) throw deadline(spec.api, spec.signal.reason);
      let token: string | undefined;
      if (authenticated) {
        try {
          token = await raceSignal(tokens.get(), spec.signal);
          await budget.take(spec.signal);
        } catch (error) {
          if (spec.signal?.aborted) throw deadline(spec.api, spec.signal.reason);
          throw error;
        }
      }
      try {
        return spec.read(await send(spec.api, spec.method, spec.body, token, spec.signal), scrub);
      } catch (error) {
        if (!(error instanceof DingTalkApiError)) throw error;
        if (token !== undefined && !renewed && isStaleTokenError(error)) {
          renewed = true;
          tokens.invalidate(token);
          log?.info('dingtalk.token-renew', { api: spec.api, code: error.code });
          continue;
        }
        const waitMs = nextWait(error, counts);
        if (waitMs === undefined) throw error;
        log?.warn('dingtalk.retry', { api: spec.api, reason: error.reason, code: error.code, status: error.status, waitMs });
        try {
          await sleep(waitMs, spec.signal);
        } catch (cause) {
          throw deadline(spec.api, cause);
        }
      }
    }
  }

  const call = <T>(spec: CallSpec<T>): Promise<T> => withRetries(spec, true);

  return {
    robotCode,

    async createAndDeliverCard(request, callOptions) {
      const api = '/v1.0/card/instances/createAndDeliver';
      const { space } = request;
      const body = {
        cardTemplateId: request.templateId,
        outTrackId: request.outTrackId,
        callbackType: 'STREAM',
        cardData: { cardParamMap: { ...request.cardData } },
        openSpaceId: openSpaceId(space),
        imGroupOpenSpaceModel: { supportForward: true },
        imRobotOpenSpaceModel: { supportForward: true },
        userIdType: 1,
        ...(space.kind === 'group'
          ? {
              imGroupOpenDeliverModel: {
                robotCode,
                ...(space.atUsers !== undefined && Object.keys(space.atUsers).length > 0 ? { atUserIds: { ...space.atUsers } } : {}),
              },
            }
          : { imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' } }),
      };
      return call({
        api,
        method: 'POST',
        body,
        signal: callOptions?.signal,
        read: (data, clean) => {
          checkSuccess(api, data);
          const results = isRecord(data.result) && Array.isArray(data.result.deliverResults) ? data.result.deliverResults : [];
          const failed = results.find((item): item is Record<string, unknown> => isRecord(item) && item.success === false);
          if (failed !== undefined) {
            const why = typeof failed.errorMsg === 'string' && failed.errorMsg !== '' ? `: ${clean(failed.errorMsg)}` : '';
            throw new DingTalkApiError('rejected', `DingTalk created the card but did not deliver it${why}`, { api, status: 200 });
          }
          const result = isRecord(data.result) ? data.result : {};
          return messageIds([result.processQueryKey, ...results.map((item) => (isRecord(item) ? item.carrierId : undefined))]);
        },
      });
    },

    async updateCard(outTrackId, cardData, callOptions) {
      const api = '/v1.0/card/instances';
      await call({
        api,
        method: 'PUT',
        body: { outTrackId, cardData: { cardParamMap: { ...cardData } }, cardUpdateOptions: { updateCardDataByKey: true } },
        signal: callOptions?.signal,
        read: (data) => checkSuccess(api, data),
      });
    },

    async streamCard(request, callOptions) {
      const api = '/v1.0/card/streaming';
      // One guid per update, kept across retries: DingTalk can tell a retried update from a new one.
      const guid = randomUUID();
      await call({
        api,
        method: 'PUT',
        body: {
          outTrackId: request.outTrackId,
          guid,
          key: request.key,
          content: request.content,
          isFull: true,
          isFinalize: request.isFinalize,
          isError: request.isError,
        },
        signal: callOptions?.signal,
        read: (data) => checkSuccess(api, data),
      });
    },

    async sendMessage(space, message, callOptions) {
      const api = space.kind === 'robot' ? '/v1.0/robot/oToMessages/batchSend' : '/v1.0/robot/groupMessages/send';
      const msgParam = JSON.stringify(message.msgParam);
      const bytes = Buffer.byteLength(msgParam, 'utf8');
      if (bytes > MAX_MSG_PARAM_BYTES) {
        throw new DingTalkApiError(
          'rejected',
          `the robot message is ${bytes} bytes, over DingTalk's ${MAX_MSG_PARAM_BYTES}-byte msgParam limit; split it before sending`,
          { api },
        );
      }
      return call({
        api,
        method: 'POST',
        body: robotMessageBody(robotCode, space, message.msgKey, msgParam),
        signal: callOptions?.signal,
        read: (data) => {
          checkBatchSend(api, data);
          return messageIds([data.processQueryKey]);
        },
      });
    },

    async fileDownloadUrl(downloadCode, callOptions) {
      const api = '/v1.0/robot/messageFiles/download';
      return call({
        api,
        method: 'POST',
        body: { downloadCode, robotCode },
        signal: callOptions?.signal,
        read: (data) => {
          if (typeof data.downloadUrl !== 'string' || data.downloadUrl === '') {
            throw new DingTalkApiError('rejected', `DingTalk answered ${api} without a downloadUrl`, { api, status: 200 });
          }
          return data.downloadUrl;
        },
      });
    },

    async checkToken(callOptions) {
      const signal = callOptions?.signal;
      try {
        await raceSignal(tokens.get(), signal);
      } catch (error) {
        if (signal?.aborted) throw deadline(TOKEN_API, signal.reason);
        throw error;
      }
    },
  };
}

/** Longest id of a sent message kept; DingTalk's are far shorter. */
const MAX_MESSAGE_ID_LENGTH = 256;

/** The usable ids among `values`: non-empty strings of bounded length, each once, at most four. */
function messageIds(values: readonly unknown[]): MessageIds {
  const ids = values.filter((value): value is string => typeof value === 'string' && value.trim() !== '' && value.length <= MAX_MESSAGE_ID_LENGTH);
  return [...new Set(ids)].slice(0, 4);
}

/** The body of a robot send: `userIds` for a 1:1 chat, `openConversationId` for a group. */
function robotMessageBody(robotCode: string, space: OpenSpace, msgKey: string, msgParam: string): Record<string, unknown> {
  return space.kind === 'robot'
    ? { robotCode, userIds: [space.staffId], msgKey, msgParam }
    : { robotCode, openConversationId: space.conversationId, msgKey, msgParam };
}

/**
 * batchSend answers 200 with the users it did not reach: `invalidStaffIdList` (not a user of the organisation,
 * or never talked to the robot) is a refusal; `flowControlledStaffIdList` is throttling (nothing was sent to them,
 * so sending again cannot duplicate).
 */
function checkBatchSend(api: string, data: Record<string, unknown>): void {
  const listed = (name: string): boolean => Array.isArray(data[name]) && (data[name] as unknown[]).length > 0;
  if (listed('flowControlledStaffIdList')) {
    throw new DingTalkApiError('throttled', `DingTalk flow-controlled the robot message (${api}); the user got nothing`, {
      api,
      status: 200,
      code: 'flowControlledStaffIdList',
      retryable: true,
    });
  }
  if (listed('invalidStaffIdList')) {
    throw new DingTalkApiError(
      'rejected',
      `DingTalk did not deliver the robot message (${api}): the user is in invalidStaffIdList (not in the organisation, or not a user of the robot)`,
      { api, status: 200, code: 'invalidStaffIdList' },
    );
  }
}
