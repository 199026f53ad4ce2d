/** Where the loopback fakes of one end-to-end run listen, and the secrets it configures. */
export interface BundleEnvOptions {
  appSecret: string;
  apiKey: string;
  replyFunctionName: string;
  bucket: string;
  fcUrl: string;
  openAiUrl: string;
  ossUrl: string;
}

/**
 * The documented variables that point both function bundles at the loopback fakes, as a deploy
 * points them at FC, OSS, the LLM and DingTalk.
 */
export function bundleEnv(options: BundleEnvOptions): Record<string, string> {
  return {
    DINGTALK_APP_SECRET: options.appSecret,
    REPLY_FUNCTION_NAME: options.replyFunctionName,
    FC_ENDPOINT: options.fcUrl,
    OPENAI_API_KEY: options.apiKey,
    OPENAI_BASE_URL: `${options.openAiUrl}/v1`,
    OPENAI_MODEL: 'gpt-4o-mini',
    OSS_BUCKET: options.bucket,
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: options.ossUrl,
    DINGTALK_WEBHOOK_HOSTS: '127.0.0.1',
  };
}
