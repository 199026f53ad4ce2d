// s.yaml, rendered by the real `s preview` (offline, no credentials: see ./s-yaml.ts), checked
// against the fc3 component's props schema and against the design: what each function gets, its
// trigger, its async retries, and a timeout that covers the LLM's worst case.
import fs from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import {
  FUNCTION_NAMES,
  type FunctionName,
  type JsonObject,
  type RenderedSYaml,
  functionEnvironment,
  isJsonObject,
  listEnvReferences,
  listFunctionEnvironmentVariables,
  readSYaml,
  renderSYaml,
  sampleEnvironment,
} from './s-yaml';
import { FC3_PROPS_SCHEMA } from '../helpers/fixtures';


// The defaults s.yaml must give each optional variable; FC_ROLE_ARN has none (required).
const EXPECTED_DEFAULTS: Record<string, string | undefined> = {
  FC_REGION: 'cn-hangzhou',
  FC_ROLE_ARN: undefined,
  CONVERSATION_FUNCTION_NAME: 'dingtalk-llm-conversation',
  REPLY_FUNCTION_NAME: 'dingtalk-llm-reply',
  DINGTALK_APP_SECRET: '',
  OPENAI_API_KEY: '',
  OPENAI_BASE_URL: '',
  OPENAI_MODEL: 'gpt-4o-mini',
  OPENAI_MODELS: '',
  ADMIN_USERS: '',
  VISION_MODEL: '',
  OPENAI_API_VERSION: '',
  LLM_TIMEOUT_SECONDS: '45',
  LLM_MAX_RETRIES: '2',
  LLM_EXTRA_BODY: '',
  SYSTEM_PROMPT: '',
  HISTORY_LENGTH: '5',
  MAX_CONTEXT_TOKENS: '16000',
  OSS_BUCKET: '',
  OSS_REGION: '',
  OSS_ENDPOINT: '',
  HISTORY_PREFIX: 'history/',
  HISTORY_DIR: '',
  S3_BUCKET: '',
  S3_REGION: 'us-east-1',
  S3_ENDPOINT: '',
  S3_FORCE_PATH_STYLE: 'false',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  MEMORY_ENABLED: '',
  MEMORY_MODEL: '',
  MEMORY_MAX_ITEMS: '',
  MEM0_API_KEY: '',
  MEM0_BASE_URL: '',
  ALLOWED_USERS: '',
  ALLOWED_CONVERSATIONS: '',
  DAILY_MESSAGE_LIMIT: '0',
  RATE_LIMIT_PER_MINUTE: '0',
  TZ: 'Asia/Shanghai',
  DINGTALK_WEBHOOK_HOSTS: 'oapi.dingtalk.com',
  DINGTALK_CLIENT_ID: '',
  DINGTALK_CARD_TEMPLATE_ID: '',
  DINGTALK_CARD_CONTENT_KEY: 'content',
  DINGTALK_API_BASE: 'https://api.dingtalk.com',
  CARD_UPDATE_INTERVAL_MS: '500',
  WEBHOOK_TIMEOUT_SECONDS: '10',
  LOG_LEVEL: 'info',
};

const EXPECTED_FUNCTION_VARIABLES: Record<FunctionName, string[]> = {
  conversation: ['DINGTALK_APP_SECRET', 'LOG_LEVEL', 'REPLY_FUNCTION_NAME'],
  reply: [
    'ADMIN_USERS',
    'ALLOWED_CONVERSATIONS',
    'ALLOWED_USERS',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'CARD_UPDATE_INTERVAL_MS',
    'DAILY_MESSAGE_LIMIT',
    'DINGTALK_API_BASE',
    'DINGTALK_APP_SECRET',
    'DINGTALK_CARD_CONTENT_KEY',
    'DINGTALK_CARD_TEMPLATE_ID',
    'DINGTALK_CLIENT_ID',
    'DINGTALK_WEBHOOK_HOSTS',
    'HISTORY_DIR',
    'HISTORY_LENGTH',
    'HISTORY_PREFIX',
    'LLM_EXTRA_BODY',
    'LLM_MAX_RETRIES',
    'LLM_TIMEOUT_SECONDS',
    'LOG_LEVEL',
    'MAX_CONTEXT_TOKENS',
    'MEM0_API_KEY',
    'MEM0_BASE_URL',
    'MEMORY_ENABLED',
    'MEMORY_MAX_ITEMS',
    'MEMORY_MODEL',
    'OPENAI_API_KEY',
    'OPENAI_API_VERSION',
    'OPENAI_BASE_URL',
    'OPENAI_MODEL',
    'OPENAI_MODELS',
    'OSS_BUCKET',
    'OSS_ENDPOINT',
    'OSS_REGION',
    'RATE_LIMIT_PER_MINUTE',
    'S3_BUCKET',
    'S3_ENDPOINT',
    'S3_FORCE_PATH_STYLE',
    'S3_REGION',
    'SYSTEM_PROMPT',
    'TZ',
    'VISION_MODEL',
    'WEBHOOK_TIMEOUT_SECONDS',
  ],
};

