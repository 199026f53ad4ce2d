import { abortableSleep, raceSignal } from '../../../shared/util/abortable-sleep';
import { isRecord } from '../../../shared/util/is-record';

describe('abortableSleep', () => {
  it('rejects with the signal\'s reason at once when the signal aborts, and at once when it already has', async () => {
    const controller = new AbortController();
    const waiting = abortableSleep(600_000, controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    await expect(abortableSleep(600_000, controller.signal)).rejects.toThrow('deadline');
  });

  it('waits the given time without a signal', async () => {
    await expect(abortableSleep(1)).resolves.toBeUndefined();
  });
});

describe('raceSignal', () => {
  it('settles like the promise, or rejects when the signal aborts first, leaving the promise to others', async () => {
    await expect(raceSignal(Promise.resolve(1), new AbortController().signal)).resolves.toBe(1);
    const controller = new AbortController();
    let finish: (value: number) => void = () => undefined;
    const shared = new Promise<number>((resolve) => {
      finish = resolve;
    });
    const raced = raceSignal(shared, controller.signal);
    controller.abort(new Error('gone'));
    await expect(raced).rejects.toThrow('gone');
    finish(2);
    await expect(shared).resolves.toBe(2);
  });
});

describe('isRecord', () => {
  it.each<[unknown, boolean]>([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ['x', false],
    [1, false],
  ])('tells a plain object: %j → %s', (value, expected) => {
    expect(isRecord(value)).toBe(expected);
  });
});
