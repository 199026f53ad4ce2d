import { ConfigError } from '../errors';
import { LOG_LEVELS, type LogLevel } from '../logging/logger';
import { VARIABLES, variable, type FunctionName } from './variables';

/** The process environment, or any map shaped like it (tests, local mode). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Access keys given by environment, used only where FC's context has none (outside FC). */
export interface StaticCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** What the conversation function needs. */
export interface ConversationConfig {
  appSecret: string;
  replyFunctionName: string;
  fcEndpoint?: string;
  accountId?: string;
  region?: string;
  credentials?: StaticCredentials;
  logLevel: LogLevel;
}

/** Where history is kept. */
export type HistoryConfig =
  | { kind: 'filesystem'; dir: string; prefix: string }
  | { kind: 'oss'; bucket: string; region?: string; endpoint?: string; prefix: string }
  | { kind: 's3'; bucket: string; region: string; endpoint?: string; forcePathStyle: boolean; credentials?: S3Credentials; prefix: string };

/** Static S3 keys (the standard AWS variables); without them the AWS SDK's default chain applies. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Who may talk to the bot, and how much. */
export interface AccessConfig {
  /** Staff ids allowed; empty means everyone. */
  allowedUsers: string[];
  /** Conversation ids allowed; empty means every conversation. */
  allowedConversations: string[];
  /** Questions per user per day; 0 means unlimited. */
  dailyMessageLimit: number;
  /** Questions per user per fixed UTC minute (RATE_LIMIT_PER_MINUTE); 0 means no limit. */
  rateLimitPerMinute: number;
  /** IANA time zone of the daily reset. */
  timeZone: string;
}

/** What a conversation may change for itself from the chat (`\model`, `\system`). */
export interface SteeringConfig {
  /** OPENAI_MODELS: the models a conversation may switch to; empty means `\model` only shows the model. */
  models: string[];
  /** ADMIN_USERS: staff ids who may change a group's model and system prompt (anyone may in their 1:1 chat). */
  adminUsers: string[];
}

/** The LLM connection. */
export interface LlmConfig {
  apiKey: string;
  baseURL: string;
  model: string;
  /** VISION_MODEL: the model for a prompt with pictures; undefined when unset (OPENAI_MODEL is used then). */
  visionModel?: string;
  /** Set for Azure OpenAI only. */
  apiVersion?: string;
  timeoutMs: number;
  maxRetries: number;
  /** LLM_EXTRA_BODY: fields merged into every request body (never model, messages, stream, stream_options). */
  extraBody?: Record<string, unknown>;
}

/** The request fields LLM_EXTRA_BODY may not set: the adapter sets them itself. */
export const RESERVED_LLM_BODY_FIELDS: readonly string[] = ['model', 'messages', 'stream', 'stream_options'];

/** DingTalk's server OpenAPI, when DINGTALK_CLIENT_ID is set. */
export interface OpenApiConfig {
  clientId: string;
  clientSecret: string;
  apiBase: string;
  /** AI cards, when a template is set. */
  card?: { templateId: string; contentKey: string; updateIntervalMs: number };
}

/** Long-term memory (MEMORY_*, MEM0_*). */
export interface MemoryConfig {
  /** MEMORY_ENABLED: false turns memory off entirely (no reads, no writes, no extra LLM calls). */
  enabled: boolean;
  /** MEMORY_MODEL: the model of the update call; undefined means OPENAI_MODEL. */
  model?: string;
  /** MEMORY_MAX_ITEMS: most facts per person. */
  maxItems: number;
  /** The Mem0 platform instead of the history store, when MEM0_API_KEY is set. */
  mem0?: { apiKey: string; baseUrl: string };
}

/** What the reply function needs. */
export interface ReplyConfig {
  /** `\model` and `\system`. */
  steering: SteeringConfig;
  /** DingTalk's server OpenAPI; absent without DINGTALK_CLIENT_ID (session webhook only). */
  openApi?: OpenApiConfig;
  llm: LlmConfig;
  systemPrompt: string;
  historyLength: number;
  maxContextTokens: number;
  history: HistoryConfig;
  memory: MemoryConfig;
  webhookHosts: string[];
  webhookTimeoutMs: number;
  access: AccessConfig;
  region?: string;
  credentials?: StaticCredentials;
  logLevel: LogLevel;
}

