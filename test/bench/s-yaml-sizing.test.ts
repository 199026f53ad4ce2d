import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFunctionSizing } from '../../bench/s-yaml-sizing';

describe('readFunctionSizing', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sizing-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (text: string): string => {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return file;
  };

  it('reads each function’s memorySize and timeout from its props, ignoring comments and nested keys', () => {
    const file = write(
      [
        'edition: 3.0.0',
        'resources:',
        '  reply:',
        '    props:',
        '      # memorySize: 999',
        '      memorySize: 256',
        '      timeout: 180',
        '      asyncInvokeConfig:',
        '        timeout: 5',
        '  conversation:',
        '    props:',
        '      timeout: 10',
        '      memorySize: 128',
      ].join('\n'),
    );
    expect(readFunctionSizing(file, ['conversation', 'reply'])).toEqual({
      conversation: { memoryMb: 128, timeoutS: 10 },
      reply: { memoryMb: 256, timeoutS: 180 },
    });
  });

  it('throws when a function has no literal memorySize, rather than assuming one', () => {
    const file = write(['resources:', '  reply:', '    props:', "      memorySize: ${env('MEM', '256')}", '      timeout: 180'].join('\n'));
    expect(() => readFunctionSizing(file, ['reply'])).toThrow('resource reply has no literal memorySize and timeout');
  });

  it('reads the repository’s s.yaml', () => {
    const sizing = readFunctionSizing(path.resolve(__dirname, '../../s.yaml'), ['conversation', 'reply']);
    expect(sizing.conversation?.memoryMb).toBeGreaterThanOrEqual(128);
    expect(sizing.reply?.timeoutS).toBeGreaterThan(0);
  });
});
