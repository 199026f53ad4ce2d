import OpenAI, { AzureOpenAI } from 'openai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { LlmRefusedError, LlmUnavailableError } from '../errors';
import type { LlmConfig } from '../config/load-config';
import type { ChatMessage, LlmAnswer, LlmCallOptions, LlmClient } from '../ports';
import { abortableSleep, type AbortableSleep } from './abortable-sleep';
import { OnTextError, readChatBody, type ChatBody } from './openai-body';
import { hostOf, mapOpenAiError } from './openai-errors';
import { AttemptTimer, isRetryable, retryDelayMs } from './openai-retry';

export { mapOpenAiError } from './openai-errors';

/** Options of `createOpenAiLlm` beyond the configuration. */
export interface OpenAiLlmOptions {
  /** The HTTP client the SDK uses. Default: the runtime's global fetch (keep-alive by default in Node 20). */
  fetch?: typeof fetch;
  /** Upper bound of answer tokens (`max_tokens`). Default: none, the provider's own limit; `npm run doctor` asks for 1. */
  maxTokens?: number;
  /** The wait between attempts, cut short by the caller's signal. Default: a timer. */
  sleep?: AbortableSleep;
}

/**
 * Azure's base URL for the configured resource endpoint (`https://NAME.openai.azure.com` → `…/openai`), given
 * to the SDK as `baseURL`: `AzureOpenAI` would otherwise read OPENAI_BASE_URL from the environment (s.yaml sets
 * it) and refuse to start with both a base URL and an `endpoint`. A URL already ending in `/openai` is kept.
 */
export function azureBaseURL(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return /\/openai$/.test(trimmed) ? trimmed : `${trimmed}/openai`;
}

/**
 * Builds the SDK client for the configuration: Azure's when OPENAI_API_VERSION is set, else the plain one.
 * Everything is passed explicitly, so no OPENAI_* or AZURE_* variable of the environment changes it. The SDK
 * does not retry (this adapter does, within the caller's deadline); its own timeout, which stops at the
 * headers, is only a backstop behind the attempt's timer.
 */
function createSdkClient(config: LlmConfig, options: OpenAiLlmOptions): OpenAI {
  const common = {
    apiKey: config.apiKey,
    organization: null,
    project: null,
    timeout: config.timeoutMs + 1000,
    maxRetries: 0,
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  };
  if (config.apiVersion !== undefined) {
    return new AzureOpenAI({ ...common, baseURL: azureBaseURL(config.baseURL), apiVersion: config.apiVersion, deployment: config.model });
  }
  return new OpenAI({ ...common, baseURL: config.baseURL });
}

/**
 * An OpenAI-compatible chat model through the official SDK: OpenAI, Azure OpenAI, DashScope, DeepSeek, Zhipu,
 * Gemini's compatible endpoint, Ollama and vLLM differ only in configuration. One client per instance.
 *
 * Time: every attempt is bounded by LLM_TIMEOUT_SECONDS including its body. For `complete` the limit covers
 * the whole attempt; for `stream` it covers the wait for the first delta and each gap between deltas
 * (reasoning deltas count as progress, keep-alive comments do not). Failures a retry may fix (timeouts, broken
 * connections, 429, 5xx, an error event mid-stream) are retried up to LLM_MAX_RETRIES times with backoff,
 * honouring `Retry-After` up to a minute; refusals never are. The caller's `signal` (the run's deadline) aborts
 * the attempt under way and any wait between attempts: the call then fails with reason `deadline`.
 *
 * Streaming: `onText` gets the visible text so far each time it grows. When an attempt fails after some text
 * was shown, the next attempt's text starts again from the beginning: receivers show the latest text whole.
 * What `onText` throws ends the call with that very error (it is not an LLM failure, so it is never retried).
 * A provider that answers a stream request with a plain JSON completion works too (one `onText` at the end).
 * `stream_options.include_usage` is asked for; a provider that refuses it with 400 (older Azure API versions)
 * is asked again without it, and never again by this instance.
 */
