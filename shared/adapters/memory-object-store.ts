import type { ObjectStore } from '../ports';
import { assertSafeKey, assertSafePrefix } from './object-key';

/**
 * Objects in a Map: for unit tests of the core and for measuring the history logic without I/O.
 * Behaves like the other stores (byte-ordered listing, create-only writes, refused escaping keys).
 */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  readonly description = 'memory';

  async list(prefix: string, limit: number): Promise<string[]> {
    assertSafePrefix(prefix);
    return [...this.objects.keys()]
      .filter((key) => key.startsWith(prefix))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .slice(0, limit);
  }

  async get(key: string): Promise<Buffer | undefined> {
    assertSafeKey(key, 'read');
    const body = this.objects.get(key);
    return body === undefined ? undefined : Buffer.from(body);
  }

  async put(key: string, body: Buffer, options?: { ifAbsent?: boolean }): Promise<boolean> {
    assertSafeKey(key, 'write');
    if (options?.ifAbsent && this.objects.has(key)) return false;
    this.objects.set(key, Buffer.from(body));
    return true;
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertSafeKey(key, 'delete');
    for (const key of keys) this.objects.delete(key);
  }
}
