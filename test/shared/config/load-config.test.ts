import {
  loadConversationConfig,
  loadReplyConfig,
  secretValues,
  type ConversationConfig,
  type Env,
  type ReplyConfig,
} from '../../../shared/config/load-config';
import { renderConfigTable, VARIABLES } from '../../../shared/config/variables';
import { ConfigError } from '../../../shared/errors';
import { thrown } from '../../helpers/thrown';

const APP_SECRET = 'dt-app-secret-Zq8WmK2pL0vX';
const API_KEY = 'sk-test-Ab12Cd34Ef56Gh78Ij90';
const ACCESS_KEY_ID = 'LTAI5tTestAccessKeyId00';
const ACCESS_KEY_SECRET = 'AccessKeySecretValue0000000000';
const SECURITY_TOKEN = 'CAIS-security-token-test-000000';

const CONVERSATION_ENV: Env = { DINGTALK_APP_SECRET: APP_SECRET, REPLY_FUNCTION_NAME: 'dingtalk-llm-reply' };
const REPLY_ENV: Env = { OPENAI_API_KEY: API_KEY, OSS_BUCKET: 'bot-state' };

/** The ConfigError `load` throws. */
const configError = (load: () => unknown): ConfigError => thrown(ConfigError, load);

describe('loadConversationConfig', () => {
  it('loads a minimal environment with the documented defaults', () => {
    const expected: ConversationConfig = { appSecret: APP_SECRET, replyFunctionName: 'dingtalk-llm-reply', logLevel: 'info' };
    expect(loadConversationConfig(CONVERSATION_ENV)).toEqual(expected);
  });

  it('accepts DINGTALK_CLIENT_SECRET as an alias of DINGTALK_APP_SECRET', () => {
    const config = loadConversationConfig({ DINGTALK_CLIENT_SECRET: APP_SECRET, REPLY_FUNCTION_NAME: 'reply' });
    expect(config.appSecret).toBe(APP_SECRET);
  });

  it('prefers DINGTALK_APP_SECRET over its alias', () => {
    const config = loadConversationConfig({ ...CONVERSATION_ENV, DINGTALK_CLIENT_SECRET: 'the-alias-value-000' });
    expect(config.appSecret).toBe(APP_SECRET);
  });

  it('trims values', () => {
    const config = loadConversationConfig({ DINGTALK_APP_SECRET: `  ${APP_SECRET}\n`, REPLY_FUNCTION_NAME: ' reply ' });
    expect(config).toMatchObject({ appSecret: APP_SECRET, replyFunctionName: 'reply' });
  });

  it('reads the optional settings', () => {
    const config = loadConversationConfig({
      ...CONVERSATION_ENV,
      FC_ENDPOINT: 'http://127.0.0.1:9000',
      FC_ACCOUNT_ID: '1234567890123456',
      FC_REGION: 'cn-shanghai',
      ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
      ALIBABA_CLOUD_SECURITY_TOKEN: SECURITY_TOKEN,
      LOG_LEVEL: 'DEBUG',
    });
    expect(config).toEqual({
      appSecret: APP_SECRET,
      replyFunctionName: 'dingtalk-llm-reply',
      fcEndpoint: 'http://127.0.0.1:9000',
      accountId: '1234567890123456',
      region: 'cn-shanghai',
      credentials: { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET, securityToken: SECURITY_TOKEN },
      logLevel: 'debug',
    });
  });

  it('ignores an access key id without its secret', () => {
    expect(loadConversationConfig({ ...CONVERSATION_ENV, ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID })).not.toHaveProperty('credentials');
  });

  it('lists every missing required variable at once', () => {
    const error = configError(() => loadConversationConfig({}));
    expect(error.message).toContain('DINGTALK_APP_SECRET (or DINGTALK_CLIENT_SECRET) is required:');
    expect(error.message).toContain('REPLY_FUNCTION_NAME is required:');
    expect(error.message).toContain('Client Secret');
    expect(error.kind).toBe('config');
  });

  it('treats a blank value as missing', () => {
    const error = configError(() => loadConversationConfig({ DINGTALK_APP_SECRET: '   ', REPLY_FUNCTION_NAME: '' }));
    expect(error.message).toContain('DINGTALK_APP_SECRET (or DINGTALK_CLIENT_SECRET) is required:');
    expect(error.message).toContain('REPLY_FUNCTION_NAME is required:');
  });

  it('rejects a bad FC_ENDPOINT, FC_REGION and LOG_LEVEL together', () => {
    const error = configError(() =>
      loadConversationConfig({ ...CONVERSATION_ENV, FC_ENDPOINT: 'fc.example', FC_REGION: 'Hangzhou', LOG_LEVEL: 'verbose' }),
    );
    expect(error.message).toContain('FC_ENDPOINT must be an http(s) URL');
    expect(error.message).toContain('FC_REGION must be a region id');
    expect(error.message).toContain('LOG_LEVEL must be one of debug, info, warn, error');
  });
});

