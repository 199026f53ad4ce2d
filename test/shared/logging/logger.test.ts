import { createLogger, LOG_LEVELS, type LoggerOptions, type LogLevel } from '../../../shared/logging/logger';

const NOW = Date.UTC(2024, 10, 19, 7, 6, 40, 123);
const SECRET = 'sk-live-0123456789abcdef';
const OTHER_SECRET = 'dt-app-secret-ZYXWVU';

function capture(options: LoggerOptions = {}): { lines: string[]; parsed: () => Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger({ now: () => NOW, write: (line) => lines.push(line), ...options });
  return { lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), logger };
}

describe('createLogger', () => {
  it('writes one JSON object per line with time, level, event and the fields', () => {
    const { lines, parsed, logger } = capture();
    logger.info('reply.sent', { msgId: 'm1', ms: 42, ok: true, none: null, tags: ['a', 'b'] });
    logger.warn('history.slow', { text: 'line one\nline two' });
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain('\n');
    expect(parsed()).toEqual([
      { time: '2024-11-19T07:06:40.123Z', level: 'info', event: 'reply.sent', msgId: 'm1', ms: 42, ok: true, none: null, tags: ['a', 'b'] },
      { time: '2024-11-19T07:06:40.123Z', level: 'warn', event: 'history.slow', text: 'line one\nline two' },
    ]);
  });

  it('writes to stdout by default, one line each', () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      createLogger({ now: () => NOW }).info('started');
    } finally {
      spy.mockRestore();
    }
    expect(written).toEqual(['{"time":"2024-11-19T07:06:40.123Z","level":"info","event":"started"}\n']);
  });

  it('writes nothing below the threshold', () => {
    const { parsed, logger } = capture({ level: 'warn' });
    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    logger.error('d');
    expect(parsed().map((line) => [line.level, line.event])).toEqual([
      ['warn', 'c'],
      ['error', 'd'],
    ]);
  });

  it('defaults to the info level', () => {
    const { parsed, logger } = capture();
    logger.debug('hidden');
    logger.info('shown');
    expect(parsed().map((line) => line.event)).toEqual(['shown']);
  });

  it('writes every level at debug', () => {
    const { parsed, logger } = capture({ level: 'debug' });
    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    logger.error('d');
    expect(parsed().map((line) => line.level)).toEqual(['debug', 'info', 'warn', 'error']);
  });

  it('adds the fields of a child, and of a child of a child, without changing the parent', () => {
    const { parsed, logger } = capture({ base: { fn: 'reply' } });
    const child = logger.child({ msgId: 'm1' });
    const grandchild = child.child({ user: 'u1', msgId: 'm2' });
    grandchild.info('x', { step: 1 });
    child.info('y');
    logger.info('z');
    expect(parsed()).toEqual([
      { time: '2024-11-19T07:06:40.123Z', level: 'info', event: 'x', fn: 'reply', msgId: 'm2', user: 'u1', step: 1 },
      { time: '2024-11-19T07:06:40.123Z', level: 'info', event: 'y', fn: 'reply', msgId: 'm1' },
      { time: '2024-11-19T07:06:40.123Z', level: 'info', event: 'z', fn: 'reply' },
    ]);
  });

  it('keeps the threshold in children', () => {
    const { lines, logger } = capture({ level: 'error' });
    logger.child({ a: 1 }).warn('dropped');
    expect(lines).toEqual([]);
  });

  it('scrubs secrets from every string: fields, nested objects, arrays, child fields and the event', () => {
    const { lines, parsed, logger } = capture({ secrets: [SECRET, OTHER_SECRET, undefined] });
    logger.child({ auth: `Bearer ${SECRET}` }).error(`failed with ${OTHER_SECRET}`, {
      message: `401: incorrect key ${SECRET}.`,
      nested: { deeper: { value: SECRET, list: [`x${OTHER_SECRET}y`, 7, { inArray: SECRET }] } },
      twice: `${SECRET}/${SECRET}`,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).not.toContain(OTHER_SECRET);
    expect(parsed()[0]).toEqual({
      time: '2024-11-19T07:06:40.123Z',
      level: 'error',
      event: 'failed with [redacted]',
      auth: 'Bearer [redacted]',
      message: '401: incorrect key [redacted].',
      nested: { deeper: { value: '[redacted]', list: ['x[redacted]y', 7, { inArray: '[redacted]' }] } },
      twice: '[redacted]/[redacted]',
    });
  });

  it('scrubs secrets from base fields', () => {
    const { lines, logger } = capture({ secrets: [SECRET], base: { key: SECRET } });
    logger.info('x');
    expect(lines[0]).not.toContain(SECRET);
  });

  it('does not scrub secrets shorter than six characters, which would match too much', () => {
    const { parsed, logger } = capture({ secrets: ['abc'] });
    logger.info('x', { text: 'abcdef' });
    expect(parsed()[0]?.text).toBe('abcdef');
  });

  it('scrubs session webhook tokens', () => {
    const { lines, parsed, logger } = capture();
    logger.info('webhook', {
      url: 'https://oapi.dingtalk.com/robot/sendBySession?session=0123456789abcdef0123456789abcdef',
      other: 'see https://oapi.dingtalk.com/robot/sendBySession?foo=1&session=fedcba9876543210&bar=2 for details',
      nested: [{ url: 'https://oapi.dingtalk.com/robot/sendBySession?session=aaaabbbbccccdddd' }],
    });
    expect(lines[0]).not.toMatch(/0123456789abcdef|fedcba9876543210|aaaabbbbccccdddd/);
    expect(parsed()[0]).toMatchObject({
      url: 'https://oapi.dingtalk.com/robot/sendBySession?session=[redacted]',
      other: 'see https://oapi.dingtalk.com/robot/sendBySession?foo=1&session=[redacted]&bar=2 for details',
      nested: [{ url: 'https://oapi.dingtalk.com/robot/sendBySession?session=[redacted]' }],
    });
  });

  it.each(LOG_LEVELS.map((level) => [level, level === 'debug'] as [LogLevel, boolean]))('has debugEnabled at %s: %s', (level, enabled) => {
    const { logger } = capture({ level });
    expect(logger.debugEnabled).toBe(enabled);
    expect(logger.child({ a: 1 }).debugEnabled).toBe(enabled);
  });
});
