/**
 * An in-memory DingTalkOpenApi that behaves like DingTalk's server OpenAPI as its documentation and the
 * official SDKs describe it (the same facts the loopback fake in test/fakes/ checks): a card is created once per
 * `outTrackId` (a second create is refused), streaming or updating an unknown card is refused, robot sends
 * are recorded per space. It can be told to fail calls with the `DingTalkApiError`s DingTalk's answers map
 * to (through the adapter's own mapping), and to hold calls so a test sees what is in flight.
 */
import { mapDingTalkAnswer } from '../../shared/adapters/dingtalk-errors';
import type {
  CreateCardRequest,
  DingTalkOpenApi,
  OpenApiCallOptions,
  OpenSpace,
  RobotMessage,
  StreamCardRequest,
} from '../../shared/dingtalk/openapi';
import { DingTalkApiError } from '../../shared/errors';
import type { Clock } from '../../shared/ports';

/** The methods a test can make fail or hold. */
export type OpenApiMethod = 'createAndDeliverCard' | 'updateCard' | 'streamCard' | 'sendMessage';

/** One streaming update DingTalk accepted. */
export interface StreamUpdate {
  content: string;
  isFinalize: boolean;
  isError: boolean;
  at: number;
}

/** A card as DingTalk holds it. */
export interface DoubleCard {
  outTrackId: string;
  templateId: string;
  space: OpenSpace;
  /** The variables it was created with. */
  created: Record<string, string>;
  /** The variables as they are now (create, then every `updateCard`). */
  params: Record<string, string>;
  /** Every `updateCard` body, in order. */
  paramUpdates: Array<Record<string, string>>;
  streams: StreamUpdate[];
  /** The streamed text now. */
  text: string;
  finalized: boolean;
  error: boolean;
}

/** One call as it arrived (accepted or not). */
export interface DoubleCall {
  method: OpenApiMethod;
  outTrackId?: string;
  at: number;
}

const noop = (): void => undefined;