describe('loadReplyConfig', () => {
  it('loads a minimal environment with the documented defaults', () => {
    const expected: ReplyConfig = {
      llm: { apiKey: API_KEY, baseURL: 'https://api.openai.com/v1', model: 'gpt-4o-mini', timeoutMs: 45_000, maxRetries: 2 },
      systemPrompt: '',
      historyLength: 5,
      maxContextTokens: 16000,
      history: { kind: 'oss', bucket: 'bot-state', prefix: 'history/' },
      memory: { enabled: true, maxItems: 30 },
      steering: { models: [], adminUsers: [] },
      webhookHosts: ['oapi.dingtalk.com'],
      webhookTimeoutMs: 10_000,
      access: { allowedUsers: [], allowedConversations: [], dailyMessageLimit: 0, rateLimitPerMinute: 0, timeZone: 'Asia/Shanghai' },
      logLevel: 'info',
    };
    expect(loadReplyConfig(REPLY_ENV)).toEqual(expected);
  });

  it('applies every default listed in VARIABLES', () => {
    const conversation = loadConversationConfig(CONVERSATION_ENV);
    const reply = loadReplyConfig(REPLY_ENV);
    const history = reply.history;
    const s3 = loadReplyConfig({ ...REPLY_ENV, OSS_BUCKET: undefined, S3_BUCKET: 'bot-state' }).history;
    if (s3.kind !== 's3') throw new Error('expected the S3 store');
    const openApi = loadReplyConfig({ ...REPLY_ENV, DINGTALK_CLIENT_ID: 'dingclient', DINGTALK_APP_SECRET: 'app-secret' }).openApi;
    const cards = loadReplyConfig({ ...REPLY_ENV, DINGTALK_CLIENT_ID: 'dingclient', DINGTALK_APP_SECRET: 'app-secret', DINGTALK_CARD_TEMPLATE_ID: 't.schema' }).openApi?.card;
    if (openApi === undefined || cards === undefined) throw new Error('expected the OpenAPI and card settings');
    const mem0 = loadReplyConfig({ ...REPLY_ENV, MEM0_API_KEY: 'm0-key' }).memory.mem0;
    /** Where each defaulted variable lands in the loaded configuration, as the string it was given as. */
    const applied: Record<string, string[]> = {
      OPENAI_BASE_URL: [reply.llm.baseURL],
      OPENAI_MODEL: [reply.llm.model],
      LLM_TIMEOUT_SECONDS: [String(reply.llm.timeoutMs / 1000)],
      LLM_MAX_RETRIES: [String(reply.llm.maxRetries)],
      SYSTEM_PROMPT: [reply.systemPrompt],
      HISTORY_LENGTH: [String(reply.historyLength)],
      MAX_CONTEXT_TOKENS: [String(reply.maxContextTokens)],
      HISTORY_PREFIX: [history.prefix],
      DINGTALK_WEBHOOK_HOSTS: [reply.webhookHosts.join(',')],
      WEBHOOK_TIMEOUT_SECONDS: [String(reply.webhookTimeoutMs / 1000)],
      S3_REGION: [s3.region],
      S3_FORCE_PATH_STYLE: [String(s3.forcePathStyle)],
      ALLOWED_USERS: [reply.access.allowedUsers.join(',')],
      ALLOWED_CONVERSATIONS: [reply.access.allowedConversations.join(',')],
      DAILY_MESSAGE_LIMIT: [String(reply.access.dailyMessageLimit)],
      RATE_LIMIT_PER_MINUTE: [String(reply.access.rateLimitPerMinute)],
      TZ: [reply.access.timeZone],
      LOG_LEVEL: [conversation.logLevel, reply.logLevel],
      DINGTALK_API_BASE: [openApi.apiBase],
      OPENAI_MODELS: [reply.steering.models.join(',')],
      ADMIN_USERS: [reply.steering.adminUsers.join(',')],
      DINGTALK_CARD_TEMPLATE_ID: [openApi.card?.templateId ?? ''],
      DINGTALK_CARD_CONTENT_KEY: [cards.contentKey],
      CARD_UPDATE_INTERVAL_MS: [String(cards.updateIntervalMs)],
      MEMORY_ENABLED: [String(reply.memory.enabled)],
      MEMORY_MAX_ITEMS: [String(reply.memory.maxItems)],
      MEM0_BASE_URL: [mem0?.baseUrl ?? ''],
    };
    const defaulted = VARIABLES.filter((spec) => spec.default !== undefined);
    expect(defaulted.map((spec) => spec.name).sort()).toEqual(Object.keys(applied).sort());
    for (const spec of defaulted) {
      for (const value of applied[spec.name] ?? []) expect({ name: spec.name, value }).toEqual({ name: spec.name, value: spec.default });
    }
  });

  it('turns the OpenAPI on only with DINGTALK_CLIENT_ID, with the app secret as its secret', () => {
    expect(loadReplyConfig(REPLY_ENV).openApi).toBeUndefined();
    expect(loadReplyConfig({ ...REPLY_ENV, DINGTALK_CLIENT_ID: 'dingclient', DINGTALK_CLIENT_SECRET: 'app-secret', DINGTALK_API_BASE: 'http://127.0.0.1:9/' }).openApi).toEqual({
      clientId: 'dingclient',
      clientSecret: 'app-secret',
      apiBase: 'http://127.0.0.1:9',
    });
  });

  it('names the missing secret when DINGTALK_CLIENT_ID is set without it', () => {
    expect(() => loadReplyConfig({ ...REPLY_ENV, DINGTALK_CLIENT_ID: 'dingclient' })).toThrow(/DINGTALK_APP_SECRET \(or DINGTALK_CLIENT_SECRET\) is required with DINGTALK_CLIENT_ID/);
  });

  it('names DINGTALK_CLIENT_ID when a card template is set without it', () => {
    expect(() => loadReplyConfig({ ...REPLY_ENV, DINGTALK_CARD_TEMPLATE_ID: 't.schema' })).toThrow(/DINGTALK_CLIENT_ID is required with DINGTALK_CARD_TEMPLATE_ID/);
  });

  it('refuses a card update interval outside 100 ms to 10 s', () => {
    const env = { ...REPLY_ENV, DINGTALK_CLIENT_ID: 'dingclient', DINGTALK_APP_SECRET: 's', DINGTALK_CARD_TEMPLATE_ID: 't.schema' };
    expect(() => loadReplyConfig({ ...env, CARD_UPDATE_INTERVAL_MS: '50' })).toThrow(/CARD_UPDATE_INTERVAL_MS must be a whole number from 100 to 10000/);
    expect(loadReplyConfig({ ...env, CARD_UPDATE_INTERVAL_MS: '800' }).openApi?.card?.updateIntervalMs).toBe(800);
  });

  it('reads the memory settings: off with MEMORY_ENABLED=false, a memory model, a bound, and Mem0 only with its key', () => {
    expect(loadReplyConfig({ ...REPLY_ENV, MEMORY_ENABLED: 'false', MEMORY_MODEL: 'qwen-turbo', MEMORY_MAX_ITEMS: '50' }).memory).toEqual({
      enabled: false,
      model: 'qwen-turbo',
      maxItems: 50,
    });
    expect(loadReplyConfig({ ...REPLY_ENV, MEM0_BASE_URL: 'http://127.0.0.1:9/' }).memory.mem0).toBeUndefined();
    expect(loadReplyConfig({ ...REPLY_ENV, MEM0_API_KEY: ' m0-key ', MEM0_BASE_URL: 'http://127.0.0.1:9/' }).memory.mem0).toEqual({
      apiKey: 'm0-key',
      baseUrl: 'http://127.0.0.1:9',
    });
  });

  it('refuses MEMORY_MAX_ITEMS outside 1 to 200, a MEMORY_ENABLED that is not a boolean and a MEM0_BASE_URL that is not a URL', () => {
    for (const bad of ['0', '201', 'many']) {
      expect(() => loadReplyConfig({ ...REPLY_ENV, MEMORY_MAX_ITEMS: bad })).toThrow(/MEMORY_MAX_ITEMS must be a whole number from 1 to 200/);
    }
    expect(() => loadReplyConfig({ ...REPLY_ENV, MEMORY_ENABLED: 'yes please' })).toThrow(/MEMORY_ENABLED must be true or false/);
    expect(() => loadReplyConfig({ ...REPLY_ENV, MEM0_API_KEY: 'm0-key', MEM0_BASE_URL: 'api.mem0.ai' })).toThrow(/MEM0_BASE_URL must be an http\(s\) URL/);
  });

  it('accepts OPENAI_API_BASE as an alias of OPENAI_BASE_URL', () => {
    const config = loadReplyConfig({ ...REPLY_ENV, OPENAI_API_BASE: 'https://dashscope.aliyuncs.com/compatible-mode/v1' });
    expect(config.llm.baseURL).toBe('https://dashscope.aliyuncs.com/compatible-mode/v1');
  });

  it('reads the optional settings', () => {
    const config = loadReplyConfig({
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: 'http://localhost:11434/v1',
      OPENAI_MODEL: 'qwen-plus',
      OPENAI_API_VERSION: '2024-10-21',
      LLM_TIMEOUT_SECONDS: '30',
      LLM_MAX_RETRIES: '0',
      SYSTEM_PROMPT: 'Be brief.',
      HISTORY_LENGTH: '0',
      MAX_CONTEXT_TOKENS: '256',
      OSS_BUCKET: 'bot-state',
      OSS_REGION: 'oss-cn-hangzhou',
      OSS_ENDPOINT: 'http://127.0.0.1:9100',
      HISTORY_PREFIX: 'chat/',
      DINGTALK_WEBHOOK_HOSTS: ' OAPI.dingtalk.com, 127.0.0.1 ,,',
      WEBHOOK_TIMEOUT_SECONDS: '60',
      ALLOWED_USERS: ' manager4220, ops01,',
      ALLOWED_CONVERSATIONS: 'cid-team',
      DAILY_MESSAGE_LIMIT: '50',
      TZ: 'Europe/Berlin',
      FC_REGION: 'cn-hangzhou',
      LOG_LEVEL: 'warn',
    });
    expect(config).toEqual({
      llm: { apiKey: API_KEY, baseURL: 'http://localhost:11434/v1', model: 'qwen-plus', apiVersion: '2024-10-21', timeoutMs: 30_000, maxRetries: 0 },
      systemPrompt: 'Be brief.',
      historyLength: 0,
      maxContextTokens: 256,
      history: { kind: 'oss', bucket: 'bot-state', region: 'oss-cn-hangzhou', endpoint: 'http://127.0.0.1:9100', prefix: 'chat/' },
      memory: { enabled: true, maxItems: 30 },
      steering: { models: [], adminUsers: [] },
      webhookHosts: ['oapi.dingtalk.com', '127.0.0.1'],
      webhookTimeoutMs: 60_000,
      access: { allowedUsers: ['manager4220', 'ops01'], allowedConversations: ['cid-team'], dailyMessageLimit: 50, rateLimitPerMinute: 0, timeZone: 'Europe/Berlin' },
      region: 'cn-hangzhou',
      logLevel: 'warn',
    });
  });

  it('uses HISTORY_DIR over OSS_BUCKET', () => {
    const config = loadReplyConfig({ ...REPLY_ENV, HISTORY_DIR: '/mnt/oss' });
    expect(config.history).toEqual({ kind: 'filesystem', dir: '/mnt/oss', prefix: 'history/' });
  });

  it('names HISTORY_DIR, OSS_BUCKET and S3_BUCKET when none is set', () => {
    const error = configError(() => loadReplyConfig({ OPENAI_API_KEY: API_KEY }));
    expect(error.message).toContain('HISTORY_DIR, OSS_BUCKET or S3_BUCKET is required');
  });

  it('reads an S3-compatible store with static keys', () => {
    const config = loadReplyConfig({
      OPENAI_API_KEY: API_KEY,
      S3_BUCKET: 'bot.state',
      S3_REGION: 'auto',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret-example',
    });
    expect(config.history).toEqual({
      kind: 's3',
      bucket: 'bot.state',
      region: 'auto',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' },
      prefix: 'history/',
    });
  });

  it('refuses OSS_BUCKET and S3_BUCKET together, a bad S3_FORCE_PATH_STYLE and an unknown TZ under a daily limit', () => {
    const error = configError(() =>
      loadReplyConfig({ ...REPLY_ENV, S3_BUCKET: 'other', S3_FORCE_PATH_STYLE: 'yes', TZ: 'Mars/Olympus', DAILY_MESSAGE_LIMIT: '20' }),
    );
    expect(error.message).toContain('OSS_BUCKET and S3_BUCKET are both set');
    expect(error.message).toContain('TZ must be an IANA time zone such as Asia/Shanghai (got "Mars…" (12 characters))');
    const pathStyle = configError(() => loadReplyConfig({ OPENAI_API_KEY: API_KEY, S3_BUCKET: 'b-1', S3_FORCE_PATH_STYLE: 'yes' }));
    expect(pathStyle.message).toContain('S3_FORCE_PATH_STYLE must be true or false');
  });

  it('leaves TZ unchecked without a daily limit, where nothing reads it (saves building a time-zone formatter per cold start)', () => {
    expect(loadReplyConfig({ ...REPLY_ENV, TZ: 'Mars/Olympus' }).access.timeZone).toBe('Mars/Olympus');
    expect(loadReplyConfig({ ...REPLY_ENV, TZ: 'Asia/Shanghai', DAILY_MESSAGE_LIMIT: '5' }).access.timeZone).toBe('Asia/Shanghai');
    expect(loadReplyConfig(REPLY_ENV).access.timeZone).toBe('Asia/Shanghai');
  });

  it('lists every problem at once', () => {
    const error = configError(() =>
      loadReplyConfig({
        HISTORY_LENGTH: '-1',
        MAX_CONTEXT_TOKENS: '100',
        LLM_TIMEOUT_SECONDS: '1.5',
        OPENAI_BASE_URL: 'api.openai.com/v1',
        LOG_LEVEL: 'loud',
        DINGTALK_WEBHOOK_HOSTS: ' , ',
      }),
    );
    for (const expected of [
      'OPENAI_API_KEY is required:',
      'HISTORY_DIR, OSS_BUCKET or S3_BUCKET is required',
      'HISTORY_LENGTH must be a whole number from 0 to 100 (got "-1")',
      'MAX_CONTEXT_TOKENS must be a whole number from 256 to 2000000 (got "100")',
      'LLM_TIMEOUT_SECONDS must be a whole number from 1 to 900 (got "1.5")',
      'OPENAI_BASE_URL must be an http(s) URL',
      'LOG_LEVEL must be one of',
      'DINGTALK_WEBHOOK_HOSTS must name at least one host',
    ]) {
      expect(error.message).toContain(expected);
    }
    expect(error.message.startsWith("the reply function's configuration is incomplete:\n- ")).toBe(true);
  });

  it.each([
    ['HISTORY_LENGTH', '101'],
    ['HISTORY_LENGTH', 'five'],
    ['HISTORY_LENGTH', '1e2'],
    ['LLM_TIMEOUT_SECONDS', '0'],
    ['LLM_TIMEOUT_SECONDS', '901'],
    ['LLM_MAX_RETRIES', '6'],
    ['MAX_CONTEXT_TOKENS', '2000001'],
    ['WEBHOOK_TIMEOUT_SECONDS', '61'],
    ['WEBHOOK_TIMEOUT_SECONDS', '0x10'],
  ])('rejects %s=%j', (name, value) => {
    expect(configError(() => loadReplyConfig({ ...REPLY_ENV, [name]: value })).message).toContain(`${name} must be a whole number`);
  });

  it.each(['not a url', 'ftp://api.example.com/v1', 'localhost:11434/v1'])('rejects OPENAI_BASE_URL=%j', (value) => {
    expect(configError(() => loadReplyConfig({ ...REPLY_ENV, OPENAI_BASE_URL: value })).message).toContain(
      'OPENAI_BASE_URL must be an http(s) URL',
    );
  });

  it('rejects a bad OSS_ENDPOINT', () => {
    expect(configError(() => loadReplyConfig({ ...REPLY_ENV, OSS_ENDPOINT: 'oss.example' })).message).toContain('OSS_ENDPOINT must be');
  });

  it.each(['verbose', 'trace', 'none'])('rejects LOG_LEVEL=%j', (value) => {
    expect(configError(() => loadReplyConfig({ ...REPLY_ENV, LOG_LEVEL: value })).message).toContain('LOG_LEVEL must be one of');
  });

  it.each([
    ['FC_REGION', 'Hangzhou'],
    ['FC_REGION', 'cn_hangzhou'],
    ['OSS_REGION', 'cn-hangzhou.aliyuncs.com'],
    ['OSS_REGION', 'hangzhou'],
  ])('rejects %s=%j', (name, value) => {
    expect(configError(() => loadReplyConfig({ ...REPLY_ENV, [name]: value })).message).toContain(`${name} must be a region id`);
  });

  it.each(['Bot_State', 'ab', '-bot-state', 'bot-state-', 'bot.state', 'b'.repeat(64)])('rejects OSS_BUCKET=%j', (bucket) => {
    expect(configError(() => loadReplyConfig({ ...REPLY_ENV, OSS_BUCKET: bucket })).message).toContain('OSS_BUCKET must be a bucket name');
  });

  it('accepts bucket names of 3 and 63 characters', () => {
    for (const bucket of ['abc', 'b'.repeat(63)]) expect(loadReplyConfig({ ...REPLY_ENV, OSS_BUCKET: bucket }).history).toMatchObject({ bucket });
  });
});

