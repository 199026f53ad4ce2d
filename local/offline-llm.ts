/**
 * The offline responder of `npm start`: an OpenAI-compatible chat completions endpoint on loopback that
 * answers deterministically from the prompt it was given. It lets anyone see the bot work (history,
 * `\clear`, groups, pictures) before they have an API key, and every answer says it is not an LLM. The reply
 * bundle reaches it through OPENAI_BASE_URL like any provider, so no second code path exists.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MEMORY_INSTRUCTION } from '../shared/core/prompt';
import { listen, readBody, sendJson } from './http-util';
import { isRecord } from '../shared/util/is-record';

/** The model name the responder reports. */
export const OFFLINE_MODEL = 'offline-responder';

/** The first line of every offline answer, so nobody mistakes it for a model's. */
export const OFFLINE_MARK = '*[offline responder — not an LLM; set OPENAI_API_KEY for real answers]*';

/** A picture as the responder saw it: its media type and size (a remote URL has neither). */
export interface OfflinePicture {
  mediaType?: string;
  bytes?: number;
}

/** A chat message as the responder reads it: its text, and the pictures of a content given as parts. */
export interface OfflineMessage {
  role: string;
  content: string;
  pictures?: OfflinePicture[];
}

/** Longest quote of a message in an answer, in characters. */
const QUOTE_LIMIT = 200;

const quote = (text: string): string => {
  const chars = Array.from(text.trim().replace(/\s+/g, ' '));
  return `"${chars.length > QUOTE_LIMIT ? `${chars.slice(0, QUOTE_LIMIT).join('')}…` : chars.join('')}"`;
};

/** `1.5 KB`, `2.3 MB`: a size for people. */
function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** `1 picture (image/png, 2.3 KB)`. */
function describePictures(pictures: readonly OfflinePicture[]): string {
  const each = pictures.map((picture) =>
    picture.bytes === undefined ? 'a remote URL' : `${picture.mediaType ?? 'unknown type'}, ${size(picture.bytes)}`,
  );
  return `${pictures.length} picture${pictures.length === 1 ? '' : 's'} (${each.join('; ')})`;
}

/**
 * The answer to a prompt: how many earlier exchanges it carried (and what the user said in them),
 * whether a system prompt came with it, the question echoed back, and the pictures that came with the
 * question or an earlier message (how many, their media types and sizes; it cannot look at them).
 */
export function offlineAnswer(messages: readonly OfflineMessage[]): string {
  const lastUser = messages.map((message) => message.role).lastIndexOf('user');
  const question = lastUser >= 0 ? (messages[lastUser]?.content ?? '') : '';
  const earlier = messages.slice(0, Math.max(lastUser, 0)).filter((message) => message.role === 'user');
  const lines = [OFFLINE_MARK, ''];
  lines.push(
    earlier.length === 0
      ? 'I saw no earlier messages from you in this conversation.'
      : `I saw ${earlier.length} earlier exchange${earlier.length === 1 ? '' : 's'} in this conversation. You said before:`,
  );
  for (const message of earlier) {
    const pictures = message.pictures?.length ? ` with ${describePictures(message.pictures)}` : '';
    lines.push(`- ${quote(message.content)}${pictures}`);
  }
  const system = messages.find((message) => message.role === 'system')?.content;
  if (system !== undefined) {
    lines.push('', 'A system prompt came with your question.');
    const remembered = system.includes(MEMORY_INSTRUCTION) ? system.slice(system.indexOf(MEMORY_INSTRUCTION) + MEMORY_INSTRUCTION.length).split('\n').filter((line) => line.startsWith('- ')) : [];
    if (remembered.length > 0) lines.push(`It told me what I remember about you (${remembered.length}):`, ...remembered);
  }
  lines.push('', `You asked: ${quote(question)}`);
  const pictures = lastUser >= 0 ? messages[lastUser]?.pictures : undefined;
  if (pictures?.length) {
    lines.push('', `You sent ${describePictures(pictures)} with your question. I cannot look at pictures: a vision model (VISION_MODEL) can.`);
  }
  return lines.join('\n');
}

