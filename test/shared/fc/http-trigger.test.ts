import { InvalidMessageError, PayloadTooLargeError } from '../../../shared/errors';
import {
  jsonResponse,
  MAX_BODY_BYTES,
  MAX_EVENT_BYTES,
  parseHttpTriggerEvent,
  toFcHttpResult,
  type HttpRequest,
} from '../../../shared/fc/http-trigger';
import { httpTriggerEventSample } from '../../helpers/fixtures';
import { thrown } from '../../helpers/thrown';

function asBuffer(event: unknown): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

/** The InvalidMessageError parseHttpTriggerEvent throws for `event`. */
const invalid = (event: unknown): InvalidMessageError => thrown(InvalidMessageError, () => parseHttpTriggerEvent(event));

describe('parseHttpTriggerEvent', () => {
  describe('refuses oversized requests before decoding them', () => {
    const tooLarge = (event: unknown): PayloadTooLargeError => thrown(PayloadTooLargeError, () => parseHttpTriggerEvent(event));

    it('refuses an event over the bound without parsing it (the bytes need not even be JSON)', () => {
      const event = Buffer.alloc(MAX_EVENT_BYTES + 1, 0x7b);
      expect(tooLarge(event)).toMatchObject({ bytes: MAX_EVENT_BYTES + 1, limit: MAX_EVENT_BYTES });
      expect(tooLarge('x'.repeat(MAX_EVENT_BYTES + 1))).toMatchObject({ limit: MAX_EVENT_BYTES });
    });

    it.each([
      ['a base64 body', true],
      ['a UTF-8 body', false],
    ])('refuses %s one byte over the bound and accepts one at the bound', (_name, base64) => {
      const event = (bytes: number): Record<string, unknown> => {
        const sample = httpTriggerEventSample();
        const raw = Buffer.alloc(bytes, 0x61);
        sample.body = base64 ? raw.toString('base64') : raw.toString('utf8');
        sample.isBase64Encoded = base64;
        return sample;
      };
      expect(parseHttpTriggerEvent(asBuffer(event(MAX_BODY_BYTES))).body).toHaveLength(MAX_BODY_BYTES);
      expect(tooLarge(asBuffer(event(MAX_BODY_BYTES + 1)))).toMatchObject({ bytes: MAX_BODY_BYTES + 1, limit: MAX_BODY_BYTES });
      expect(tooLarge(event(MAX_BODY_BYTES + 1))).toMatchObject({ limit: MAX_BODY_BYTES });
    });

    it('counts the bytes of a UTF-8 body, not its characters', () => {
      const sample = httpTriggerEventSample();
      sample.body = '字'.repeat(Math.floor(MAX_BODY_BYTES / 3) + 1);
      expect(tooLarge(sample)).toMatchObject({ limit: MAX_BODY_BYTES });
    });
  });

  it('parses the reference FC 3.0 HTTP-trigger event handed over as a Buffer', () => {
    const request = parseHttpTriggerEvent(asBuffer(httpTriggerEventSample()));
    const expected: HttpRequest = {
      method: 'POST',
      path: '/2023-03-30/functions/fc3-event-test-http-trigger-Darwin-x86_64/invocations',
      headers: {
        accept: 'application/json',
        authorization:
          'ACS3-HMAC-SHA256 Credential=LTA******************ibC,SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=c360d2c33196********901bef1cd44f2bd',
        connection: 'keep-alive',
        'content-type': 'application/octet-stream',
        'user-agent': 'AlibabaCloud (darwin; x64) Node.js/v14.20.0 Core/1.0.1 TeaDSL/1',
        'x-acs-action': 'InvokeFunction',
        'x-acs-content-sha256': '676903d7d4ba9666*********8877348e1b09a5dd13f',
        'x-acs-date': '2023-08-17T14:08:11Z',
        'x-acs-signature-nonce': '2d13b9477e5e25d6b5c63fee372a9351',
        'x-acs-version': '2023-03-30',
        'x-fc-log-type': 'Tail',
      },
      body: Buffer.from('haha', 'utf8'),
      sourceIp: '112.10.236.5',
    };
    expect(request).toEqual(expected);
  });

  it('lowercases every header name', () => {
    const request = parseHttpTriggerEvent(asBuffer(httpTriggerEventSample()));
    for (const name of Object.keys(request.headers)) expect(name).toBe(name.toLowerCase());
    expect(request.headers['x-fc-log-type']).toBe('Tail');
  });

  it('accepts the event as a string or an already parsed object', () => {
    const sample = httpTriggerEventSample();
    expect(parseHttpTriggerEvent(JSON.stringify(sample))).toEqual(parseHttpTriggerEvent(asBuffer(sample)));
    expect(parseHttpTriggerEvent(sample)).toEqual(parseHttpTriggerEvent(asBuffer(sample)));
  });

  it('decodes a base64 body', () => {
    const sample = httpTriggerEventSample();
    const raw = JSON.stringify({ text: { content: '你好 😀' } });
    sample.body = Buffer.from(raw, 'utf8').toString('base64');
    sample.isBase64Encoded = true;
    expect(parseHttpTriggerEvent(asBuffer(sample)).body.toString('utf8')).toBe(raw);
  });

  it('keeps a non-base64 body as UTF-8 bytes', () => {
    const sample = httpTriggerEventSample();
    sample.body = '{"text":"你好"}';
    expect(parseHttpTriggerEvent(asBuffer(sample)).body).toEqual(Buffer.from('{"text":"你好"}', 'utf8'));
  });

  it('gives an empty body when there is none', () => {
    const sample = httpTriggerEventSample();
    delete sample.body;
    expect(parseHttpTriggerEvent(asBuffer(sample)).body.length).toBe(0);
  });

  it('uppercases the method', () => {
    const sample = httpTriggerEventSample();
    (sample.requestContext as { http: Record<string, unknown> }).http.method = 'post';
    expect(parseHttpTriggerEvent(asBuffer(sample)).method).toBe('POST');
  });

  it('takes the first value of a multi-valued header', () => {
    const sample = httpTriggerEventSample();
    sample.headers = { 'X-Multi': ['one', 'two'], Timestamp: '1732000000000', Ignored: 42 };
    expect(parseHttpTriggerEvent(asBuffer(sample)).headers).toEqual({ 'x-multi': 'one', timestamp: '1732000000000' });
  });

  it('falls back on requestContext.http.path without rawPath', () => {
    const sample = httpTriggerEventSample();
    delete sample.rawPath;
    (sample.requestContext as { http: Record<string, unknown> }).http.path = '/from-context';
    expect(parseHttpTriggerEvent(asBuffer(sample)).path).toBe('/from-context');
  });

  it('refuses an event without a method', () => {
    const sample = httpTriggerEventSample();
    delete (sample.requestContext as { http: Record<string, unknown> }).http.method;
    expect(invalid(asBuffer(sample)).message).toContain('requestContext.http.method');
  });

  it('refuses an event without a requestContext', () => {
    const sample = httpTriggerEventSample();
    delete sample.requestContext;
    expect(invalid(asBuffer(sample)).message).toContain('requestContext.http.method');
  });

  it('refuses a Buffer that is not JSON', () => {
    expect(invalid(Buffer.from('haha, not json', 'utf8')).message).toContain('not JSON');
  });

  it.each<[string, unknown]>([
    ['a JSON array', Buffer.from('[]')],
    ['JSON null', Buffer.from('null')],
    ['a number', 42],
    ['undefined', undefined],
  ])('refuses %s', (_label, event) => {
    expect(invalid(event).kind).toBe('invalid-message');
  });
});

describe('toFcHttpResult', () => {
  it('gives the shape FC expects, with a plain-text body', () => {
    expect(toFcHttpResult(jsonResponse(200, { ok: true }))).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
  });

  it('keeps the status and headers it is given', () => {
    expect(toFcHttpResult({ statusCode: 401, headers: { 'x-a': 'b' }, body: 'nope' })).toEqual({
      statusCode: 401,
      headers: { 'x-a': 'b' },
      body: 'nope',
      isBase64Encoded: false,
    });
  });
});
