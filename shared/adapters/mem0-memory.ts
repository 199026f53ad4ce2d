import { MemoryServiceError } from '../errors';
import type { Exchange } from '../history/exchange';
import { utf8ByteBound } from '../llm/token-counter';
import type { LearnResult, LongTermMemory, MemoryCallOptions } from '../memory/memory';
import { cleanFact, factKey } from '../memory/facts';
import { systemClock, type Clock, type Logger } from '../ports';
import { isRecord } from '../util/is-record';

/** Options of {@link createMem0Memory}. */
export interface Mem0MemoryOptions {
  /** MEM0_API_KEY, sent as `Authorization: Token <key>`; never logged nor put in an error. */
  apiKey: string;
  /** MEM0_BASE_URL. Default `https://api.mem0.ai`. */
  baseUrl?: string;
  /** The HTTP client. Default: the runtime's global fetch. */
  fetch?: typeof fetch;
  /** Time limit of one request. Default 10 s. */
  timeoutMs?: number;
  /** Facts `recall` asks the search for (`top_k`). Default 10. */
  recallLimit?: number;
  /** Facts `list` reads (`page_size` of the first page). Default 100. */
  listLimit?: number;
  /** Most bytes of exchange text one `learn` sends. Default 24,000. */
  maxInputBytes?: number;
  /** Times the log lines. Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
}

/** One memory as the platform returns it; only what this adapter reads. */
interface Mem0Item {
  id: string;
  memory: string;
  createdAt?: number;
}

/** What a question is cut to before it becomes a search query. */
const MAX_QUERY_CHARS = 1000;
/** Fewest bytes one exchange keeps in a `learn`; below this, the oldest exchanges are left out. */
const MIN_EXCHANGE_BYTES = 400;


/** The memories of a list or search answer: `{results: [...]}` or a bare array, items without text left out. */
function itemsOf(value: unknown): Mem0Item[] {
  const rows: unknown = isRecord(value) ? value.results : value;
  if (!Array.isArray(rows)) return [];
  const items: Mem0Item[] = [];
  for (const row of rows) {
    if (!isRecord(row) || typeof row.id !== 'string' || typeof row.memory !== 'string' || row.memory.trim() === '') continue;
    const created = typeof row.created_at === 'string' ? Date.parse(row.created_at) : Number.NaN;
    items.push(Number.isNaN(created) ? { id: row.id, memory: row.memory } : { id: row.id, memory: row.memory, createdAt: created });
  }
  return items;
}

/** `text` cut to `maxBytes` UTF-8 bytes, ending with `…` when it was cut. */
function cut(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return `${utf8ByteBound.truncate(text, Math.max(0, maxBytes - 3))}…`;
}

/**
 * Long-term memory in the Mem0 platform (MEM0_API_KEY), over its REST API with the runtime's fetch; the
 * `mem0ai` npm package is not used, so nothing is sent to Mem0's telemetry. `user_id` is the person's staff
 * id, always non-blank (Mem0 reads a blank id as "every memory", which a delete must never do).
 *
 * - `recall`: `POST /v3/memories/search/` with the question and `filters: {user_id}`: the most relevant facts.
 * - `list`: `POST /v3/memories/?page=1&page_size=N` with `filters: {user_id}`, oldest first (by `created_at`),
 *   numbered in that order by `\memory`; `forget(N)` lists again and deletes the Nth
 *   (`DELETE /v1/memories/{id}/`), `forget('all')` deletes the person's memories
 *   (`DELETE /v1/memories/?user_id=…`).
 * - `learn`: one `POST /v3/memories/add/` with the exchanges as user/assistant messages (bounded in bytes);
 *   Mem0 extracts and merges the facts itself, asynchronously. Whether an exchange was sent before is the
 *   caller's to know (Mem0 keeps no "learned until").
 * - `remember`: the same add with the fact alone and `infer: false` (stored as said). The platform stores it
 *   asynchronously, so the answered list has the fact appended when the listing does not show it yet.
 *
 * Failures throw `MemoryServiceError` (auth, rejected, throttled, server, network, timeout, incompatible,
 * deadline), whose message names the operation and the HTTP status, never the key or a memory.
 */
export function createMem0Memory(options: Mem0MemoryOptions): LongTermMemory {
  const baseUrl = (options.baseUrl ?? 'https://api.mem0.ai').replace(/\/+$/, '');
  const send = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const recallLimit = options.recallLimit ?? 10;
  const listLimit = options.listLimit ?? 100;
  const maxInputBytes = options.maxInputBytes ?? 24_000;
  const clock = options.clock ?? systemClock;
  const logger = options.logger;

  async function request(operation: string, method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) throw new MemoryServiceError('deadline', `Mem0 ${operation}: the run's deadline came first`, { operation });
    const timeout = AbortSignal.timeout(timeoutMs);
    const started = clock.now();
    let response: Response;
    try {
      response = await send(`${baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Token ${options.apiKey}`,
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: signal !== undefined ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw new MemoryServiceError('deadline', `Mem0 ${operation}: the run's deadline came first`, { operation, cause: error });
      if (timeout.aborted) throw new MemoryServiceError('timeout', `Mem0 ${operation}: no answer within ${timeoutMs} ms`, { operation, cause: error });
      throw new MemoryServiceError('network', `Mem0 ${operation}: ${new URL(baseUrl).host} could not be reached`, { operation, cause: error });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      const reason = signal?.aborted ? 'deadline' : timeout.aborted ? 'timeout' : 'network';
      throw new MemoryServiceError(reason, `Mem0 ${operation}: the answer was cut off (${reason})`, { operation, status: response.status, cause: error });
    }
    logger?.debug('memory.mem0_call', { operation, status: response.status, ms: clock.now() - started });
    if (!response.ok) {
      const status = response.status;
      const reason = status === 401 || status === 403 ? 'auth' : status === 429 ? 'throttled' : status >= 500 ? 'server' : 'rejected';
      const hint = reason === 'auth' ? ' (check MEM0_API_KEY)' : '';
      throw new MemoryServiceError(reason, `Mem0 ${operation} failed with HTTP ${status}${hint}`, { operation, status });
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new MemoryServiceError('incompatible', `Mem0 ${operation}: MEM0_BASE_URL answered something that is not JSON`, {
        operation,
        status: response.status,
      });
    }
  }

  /** The person's id as Mem0 scopes it; a blank one is refused before any request. */
  function userOf(userId: string, operation: string): string {
    if (userId.trim() === '') throw new MemoryServiceError('rejected', `Mem0 ${operation}: refused a blank user id (it would match every memory)`, { operation });
    return userId;
  }

  async function listItems(userId: string, signal: AbortSignal | undefined): Promise<Mem0Item[]> {
    const user = userOf(userId, 'list');
    const answer = await request('list', 'POST', `/v3/memories/?page=1&page_size=${listLimit}`, { filters: { user_id: user } }, signal);
    // Oldest first, so numbers stay put as facts are added; the platform's order for equal or missing times.
    return itemsOf(answer)
      .map((item, index) => ({ item, index }))
      .sort((a, b) => (a.item.createdAt ?? 0) - (b.item.createdAt ?? 0) || a.index - b.index)
      .map(({ item }) => item);
  }

  async function add(userId: string, messages: Array<{ role: 'user' | 'assistant'; content: string }>, infer: boolean, signal: AbortSignal | undefined): Promise<void> {
    const user = userOf(userId, 'add');
    await request('add', 'POST', '/v3/memories/add/', { messages, user_id: user, ...(infer ? {} : { infer: false }) }, signal);
  }

  async function recall(userId: string, question: string, call: MemoryCallOptions = {}): Promise<string[]> {
    const query = Array.from(question.trim()).slice(0, MAX_QUERY_CHARS).join('');
    if (query === '') return (await listItems(userId, call.signal)).map((item) => item.memory);
    const user = userOf(userId, 'search');
    const answer = await request('search', 'POST', '/v3/memories/search/', { query, filters: { user_id: user }, top_k: recallLimit }, call.signal);
    return itemsOf(answer).map((item) => item.memory);
  }

  async function learn(userId: string, exchanges: readonly Exchange[], call: MemoryCallOptions = {}): Promise<LearnResult> {
    const ordered = [...exchanges].sort((a, b) => a.at - b.at);
    const chosen = ordered.slice(-Math.max(1, Math.floor(maxInputBytes / MIN_EXCHANGE_BYTES)));
    if (chosen.length === 0) return { learned: 0, calls: 0 };
    const share = Math.floor(maxInputBytes / chosen.length);
    const messages = chosen.flatMap((exchange) => {
      const user = cut(exchange.user, Math.max(Math.ceil((share * 2) / 3), share - Buffer.byteLength(exchange.assistant, 'utf8')));
      const assistant = cut(exchange.assistant, share - Buffer.byteLength(user, 'utf8'));
      return [
        { role: 'user' as const, content: user },
        { role: 'assistant' as const, content: assistant },
      ].filter((message) => message.content.trim() !== '');
    });
    if (messages.length === 0) return { learned: 0, calls: 0 };
    await add(userId, messages, true, call.signal);
    logger?.info('memory.learned', { backend: 'mem0', exchanges: chosen.length, skipped: exchanges.length - chosen.length });
    return { learned: chosen.length, calls: 1 };
  }

  async function remember(userId: string, raw: string, call: MemoryCallOptions = {}): Promise<string[]> {
    const fact = cleanFact(raw);
    if (fact === '') return (await listItems(userId, call.signal)).map((item) => item.memory);
    await add(userId, [{ role: 'user', content: fact }], false, call.signal);
    const facts = (await listItems(userId, call.signal)).map((item) => item.memory);
    logger?.info('memory.remembered', { backend: 'mem0', items: facts.length, ...(logger?.debugEnabled === true ? { fact } : {}) });
    return facts.some((item) => factKey(item) === factKey(fact)) ? facts : [...facts, fact];
  }

  async function forget(userId: string, which: number | 'all', call: MemoryCallOptions = {}): Promise<string[]> {
    const items = await listItems(userId, call.signal);
    if (which === 'all') {
      if (items.length === 0) return [];
      const user = userOf(userId, 'delete');
      await request('delete', 'DELETE', `/v1/memories/?user_id=${encodeURIComponent(user)}`, undefined, call.signal);
      logger?.info('memory.forgot', { backend: 'mem0', removed: items.length });
      return items.map((item) => item.memory);
    }
    const item = Number.isInteger(which) ? items[which - 1] : undefined;
    if (item === undefined || which < 1) return [];
    await request('delete', 'DELETE', `/v1/memories/${encodeURIComponent(item.id)}/`, undefined, call.signal);
    logger?.info('memory.forgot', { backend: 'mem0', removed: 1 });
    return [item.memory];
  }

  return {
    recall,
    list: async (userId, call = {}) => (await listItems(userId, call.signal)).map((item) => item.memory),
    learn,
    remember,
    forget,
  };
}
