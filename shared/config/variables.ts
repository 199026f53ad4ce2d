/** The functions a variable is read by. `local` is the laptop mode's own settings. */
export type FunctionName = 'conversation' | 'reply';

/** One environment variable: the single source for the loader, the README table and s.yaml's test. */
export interface VariableSpec {
  name: string;
  /** Other names accepted for the same value (checked after `name`). */
  aliases?: readonly string[];
  usedBy: readonly FunctionName[];
  /** The value used when unset; `undefined` means no default. */
  default?: string;
  /** Required variables fail the cold start with "NAME is required: <description> <where>". */
  required?: boolean;
  /** Never logged or printed. */
  secret?: boolean;
  /** What it is. */
  description: string;
  /** Where to find the value, for required variables. */
  where?: string;
}

/** Every variable the functions read, in the order the README lists them. */
export const VARIABLES: readonly VariableSpec[] = [
  {
    name: 'DINGTALK_APP_SECRET',
    aliases: ['DINGTALK_CLIENT_SECRET'],
    usedBy: ['conversation', 'reply'],
    required: true,
    secret: true,
    description:
      "The robot application's Client Secret (formerly AppSecret); it verifies DingTalk's `sign` header and, with DINGTALK_CLIENT_ID, gets the OpenAPI token.",
    where: 'DingTalk developer console → your app → Credentials & Basic Info → Client Secret.',
  },
  {
    name: 'REPLY_FUNCTION_NAME',
    usedBy: ['conversation'],
    required: true,
    description: 'Name of the reply function that the conversation function invokes asynchronously.',
    where: 's.yaml sets it to the reply resource’s functionName.',
  },
  {
    name: 'FC_ENDPOINT',
    usedBy: ['conversation'],
    description:
      'FC API endpoint for the async invocation. Default: the internal endpoint `https://<accountId>.<region>-internal.fc.aliyuncs.com`.',
  },
  {
    name: 'FC_ACCOUNT_ID',
    usedBy: ['conversation'],
    description: 'Alibaba Cloud account id; FC passes it in the context, set it only outside FC.',
  },
  {
    name: 'FC_REGION',
    usedBy: ['conversation', 'reply'],
    description: 'Region id such as `cn-hangzhou`; FC passes it in the context, set it only outside FC.',
  },
  {
    name: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
    usedBy: ['conversation', 'reply'],
    secret: true,
    description: "Access key id; inside FC the function role's temporary credentials are used instead.",
  },
  {
    name: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    usedBy: ['conversation', 'reply'],
    secret: true,
    description: 'Access key secret, with ALIBABA_CLOUD_ACCESS_KEY_ID, outside FC only.',
  },
  {
    name: 'ALIBABA_CLOUD_SECURITY_TOKEN',
    usedBy: ['conversation', 'reply'],
    secret: true,
    description: 'STS security token, when the access key outside FC is temporary.',
  },
  {
    name: 'OPENAI_API_KEY',
    usedBy: ['reply'],
    required: true,
    secret: true,
    description: "API key of the LLM provider (any non-empty value for Ollama or vLLM, which don't check it).",
    where: "Your provider's console: OpenAI API keys, DashScope API-KEY, DeepSeek API keys, ...",
  },
  {
    name: 'OPENAI_BASE_URL',
    aliases: ['OPENAI_API_BASE'],
    usedBy: ['reply'],
    default: 'https://api.openai.com/v1',
    description: 'Base URL of the OpenAI-compatible API (see the provider table). For Azure, the resource endpoint.',
  },
  {
    name: 'OPENAI_MODEL',
    usedBy: ['reply'],
    default: 'gpt-4o-mini',
    description: 'Model name sent with each request (for Azure, the deployment name).',
  },
  {
    name: 'VISION_MODEL',
    usedBy: ['reply'],
    description:
      'Model for a message that carries a picture, e.g. `qwen-vl-max` (DashScope), `gpt-4o` (OpenAI), `glm-4v` (Zhipu); same provider, key and base URL as OPENAI_MODEL (for Azure, a deployment name). Default: OPENAI_MODEL. When the model cannot take images, users are told to ask for this to be set.',
  },
  {
    name: 'OPENAI_MODELS',
    usedBy: ['reply'],
    default: '',
    description:
      'Comma-separated models a conversation may switch to with `\\model NAME` (e.g. `qwen-plus,qwen-max`); empty means `\\model` only shows the model in use. In groups only ADMIN_USERS may switch.',
  },
  {
    name: 'ADMIN_USERS',
    usedBy: ['reply'],
    default: '',
    description:
      "Comma-separated staff ids (`senderStaffId`) who may change a group's model (`\\model`) and system prompt (`\\system`); in a 1:1 chat the person may change their own.",
  },
  {
    name: 'OPENAI_API_VERSION',
    usedBy: ['reply'],
    description: 'Set only for Azure OpenAI (e.g. `2024-10-21`): switches to the Azure client with this API version.',
  },
  {
    name: 'LLM_TIMEOUT_SECONDS',
    usedBy: ['reply'],
    default: '45',
    description:
      'Time limit of one LLM attempt, its answer included: the whole answer, or for a streamed one the wait for the first text and between two pieces (keep-alive lines do not count). With the retries, (LLM_MAX_RETRIES + 1) × this stays inside the reply timeout (180 s).',
  },
  {
    name: 'LLM_MAX_RETRIES',
    usedBy: ['reply'],
    default: '2',
    description: 'Retries of a timed-out, cut-off, rate-limited (429) or failed (5xx) LLM attempt, with backoff (Retry-After honoured up to 60 s); never of a refusal. The run’s deadline stops them early.',
  },
  {
    name: 'LLM_EXTRA_BODY',
    usedBy: ['reply'],
    description:
      'A JSON object merged into every LLM request body, for provider switches: `{"enable_thinking": false}` turns off Qwen3\'s thinking on DashScope (which refuses thinking in answers that are not streamed), `{"enable_search": true}` its web search. It cannot set model, messages, stream or stream_options (the bot sets them); invalid JSON or anything but an object stops the cold start.',
  },
  {
    name: 'SYSTEM_PROMPT',
    usedBy: ['reply'],
    default: '',
    description: 'Instructions prepended to every conversation, when set.',
  },
  {
    name: 'HISTORY_LENGTH',
    usedBy: ['reply'],
    default: '5',
    description: 'How many of the newest exchanges (question and answer) are sent with each question.',
  },
  {
    name: 'MAX_CONTEXT_TOKENS',
    usedBy: ['reply'],
    default: '16000',
    description:
      'Upper bound of prompt tokens; the oldest exchanges are left out to stay under it. The default suits the 32K-or-larger context of the OpenAI, Qwen, DeepSeek, GLM and Gemini models; set it lower for a model with a smaller window (e.g. 6000 for an 8K Ollama model).',
  },
  {
    name: 'HISTORY_DIR',
    usedBy: ['reply'],
    description:
      'Keep history in this folder (a local path, or an OSS bucket mounted into FC such as `/mnt/oss`). Takes precedence over OSS_BUCKET and S3_BUCKET.',
  },
  {
    name: 'OSS_BUCKET',
    usedBy: ['reply'],
    description: 'Keep history in this OSS bucket. One of HISTORY_DIR, OSS_BUCKET or S3_BUCKET is required.',
  },
  {
    name: 'OSS_REGION',
    usedBy: ['reply'],
    description: "The bucket's region, `cn-hangzhou` or `oss-cn-hangzhou`. Default: the function's region.",
  },
  {
    name: 'OSS_ENDPOINT',
    usedBy: ['reply'],
    description: "OSS endpoint override. Default: the region's internal endpoint inside FC, the public one elsewhere.",
  },
  {
    name: 'S3_BUCKET',
    usedBy: ['reply'],
    description:
      'Keep history in this bucket of an S3-compatible store (AWS S3, MinIO, Cloudflare R2, OSS’s S3 endpoint) instead of OSS.',
  },
  {
    name: 'S3_REGION',
    usedBy: ['reply'],
    default: 'us-east-1',
    description: 'Region of S3_BUCKET (`auto` for Cloudflare R2).',
  },
  {
    name: 'S3_ENDPOINT',
    usedBy: ['reply'],
    description: 'Endpoint of a non-AWS S3-compatible store, such as `https://<account>.r2.cloudflarestorage.com` or a MinIO URL.',
  },
  {
    name: 'S3_FORCE_PATH_STYLE',
    usedBy: ['reply'],
    default: 'false',
    description: '`true` to address the bucket in the path (`<endpoint>/<bucket>/<key>`), as MinIO needs.',
  },
  {
    name: 'AWS_ACCESS_KEY_ID',
    usedBy: ['reply'],
    secret: true,
    description: 'Access key id for S3_BUCKET (the standard AWS variable).',
  },
  {
    name: 'AWS_SECRET_ACCESS_KEY',
    usedBy: ['reply'],
    secret: true,
    description: 'Secret access key for S3_BUCKET, with AWS_ACCESS_KEY_ID.',
  },
  {
    name: 'AWS_SESSION_TOKEN',
    usedBy: ['reply'],
    secret: true,
    description: 'Session token, when the S3 access key is temporary.',
  },
  {
    name: 'HISTORY_PREFIX',
    usedBy: ['reply'],
    default: 'history/',
    description: 'Key prefix (or sub-folder) under which history is kept.',
  },
  {
    name: 'MEMORY_ENABLED',
    usedBy: ['reply'],
    default: 'true',
    description:
      'Long-term memory: a short list of facts per person (name, role, team, projects, preferences), learned from exchanges as they leave the HISTORY_LENGTH window, kept across conversations and `\\clear`, and given to the model with every question. `false` turns it off entirely: nothing is stored, injected or asked of the LLM.',
  },
  {
    name: 'MEMORY_MODEL',
    usedBy: ['reply'],
    description:
      'Model of the memory update call (one call per exchange leaving the window, answering a JSON object), e.g. a cheaper one such as `qwen-turbo` or `gpt-4o-mini`; same provider, key and base URL as OPENAI_MODEL. Default: OPENAI_MODEL.',
  },
  {
    name: 'MEMORY_MAX_ITEMS',
    usedBy: ['reply'],
    default: '30',
    description: 'Most facts remembered per person (1 to 200); with 4 KB of facts at most. When the list is full, an explicit "remember" drops the oldest fact.',
  },
  {
    name: 'MEM0_API_KEY',
    usedBy: ['reply'],
    secret: true,
    description:
      'Keep long-term memory in the Mem0 platform instead of the history store (its REST API; no Mem0 SDK, no telemetry): Mem0 extracts the facts, and each question gets the most relevant ones. Empty: the built-in memory.',
  },
  {
    name: 'MEM0_BASE_URL',
    usedBy: ['reply'],
    default: 'https://api.mem0.ai',
    description: "Origin of Mem0's platform API, with MEM0_API_KEY; change it only for tests or a compatible server.",
  },
  {
    name: 'ALLOWED_USERS',
    usedBy: ['reply'],
    default: '',
    description:
      'Comma-separated staff ids (`senderStaffId`) the bot answers; empty means everyone. With ALLOWED_CONVERSATIONS, a message passes when either list names it.',
  },
  {
    name: 'ALLOWED_CONVERSATIONS',
    usedBy: ['reply'],
    default: '',
    description: 'Comma-separated conversation ids (`conversationId`) the bot answers in; empty means every conversation.',
  },
  {
    name: 'DAILY_MESSAGE_LIMIT',
    usedBy: ['reply'],
    default: '0',
    description: 'Questions per user per day (all conversations); `0` means unlimited. The day ends at midnight in TZ.',
  },
  {
    name: 'RATE_LIMIT_PER_MINUTE',
    usedBy: ['reply'],
    default: '0',
    description:
      'Questions per user per minute (all conversations, fixed UTC minutes: 10:00:00 to 10:00:59); `0` means no limit. A question over it is told in how many seconds to try again; like DAILY_MESSAGE_LIMIT, a question that got no answer does not count.',
  },
  {
    name: 'TZ',
    usedBy: ['reply'],
    default: 'Asia/Shanghai',
    description: 'IANA time zone in which DAILY_MESSAGE_LIMIT resets at midnight.',
  },
  {
    name: 'DINGTALK_CLIENT_ID',
    usedBy: ['reply'],
    description:
      "The robot application's Client ID (formerly AppKey), also its `robotCode`. Turns on DingTalk's server OpenAPI: AI cards (with DINGTALK_CARD_TEMPLATE_ID), delivery after the session webhook expired, pictures. Developer console → your app → Credentials & Basic Info.",
  },
  {
    name: 'DINGTALK_CARD_TEMPLATE_ID',
    usedBy: ['reply'],
    default: '',
    description:
      'The AI card template answers stream into (e.g. `xxxxxxxx-....schema`, from the card platform after you publish it); empty means no cards. Needs DINGTALK_CLIENT_ID.',
  },
  {
    name: 'DINGTALK_CARD_CONTENT_KEY',
    usedBy: ['reply'],
    default: 'content',
    description: "The card template's variable bound to its streaming markdown component.",
  },
  {
    name: 'DINGTALK_API_BASE',
    usedBy: ['reply'],
    default: 'https://api.dingtalk.com',
    description: "Origin of DingTalk's server OpenAPI; change it only for tests and local runs.",
  },
  {
    name: 'CARD_UPDATE_INTERVAL_MS',
    usedBy: ['reply'],
    default: '500',
    description:
      "Minimum gap between two streaming updates of one card. DingTalk's card APIs allow about 20-40 calls a second per app; 500 ms keeps a dozen concurrent answers under that.",
  },
  {
    name: 'DINGTALK_WEBHOOK_HOSTS',
    usedBy: ['reply'],
    default: 'oapi.dingtalk.com',
    description: 'Comma-separated hostnames a session webhook may point to; any other URL is refused and logged.',
  },
  {
    name: 'WEBHOOK_TIMEOUT_SECONDS',
    usedBy: ['reply'],
    default: '10',
    description: 'Timeout of one post to the session webhook.',
  },
  {
    name: 'LOG_LEVEL',
    usedBy: ['conversation', 'reply'],
    default: 'info',
    description: '`debug`, `info`, `warn` or `error`. Message texts are logged only at `debug`.',
  },
];

/** The spec of one variable; throws on a typo so code and list cannot drift. */
export function variable(name: string): VariableSpec {
  const spec = VARIABLES.find((candidate) => candidate.name === name);
  if (spec === undefined) throw new Error(`unknown variable ${name}: add it to shared/config/variables.ts`);
  return spec;
}

/** The README's configuration table, rendered from `VARIABLES`. */
export function renderConfigTable(): string {
  const rows = VARIABLES.map((spec) => {
    const names = [spec.name, ...(spec.aliases ?? [])].map((name) => `\`${name}\``).join(' or ');
    const fallback = spec.required ? '**required**' : spec.default === undefined || spec.default === '' ? '—' : `\`${spec.default}\``;
    const text = spec.where ? `${spec.description} ${spec.where}` : spec.description;
    return `| ${names} | ${fallback} | ${spec.usedBy.join(', ')} | ${text.replace(/\|/g, '\\|')} |`;
  });
  return ['| variable | default | read by | what it is |', '|---|---|---|---|', ...rows].join('\n');
}
