import { createMem0Memory, type Mem0MemoryOptions } from '../../../shared/adapters/mem0-memory';
import { MemoryServiceError, describeError } from '../../../shared/errors';
import type { Exchange } from '../../../shared/history/exchange';
import { captureLogger } from '../../helpers/capture-logger';
import { startMem0Fake, type Mem0Fake } from '../../fakes/mem0-fake';

const KEY = 'm0-secret-key-0123456789abcdef';

const exchange = (at: number, user: string, assistant = 'Noted.'): Exchange => ({ id: `e${at}`, at, user, assistant });

/** What `promise` rejected with. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('createMem0Memory (real fetch against the Mem0 fake)', () => {
  let fake: Mem0Fake;
  beforeEach(async () => {
    fake = await startMem0Fake({ apiKey: KEY });
  });
  afterEach(() => fake.close());

  const memory = (overrides: Partial<Mem0MemoryOptions> = {}) => createMem0Memory({ apiKey: KEY, baseUrl: `${fake.url}/`, timeoutMs: 2000, ...overrides });

  it('learns with one add of the exchanges as user and assistant messages, for the staff id, with the token header', async () => {
    const result = await memory().learn('staff01', [exchange(2, 'I work on payments', 'Good to know'), exchange(1, 'My name is Zhang San')]);
    expect(result).toEqual({ learned: 2, calls: 1 });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v3/memories/add/',
      headers: { authorization: `Token ${KEY}`, 'content-type': 'application/json' },
      body: {
        user_id: 'staff01',
        messages: [
          { role: 'user', content: 'My name is Zhang San' },
          { role: 'assistant', content: 'Noted.' },
          { role: 'user', content: 'I work on payments' },
          { role: 'assistant', content: 'Good to know' },
        ],
      },
    });
    expect(fake.requests[0]?.body).not.toHaveProperty('infer');
    expect(fake.memoriesOf('staff01').map((item) => item.memory)).toEqual(['My name is Zhang San', 'I work on payments']);
  });

  it('makes no call for no exchanges, and bounds the text of long ones', async () => {
    expect(await memory().learn('staff01', [])).toEqual({ learned: 0, calls: 0 });
    await memory({ maxInputBytes: 2000 }).learn('staff01', [exchange(1, 'q'.repeat(50_000), 'a'.repeat(50_000))]);
    const body = fake.requests[0]?.body as { messages: Array<{ content: string }> };
    expect(Buffer.byteLength(body.messages.map((message) => message.content).join(''))).toBeLessThanOrEqual(2000);
  });

  it('remembers a fact as said (infer: false) and answers the list with it', async () => {
    const m = memory();
    await m.learn('staff01', [exchange(1, 'My name is Zhang San')]);
    expect(await m.remember('staff01', '  Answer me in English ')).toEqual(['My name is Zhang San', 'Answer me in English']);
    expect(fake.requests[1]?.body).toEqual({ messages: [{ role: 'user', content: 'Answer me in English' }], user_id: 'staff01', infer: false });
  });

  it('appends the fact to the answer when the platform has not stored it yet (it stores asynchronously)', async () => {
    const m = memory();
    fake.queue({ status: 200, body: { message: 'queued', status: 'PENDING', event_id: 'e1' } });
    expect(await m.remember('staff01', 'Likes tea')).toEqual(['Likes tea']);
    expect(fake.memoriesOf('staff01')).toEqual([]);
  });

  it('lists oldest first with the user in filters, and forgets the Nth of that list by its id', async () => {
    const m = memory();
    await m.learn('staff01', [exchange(1, 'one'), exchange(2, 'two'), exchange(3, 'three')]);
    expect(await m.list('staff01')).toEqual(['one', 'two', 'three']);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v3/memories/?page=1&page_size=100', body: { filters: { user_id: 'staff01' } } });
    expect(await m.forget('staff01', 2)).toEqual(['two']);
    const two = fake.requests.at(-1);
    expect(two?.method).toBe('DELETE');
    expect(two?.path).toMatch(/^\/v1\/memories\/[0-9a-f-]{36}\/$/);
    expect(await m.list('staff01')).toEqual(['one', 'three']);
    expect(await m.forget('staff01', 3)).toEqual([]);
    expect(await m.forget('staff01', 0)).toEqual([]);
  });

  it('forgets all of one person\'s memories with one delete by user_id, and nobody else\'s', async () => {
    const m = memory();
    await m.learn('staff01', [exchange(1, 'one'), exchange(2, 'two')]);
    await m.learn('staff02', [exchange(1, 'other person')]);
    expect(await m.forget('staff01', 'all')).toEqual(['one', 'two']);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/v1/memories/?user_id=staff01' });
    expect(fake.memoriesOf('staff01')).toEqual([]);
    expect(fake.memoriesOf('staff02')).toHaveLength(1);
    const before = fake.requests.length;
    expect(await m.forget('staff01', 'all')).toEqual([]);
    // Nothing to delete: only the listing.
    expect(fake.requests).toHaveLength(before + 1);
  });

  it('recalls the facts relevant to the question through search, with the user in filters', async () => {
    const m = memory({ recallLimit: 5 });
    await m.learn('staff01', [exchange(1, 'I like green tea'), exchange(2, 'I work on payments')]);
    expect(await m.recall('staff01', 'which tea is best?')).toEqual(['I like green tea']);
    expect(fake.requests.at(-1)).toMatchObject({
      path: '/v3/memories/search/',
      body: { query: 'which tea is best?', filters: { user_id: 'staff01' }, top_k: 5 },
    });
    // A blank question lists instead (search needs a query).
    expect(await m.recall('staff01', '  ')).toEqual(['I like green tea', 'I work on payments']);
  });

  it('refuses a blank user id before any request: Mem0 would read it as every memory', async () => {
    const error = await rejection(memory().forget(' ', 'all'));
    expect(error).toBeInstanceOf(MemoryServiceError);
    expect(error).toMatchObject({ reason: 'rejected' });
    expect(fake.requests).toHaveLength(0);
  });

  it.each([
    [401, 'auth', /HTTP 401 \(check MEM0_API_KEY\)/],
    [403, 'auth', /HTTP 403/],
    [400, 'rejected', /HTTP 400/],
    [429, 'throttled', /HTTP 429/],
    [503, 'server', /HTTP 503/],
  ])('maps HTTP %i to a MemoryServiceError (%s) that names the operation and never the key', async (status, reason, message) => {
    fake.queue({ status });
    const error = await rejection(memory().list('staff01'));
    expect(error).toBeInstanceOf(MemoryServiceError);
    expect(error).toMatchObject({ reason, status, operation: 'list' });
    expect((error as Error).message).toMatch(message);
    expect(JSON.stringify(describeError(error))).not.toContain(KEY);
  });

  it('says the key was refused when the fake does not know it', async () => {
    const error = await rejection(createMem0Memory({ apiKey: 'wrong-key', baseUrl: fake.url }).learn('staff01', [exchange(1, 'x')]));
    expect(error).toMatchObject({ reason: 'auth', status: 401, operation: 'add' });
  });

  it('maps an answer that is not JSON to incompatible, a cut connection to network, an unreachable host to network', async () => {
    fake.queue({ raw: '<html>gateway</html>', contentType: 'text/html' });
    expect(await rejection(memory().list('staff01'))).toMatchObject({ reason: 'incompatible' });
    fake.queue({ hangUp: true });
    expect(await rejection(memory().list('staff01'))).toMatchObject({ reason: 'network' });
    expect(await rejection(createMem0Memory({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9' }).list('staff01'))).toMatchObject({ reason: 'network' });
  });

  it('stops at the run\'s deadline without a request when the signal already fired, and maps an abort in flight to deadline', async () => {
    const aborted = new AbortController();
    aborted.abort();
    expect(await rejection(memory().list('staff01', { signal: aborted.signal }))).toMatchObject({ reason: 'deadline' });
    expect(fake.requests).toHaveLength(0);
    const later = new AbortController();
    fake.queue({ stall: true });
    const pending = rejection(memory().list('staff01', { signal: later.signal }));
    later.abort();
    expect(await pending).toMatchObject({ reason: 'deadline', operation: 'list' });
  });

  it('gives up on a request the platform does not answer within its time limit', async () => {
    fake.queue({ stall: true });
    expect(await rejection(memory({ timeoutMs: 50 }).list('staff01'))).toMatchObject({ reason: 'timeout', operation: 'list' });
  });

  it('logs no fact at info, and never the key', async () => {
    const { logger, lines } = captureLogger({ level: 'info', secrets: [KEY] });
    const m = memory({ logger });
    await m.learn('staff01', [exchange(1, 'My name is Zhang San')]);
    await m.remember('staff01', 'Likes green tea');
    await m.forget('staff01', 'all');
    expect(lines.join('\n')).not.toMatch(/Zhang San|green tea/);
    expect(lines.join('\n')).not.toContain(KEY);
  });
});