/**
 * A bad value as it may appear in an error: its first 4 characters and its length. A secret pasted into
 * the wrong variable must not end up in the logs.
 */
export function preview(value: string): string {
  const chars = Array.from(value);
  return chars.length <= 4 ? `"${value}"` : `"${chars.slice(0, 4).join('')}…" (${chars.length} characters)`;
}

const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads variables, collecting every problem so one cold start reports them all. */
class Reader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** The trimmed value of `name` or its aliases, else the default; '' counts as unset. */
  optional(name: string): string | undefined {
    const spec = variable(name);
    for (const candidate of [spec.name, ...(spec.aliases ?? [])]) {
      const value = this.env[candidate]?.trim();
      if (value !== undefined && value !== '') return value;
    }
    return spec.default === '' ? undefined : spec.default;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) {
      const spec = variable(name);
      const also = spec.aliases?.length ? ` (or ${spec.aliases.join(', ')})` : '';
      this.problems.push(`${name}${also} is required: ${spec.description}${spec.where ? ` ${spec.where}` : ''}`);
      return '';
    }
    return value;
  }

  integer(name: string, min: number, max: number): number {
    const raw = this.optional(name) ?? '';
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got ${preview(raw)})`);
      return min;
    }
    return value;
  }

  url(name: string, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') return value;
    } catch {
      // reported below
    }
    this.problems.push(`${name} must be an http(s) URL (got ${preview(value)})`);
    return undefined;
  }

  /**
   * A JSON object (undefined when unset). Its parse error is not repeated: it may quote the value. Keys in
   * `reserved` are refused.
   */
  jsonObject(name: string, reserved: readonly string[]): Record<string, unknown> | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      this.problems.push(`${name} must be a JSON object such as {"enable_thinking": false}; it is not valid JSON (got ${preview(raw)})`);
      return undefined;
    }
    if (!isJsonObject(value)) {
      const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      this.problems.push(`${name} must be a JSON object such as {"enable_thinking": false} (got ${what})`);
      return undefined;
    }
    const record = value;
    const refused = Object.keys(record).filter((key) => reserved.includes(key));
    if (refused.length > 0) {
      this.problems.push(`${name} cannot set ${refused.join(', ')}: the bot sets ${reserved.join(', ')} itself`);
      return undefined;
    }
    return record;
  }

  logLevel(): LogLevel {
    const value = (this.optional('LOG_LEVEL') ?? 'info').toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
    this.problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${preview(value)})`);
    return 'info';
  }

  credentials(): StaticCredentials | undefined {
    const accessKeyId = this.optional('ALIBABA_CLOUD_ACCESS_KEY_ID');
    const accessKeySecret = this.optional('ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    if (accessKeyId === undefined || accessKeySecret === undefined) return undefined;
    const securityToken = this.optional('ALIBABA_CLOUD_SECURITY_TOKEN');
    return securityToken === undefined ? { accessKeyId, accessKeySecret } : { accessKeyId, accessKeySecret, securityToken };
  }

  /** A comma-separated list, trimmed, without empty items. */
  list(name: string): string[] {
    return (this.optional(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  boolean(name: string): boolean {
    const value = (this.optional(name) ?? 'false').toLowerCase();
    if (value === 'true' || value === '1') return true;
    if (value !== 'false' && value !== '0') this.problems.push(`${name} must be true or false (got ${preview(value)})`);
    return false;
  }

  /**
   * An IANA time zone. `check` false skips the validation: building an Intl.DateTimeFormat costs ~10 ms
   * and ~10 MB of a cold start, worth paying only where the zone is used (the daily limit).
   */
  timeZone(name: string, check = true): string {
    const value = this.optional(name) ?? 'UTC';
    if (!check) return value;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return value;
    } catch {
      this.problems.push(`${name} must be an IANA time zone such as Asia/Shanghai (got ${preview(value)})`);
      return 'UTC';
    }
  }

  region(name: 'FC_REGION' | 'OSS_REGION'): string | undefined {
    const value = this.optional(name);
    if (value !== undefined && !/^(oss-)?[a-z]{2,}(-[a-z0-9]+)+$/.test(value)) {
      this.problems.push(`${name} must be a region id such as cn-hangzhou (got ${preview(value)})`);
      return undefined;
    }
    return value;
  }

  done<T>(fn: FunctionName, value: T): T {
    if (this.problems.length > 0) {
      throw new ConfigError(`the ${fn} function's configuration is incomplete:\n- ${this.problems.join('\n- ')}`);
    }
    return value;
  }
}

/** Drops keys whose value is undefined, so optional fields are absent rather than `undefined`. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

/**
 * Loads the conversation function's configuration. Call once per cold start.
 * Throws `ConfigError` listing every missing or malformed variable.
 */
export function loadConversationConfig(env: Env): ConversationConfig {
  const read = new Reader(env);
  return read.done(
    'conversation',
    compact({
      appSecret: read.required('DINGTALK_APP_SECRET'),
      replyFunctionName: read.required('REPLY_FUNCTION_NAME'),
      fcEndpoint: read.url('FC_ENDPOINT', read.optional('FC_ENDPOINT')),
      accountId: read.optional('FC_ACCOUNT_ID'),
      region: read.region('FC_REGION'),
      credentials: read.credentials(),
      logLevel: read.logLevel(),
    }),
  );
}

function historyConfig(read: Reader): HistoryConfig {
  const prefix = read.optional('HISTORY_PREFIX') ?? 'history/';
  const dir = read.optional('HISTORY_DIR');
  if (dir !== undefined) return { kind: 'filesystem', dir, prefix };
  const bucket = read.optional('OSS_BUCKET');
  const s3Bucket = read.optional('S3_BUCKET');
  if (bucket !== undefined && s3Bucket !== undefined) {
    read.problems.push('OSS_BUCKET and S3_BUCKET are both set: history is kept in one store, so set only one of them');
  }
  if (s3Bucket !== undefined && bucket === undefined) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s3Bucket)) {
      read.problems.push(`S3_BUCKET must be a bucket name (3-63 lowercase letters, digits, dots, hyphens; got ${preview(s3Bucket)})`);
    }
    const accessKeyId = read.optional('AWS_ACCESS_KEY_ID');
    const secretAccessKey = read.optional('AWS_SECRET_ACCESS_KEY');
    const sessionToken = read.optional('AWS_SESSION_TOKEN');
    const credentials =
      accessKeyId !== undefined && secretAccessKey !== undefined ? compact({ accessKeyId, secretAccessKey, sessionToken }) : undefined;
    return compact({
      kind: 's3' as const,
      bucket: s3Bucket,
      region: read.optional('S3_REGION') ?? 'us-east-1',
      endpoint: read.url('S3_ENDPOINT', read.optional('S3_ENDPOINT')),
      forcePathStyle: read.boolean('S3_FORCE_PATH_STYLE'),
      credentials,
      prefix,
    });
  }
  if (bucket !== undefined) {
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
      read.problems.push(`OSS_BUCKET must be a bucket name (3-63 lowercase letters, digits, hyphens; got ${preview(bucket)})`);
    }
    const region = read.region('OSS_REGION');
    const endpoint = read.url('OSS_ENDPOINT', read.optional('OSS_ENDPOINT'));
    return compact({ kind: 'oss' as const, bucket, region, endpoint, prefix });
  }
  read.problems.push(
    'HISTORY_DIR, OSS_BUCKET or S3_BUCKET is required: where history is kept. Set OSS_BUCKET to an OSS bucket in the ' +
      "function's region, S3_BUCKET to an S3-compatible bucket, or HISTORY_DIR to a folder (a local path, or an OSS bucket mounted into FC).",
  );
  return { kind: 'filesystem', dir: '', prefix };
}

