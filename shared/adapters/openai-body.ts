import { LlmUnavailableError } from '../errors';
import { incompatibleError } from './openai-errors';
import { visibleAnswer } from './openai-think';
import { isRecord } from '../util/is-record';

/** What one chat completion answered, streamed or not, before the checks on its content. */
export interface ChatBody {
  /**
   * The assistant's text, untrimmed; reasoning is never part of it: neither `reasoning_content` nor a leading
   * `<think>…</think>` block (see `openai-think.ts`).
   */
  text: string;
  /** True when the answer ended inside an unclosed leading `<think>` block (its text is then empty). */
  endedThinking?: boolean;
  model?: string;
  finishReason?: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** Options of {@link readChatBody}. */
export interface ReadChatBodyOptions {
  /** The host, named when the body is not an OpenAI-compatible API's. */
  host: string;
  /**
   * Called with the visible text so far (leading blanks and reasoning dropped) each time it changes; not called
   * while the model is still inside a leading `<think>` block.
   */
  onText?: (textSoFar: string) => void;
  /** Called when the model makes progress: a content or reasoning delta. Keep-alive comments are not progress. */
  onProgress?: () => void;
}

/**
 * Wraps what the caller's `onText` threw, so that it ends the call as it is instead of passing for an LLM
 * failure (and being retried). `original` is the thrown value.
 */
export class OnTextError extends Error {
  constructor(readonly original: unknown) {
    super('onText threw');
    this.name = 'OnTextError';
  }
}

/** A JSON body larger than this is not a chat completion. */
const MAX_JSON_CHARS = 16 * 1024 * 1024;

/** The first characters of an event stream's first line: a field name and a colon, or a comment. */
const SSE_START = /^(?::|(?:data|event|id|retry)\s*:)/;


/** Content parts that carry reasoning rather than the answer (Mistral's `thinking`, others' `reasoning`). */
const REASONING_PARTS = new Set(['thinking', 'reasoning', 'reasoning_content']);

/**
 * The text of a message's (or delta's) `content`: a string, or an array of parts as some compatible servers send
 * (`[{type: 'text', text}]`, strings), joined. Reasoning parts and parts without text are left out.
 */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content as unknown[]) {
    if (typeof part === 'string') text += part;
    else if (isRecord(part) && typeof part.text === 'string' && !(typeof part.type === 'string' && REASONING_PARTS.has(part.type))) text += part.text;
  }
  return text;
}

/** The media type of the response, for messages (`text/html`), or `no content type`. */
function mediaType(response: Response): string {
  return response.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type';
}

/** Accumulates the answer from chunks or a whole completion and reports its growth. */
class AnswerBuilder {
  readonly body: ChatBody = { text: '' };
  /** Every content character so far, reasoning in `<think>` tags included. */
  private raw = '';
  private shown = '';

  constructor(private readonly options: ReadChatBodyOptions) {}

  /** Takes one `chat.completion.chunk` (or the `choices[0]` of a whole completion when `whole`). */
  take(data: Record<string, unknown>, whole: boolean): void {
    if (typeof data.model === 'string' && data.model !== '') this.body.model = data.model;
    const usage = data.usage;
    if (isRecord(usage)) {
      if (typeof usage.prompt_tokens === 'number') this.body.promptTokens = usage.prompt_tokens;
      if (typeof usage.completion_tokens === 'number') this.body.completionTokens = usage.completion_tokens;
    }
    const choices = data.choices;
    const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
    if (!isRecord(choice)) return;
    if (typeof choice.finish_reason === 'string') this.body.finishReason = choice.finish_reason;
    const part = whole ? choice.message : choice.delta;
    if (!isRecord(part)) return;
    const reasoning = part.reasoning_content ?? part.reasoning;
    const content = contentText(part.content);
    const reasoningParts = Array.isArray(part.content) && part.content.length > 0;
    if (content !== '' || reasoningParts || (typeof reasoning === 'string' && reasoning !== '')) this.options.onProgress?.();
    if (content === '') return;
    this.raw += content;
    const { text, thinking } = visibleAnswer(this.raw);
    this.body.text = text;
    if (thinking) this.body.endedThinking = true;
    else delete this.body.endedThinking;
    const visible = text.trimStart();
    if (visible !== '' && visible !== this.shown) {
      this.shown = visible;
      try {
        this.options.onText?.(visible);
      } catch (error) {
        throw new OnTextError(error);
      }
    }
  }
}

/** Reads `response.body` as text, decoded as UTF-8 across chunk boundaries. */
async function* textChunks(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        const rest = decoder.decode();
        if (rest !== '') yield rest;
        return;
      }
      const text = decoder.decode(value, { stream: true });
      if (text !== '') yield text;
    }
  } finally {
    // Stopped early ([DONE] seen, or an error): release the connection instead of waiting for its end.
    if (!finished) reader.cancel().catch(() => undefined);
  }
}