describe('configuration errors and secrets', () => {
  const SECRETS: Env = {
    DINGTALK_APP_SECRET: APP_SECRET,
    OPENAI_API_KEY: API_KEY,
    ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    ALIBABA_CLOUD_SECURITY_TOKEN: SECURITY_TOKEN,
  };
  const BROKEN: Env = {
    FC_ENDPOINT: 'nope',
    FC_REGION: 'Nowhere',
    LOG_LEVEL: 'loud',
    OPENAI_BASE_URL: 'nope',
    HISTORY_LENGTH: 'x',
    MAX_CONTEXT_TOKENS: 'x',
    LLM_TIMEOUT_SECONDS: 'x',
    LLM_MAX_RETRIES: 'x',
    WEBHOOK_TIMEOUT_SECONDS: 'x',
    OSS_BUCKET: 'Bad_Bucket',
    OSS_REGION: 'Nowhere',
    OSS_ENDPOINT: 'nope',
    DINGTALK_WEBHOOK_HOSTS: ',',
  };

  it('never puts a secret value given in env into an error message', () => {
    const messages = [
      configError(() => loadConversationConfig({ ...SECRETS, ...BROKEN })).message,
      configError(() => loadReplyConfig({ ...SECRETS, ...BROKEN })).message,
      configError(() => loadReplyConfig({ DINGTALK_CLIENT_SECRET: APP_SECRET, ...BROKEN })).message,
    ];
    for (const message of messages) {
      for (const secret of [APP_SECRET, API_KEY, ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN]) expect(message).not.toContain(secret);
    }
  });

  it('returns the values of the secret variables, aliases included', () => {
    const env: Env = { ...SECRETS, DINGTALK_CLIENT_SECRET: ' alias-secret-value ', OPENAI_MODEL: 'gpt-4o', REPLY_FUNCTION_NAME: 'reply', OSS_BUCKET: 'bot-state' };
    expect(secretValues(env).sort()).toEqual([APP_SECRET, API_KEY, ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN, 'alias-secret-value'].sort());
  });

  it('returns nothing for unset or blank secret variables', () => {
    expect(secretValues({ DINGTALK_APP_SECRET: '  ', OPENAI_MODEL: 'gpt-4o' })).toEqual([]);
  });

  it('marks exactly the credentials as secret', () => {
    expect(VARIABLES.filter((spec) => spec.secret).map((spec) => spec.name).sort()).toEqual(
      ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'DINGTALK_APP_SECRET', 'MEM0_API_KEY', 'OPENAI_API_KEY'].sort(),
    );
  });
});

describe('renderConfigTable', () => {
  it('lists every variable name and alias', () => {
    const table = renderConfigTable();
    for (const spec of VARIABLES) {
      for (const name of [spec.name, ...(spec.aliases ?? [])]) expect(table).toContain(`\`${name}\``);
    }
    expect(table.split('\n')).toHaveLength(VARIABLES.length + 2);
  });

  it('marks required variables and shows defaults', () => {
    const table = renderConfigTable();
    expect(table).toMatch(/\| `REPLY_FUNCTION_NAME` \| \*\*required\*\* \|/);
    expect(table).toMatch(/\| `HISTORY_LENGTH` \| `5` \|/);
  });
});