function openApiConfig(read: Reader): OpenApiConfig | undefined {
  const clientId = read.optional('DINGTALK_CLIENT_ID');
  const templateId = read.optional('DINGTALK_CARD_TEMPLATE_ID');
  if (clientId === undefined) {
    if (templateId !== undefined) {
      read.problems.push(
        `DINGTALK_CLIENT_ID is required with DINGTALK_CARD_TEMPLATE_ID: cards are created through the OpenAPI with the app's Client ID. ${variable('DINGTALK_CLIENT_ID').description}`,
      );
    }
    return undefined;
  }
  const clientSecret = read.optional('DINGTALK_APP_SECRET');
  if (clientSecret === undefined) {
    read.problems.push(
      `DINGTALK_APP_SECRET (or DINGTALK_CLIENT_SECRET) is required with DINGTALK_CLIENT_ID: the OpenAPI token is asked for with the Client ID and Secret. ${variable('DINGTALK_APP_SECRET').where ?? ''}`,
    );
  }
  const apiBase = read.url('DINGTALK_API_BASE', read.optional('DINGTALK_API_BASE')) ?? 'https://api.dingtalk.com';
  const updateIntervalMs = read.integer('CARD_UPDATE_INTERVAL_MS', 100, 10_000);
  return compact({
    clientId,
    clientSecret: clientSecret ?? '',
    apiBase: apiBase.replace(/\/+$/, ''),
    card:
      templateId === undefined
        ? undefined
        : { templateId, contentKey: read.optional('DINGTALK_CARD_CONTENT_KEY') ?? 'content', updateIntervalMs },
  });
}

