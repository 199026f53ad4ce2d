import OpenAI, { AzureOpenAI } from 'openai';
import { LlmRefusedError, LlmUnavailableError } from '../errors';
import type { LlmConfig } from '../config/load-config';
import type { LlmClient } from '../ports';

/** Options of `createOpenAiLlm` beyond the configuration. */
export interface OpenAiLlmOptions {
  /** The HTTP client the SDK uses. Default: the runtime's global fetch (keep-alive by default in Node 20). */
  fetch?: typeof fetch;
  /** Upper bound of answer tokens (`max_tokens`). Default: none, the provider's own limit; `npm run doctor` asks for 1. */
  maxTokens?: number;
}

/** Builds the SDK client for the configuration: Azure's when OPENAI_API_VERSION is set, else the plain one. */
function createSdkClient(config: LlmConfig, options: OpenAiLlmOptions): OpenAI {
  const common = {
    apiKey: config.apiKey,
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  };
  if (config.apiVersion !== undefined) {
    return new AzureOpenAI({ ...common, endpoint: config.baseURL, apiVersion: config.apiVersion, deployment: config.model });
  }
  return new OpenAI({ ...common, baseURL: config.baseURL });
}

/** Maps the SDK's errors to ours. The provider's message and body stay out: they may echo the prompt. */
export function mapOpenAiError(error: unknown): Error {
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmUnavailableError('timeout', 'the LLM did not answer within LLM_TIMEOUT_SECONDS (after retries)', undefined, { cause: error });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new LlmUnavailableError('network', 'the LLM could not be reached: check OPENAI_BASE_URL and the network', undefined, { cause: error });
  }
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    const status = error.status;
    const code = typeof error.code === 'string' ? ` (${error.code})` : '';
    if (status === 401 || status === 403) {
      return new LlmRefusedError('auth', `the LLM refused the API key: ${status}${code}; check OPENAI_API_KEY`, status, { cause: error });
    }
    if (status === 404) {
      return new LlmRefusedError('model', `the LLM does not know the model or path: 404${code}; check OPENAI_MODEL and OPENAI_BASE_URL`, status, { cause: error });
    }
    if (status === 429) return new LlmUnavailableError('rate-limit', `the LLM is rate-limiting: 429${code}`, status, { cause: error });
    if (status >= 500) return new LlmUnavailableError('server', `the LLM failed: ${status}${code}`, status, { cause: error });
    if (error.code === 'content_filter') {
      return new LlmRefusedError('filtered', 'the LLM provider filtered the prompt', status, { cause: error });
    }
    return new LlmRefusedError('request', `the LLM rejected the request: ${status}${code}`, status, { cause: error });
  }
  return new LlmUnavailableError('network', 'the LLM call failed unexpectedly', undefined, { cause: error });
}

/**
 * An OpenAI-compatible chat model through the official SDK: OpenAI, Azure OpenAI, DashScope, DeepSeek,
 * Zhipu, Gemini's compatible endpoint, Ollama and vLLM differ only in configuration. The SDK's own
 * bounded retries (LLM_MAX_RETRIES) handle timeouts, 429 and 5xx; one client per instance.
 */
export function createOpenAiLlm(config: LlmConfig, options: OpenAiLlmOptions = {}): LlmClient {
  let client: OpenAI | undefined;
  return {
    async complete(messages) {
      client ??= createSdkClient(config, options);
      let completion;
      try {
        completion = await client.chat.completions.create({
          model: config.model,
          messages: [...messages],
          ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
        });
      } catch (error) {
        throw mapOpenAiError(error);
      }
      const choice = completion.choices?.[0];
      if (choice?.finish_reason === 'content_filter') {
        throw new LlmRefusedError('filtered', 'the LLM stopped its answer: content_filter');
      }
      const text = choice?.message?.content?.trim() ?? '';
      if (text === '') throw new LlmRefusedError('empty', 'the LLM returned an empty answer');
      const answer = { text, model: completion.model ?? config.model };
      const usage = completion.usage;
      return usage
        ? { ...answer, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens }
        : answer;
    },
  };
}