/** Parses server-sent events: `data:` lines joined per event, comments and other fields ignored. */
async function readEventStream(
  first: string,
  chunks: AsyncGenerator<string>,
  builder: AnswerBuilder,
  host: string,
): Promise<void> {
  let pending = first;
  let data: string[] = [];
  let event = '';
  /** Handles one complete event; true when the stream is done. */
  const dispatch = (): boolean => {
    const payload = data.join('\n');
    const name = event;
    data = [];
    event = '';
    if (payload.trim() === '[DONE]') return true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      throw incompatibleError(host, 'an event stream whose events are not JSON');
    }
    if (name === 'error' || (isRecord(parsed) && parsed.error !== undefined && parsed.error !== null)) {
      const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
      const code = typeof error.code === 'string' ? error.code : typeof error.type === 'string' ? error.type : 'no code';
      throw new LlmUnavailableError('server', `the LLM failed in the middle of its answer (${code})`);
    }
    if (!isRecord(parsed)) throw incompatibleError(host, 'an event stream whose events are not chat completion chunks');
    builder.take(parsed, false);
    return false;
  };
  /** Handles one line; true when the stream is done. */
  const handleLine = (line: string): boolean => {
    if (line === '') return data.length > 0 && dispatch();
    if (line.startsWith(':')) return false;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    return false;
  };
  /** Handles every complete line in `pending` (and the unterminated rest when `final`); true when done. */
  const drain = (final: boolean): boolean => {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(pending);
      let line: string;
      if (match) {
        // A \r at the very end may be the first half of \r\n: wait for the next chunk.
        if (match[0] === '\r' && match.index === pending.length - 1 && !final) return false;
        line = pending.slice(0, match.index);
        pending = pending.slice(match.index + match[0].length);
      } else if (final && pending !== '') {
        line = pending;
        pending = '';
      } else {
        return false;
      }
      if (handleLine(line)) return true;
    }
  };
  if (drain(false)) return;
  for await (const text of chunks) {
    pending += text;
    if (drain(false)) return;
  }
  if (drain(true)) return;
  // A last event without its blank line still counts.
  if (data.length > 0) dispatch();
}

/**
 * Reads a chat completion answer, whatever the provider chose to send: server-sent `chat.completion.chunk`
 * events (streaming) or one JSON `chat.completion` (a provider that does not stream; `onText` then sees the
 * whole text at once). Leading blank lines are skipped (DeepSeek sends them while a request waits). Anything
 * else (an HTML page, invalid JSON, JSON that is not a completion, an empty body) is `incompatible`, naming
 * the host. Reasoning deltas (`reasoning_content`) count as progress but never enter the text, nor does a
 * leading `<think>…</think>` block in the content. Content sent as an array of parts is joined. A
 * `data: {"error": ...}` event is a retryable `server` failure. Read errors (a cut connection, an abort)
 * propagate unchanged.
 */
export async function readChatBody(response: Response, options: ReadChatBodyOptions): Promise<ChatBody> {
  const builder = new AnswerBuilder(options);
  const chunks = textChunks(response);
  let head = '';
  try {
    // Enough of the body to tell what it is: a first line, or a few characters after the leading blanks.
    for (;;) {
      const start = head.trimStart();
      if (start !== '' && (start.length >= 8 || /[\r\n]/.test(start))) break;
      const next = await chunks.next();
      if (next.done) break;
      head += next.value;
    }
    const start = head.trimStart();
    if (start === '') throw incompatibleError(options.host, `an empty body (${mediaType(response)})`);
    if (SSE_START.test(start)) {
      await readEventStream(head, chunks, builder, options.host);
      return builder.body;
    }
    if (start.startsWith('{')) {
      let json = head;
      for await (const text of chunks) {
        json += text;
        if (json.length > MAX_JSON_CHARS) throw incompatibleError(options.host, 'a JSON body too large for a chat completion');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(json);
      } catch {
        throw incompatibleError(options.host, `invalid JSON (${mediaType(response)})`);
      }
      if (!isRecord(parsed) || !Array.isArray(parsed.choices)) {
        throw incompatibleError(options.host, 'JSON that is not a chat completion');
      }
      builder.take(parsed, true);
      return builder.body;
    }
    const what = start.startsWith('<') ? 'an HTML page' : 'a body that is neither JSON nor an event stream';
    throw incompatibleError(options.host, `${what} (${mediaType(response)})`);
  } finally {
    await chunks.return(undefined);
  }
}