function memoryConfig(read: Reader): MemoryConfig {
  const apiKey = read.optional('MEM0_API_KEY');
  const baseUrl = read.url('MEM0_BASE_URL', read.optional('MEM0_BASE_URL')) ?? 'https://api.mem0.ai';
  return compact({
    enabled: read.boolean('MEMORY_ENABLED'),
    model: read.optional('MEMORY_MODEL'),
    maxItems: read.integer('MEMORY_MAX_ITEMS', 1, 200),
    mem0: apiKey === undefined ? undefined : { apiKey, baseUrl: baseUrl.replace(/\/+$/, '') },
  });
}

/**
 * Loads the reply function's configuration. Call once per cold start.
 * Throws `ConfigError` listing every missing or malformed variable.
 */
export function loadReplyConfig(env: Env): ReplyConfig {
  const read = new Reader(env);
  const baseURL = read.url('OPENAI_BASE_URL', read.optional('OPENAI_BASE_URL')) ?? '';
  const hosts = read.list('DINGTALK_WEBHOOK_HOSTS').map((host) => host.toLowerCase());
  const dailyMessageLimit = read.integer('DAILY_MESSAGE_LIMIT', 0, 1_000_000);
  if (hosts.length === 0) read.problems.push('DINGTALK_WEBHOOK_HOSTS must name at least one host (default oapi.dingtalk.com)');
  return read.done(
    'reply',
    compact({
      llm: compact({
        apiKey: read.required('OPENAI_API_KEY'),
        baseURL,
        model: read.optional('OPENAI_MODEL') ?? 'gpt-4o-mini',
        visionModel: read.optional('VISION_MODEL'),
        apiVersion: read.optional('OPENAI_API_VERSION'),
        timeoutMs: read.integer('LLM_TIMEOUT_SECONDS', 1, 900) * 1000,
        maxRetries: read.integer('LLM_MAX_RETRIES', 0, 5),
        extraBody: read.jsonObject('LLM_EXTRA_BODY', RESERVED_LLM_BODY_FIELDS),
      }),
      systemPrompt: read.optional('SYSTEM_PROMPT') ?? '',
      historyLength: read.integer('HISTORY_LENGTH', 0, 100),
      maxContextTokens: read.integer('MAX_CONTEXT_TOKENS', 256, 2_000_000),
      history: historyConfig(read),
      memory: memoryConfig(read),
      steering: { models: read.list('OPENAI_MODELS'), adminUsers: read.list('ADMIN_USERS') },
      openApi: openApiConfig(read),
      webhookHosts: hosts,
      webhookTimeoutMs: read.integer('WEBHOOK_TIMEOUT_SECONDS', 1, 60) * 1000,
      access: {
        allowedUsers: read.list('ALLOWED_USERS'),
        allowedConversations: read.list('ALLOWED_CONVERSATIONS'),
        dailyMessageLimit,
        rateLimitPerMinute: read.integer('RATE_LIMIT_PER_MINUTE', 0, 10_000),
        // TZ only sets when the daily limit resets.
        timeZone: read.timeZone('TZ', dailyMessageLimit > 0),
      },
      region: read.region('FC_REGION'),
      credentials: read.credentials(),
      logLevel: read.logLevel(),
    }),
  );
}

/** Every secret value present in `env`, for the logger to scrub. */
export function secretValues(env: Env): string[] {
  return VARIABLES.filter((spec) => spec.secret)
    .flatMap((spec) => [spec.name, ...(spec.aliases ?? [])])
    .map((name) => env[name]?.trim())
    .filter((value): value is string => value !== undefined && value !== '');
}
