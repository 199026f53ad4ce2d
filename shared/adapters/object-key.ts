import { StorageError, type StorageOperation } from '../errors';

/**
 * A segment no store may accept: empty (`a//b`, a leading or trailing `/`), `.` or `..`, or one holding a
 * backslash or NUL. The core builds keys from sanitized segments; this is the stores' second line of
 * defence, shared so that every store refuses exactly the same keys (the contract tests check it).
 */
function unsafeSegment(segment: string): boolean {
  return segment === '' || segment === '.' || segment === '..' || /[\\\0]/.test(segment);
}

/** Throws `StorageError` for a key that could escape the store's root or prefix (see `unsafeSegment`). */
export function assertSafeKey(key: string, operation: StorageOperation): void {
  if (key.split('/').some(unsafeSegment)) {
    throw new StorageError(operation, `refused key outside the history prefix: ${JSON.stringify(key.slice(0, 200))}`);
  }
}

/**
 * Throws `StorageError` for a listing prefix that could escape: the same rules as keys, except that the
 * prefix may be empty (everything) or end with `/` (a folder).
 */
export function assertSafePrefix(prefix: string): void {
  if (prefix === '') return;
  assertSafeKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, 'list');
}