/** Errors as DingTalk's answers map to them (`mapDingTalkAnswer`, the adapter's own mapping). */
export const dingTalkFailures = {
  /** 403 with `requiredScopes`: the app lacks a permission. */
  permission: (api = '/v1.0/card/instances/createAndDeliver', scope = 'Card.Instance.Write'): DingTalkApiError =>
    mapDingTalkAnswer(api, 403, { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', accessdenieddetail: { requiredScopes: [scope] } }, String),
  /** 400 `param.templateUnpublished`. */
  templateUnpublished: (): DingTalkApiError =>
    mapDingTalkAnswer('/v1.0/card/instances/createAndDeliver', 400, { code: 'param.templateUnpublished', message: '卡片模板未发布' }, String),
  /** 403 QpsLimit after the adapter's bounded waits: retryable. */
  throttled: (api = '/v1.0/card/streaming'): DingTalkApiError =>
    mapDingTalkAnswer(api, 403, { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi' }, String),
  /** 5xx: retryable. */
  server: (api = '/v1.0/card/streaming'): DingTalkApiError => mapDingTalkAnswer(api, 503, { code: 'ServiceUnavailable' }, String),
  /** The organisation's monthly quota is used up. */
  quota: (api = '/v1.0/robot/oToMessages/batchSend'): DingTalkApiError =>
    mapDingTalkAnswer(api, 403, { code: 'Forbidden.AccessDenied.ApiCountLimitForOrg' }, String),
  /** A 200 whose deliver result reports a failure. */
  notDelivered: (): DingTalkApiError =>
    new DingTalkApiError('rejected', 'DingTalk created the card but did not deliver it: 机器人不在群内', { api: '/v1.0/card/instances/createAndDeliver', status: 200 }),
};

/** The in-memory OpenAPI. */
export class OpenApiDouble implements DingTalkOpenApi {
  readonly robotCode = 'dingrobotcode0001';
  readonly cards = new Map<string, DoubleCard>();
  readonly sent: Array<{ space: OpenSpace; message: RobotMessage }> = [];
  readonly calls: DoubleCall[] = [];
  /** Calls under way now, and the most there ever were at once, per method. */
  readonly inFlight: Record<OpenApiMethod, number> = { createAndDeliverCard: 0, updateCard: 0, streamCard: 0, sendMessage: 0 };
  readonly maxInFlight: Record<OpenApiMethod, number> = { createAndDeliverCard: 0, updateCard: 0, streamCard: 0, sendMessage: 0 };
  private readonly failures = new Map<OpenApiMethod, Array<() => Error>>();
  private readonly always = new Map<OpenApiMethod, () => Error>();
  private readonly holds = new Map<OpenApiMethod, { promise: Promise<void>; release: () => void }>();

  constructor(private readonly clock: Clock = { now: () => Date.now() }) {}

  /** The next `times` calls of `method` fail with `make()`. */
  failNext(method: OpenApiMethod, make: () => Error, times = 1): this {
    const queue = this.failures.get(method) ?? [];
    for (let n = 0; n < times; n += 1) queue.push(make);
    this.failures.set(method, queue);
    return this;
  }

  /** Every call of `method` fails with `make()` until `recover`. */
  failAlways(method: OpenApiMethod, make: () => Error): this {
    this.always.set(method, make);
    return this;
  }

  recover(method: OpenApiMethod): void {
    this.always.delete(method);
    this.failures.delete(method);
  }

  /** Calls of `method` wait (each in flight) until the returned function is called. */
  hold(method: OpenApiMethod): () => void {
    let release = noop;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entry = {
      promise,
      release: () => {
        this.holds.delete(method);
        release();
      },
    };
    this.holds.set(method, entry);
    return entry.release;
  }

  /** The card with `outTrackId`; throws when DingTalk has none. */
  card(outTrackId: string): DoubleCard {
    const card = this.cards.get(outTrackId);
    if (card === undefined) throw new Error(`no card ${outTrackId}; cards: ${[...this.cards.keys()].join(', ')}`);
    return card;
  }

  /** The progress (not final) streams of a card. */
  progressStreams(outTrackId: string): StreamUpdate[] {
    return this.card(outTrackId).streams.filter((update) => !update.isFinalize);
  }

  private async enter(method: OpenApiMethod, outTrackId: string | undefined, options: OpenApiCallOptions | undefined): Promise<() => void> {
    this.calls.push({ method, ...(outTrackId !== undefined ? { outTrackId } : {}), at: this.clock.now() });
    if (options?.signal?.aborted === true) throw new DingTalkApiError('deadline', `the run's deadline ended ${method}`, { cause: options.signal.reason });
    this.inFlight[method] += 1;
    this.maxInFlight[method] = Math.max(this.maxInFlight[method], this.inFlight[method]);
    const leave = (): void => {
      this.inFlight[method] -= 1;
    };
    try {
      const held = this.holds.get(method);
      if (held !== undefined) await held.promise;
      const queued = this.failures.get(method)?.shift();
      const failure = queued ?? this.always.get(method);
      if (failure !== undefined) throw failure();
    } catch (error) {
      leave();
      throw error;
    }
    return leave;
  }

  async createAndDeliverCard(request: CreateCardRequest, options?: OpenApiCallOptions): Promise<void> {
    const leave = await this.enter('createAndDeliverCard', request.outTrackId, options);
    try {
      if (this.cards.has(request.outTrackId)) {
        // A second create with the same outTrackId is refused (the fake's assumed code).
        throw mapDingTalkAnswer('/v1.0/card/instances/createAndDeliver', 400, { code: 'param.outTrackIdRepeated', message: 'outTrackId 已存在' }, String);
      }
      this.cards.set(request.outTrackId, {
        outTrackId: request.outTrackId,
        templateId: request.templateId,
        space: request.space,
        created: { ...request.cardData },
        params: { ...request.cardData },
        paramUpdates: [],
        streams: [],
        text: '',
        finalized: false,
        error: false,
      });
    } finally {
      leave();
    }
  }

  async updateCard(outTrackId: string, cardData: Readonly<Record<string, string>>, options?: OpenApiCallOptions): Promise<void> {
    const leave = await this.enter('updateCard', outTrackId, options);
    try {
      const card = this.unknownCardRefused('/v1.0/card/instances', outTrackId);
      card.paramUpdates.push({ ...cardData });
      Object.assign(card.params, cardData);
    } finally {
      leave();
    }
  }

  async streamCard(request: StreamCardRequest, options?: OpenApiCallOptions): Promise<void> {
    const leave = await this.enter('streamCard', request.outTrackId, options);
    try {
      const card = this.unknownCardRefused('/v1.0/card/streaming', request.outTrackId);
      card.streams.push({ content: request.content, isFinalize: request.isFinalize, isError: request.isError, at: this.clock.now() });
      card.text = request.content;
      if (request.isFinalize) card.finalized = true;
      if (request.isError) card.error = true;
    } finally {
      leave();
    }
  }

  async sendMessage(space: OpenSpace, message: RobotMessage, options?: OpenApiCallOptions): Promise<void> {
    const leave = await this.enter('sendMessage', undefined, options);
    try {
      this.sent.push({ space, message });
    } finally {
      leave();
    }
  }

  async fileDownloadUrl(downloadCode: string): Promise<string> {
    return `https://download.example.invalid/${encodeURIComponent(downloadCode)}`;
  }

  async checkToken(): Promise<void> {
    return undefined;
  }

  /** The texts of the robot messages sent, in order. */
  sentTexts(): string[] {
    return this.sent.map(({ message }) => message.msgParam.text ?? message.msgParam.content ?? '');
  }

  private unknownCardRefused(api: string, outTrackId: string): DoubleCard {
    const card = this.cards.get(outTrackId);
    // Streaming to or updating a card DingTalk does not have is refused (the fake's assumed code).
    if (card === undefined) throw mapDingTalkAnswer(api, 400, { code: 'param.cardNotExist', message: '卡片不存在' }, String);
    return card;
  }
}

/** A signal that never aborts, and options for channel calls with plenty of time. */
export function roomyCallOptions(remainingMs = 60_000): { signal: AbortSignal; remainingMs: () => number } {
  return { signal: new AbortController().signal, remainingMs: () => remainingMs };
}