/** Margin the reply function needs beyond the LLM attempts: webhook post, OSS, SDK backoff. */
const REPLY_TIMEOUT_MARGIN_SECONDS = 20;

const schema = JSON.parse(fs.readFileSync(FC3_PROPS_SCHEMA, 'utf8')) as JsonObject;
const ajv = new Ajv({ allErrors: true });
ajv.addSchema(schema, 'fc3');
const validateProps = ajv.getSchema('fc3') as ValidateFunction;
// The schema's trigger type is an anyOf that includes an object with no required field, so any
// triggerConfig passes it: the HTTP trigger's config is checked against its own definition too.
const validateHttpTriggerConfig = ajv.compile({ $ref: 'fc3#/definitions/IHttpTriggerConfig' });

function definition(name: string): JsonObject {
  const definitions = schema.definitions;
  const found = isJsonObject(definitions) ? definitions[name] : undefined;
  if (!isJsonObject(found)) throw new Error(`schema has no definition ${name}`);
  return found;
}

function propertyNames(node: JsonObject): string[] {
  return isJsonObject(node.properties) ? Object.keys(node.properties) : [];
}

function errorsOf(errors: ErrorObject[] | null | undefined): string {
  return ajv.errorsText(errors, { separator: '\n' });
}

function props(rendered: RenderedSYaml, fn: FunctionName): JsonObject {
  const resource = rendered.resources[fn];
  if (!resource) throw new Error(`s.yaml has no resource ${fn}`);
  return resource.props;
}

function triggersOf(rendered: RenderedSYaml, fn: FunctionName): JsonObject[] {
  const triggers = props(rendered, fn).triggers;
  if (triggers === undefined) return [];
  if (!Array.isArray(triggers)) throw new Error(`${fn}.triggers is not an array`);
  return triggers.map((trigger: unknown) => {
    if (!isJsonObject(trigger)) throw new Error(`${fn} has a trigger that is not an object`);
    return trigger;
  });
}

function stringLeaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((item: unknown) => stringLeaves(item, out));
  else if (isJsonObject(value)) Object.values(value).forEach((item) => stringLeaves(item, out));
  return out;
}

function numberProp(rendered: RenderedSYaml, fn: FunctionName, key: string): number {
  const value = props(rendered, fn)[key];
  if (typeof value !== 'number') throw new Error(`${fn}.${key} is not a number: ${JSON.stringify(value)}`);
  return value;
}

