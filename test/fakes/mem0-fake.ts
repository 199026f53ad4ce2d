/**
 * A local fake of the Mem0 platform's REST API (https://api.mem0.ai), the endpoints the bot's Mem0 memory
 * calls, checked as the platform checks them and answered in its shapes:
 *
 * - `POST /v3/memories/add/` `{messages, user_id, infer?, metadata?}` → `{message, status: "PENDING", event_id}`
 *   (the platform queues the work; the fake applies it at once);
 * - `POST /v3/memories/search/` `{query, filters: {user_id}, top_k?}` → `{results: [{id, memory, score, ...}]}`;
 * - `POST /v3/memories/?page=&page_size=` `{filters: {user_id}}` → `{count, next, previous, results}`;
 * - `DELETE /v1/memories/{id}/` → `{message}`; `DELETE /v1/memories/?user_id=…` → `{message}`.
 *
 * Every request needs `Authorization: Token <key>` (401 otherwise), paths end with a slash as Django's do,
 * entity ids go in `filters` for search and list (a top-level `user_id` is 400, as the v3 API refuses it), and
 * an entity id is never blank. Memories are kept per `user_id`. With `infer` (the default) the fake "extracts"
 * one memory per user message, the sentence as said; with `infer: false` it stores each message as given.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constantTimeEqual, flatHeaders, headerValue, listenOnLoopback, parseJsonBody, readBody, sendJson } from './http-helpers';
import { isRecord } from '../../shared/util/is-record';

/** Options of {@link startMem0Fake}. */
export interface Mem0FakeOptions {
  /** The only key accepted in `Authorization: Token <key>`. */
  apiKey: string;
}

/** One stored memory. */
export interface Mem0FakeMemory {
  id: string;
  memory: string;
  user_id: string;
  /** ISO time, one second apart in the order they were added (deterministic). */
  created_at: string;
}

/** One request as it arrived. */
export interface Mem0FakeRequestLog {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body, the raw text when it was not JSON, or undefined when empty. */
  body: unknown;
  status: number;
}

/** A scripted answer for the next request, whatever it is (see {@link Mem0Fake.queue}). */
export type Mem0FakeQueueItem =
  | { status: number; body?: unknown }
  /** Cut the connection without answering. */
  | { hangUp: true }
  /** Never answer (until the fake closes). */
  | { stall: true }
  | { raw: string; contentType: string };

/** A running Mem0 fake. */
export interface Mem0Fake {
  /** `http://127.0.0.1:PORT`, for MEM0_BASE_URL. */
  readonly url: string;
  readonly requests: Mem0FakeRequestLog[];
  /** The memories of one user, oldest first. */
  memoriesOf(userId: string): Mem0FakeMemory[];
  /** Scripted answers, each taking the place of one request's answer (after the key is checked). */
  queue(...items: Mem0FakeQueueItem[]): void;
  close(): Promise<void>;
}


/** DRF's error shape, as the platform answers. */
const detail = (text: string): { detail: string } => ({ detail: text });

/** Lowercase words of a text, for the fake's relevance. */
const words = (text: string): Set<string> => new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word !== ''));

/** The non-blank `user_id` of `filters`, or an error text. */
function userFilter(filters: unknown): string | { error: string } {
  if (!isRecord(filters)) return { error: 'filters is required and must include at least one of user_id, agent_id, app_id or run_id.' };
  const user = filters.user_id;
  if (typeof user !== 'string' || user.trim() === '') return { error: 'filters must include a non-empty user_id.' };
  return user;
}

