import { request } from 'node:http';
import { listenOnLoopback } from '../fakes/http-helpers';
import { monotonicMs } from '../../bench/clock';
import { byMessage, perMessage, ServerWaits } from '../../bench/server-waits';

function get(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume();
      res.on('end', () => resolve());
    })
      .on('error', reject)
      .end();
  });
}

describe('ServerWaits', () => {
  it('records how long each request spent inside the recorded server only', async () => {
    const slow = await listenOnLoopback(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      res.end('ok');
    });
    const other = await listenOnLoopback(async (_req, res) => {
      res.end('ok');
    });
    const waits = new ServerWaits([slow.port]);
    try {
      await get(slow.url);
      await get(other.url);
      await get(slow.url);
      const recorded = waits.take(slow.port);
      expect(recorded).toHaveLength(2);
      for (const wait of recorded) expect(wait.ms).toBeGreaterThanOrEqual(25);
      expect(waits.take(slow.port)).toEqual([]);
    } finally {
      waits.stop();
      await Promise.all([slow.close(), other.close()]);
    }
  });

  it('attributes each wait to the last message that started before it', () => {
    const marks = [
      { start: 0, ms: 1 },
      { start: 10, ms: 1 },
      { start: 20, ms: 1 },
    ];
    const posts = [
      { start: 5, ms: 2 },
      { start: 12, ms: 3 },
      { start: 15, ms: 4 },
      { start: 25, ms: 1 },
    ];
    expect(perMessage(marks, posts)).toEqual([2, 7, 1]);
    expect(() => perMessage(marks, [{ start: -1, ms: 1 }])).toThrow('before the first message');
  });

  it('groups the waits by the message whose start came last before them, on the clock the warm driver uses', async () => {
    expect(byMessage([0, 10, 20], [{ start: 5, ms: 2 }, { start: 12, ms: 3 }, { start: 15, ms: 4 }])).toEqual([[{ start: 5, ms: 2 }], [{ start: 12, ms: 3 }, { start: 15, ms: 4 }], []]);
    expect(() => byMessage([10], [{ start: 9, ms: 1 }])).toThrow('before the first message');
    const server = await listenOnLoopback(async (_req, res) => {
      res.end('ok');
    });
    const waits = new ServerWaits([server.port]);
    try {
      const before = monotonicMs();
      await get(server.url);
      const after = monotonicMs();
      const [wait] = waits.take(server.port);
      expect(wait?.start).toBeGreaterThanOrEqual(before);
      expect(wait?.start).toBeLessThanOrEqual(after);
    } finally {
      waits.stop();
      await server.close();
    }
  });
});