/** Sentences people use to say something about themselves, in English and Chinese. */
const FACT_PATTERNS: readonly RegExp[] = [
  /\b(?:my name is|i am|i'm|i work|i live|i prefer|call me|our release|my team|my project)\b[^.!?\n"]*/giu,
  /(?:我叫|我是|我在|我负责|我喜欢|请用|我们的)[^。！？\n"]*/gu,
  /(?:remember that|记住)[^.!?。！？\n"]*/giu,
];

/** The strings of the first JSON array of strings in `text` (the current memory an update prompt shows). */
function firstStringArray(text: string): string[] {
  for (const match of text.matchAll(/\[[^[\]]*\]/gu)) {
    try {
      const value = JSON.parse(match[0]) as unknown;
      if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
    } catch {
      // not JSON: try the next bracket
    }
  }
  return [];
}

/**
 * The answer to a JSON-object request (a memory update): `{"memories": [...]}`, the list the prompt shows
 * plus the sentences in it where someone says something about themselves. Deterministic, like the rest of
 * the responder, so local mode shows memory working without a key.
 */
export function offlineMemoryUpdate(messages: readonly OfflineMessage[]): string {
  const text = messages.map((message) => message.content).join('\n');
  const facts = [...firstStringArray(text)];
  for (const pattern of FACT_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const fact = match[0].trim();
      if (fact.length > 3 && !facts.includes(fact)) facts.push(fact);
    }
  }
  return JSON.stringify({ memories: facts.slice(-30) });
}


/** A content given as parts: its text parts joined, and its pictures; undefined when a part is malformed. */
function parseParts(parts: readonly unknown[]): { content: string; pictures: OfflinePicture[] } | undefined {
  const texts: string[] = [];
  const pictures: OfflinePicture[] = [];
  for (const part of parts) {
    if (!isRecord(part)) return undefined;
    if (part.type === 'text' && typeof part.text === 'string') {
      texts.push(part.text);
      continue;
    }
    const url = part.type === 'image_url' && isRecord(part.image_url) ? part.image_url.url : undefined;
    if (typeof url !== 'string') return undefined;
    const data = /^data:([^;,]+);base64,/.exec(url);
    if (data) {
      // The decoded size, from the base64 length and its padding, without decoding it.
      const base64 = url.slice(data[0].length);
      const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
      pictures.push({ mediaType: data[1], bytes: Math.floor((base64.length * 3) / 4) - padding });
    } else if (/^https?:\/\//.test(url)) {
      pictures.push({});
    } else {
      return undefined;
    }
  }
  return { content: texts.join('\n'), pictures };
}

function parseMessages(value: unknown): OfflineMessage[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const messages: OfflineMessage[] = [];
  for (const item of value as unknown[]) {
    if (!isRecord(item) || typeof item.role !== 'string') return undefined;
    if (typeof item.content === 'string') {
      messages.push({ role: item.role, content: item.content });
      continue;
    }
    const parts = Array.isArray(item.content) ? parseParts(item.content as unknown[]) : undefined;
    if (parts === undefined) return undefined;
    messages.push(parts.pictures.length > 0 ? { role: item.role, ...parts } : { role: item.role, content: parts.content });
  }
  return messages;
}

const error = (message: string, type: string, code: string | null): unknown => ({ error: { message, type, param: null, code } });

/** Characters per streamed delta, and the pause between them: enough to see an AI card grow locally. */
const STREAM_CHUNK_CHARS = 12;
const STREAM_PAUSE_MS = 25;

/** Writes `text` as OpenAI's server-sent events, a few characters at a time, then the usage and `[DONE]`. */
async function streamAnswer(res: ServerResponse, text: string, usage: Record<string, number> | undefined): Promise<void> {
  const id = `chatcmpl-offline-${randomBytes(6).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const event = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: OFFLINE_MODEL, choices, ...extra })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chars = Array.from(text);
  for (let start = 0; start < chars.length; start += STREAM_CHUNK_CHARS) {
    if (res.destroyed) return;
    res.write(event([{ index: 0, delta: { content: chars.slice(start, start + STREAM_CHUNK_CHARS).join('') }, finish_reason: null }]));
    await new Promise((resolve) => setTimeout(resolve, STREAM_PAUSE_MS));
  }
  res.write(event([{ index: 0, delta: {}, finish_reason: 'stop' }]));
  if (usage !== undefined) res.write(event([], { usage }));
  res.end('data: [DONE]\n\n');
}

/** A running offline responder. */
export interface OfflineLlm {
  /** `http://127.0.0.1:PORT/v1`: the OPENAI_BASE_URL to use. */
  readonly baseURL: string;
  /** The only key it accepts. */
  readonly apiKey: string;
  close(): Promise<void>;
}

/**
 * Starts the responder on 127.0.0.1 (a free port). It checks the bearer key (default: a random one)
 * like a provider, answers `POST /v1/chat/completions` (whole, or streamed as server-sent events with
 * `stream: true`; a JSON object for `response_format: json_object`) and `GET /v1/models`.
 */
export async function startOfflineLlm(options: { apiKey?: string } = {}): Promise<OfflineLlm> {
  const apiKey = options.apiKey ?? `offline-${randomBytes(12).toString('hex')}`;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Room for a message's pictures (MAX_PICTURE_BYTES) and a resent set as base64 (4/3 of the bytes), with margin.
    const raw = await readBody(req, 40 * 1024 * 1024);
    const path = (req.url ?? '/').split('?')[0];
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendJson(res, 401, error('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: OFFLINE_MODEL, object: 'model', created: 0, owned_by: 'local' }] });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return sendJson(res, 404, error(`Unknown request URL: ${req.method ?? ''} ${path ?? ''}`, 'invalid_request_error', 'unknown_url'));
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, error('The body is not valid JSON.', 'invalid_request_error', null));
    }
    const messages = parseMessages(body.messages);
    if (messages === undefined) {
      return sendJson(res, 400, error('"messages" must be a non-empty array of {role, content}: a string, or text and image_url parts.', 'invalid_request_error', null));
    }
    const wantsJson = isRecord(body.response_format) && body.response_format.type === 'json_object';
    const text = wantsJson ? offlineMemoryUpdate(messages) : offlineAnswer(messages);
    const promptTokens = messages.reduce((sum, message) => sum + Math.ceil(message.content.length / 4) + 85 * (message.pictures?.length ?? 0), 0);
    const completionTokens = Math.ceil(text.length / 4);
    if (body.stream === true) {
      const usage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
      return streamAnswer(res, text, usage ? { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } : undefined);
    }
    sendJson(res, 200, {
      id: `chatcmpl-offline-${randomBytes(6).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: OFFLINE_MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    });
  };
  const listener = await listen(handle);
  return { baseURL: `${listener.url}/v1`, apiKey, close: () => listener.close() };
}