describe('s.yaml', () => {
  const references = listEnvReferences();
  const samples = sampleEnvironment(references);
  // Rendered once with a value for every variable, once with only the required one (defaults).
  let withSamples: RenderedSYaml;
  let withDefaults: RenderedSYaml;

  beforeAll(() => {
    withSamples = renderSYaml(samples);
    withDefaults = renderSYaml({ FC_ROLE_ARN: samples.FC_ROLE_ARN as string });
  });

  it('reads exactly the expected variables, with the expected defaults', () => {
    const declared = Object.fromEntries(references.map((ref) => [ref.name, ref.defaultValue]));
    expect(declared).toEqual(EXPECTED_DEFAULTS);
  });

  it('is a Serverless Devs 3 project of two fc3 resources', () => {
    expect(withSamples.edition).toBe('3.0.0');
    expect(withSamples.name).toBe('dingtalk-llm');
    expect(withSamples.access).toBe('default');
    expect(Object.keys(withSamples.resources).sort()).toEqual([...FUNCTION_NAMES].sort());
    for (const fn of FUNCTION_NAMES) expect(withSamples.resources[fn]?.component).toBe('fc3');
  });

  describe.each([
    ['every variable set', () => withSamples],
    ['only the required variables set', () => withDefaults],
  ])('rendered with %s', (_label, get) => {
    it.each(FUNCTION_NAMES)('%s props match the fc3 schema', (fn) => {
      const valid = validateProps(props(get(), fn));
      expect(errorsOf(validateProps.errors)).toBe('No errors');
      expect(valid).toBe(true);
    });

    it.each(FUNCTION_NAMES)('%s uses no property the schema does not know (it allows any)', (fn) => {
      const p = props(get(), fn);
      expect(Object.keys(p).filter((key) => !propertyNames(schema).includes(key))).toEqual([]);
      if (isJsonObject(p.asyncInvokeConfig)) {
        const known = propertyNames(definition('IAsyncInvokeConfig'));
        expect(Object.keys(p.asyncInvokeConfig).filter((key) => !known.includes(key))).toEqual([]);
      }
      for (const trigger of triggersOf(get(), fn)) {
        expect(Object.keys(trigger).filter((key) => !propertyNames(definition('ITrigger')).includes(key))).toEqual([]);
      }
    });

    it('leaves no unresolved variable and no "undefined" anywhere', () => {
      const leaves = stringLeaves({ vars: get().vars, resources: get().resources });
      expect(leaves.filter((leaf) => leaf.includes('${') || leaf === 'undefined' || leaf === 'null')).toEqual([]);
    });

    it.each(FUNCTION_NAMES)('%s environment variables are strings FC accepts', (fn) => {
      const env = functionEnvironment(get(), fn);
      for (const key of Object.keys(env)) {
        expect(key).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
        expect(key.startsWith('FC_')).toBe(false);
      }
      // FC: all environment variables of a function together at most 4 KB.
      const bytes = Object.entries(env).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      expect(bytes).toBeLessThanOrEqual(4096);
    });

    it('conversation gets the name reply is deployed under', () => {
      expect(functionEnvironment(get(), 'conversation').REPLY_FUNCTION_NAME).toBe(props(get(), 'reply').functionName);
    });
  });

  it('resolves every variable from the environment when it is set', () => {
    const leaves = new Set(stringLeaves({ vars: withSamples.vars, resources: withSamples.resources }));
    for (const [name, value] of Object.entries(samples)) {
      expect({ name, found: leaves.has(value) }).toEqual({ name, found: true });
    }
    // A function variable named like the deploy variable carries that variable's value.
    for (const fn of FUNCTION_NAMES) {
      for (const [key, value] of Object.entries(functionEnvironment(withSamples, fn))) {
        if (key in samples) expect({ key, value }).toEqual({ key, value: samples[key] });
      }
    }
    expect(props(withSamples, 'conversation').functionName).toBe(samples.CONVERSATION_FUNCTION_NAME);
    expect(props(withSamples, 'reply').functionName).toBe(samples.REPLY_FUNCTION_NAME);
    for (const fn of FUNCTION_NAMES) {
      expect(props(withSamples, fn).region).toBe(samples.FC_REGION);
      expect(props(withSamples, fn).role).toBe(samples.FC_ROLE_ARN);
    }
  });

  it('falls back to the documented defaults', () => {
    for (const fn of FUNCTION_NAMES) {
      for (const [key, value] of Object.entries(functionEnvironment(withDefaults, fn))) {
        expect({ key, value }).toEqual({ key, value: EXPECTED_DEFAULTS[key] });
      }
      expect(props(withDefaults, fn).region).toBe(EXPECTED_DEFAULTS.FC_REGION);
    }
    expect(props(withDefaults, 'reply').functionName).toBe(EXPECTED_DEFAULTS.REPLY_FUNCTION_NAME);
    expect(props(withDefaults, 'conversation').functionName).toBe(EXPECTED_DEFAULTS.CONVERSATION_FUNCTION_NAME);
  });

  it('passes a JSON LLM_EXTRA_BODY to reply as the same string, not as YAML', () => {
    const json = '{"enable_thinking": false, "enable_search": true}';
    const rendered = renderSYaml({ FC_ROLE_ARN: samples.FC_ROLE_ARN as string, LLM_EXTRA_BODY: json });
    expect(functionEnvironment(rendered, 'reply').LLM_EXTRA_BODY).toBe(json);
  });

  it('refuses to render without a role', () => {
    const withoutRole = Object.fromEntries(Object.entries(samples).filter(([name]) => name !== 'FC_ROLE_ARN'));
    expect(() => renderSYaml(withoutRole)).toThrow(/env\('FC_ROLE_ARN'\) not found/);
  });

  it.each(FUNCTION_NAMES)('%s runs the nodejs20 bundle from dist, ships logs, and checks the values then builds before deploy', (fn) => {
    const p = props(withSamples, fn);
    expect(p.runtime).toBe('nodejs20');
    expect(p.handler).toBe('index.handler');
    expect(p.code).toBe(`./dist/${fn}`);
    expect(p.logConfig).toBe('auto');
    expect(withSamples.resources[fn]?.actions?.['pre-deploy']).toEqual([
      { run: 'npm run --silent predeploy-check', path: './' },
      { run: `npm run build -- ${fn}`, path: './' },
    ]);
  });

  it('conversation is small and answers within DingTalk\'s 10 s', () => {
    expect(numberProp(withSamples, 'conversation', 'memorySize')).toBe(128);
    expect(numberProp(withSamples, 'conversation', 'timeout')).toBeLessThanOrEqual(10);
  });

  it('conversation has exactly one anonymous public HTTP trigger for POST and GET', () => {
    const triggers = triggersOf(withSamples, 'conversation');
    expect(triggers).toHaveLength(1);
    const [trigger] = triggers as [JsonObject];
    expect(trigger.triggerType).toBe('http');
    const config = trigger.triggerConfig;
    const valid = validateHttpTriggerConfig(config);
    expect(errorsOf(validateHttpTriggerConfig.errors)).toBe('No errors');
    expect(valid).toBe(true);
    if (!isJsonObject(config)) throw new Error('triggerConfig is not an object');
    expect(config.authType).toBe('anonymous');
    expect(Array.isArray(config.methods) ? [...config.methods].sort() : config.methods).toEqual(['GET', 'POST']);
    expect(config.disableURLInternet).toBe(false);
    expect(Object.keys(config).filter((key) => !propertyNames(definition('IHttpTriggerConfig')).includes(key))).toEqual([]);
  });

  it('reply memory holds the peak `npm run bench` measured for a 5 MB picture and its follow-up (reply_peak_rss_mb_picture, up to ~176 MB) with 32 MB to spare', () => {
    const memory = numberProp(withSamples, 'reply', 'memorySize');
    expect(memory % 64).toBe(0);
    expect(memory).toBeGreaterThanOrEqual(176 + 32);
    // A size above the next step would only raise the bill: compute is billed per GB-second of the LLM wait.
    expect(memory).toBeLessThanOrEqual(256);
  });

  it('reply has no trigger, async task mode (so FC dedupes task ids) and bounded async retries', () => {
    expect(triggersOf(withSamples, 'reply')).toEqual([]);
    const config = props(withSamples, 'reply').asyncInvokeConfig;
    if (!isJsonObject(config)) throw new Error('reply has no asyncInvokeConfig');
    expect(config.asyncTask).toBe(true);
    expect(typeof config.maxAsyncRetryAttempts).toBe('number');
    expect(config.maxAsyncRetryAttempts as number).toBeGreaterThanOrEqual(0);
    expect(config.maxAsyncRetryAttempts as number).toBeLessThanOrEqual(3);
    expect(typeof config.maxAsyncEventAgeInSeconds).toBe('number');
  });

  it('reply timeout covers every LLM attempt plus a margin, with the defaults', () => {
    const env = functionEnvironment(withDefaults, 'reply');
    const llmTimeout = Number(env.LLM_TIMEOUT_SECONDS);
    const retries = Number(env.LLM_MAX_RETRIES);
    expect(Number.isInteger(llmTimeout) && Number.isInteger(retries)).toBe(true);
    expect(numberProp(withDefaults, 'reply', 'timeout')).toBeGreaterThanOrEqual(
      llmTimeout * (retries + 1) + REPLY_TIMEOUT_MARGIN_SECONDS,
    );
  });

  it('lists the variables each function receives', () => {
    expect(listFunctionEnvironmentVariables()).toEqual(EXPECTED_FUNCTION_VARIABLES);
  });

  it('keeps its env() calls parseable (the listing refuses what it cannot read)', () => {
    expect(() => listEnvReferences(`${readSYaml()}\nx: \${env(UNQUOTED)}\n`)).toThrow(/env\(\) calls/);
    expect(() => listEnvReferences("a: ${env('A', '1')}\nb: ${env('A', '2')}\n")).toThrow(/two defaults/);
    expect(listEnvReferences("# ${env('IN_A_COMMENT')}\na: ${env(\"A\")}\n")).toEqual([{ name: 'A', defaultValue: undefined }]);
  });
});
