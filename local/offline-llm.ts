/**
 * The offline responder of `npm start`: an OpenAI-compatible chat completions endpoint on loopback that
 * answers deterministically from the prompt it was given. It lets anyone see the bot work (history,
 * `\clear`, groups) before they have an API key, and every answer says it is not an LLM. The reply
 * bundle reaches it through OPENAI_BASE_URL like any provider, so no second code path exists.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, readBody, sendJson } from './http-util';

/** The model name the responder reports. */
export const OFFLINE_MODEL = 'offline-responder';

/** The first line of every offline answer, so nobody mistakes it for a model's. */
export const OFFLINE_MARK = '*[offline responder — not an LLM; set OPENAI_API_KEY for real answers]*';

/** A chat message as the responder reads it. */
export interface OfflineMessage {
  role: string;
  content: string;
}

/** Longest quote of a message in an answer, in characters. */
const QUOTE_LIMIT = 200;

const quote = (text: string): string => {
  const chars = Array.from(text.trim().replace(/\s+/g, ' '));
  return `"${chars.length > QUOTE_LIMIT ? `${chars.slice(0, QUOTE_LIMIT).join('')}…` : chars.join('')}"`;
};

/**
 * The answer to a prompt: how many earlier exchanges it carried (and what the user said in them),
 * whether a system prompt came with it, and the question echoed back.
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
  for (const message of earlier) lines.push(`- ${quote(message.content)}`);
  if (messages.some((message) => message.role === 'system')) lines.push('', 'A system prompt came with your question.');
  lines.push('', `You asked: ${quote(question)}`);
  return lines.join('\n');
}

function parseMessages(value: unknown): OfflineMessage[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const messages: OfflineMessage[] = [];
  for (const item of value) {
    const record = item as Record<string, unknown> | null;
    if (typeof record !== 'object' || record === null || typeof record.role !== 'string' || typeof record.content !== 'string') return undefined;
    messages.push({ role: record.role, content: record.content });
  }
  return messages;
}

const error = (message: string, type: string, code: string | null): unknown => ({ error: { message, type, param: null, code } });

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
 * like a provider, answers `POST /v1/chat/completions` (not streamed) and `GET /v1/models`.
 */
export async function startOfflineLlm(options: { apiKey?: string } = {}): Promise<OfflineLlm> {
  const apiKey = options.apiKey ?? `offline-${randomBytes(12).toString('hex')}`;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req, 4 * 1024 * 1024);
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
    if (messages === undefined) return sendJson(res, 400, error('"messages" must be a non-empty array of {role, content}.', 'invalid_request_error', null));
    if (body.stream === true) return sendJson(res, 400, error('The offline responder does not stream.', 'invalid_request_error', null));
    const text = offlineAnswer(messages);
    const promptTokens = messages.reduce((sum, message) => sum + Math.ceil(message.content.length / 4), 0);
    const completionTokens = Math.ceil(text.length / 4);
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
