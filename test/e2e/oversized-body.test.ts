/**
 * The conversation bundle (dist/, as deployed) refuses a body far larger than any DingTalk callback with
 * 413, before decoding or copying it: in a 128 MB function, a 24 MB base64 body used to add about 100 MB.
 * Measured in a child process, so nothing else in the test runner moves the figures.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { guarantee } from '../helpers/guarantee';

const BUNDLE = path.resolve(__dirname, '../../dist/conversation/index.js');
/** "A few MB": the handler may allocate its answer and log line, never a copy of the body. */
const HEAP_GROWTH_BOUND_MB = 8;

/** Runs in the child: builds a 24 MB base64 body event, calls the handler, prints the status and the growth. */
const CHILD = `
const { handler } = require(process.env.BUNDLE);
const body = Buffer.alloc(18 * 1024 * 1024, 0x41).toString('base64');
const event = Buffer.from(JSON.stringify({
  version: 'v1',
  rawPath: '/',
  headers: { 'content-type': 'application/json', timestamp: String(Date.now()), sign: 'not-a-valid-sign' },
  queryParameters: {},
  body,
  isBase64Encoded: true,
  requestContext: { http: { method: 'POST', path: '/', sourceIp: '203.0.113.7' } },
}), 'utf8');
const context = { requestId: 'oversized-1', function: { name: 'dingtalk-llm-conversation' } };
(async () => {
  await handler(Buffer.from('{}'), context).catch(() => undefined); // warm: the bundle's own first-use allocations
  global.gc();
  const before = process.memoryUsage();
  const result = await handler(event, context);
  const after = process.memoryUsage();
  const mb = (bytes) => bytes / 1024 / 1024;
  process.stdout.write('RESULT ' + JSON.stringify({
    eventMb: mb(event.length),
    statusCode: result.statusCode,
    heapGrowthMb: mb(after.heapUsed - before.heapUsed),
    externalGrowthMb: mb(after.external - before.external),
  }) + '\\n');
})();
`;

interface ChildResult {
  eventMb: number;
  statusCode: number;
  heapGrowthMb: number;
  externalGrowthMb: number;
}

describe(guarantee('Hostile input: bodies (fuzzed)'), () => {
  it('refuses a 24 MB body with 413 without the heap growing by more than a few MB', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '-e', CHILD], {
      env: {
        PATH: process.env.PATH ?? '',
        BUNDLE,
        DINGTALK_APP_SECRET: 'oversized-test-secret-0123456789',
        REPLY_FUNCTION_NAME: 'dingtalk-llm-reply',
        FC_ENDPOINT: 'http://127.0.0.1:9',
        FC_ACCOUNT_ID: '1234567890123456',
        FC_REGION: 'cn-hangzhou',
        LOG_LEVEL: 'error',
      },
      maxBuffer: 1024 * 1024,
    });
    const line = stdout.split('\n').find((text) => text.startsWith('RESULT '));
    const result = JSON.parse((line ?? 'RESULT {}').slice('RESULT '.length)) as ChildResult;
    expect(result.eventMb).toBeGreaterThan(24);
    expect(result.statusCode).toBe(413);
    expect(result.heapGrowthMb + result.externalGrowthMb).toBeLessThan(HEAP_GROWTH_BOUND_MB);
  });
});