/** Starts the Mem0 fake on 127.0.0.1 (ephemeral port). */
export async function startMem0Fake(options: Mem0FakeOptions): Promise<Mem0Fake> {
  const requests: Mem0FakeRequestLog[] = [];
  const scripted: Mem0FakeQueueItem[] = [];
  const memories: Mem0FakeMemory[] = [];
  let added = 0;

  const store = (userId: string, text: string): void => {
    added += 1;
    memories.push({ id: randomUUID(), memory: text, user_id: userId, created_at: new Date(Date.UTC(2026, 0, 1) + added * 1000).toISOString() });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const raw = await readBody(req);
    const { body, parsed } = parseJsonBody(raw);
    const log: Mem0FakeRequestLog = { method: req.method ?? '', path, headers: flatHeaders(req), body, status: 0 };
    requests.push(log);
    const answer = (status: number, payload: unknown): void => {
      log.status = status;
      sendJson(res, status, payload);
    };

    const token = /^Token (.+)$/.exec(headerValue(req, 'authorization') ?? '');
    if (!token) return answer(401, detail('Authentication credentials were not provided.'));
    if (!constantTimeEqual(token[1] ?? '', options.apiKey)) return answer(401, detail('Invalid API key.'));

    const item = scripted.shift();
    if (item && 'hangUp' in item) {
      req.socket.destroy();
      return;
    }
    if (item && 'stall' in item) return;
    if (item && 'raw' in item) {
      log.status = 200;
      res.writeHead(200, { 'content-type': item.contentType });
      res.end(item.raw);
      return;
    }
    if (item) return answer(item.status, item.body ?? detail(`Injected error with status ${item.status}`));

    const url = new URL(path, 'http://fake');
    const route = `${req.method ?? ''} ${url.pathname}`;
    if (body !== undefined && !parsed) return answer(400, detail('JSON parse error.'));

    if (route === 'POST /v3/memories/add/') {
      if (!isRecord(body)) return answer(400, detail('Invalid input data.'));
      const { messages, user_id: userId, infer } = body;
      if (isRecord(body.filters)) return answer(400, detail('filters is not supported on add; pass user_id at the top level.'));
      if (typeof userId !== 'string' || userId.trim() === '') return answer(400, detail('At least one of user_id, agent_id, app_id or run_id is required.'));
      if (infer !== undefined && typeof infer !== 'boolean') return answer(400, detail('infer must be a boolean.'));
      if (!Array.isArray(messages) || messages.length === 0) return answer(400, detail('messages must be a non-empty list.'));
      for (const message of messages) {
        if (!isRecord(message) || !['user', 'assistant', 'system'].includes(String(message.role)) || typeof message.content !== 'string') {
          return answer(400, detail('Each message needs a role (user, assistant or system) and a string content.'));
        }
      }
      for (const message of messages as Array<{ role: string; content: string }>) {
        if (infer === false ? message.content.trim() !== '' : message.role === 'user' && message.content.trim() !== '') store(userId, message.content.trim());
      }
      return answer(200, { message: 'Memory processing has been queued for background execution', status: 'PENDING', event_id: randomUUID() });
    }

    if (route === 'POST /v3/memories/search/' || route === 'POST /v3/memories/') {
      if (!isRecord(body)) return answer(400, detail('Invalid input data.'));
      if ('user_id' in body) return answer(400, detail('Top-level entity parameters are not supported. Use filters: {"user_id": "..."} instead.'));
      const user = userFilter(body.filters);
      if (typeof user !== 'string') return answer(400, detail(user.error));
      const own = memories.filter((memory) => memory.user_id === user);
      if (route === 'POST /v3/memories/') {
        const page = Number(url.searchParams.get('page') ?? '1');
        const size = Number(url.searchParams.get('page_size') ?? '100');
        if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 1000) return answer(400, detail('Invalid page.'));
        // Newest first, as the platform lists.
        const newest = [...own].reverse();
        const results = newest.slice((page - 1) * size, page * size);
        return answer(200, { count: own.length, next: page * size < own.length ? `${url.pathname}?page=${page + 1}&page_size=${size}` : null, previous: null, results });
      }
      const { query, top_k: topK } = body;
      if (typeof query !== 'string' || query.trim() === '') return answer(400, detail('query is required.'));
      if (topK !== undefined && (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > 1000)) return answer(400, detail('top_k must be 1-1000.'));
      const asked = words(query);
      const results = own
        .map((memory) => {
          const have = words(memory.memory);
          const shared = [...asked].filter((word) => have.has(word)).length;
          return { ...memory, score: shared / Math.max(1, asked.size) };
        })
        .filter((memory) => memory.score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, typeof topK === 'number' ? topK : 10);
      return answer(200, { results });
    }

    if (req.method === 'DELETE' && url.pathname === '/v1/memories/') {
      const user = url.searchParams.get('user_id');
      if (user === null || user.trim() === '') return answer(400, detail('At least one filter (user_id, agent_id, app_id or run_id) is required to delete memories.'));
      for (let i = memories.length - 1; i >= 0; i -= 1) if (memories[i]?.user_id === user) memories.splice(i, 1);
      return answer(200, { message: 'Memories deleted successfully!' });
    }

    const one = /^\/v1\/memories\/([^/]+)\/$/.exec(url.pathname);
    if (req.method === 'DELETE' && one) {
      const index = memories.findIndex((memory) => memory.id === decodeURIComponent(one[1] ?? ''));
      if (index === -1) return answer(404, detail('Memory not found.'));
      memories.splice(index, 1);
      return answer(200, { message: 'Memory deleted successfully!' });
    }

    return answer(404, detail('Not found.'));
  }

  const server = await listenOnLoopback(handle);
  return {
    url: server.url,
    requests,
    memoriesOf: (userId) => memories.filter((memory) => memory.user_id === userId),
    queue(...items) {
      scripted.push(...items);
    },
    close: () => server.close(),
  };
}
