import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseHttpTriggerEvent } from '../../shared/fc/http-trigger';
import { listen, readBody, type Listener } from '../../local/http-util';
import { toHttpTriggerEvent, writeHandlerResult } from '../../local/http-to-fc-event';
import { httpTriggerEventSample } from '../helpers/fixtures';

/** Serves `answer` and records the event each request turned into. */
async function serve(answer: (event: Buffer, res: ServerResponse, req: IncomingMessage) => void): Promise<Listener & { events: Buffer[] }> {
  const events: Buffer[] = [];
  const listener = await listen(async (req, res) => {
    const event = toHttpTriggerEvent(req, await readBody(req), { requestId: 'req-1', accountId: '1000000000000001', domainName: 'localhost', now: 1_700_000_000_123 });
    events.push(event);
    answer(event, res, req);
  });
  return Object.assign(listener, { events });
}

describe('HTTP request to FC 3.0 HTTP-trigger event', () => {
  let server: (Listener & { events: Buffer[] }) | undefined;
  afterEach(() => server?.close());

  it('has the keys of the reference event, and parses back into the same request', async () => {
    server = await serve((_event, res) => writeHandlerResult(res, { statusCode: 204, headers: {}, body: '', isBase64Encoded: false }, 'req-1'));
    await fetch(`${server.url}/path/x?a=1&b=two`, { method: 'POST', headers: { Timestamp: '123', sign: 'abc', 'content-type': 'application/json' }, body: '{"hi":"你好"}' });
    const event = JSON.parse(server.events[0]?.toString('utf8') ?? '{}') as Record<string, Record<string, unknown>>;
    const sample = httpTriggerEventSample() as Record<string, Record<string, unknown>>;
    expect(Object.keys(event).sort()).toEqual(Object.keys(sample).sort());
    expect(Object.keys(event.requestContext ?? {}).sort()).toEqual(Object.keys(sample.requestContext ?? {}).filter((key) => key !== 'triggerId').sort());
    expect(event).toMatchObject({
      version: 'v1',
      rawPath: '/path/x',
      queryParameters: { a: '1', b: 'two' },
      body: '{"hi":"你好"}',
      isBase64Encoded: false,
      requestContext: { requestId: 'req-1', timeEpoch: '1700000000123', time: '2023-11-14T22:13:20Z', http: { method: 'POST', path: '/path/x', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' } },
    });
    expect(event.headers?.Timestamp).toBe('123');

    const request = parseHttpTriggerEvent(server.events[0]);
    expect(request).toMatchObject({ method: 'POST', path: '/path/x', sourceIp: '127.0.0.1' });
    expect(request.headers).toMatchObject({ timestamp: '123', sign: 'abc' });
    expect(request.body.toString('utf8')).toBe('{"hi":"你好"}');
  });

  it('sends a body that is not UTF-8 base64-encoded, as FC does for binary content', async () => {
    server = await serve((_event, res) => writeHandlerResult(res, 'ok', 'req-1'));
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    await fetch(server.url, { method: 'PUT', body: bytes });
    const event = JSON.parse(server.events[0]?.toString('utf8') ?? '{}') as { body: string; isBase64Encoded: boolean };
    expect(event.isBase64Encoded).toBe(true);
    expect(parseHttpTriggerEvent(server.events[0]).body.equals(bytes)).toBe(true);
  });

  it("turns the handler's {statusCode, headers, body} into the response, decoding a base64 body", async () => {
    server = await serve((_event, res) => writeHandlerResult(res, { statusCode: 401, headers: { 'x-a': 'b' }, body: Buffer.from('no').toString('base64'), isBase64Encoded: true }, 'req-1'));
    const response = await fetch(server.url);
    expect(response.status).toBe(401);
    expect(response.headers.get('x-a')).toBe('b');
    expect(response.headers.get('x-fc-request-id')).toBe('req-1');
    expect(await response.text()).toBe('no');
  });

  it('answers 200 with the value itself when the handler returns something that is not an HTTP result', async () => {
    server = await serve((_event, res) => writeHandlerResult(res, { outcome: 'x' }, 'req-1'));
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ outcome: 'x' });
  });
});