export function createOpenAiLlm(config: LlmConfig, options: OpenAiLlmOptions = {}): LlmClient {
  const host = hostOf(config.baseURL);
  const sleep = options.sleep ?? abortableSleep;
  const timeoutSeconds = config.timeoutMs / 1000;
  let client: OpenAI | undefined;
  let streamOptionsRefused = false;

  const deadline = (cause?: unknown): LlmUnavailableError =>
    new LlmUnavailableError('deadline', "the run's deadline came before the LLM finished; it was not asked again", undefined, { cause });

  function request(messages: readonly ChatMessage[], streaming: boolean, withUsage: boolean, signal: AbortSignal): Promise<Response> {
    client ??= createSdkClient(config, options);
    const body: ChatCompletionCreateParams = {
      model: config.model,
      messages: [...messages],
      ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
      ...(streaming ? { stream: true, ...(withUsage ? { stream_options: { include_usage: true } } : {}) } : {}),
    };
    return client.chat.completions.create(body, { signal }).asResponse();
  }

  /** One attempt: the request (again without `stream_options` if the provider refuses it), then its body. */
  async function attempt(messages: readonly ChatMessage[], streaming: boolean, call: LlmCallOptions, timer: AttemptTimer): Promise<ChatBody> {
    const withUsage = streaming && !streamOptionsRefused;
    let response: Response;
    try {
      response = await request(messages, streaming, withUsage, timer.signal);
    } catch (error) {
      if (!withUsage || !(error instanceof OpenAI.BadRequestError)) throw error;
      streamOptionsRefused = true;
      try {
        response = await request(messages, streaming, false, timer.signal);
      } catch (second) {
        // Refused without it too: stream_options was not the problem.
        if (second instanceof OpenAI.BadRequestError) streamOptionsRefused = false;
        throw second;
      }
    }
    return readChatBody(response, { host, onText: call.onText, onProgress: streaming ? () => timer.progress() : undefined });
  }

  /** Our error for whatever ended an attempt: the caller's deadline first, then the attempt's own limit. */
  function classify(error: unknown, timer: AttemptTimer, signal: AbortSignal | undefined, attempts: number): Error {
    if (signal?.aborted) return deadline(error);
    if (timer.timedOut) {
      const what = attempts > 1 ? ` (${attempts} attempts)` : '';
      return new LlmUnavailableError(
        'timeout',
        `the LLM at ${host} sent nothing for LLM_TIMEOUT_SECONDS (${timeoutSeconds} s)${what}`,
        undefined,
        { cause: error },
      );
    }
    if (error instanceof LlmRefusedError || error instanceof LlmUnavailableError) return error;
    return mapOpenAiError(error, host, attempts);
  }

  /** The checks on a complete answer. */
  function answerOf(body: ChatBody): LlmAnswer {
    if (body.finishReason === 'content_filter') throw new LlmRefusedError('filtered', 'the LLM stopped its answer: content_filter');
    const text = body.text.trim();
    if (text === '') throw new LlmRefusedError('empty', 'the LLM returned an empty answer');
    const answer: LlmAnswer = { text, model: body.model ?? config.model };
    if (body.promptTokens !== undefined) answer.promptTokens = body.promptTokens;
    if (body.completionTokens !== undefined) answer.completionTokens = body.completionTokens;
    return answer;
  }

  async function call(messages: readonly ChatMessage[], streaming: boolean, options: LlmCallOptions): Promise<LlmAnswer> {
    const { signal } = options;
    if (signal?.aborted) throw deadline(signal.reason);
    const attempts = config.maxRetries + 1;
    for (let n = 1; ; n += 1) {
      const timer = new AttemptTimer(config.timeoutMs, signal);
      let failure: Error;
      let headers: Headers | undefined;
      try {
        return answerOf(await attempt(messages, streaming, options, timer));
      } catch (error) {
        // The receiver's own failure ends the call unchanged: it is not the LLM's, and not retried.
        if (error instanceof OnTextError) throw error.original;
        headers = error instanceof OpenAI.APIError ? error.headers : undefined;
        failure = classify(error, timer, signal, n);
      } finally {
        timer.dispose();
      }
      if (!isRetryable(failure) || n >= attempts) throw failure;
      const wait = retryDelayMs(n - 1, headers);
      if (wait === undefined) throw failure;
      try {
        await sleep(wait, signal);
      } catch (error) {
        throw deadline(error);
      }
    }
  }

  return {
    complete: (messages, callOptions = {}) => call(messages, false, callOptions),
    stream: (messages, callOptions) => call(messages, true, callOptions),
  };
}
