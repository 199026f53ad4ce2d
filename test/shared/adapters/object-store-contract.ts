import { StorageError } from '../../../shared/errors';
import type { ObjectStore } from '../../../shared/ports';
import { guarantee } from '../../helpers/guarantee';

/** One store under test, fresh and empty, with what the contract needs around it. */
export interface StoreUnderTest {
  store: ObjectStore;
  /** Values that must never appear in the description or an error message (secrets). */
  secrets: readonly string[];
  cleanup: () => Promise<void>;
}

/** Every byte value, so a store that decodes bodies as text is caught. */
const BINARY = Buffer.from(Array.from({ length: 256 }, (_unused, index) => index));

/** Names in the insertion order below and in UTF-8 byte order (which differs from UTF-16 and locale order). */
const NAMES_IN_BYTE_ORDER = ['B', 'a', 'a-1', 'a.json', 'a_b', 'z', '~', 'é', '中', '😀'];

/** Keys that would escape a store's root or prefix: every store must refuse them. */
const ESCAPING_KEYS = ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'a/..', 'a\\..\\b', 'a/\0b'];

/** The StorageError `work` rejects with; fails the test when it resolves or rejects with anything else. */
async function storageError(work: () => Promise<unknown>): Promise<StorageError> {
  const outcome = await work().then(
    () => new Error('expected a StorageError, but the call succeeded'),
    (error: unknown) => error,
  );
  if (outcome instanceof StorageError) return outcome;
  throw outcome;
}

/**
 * The behaviour every `ObjectStore` shares (memory, filesystem, OSS, S3), so they cannot drift apart:
 * history and claims rely on each of these points. `makeStore` gives a fresh, empty store per test;
 * `makeBroken`, the same kind of store against a backend that refuses it (a wrong secret, a root that
 * is a file), checks that failures surface as `StorageError` (the memory store has no backend to fail).
 */
