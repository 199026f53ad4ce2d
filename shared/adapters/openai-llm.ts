import OpenAI, { AzureOpenAI } from 'openai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { LlmRefusedError, LlmUnavailableError } from '../errors';
import { RESERVED_LLM_BODY_FIELDS, type LlmConfig } from '../config/load-config';
import type { ChatMessage, LlmAnswer, LlmCallOptions, LlmClient } from '../ports';
import { abortableSleep, type AbortableSleep } from '../util/abortable-sleep';
import { OnTextError, readChatBody, type ChatBody } from './openai-body';
import { hostOf, isVisionRefusal, mapOpenAiError, visionError } from './openai-errors';
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

/** Whether a prompt carries pictures (`image_url` parts). */
export function hasPictures(messages: readonly ChatMessage[]): boolean {
  return messages.some((message) => Array.isArray(message.content) && message.content.some((part) => part.type === 'image_url'));
}

/**
 * Builds the SDK client for the configuration: Azure's when OPENAI_API_VERSION is set, else the plain one.
 * Everything is passed explicitly, so no OPENAI_* or AZURE_* variable of the environment changes it. The SDK
 * does not retry (this adapter does, within the caller's deadline); its own timeout, which stops at the
 * headers, is only a backstop behind the attempt's timer. Azure gets no fixed `deployment`: the SDK then puts
 * each request's `model` in the path (`/deployments/{model}/chat/completions`), so a call's `model` (the
 * VISION_MODEL deployment) picks the deployment.
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
    return new AzureOpenAI({ ...common, baseURL: azureBaseURL(config.baseURL), apiVersion: config.apiVersion });
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
 *
 * Reasoning never reaches the answer nor `onText`: `reasoning_content` deltas are skipped and a leading
 * `<think>…</think>` block is removed (while the model is inside it, `onText` is not called). Content sent as
 * an array of parts is joined.
 *
 * Pictures: user messages may carry `image_url` parts; they are sent as given. `options.model` picks the model
 * of one call (for Azure, the deployment); by default OPENAI_MODEL. When the provider says the model cannot take
 * images, the call fails at once with reason `vision`, naming VISION_MODEL.
 *
 * JSON answers: `options.responseFormat: 'json_object'` sends `response_format: {type: 'json_object'}` (the
 * memory update call); the provider then answers a JSON object, and OpenAI requires the word "json" somewhere
 * in the messages (a 400 otherwise, a refusal like any other).
 *
 * LLM_EXTRA_BODY (`config.extraBody`) is merged into every request body; the fields the adapter sets itself
 * (`RESERVED_LLM_BODY_FIELDS`, and `max_tokens` when `options.maxTokens` is given) win over it.
 */
export function createOpenAiLlm(config: LlmConfig, options: OpenAiLlmOptions = {}): LlmClient {
  const host = hostOf(config.baseURL);
  const sleep = options.sleep ?? abortableSleep;
  const timeoutSeconds = config.timeoutMs / 1000;
  let client: OpenAI | undefined;
  let streamOptionsRefused = false;

  const deadline = (cause?: unknown): LlmUnavailableError =>
    new LlmUnavailableError('deadline', "the run's deadline came before the LLM finished; it was not asked again", undefined, { cause });

  const extraBody: Record<string, unknown> = Object.fromEntries(
    Object.entries(config.extraBody ?? {}).filter(([key]) => !RESERVED_LLM_BODY_FIELDS.includes(key)),
  );

  function request(messages: readonly ChatMessage[], call: LlmCallOptions, streaming: boolean, withUsage: boolean, signal: AbortSignal): Promise<Response> {
    client ??= createSdkClient(config, options);
    const own: ChatCompletionCreateParams = {
      model: call.model ?? config.model,
      messages: [...messages],
      ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
      ...(call.responseFormat === 'json_object' ? { response_format: { type: 'json_object' } } : {}),
      ...(streaming ? { stream: true, ...(withUsage ? { stream_options: { include_usage: true } } : {}) } : {}),
    };
    // The provider's own switches first, so that the adapter's fields always win.
    const body = Object.assign({}, extraBody, own);
    return client.chat.completions.create(body, { signal }).asResponse();
  }

  /** One attempt: the request (again without `stream_options` if the provider refuses it), then its body. */
  async function attempt(messages: readonly ChatMessage[], streaming: boolean, call: LlmCallOptions, timer: AttemptTimer): Promise<ChatBody> {
    const withUsage = streaming && !streamOptionsRefused;
    let response: Response;
    try {
      response = await request(messages, call, streaming, withUsage, timer.signal);
    } catch (error) {
      // A model that cannot take the pictures refused them, not stream_options.
      if (!withUsage || !(error instanceof OpenAI.BadRequestError) || (hasPictures(messages) && isVisionRefusal(error))) throw error;
      streamOptionsRefused = true;
      try {
        response = await request(messages, call, streaming, false, timer.signal);
      } catch (second) {
        // Refused without it too: stream_options was not the problem.
        if (second instanceof OpenAI.BadRequestError) streamOptionsRefused = false;
        throw second;
      }
    }
    return readChatBody(response, { host, onText: call.onText, onProgress: streaming ? () => timer.progress() : undefined });
  }

  /** Our error for whatever ended an attempt: the caller's deadline first, then the attempt's own limit. */
  function classify(error: unknown, timer: AttemptTimer, call: { signal?: AbortSignal; model: string; pictures: boolean }, attempts: number): Error {
    const { signal } = call;
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
    if (call.pictures && isVisionRefusal(error)) {
      return visionError(error, call.model, config.visionModel !== undefined && call.model === config.visionModel ? 'VISION_MODEL' : 'OPENAI_MODEL');
    }
    return mapOpenAiError(error, host, attempts);
  }

  /** The checks on a complete answer. */
  function answerOf(body: ChatBody, model: string): LlmAnswer {
    if (body.finishReason === 'content_filter') throw new LlmRefusedError('filtered', 'the LLM stopped its answer: content_filter');
    const text = body.text.trim();
    if (text === '') {
      const why = body.endedThinking
        ? ` (it stopped while still thinking: its <think> block was never closed${body.finishReason !== undefined ? `, finish_reason ${body.finishReason}` : ''})`
        : '';
      throw new LlmRefusedError('empty', `the LLM returned an empty answer${why}`);
    }
    const answer: LlmAnswer = { text, model: body.model ?? model };
    if (body.promptTokens !== undefined) answer.promptTokens = body.promptTokens;
    if (body.completionTokens !== undefined) answer.completionTokens = body.completionTokens;
    return answer;
  }

  async function call(messages: readonly ChatMessage[], streaming: boolean, options: LlmCallOptions): Promise<LlmAnswer> {
    const { signal } = options;
    if (signal?.aborted) throw deadline(signal.reason);
    const attempts = config.maxRetries + 1;
    const about = { signal, model: options.model ?? config.model, pictures: hasPictures(messages) };
    for (let n = 1; ; n += 1) {
      const timer = new AttemptTimer(config.timeoutMs, signal);
      let failure: Error;
      let headers: Headers | undefined;
      try {
        return answerOf(await attempt(messages, streaming, options, timer), about.model);
      } catch (error) {
        // The receiver's own failure ends the call unchanged: it is not the LLM's, and not retried.
        if (error instanceof OnTextError) throw error.original;
        headers = error instanceof OpenAI.APIError ? error.headers : undefined;
        failure = classify(error, timer, about, n);
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
