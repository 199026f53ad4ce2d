import type { CloudCredentials } from '../../shared/fc/context';

/** Temporary credentials shaped like the STS keys FC hands a function (the id starts with `STS.`). */
export const STS_CREDENTIALS: Required<CloudCredentials> = {
  accessKeyId: 'STS.NTestAccessKeyId0000000',
  accessKeySecret: 'TestAccessKeySecret0000000000000000000000',
  securityToken: 'CAIS-test-security-token-0000000000000000000000000000',
};

/** A canned FC 3.0 handler context, as the runtime passes it. */
export function fcContext(overrides: Partial<{ requestId: string; accountId: string; region: string; functionName: string; credentials: CloudCredentials }> = {}): Record<string, unknown> {
  return {
    requestId: overrides.requestId ?? 'req-00000000-test',
    region: overrides.region ?? 'cn-hangzhou',
    accountId: overrides.accountId ?? '1234567890123456',
    credentials: overrides.credentials ?? STS_CREDENTIALS,
    function: { name: overrides.functionName ?? 'dingtalk-llm-test', handler: 'index.handler', memory: 128, timeout: 10 },
    service: {},
    tracing: {},
    logger: console,
  };
}