export function describeObjectStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  makeBroken?: () => Promise<StoreUnderTest>,
): void {
  describe(guarantee('History stores agree (contract)'), () => {
    describe(`${name} store`, () => {
      let subject: StoreUnderTest;
      let store: ObjectStore;
      beforeEach(async () => {
        subject = await makeStore();
        store = subject.store;
      });
      afterEach(() => subject.cleanup());

      it('returns exactly the bytes it stored: binary, empty, and under unicode and space-holding keys', async () => {
        const bodies = new Map<string, Buffer>([
          ['rt/binary.bin', BINARY],
          ['rt/empty.json', Buffer.alloc(0)],
          ['rt/中文 ü😀.json', Buffer.from('{"text":"你好"}', 'utf8')],
          ['rt/a+b %20=&.json', Buffer.from('plus, space, percent')],
        ]);
        for (const [key, body] of bodies) expect(await store.put(key, body)).toBe(true);
        for (const [key, body] of bodies) {
          const read = await store.get(key);
          expect(Buffer.isBuffer(read)).toBe(true);
          expect(read?.equals(body)).toBe(true);
        }
        expect(await store.list('rt/', 10)).toEqual([...bodies.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      });

      it('answers undefined for a key that does not exist, also under a prefix that does not', async () => {
        await store.put('present/one.json', Buffer.from('1'));
        expect(await store.get('present/two.json')).toBeUndefined();
        expect(await store.get('absent/folder/one.json')).toBeUndefined();
      });

      it('lists keys in ascending UTF-8 byte order, at most `limit` of them', async () => {
        const shuffled = [...NAMES_IN_BYTE_ORDER].reverse();
        for (const item of shuffled) await store.put(`order/${item}`, Buffer.from(item));
        const expected = NAMES_IN_BYTE_ORDER.map((item) => `order/${item}`);
        expect(await store.list('order/', 100)).toEqual(expected);
        expect(await store.list('order/', 3)).toEqual(expected.slice(0, 3));
        expect(await store.list('order/', 1)).toEqual(expected.slice(0, 1));
      });

      it('lists only keys under the prefix: `a/` never lists `ab/x`, and a partial name matches by prefix', async () => {
        for (const key of ['iso/a/1', 'iso/a/2', 'iso/ab/1', 'iso/a-b/1', 'iso/b/1', 'isolated/a/1']) await store.put(key, Buffer.from(key));
        expect(await store.list('iso/a/', 10)).toEqual(['iso/a/1', 'iso/a/2']);
        expect(await store.list('iso/b/', 10)).toEqual(['iso/b/1']);
        expect(await store.list('iso/none/', 10)).toEqual([]);
        for (const key of ['part/x-1', 'part/x-2', 'part/y-1']) await store.put(key, Buffer.from(key));
        expect(await store.list('part/x-', 10)).toEqual(['part/x-1', 'part/x-2']);
      });

      it('creates only once with ifAbsent, while a plain put overwrites', async () => {
        expect(await store.put('claim/k', Buffer.from('first'), { ifAbsent: true })).toBe(true);
        expect(await store.put('claim/k', Buffer.from('second'), { ifAbsent: true })).toBe(false);
        expect((await store.get('claim/k'))?.toString()).toBe('first');
        expect(await store.put('claim/k', Buffer.from('third'))).toBe(true);
        expect((await store.get('claim/k'))?.toString()).toBe('third');
        expect(await store.put('claim/k', Buffer.from('fourth'), { ifAbsent: true })).toBe(false);
        expect((await store.get('claim/k'))?.toString()).toBe('third');
        expect(await store.list('claim/', 10)).toEqual(['claim/k']);
      });

      it('lets exactly one of several concurrent ifAbsent puts of one key win, and keeps its body', async () => {
        const bodies = Array.from({ length: 8 }, (_unused, index) => Buffer.from(`writer-${index}`));
        const results = await Promise.all(bodies.map((body) => store.put('race/claim', body, { ifAbsent: true })));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = bodies[results.indexOf(true)];
        expect((await store.get('race/claim'))?.equals(winner as Buffer)).toBe(true);
      });

      it('deletes the keys named, and takes missing keys and an empty list in its stride', async () => {
        for (const key of ['del/1', 'del/2', 'del/3']) await store.put(key, Buffer.from(key));
        await store.deleteMany(['del/1', 'del/3', 'del/never', 'nowhere/at/all']);
        await store.deleteMany([]);
        expect(await store.list('del/', 10)).toEqual(['del/2']);
        expect(await store.get('del/1')).toBeUndefined();
      });

      it('deletes more than 1000 keys in one call, in every batch a store may split them into', async () => {
        const keys = Array.from({ length: 2003 }, (_unused, index) => `bulk/${String(index).padStart(5, '0')}`);
        // Objects at both ends of each possible 1000-key batch; the other names do not exist.
        const stored = [0, 1, 998, 999, 1000, 1001, 1999, 2000, 2002].map((index) => keys[index] as string);
        for (const key of stored) await store.put(key, Buffer.from('x'));
        await store.put('bulk-kept/1', Buffer.from('kept'));
        await store.deleteMany(keys);
        expect(await store.list('bulk/', 1000)).toEqual([]);
        expect(await store.list('bulk-kept/', 10)).toEqual(['bulk-kept/1']);
      });

      it.each(ESCAPING_KEYS)('refuses the escaping key %j for every operation, with a StorageError', async (key) => {
        await storageError(() => store.put(key, Buffer.from('x')));
        await storageError(() => store.put(key, Buffer.from('x'), { ifAbsent: true }));
        await storageError(() => store.get(key));
        await storageError(() => store.deleteMany(['fine/key', key]));
        await storageError(() => store.list(`${key}/`, 10));
      });

      if (makeBroken !== undefined) {
        it('reports a failing backend as StorageError with the operation, and without secrets', async () => {
          const broken = await makeBroken();
          try {
            const errors = [
              await storageError(() => broken.store.put('fail/k', Buffer.from('x'))),
              await storageError(() => broken.store.get('fail/k')),
              await storageError(() => broken.store.deleteMany(['fail/k'])),
            ];
            expect(errors.map((error) => error.operation)).toEqual(['write', 'read', 'delete']);
            // A listing may fail or find nothing (a folder store reads a missing folder as empty).
            const listed = await broken.store.list('fail/', 10).catch((error: unknown) => error);
            if (Array.isArray(listed)) expect(listed).toEqual([]);
            else expect(listed).toBeInstanceOf(StorageError);
            const texts = [...errors.map((error) => error.message), store.description, broken.store.description];
            for (const secret of [...subject.secrets, ...broken.secrets]) {
              for (const text of texts) expect(text).not.toContain(secret);
            }
            expect(store.description).not.toBe('');
          } finally {
            await broken.cleanup();
          }
        });
      }
    });
  });
}
