/**
 * The error of type `type` that `run` throws. Fails the test when `run` returns, or throws anything
 * else (that error is rethrown as is, so its stack shows where it came from).
 */
export function thrown<E extends Error>(type: abstract new (...args: never[]) => E, run: () => unknown): E {
  try {
    run();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected ${type.name} to be thrown`);
}
