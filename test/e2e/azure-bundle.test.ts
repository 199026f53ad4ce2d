/**
 * Azure OpenAI mode through the two bundles `s deploy` ships (dist/), with the variables as s.yaml passes them
 * to the reply function: OPENAI_BASE_URL (the resource endpoint) and OPENAI_API_VERSION in the process
 * environment, where the SDK's `AzureOpenAI` also looks for a base URL. A signed DingTalk callback goes in, FC's
 * API fake runs the reply bundle, and the answer of the Azure fake lands in the webhook sink.
 */
import type { FcApiFake } from '../fakes/fc-api-fake';
import { startOpenAiFake, type OpenAiFake } from '../fakes/openai-fake';
import { startOssFake, type OssFake } from '../fakes/oss-fake';
import { startWebhookSink, type WebhookSink } from '../fakes/webhook-sink';
import { bundleEnv } from '../helpers/bundle-env';
import { captureStdout } from '../helpers/capture-logger';
import { fcContext, STS_CREDENTIALS } from '../helpers/fc-context';
import { dingtalkSample } from '../helpers/fixtures';
import { signedEvent } from '../helpers/signed-request';
import { loadBundle, startFcRunningReply, type BundleHandler } from '../helpers/load-bundle';

const SECRET = 'e2e-azure-app-secret-0123456789';
const API_KEY = 'azure-key-0123456789abcdef';
const BUCKET = 'e2e-azure-history';
const REPLY = 'dingtalk-llm-reply';
const DEPLOYMENT = 'my-gpt4o-deployment';
const API_VERSION = '2024-10-21';

let fc: FcApiFake;
let oss: OssFake;
let azure: OpenAiFake;
let sink: WebhookSink;
let conversation: BundleHandler;
let reply: BundleHandler;
const savedEnv = { ...process.env };

beforeAll(async () => {
  oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  azure = await startOpenAiFake({ apiKey: API_KEY, models: [DEPLOYMENT], azure: { apiVersions: [API_VERSION] } });
  sink = await startWebhookSink();
  fc = await startFcRunningReply(REPLY, () => reply);
  Object.assign(process.env, {
    ...bundleEnv({ appSecret: SECRET, apiKey: API_KEY, replyFunctionName: REPLY, bucket: BUCKET, fcUrl: fc.url, openAiUrl: azure.url, ossUrl: oss.url }),
    // As the deploy sets them for Azure: the resource endpoint, the deployment as the model, and the API version.
    OPENAI_BASE_URL: azure.url,
    OPENAI_MODEL: DEPLOYMENT,
    OPENAI_API_VERSION: API_VERSION,
  });
  conversation = loadBundle('conversation');
  reply = loadBundle('reply');
});

afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([fc.close(), oss.close(), azure.close(), sink.close()]);
});

describe('the deployed bundles in Azure OpenAI mode', () => {
  it('answer through the Azure deployment with OPENAI_BASE_URL and OPENAI_API_VERSION in the environment', async () => {
    azure.respondWith(() => 'Hello from the Azure deployment');
    const body = dingtalkSample('text-1to1');
    Object.assign(body, {
      msgId: `msg-azure-${Date.now()}`,
      createAt: Date.now(),
      sessionWebhookExpiredTime: Date.now() + 60 * 60 * 1000,
      sessionWebhook: sink.webhookUrl('e2e-azure-session'),
      text: { content: 'hi Azure' },
    });
    const { result } = await captureStdout(() => conversation(signedEvent({ secret: SECRET, body }), fcContext({ functionName: 'dingtalk-llm-conversation' })));
    expect(result).toMatchObject({ statusCode: 200 });
    const { lines } = await captureStdout(() => fc.idle());
    const delivered = await sink.waitForMessages(1);
    const text = JSON.stringify(delivered.map((m) => m.body));
    expect(text).toContain('Hello from the Azure deployment');
    expect(JSON.stringify(lines)).not.toMatch(/mutually exclusive/);
    expect(azure.requests.length).toBeGreaterThanOrEqual(1);
    expect(azure.requests[0]).toMatchObject({
      path: `/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`,
      status: 200,
    });
    expect(azure.requests[0]?.headers['api-key']).toBe(API_KEY);
  });
});
