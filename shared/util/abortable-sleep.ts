/** A wait that a signal can cut short; injected so tests can wait without real time. */
export type AbortableSleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Resolves after `ms` milliseconds, or rejects with the signal's reason as soon as `signal` aborts (at once
 * when it already has). The timer is cleared on abort, so nothing is left pending.
 */
export const abortableSleep: AbortableSleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * `promise`'s outcome, or a rejection with the signal's reason as soon as `signal` aborts first. The promise
 * itself is not cancelled (its later rejection is ignored).
 */
export function raceSignal<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
