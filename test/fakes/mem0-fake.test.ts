import { startMem0Fake, type Mem0Fake } from './mem0-fake';

const KEY = 'm0-fake-key-0123456789';

describe('the Mem0 fake checks requests as the platform does', () => {
  let fake: Mem0Fake;
  beforeEach(async () => {
    fake = await startMem0Fake({ apiKey: KEY });
  });
  afterEach(() => fake.close());

  const call = async (method: string, path: string, body?: unknown, key = KEY): Promise<{ status: number; json: unknown }> => {
    const response = await fetch(`${fake.url}${path}`, {
      method,
      headers: { authorization: `Token ${key}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, json: await response.json() };
  };

  it('refuses a missing, wrong or Bearer key with 401', async () => {
    expect((await call('POST', '/v3/memories/', { filters: { user_id: 'u' } }, 'wrong')).status).toBe(401);
    const bearer = await fetch(`${fake.url}/v3/memories/`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: '{}' });
    expect(bearer.status).toBe(401);
  });

  it('queues an add and keeps the memories per user_id', async () => {
    const added = await call('POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'I like tea' }, { role: 'assistant', content: 'Noted' }], user_id: 'alice' });
    expect(added).toMatchObject({ status: 200, json: { status: 'PENDING', event_id: expect.any(String) } });
    await call('POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'Bob fact' }], user_id: 'bob', infer: false });
    expect(fake.memoriesOf('alice').map((memory) => memory.memory)).toEqual(['I like tea']);
    expect(fake.memoriesOf('bob').map((memory) => memory.memory)).toEqual(['Bob fact']);
  });

  it('refuses an add without a user, without messages, or with a malformed message', async () => {
    expect((await call('POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'x' }], user_id: ' ' })).status).toBe(400);
    expect((await call('POST', '/v3/memories/add/', { messages: [], user_id: 'u' })).status).toBe(400);
    expect((await call('POST', '/v3/memories/add/', { messages: [{ role: 'robot', content: 'x' }], user_id: 'u' })).status).toBe(400);
  });

  it('refuses a top-level user_id on search and list (filters only) and a blank one in filters', async () => {
    expect((await call('POST', '/v3/memories/search/', { query: 'tea', user_id: 'u' })).status).toBe(400);
    expect((await call('POST', '/v3/memories/?page=1&page_size=10', { user_id: 'u' })).status).toBe(400);
    expect((await call('POST', '/v3/memories/', { filters: { user_id: '' } })).status).toBe(400);
  });

  it('searches one user\'s memories by the words of the question', async () => {
    await call('POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'I like green tea' }, { role: 'user', content: 'I work on payments' }], user_id: 'alice' });
    await call('POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'Bob likes tea' }], user_id: 'bob' });
    const found = await call('POST', '/v3/memories/search/', { query: 'which tea?', filters: { user_id: 'alice' }, top_k: 5 });
    expect(found.json).toEqual({ results: [expect.objectContaining({ memory: 'I like green tea', user_id: 'alice' })] });
  });

  it('deletes one memory by id and all of a user\'s with ?user_id, never without a user', async () => {
    await call('POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'one' }, { role: 'user', content: 'two' }], user_id: 'alice' });
    await call('POST', '/v3/memories/add/', { messages: [{ role: 'user', content: 'bob' }], user_id: 'bob' });
    const [first] = fake.memoriesOf('alice');
    expect((await call('DELETE', `/v1/memories/${first?.id ?? ''}/`)).status).toBe(200);
    expect((await call('DELETE', `/v1/memories/${first?.id ?? ''}/`)).status).toBe(404);
    expect((await call('DELETE', '/v1/memories/')).status).toBe(400);
    expect((await call('DELETE', '/v1/memories/?user_id=alice')).status).toBe(200);
    expect(fake.memoriesOf('alice')).toEqual([]);
    expect(fake.memoriesOf('bob')).toHaveLength(1);
  });

  it('answers 404 for a path without its trailing slash', async () => {
    expect((await call('POST', '/v3/memories/add', { messages: [{ role: 'user', content: 'x' }], user_id: 'u' })).status).toBe(404);
  });
});
