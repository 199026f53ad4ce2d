import OpenAI from 'openai';
import { connectionError, connectionErrorCode, hostOf, mapOpenAiError } from '../../../shared/adapters/openai-errors';
import { LlmRefusedError, LlmUnavailableError } from '../../../shared/errors';

/** The shape fetch (undici) throws: a TypeError whose cause carries the system code. */
function fetchFailure(cause: unknown): Error {
  return new TypeError('fetch failed', { cause });
}

const systemError = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });

describe('openai-errors', () => {
  it('names only the host and port of a base URL, never its path, query or credentials', () => {
    expect(hostOf('https://user:pass@dashscope.aliyuncs.com:8443/compatible-mode/v1?key=sk-secret')).toBe('dashscope.aliyuncs.com:8443');
    expect(hostOf('not a url')).toBe('unknown host');
  });

  it('finds the system code along the cause chain, also inside an AggregateError of several addresses', () => {
    expect(connectionErrorCode(fetchFailure(systemError('ENOTFOUND')))).toBe('ENOTFOUND');
    const aggregate = Object.assign(new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], ''), {});
    expect(connectionErrorCode(fetchFailure(aggregate))).toBe('ECONNREFUSED');
    expect(connectionErrorCode(new Error('no code'))).toBeUndefined();
  });

  it.each(['CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ENOTFOUND', 'ECONNREFUSED'])(
    '%s is an endpoint refusal: a retry cannot fix it',
    (code) => {
      const error = connectionError(fetchFailure(systemError(code)), 'llm.example.com');
      expect(error).toBeInstanceOf(LlmRefusedError);
      expect(error).toMatchObject({ reason: 'endpoint', message: expect.stringContaining(`${code} from llm.example.com`) });
    },
  );

  it.each(['ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET'])('%s is a retryable network failure naming the code', (code) => {
    const error = connectionError(fetchFailure(systemError(code)), 'llm.example.com', 3);
    expect(error).toBeInstanceOf(LlmUnavailableError);
    expect(error.message).toBe(`the LLM at llm.example.com could not be reached or broke off (${code}) after 3 attempts; check the network and OPENAI_BASE_URL`);
  });

  it("maps the SDK's connection error through its cause", () => {
    const sdkError = new OpenAI.APIConnectionError({ cause: fetchFailure(systemError('ENOTFOUND')) });
    expect(mapOpenAiError(sdkError, 'api.deepseek.com')).toMatchObject({ reason: 'endpoint' });
  });
});
