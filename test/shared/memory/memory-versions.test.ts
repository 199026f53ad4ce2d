import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../../shared/adapters/fs-object-store';
import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { StorageError } from '../../../shared/errors';
import { mergeStates } from '../../../shared/memory/facts';
import { HEAD_NAME, MemoryVersions, memoryFolder, versionName } from '../../../shared/memory/memory-versions';
import type { ObjectStore } from '../../../shared/ports';
import { captureLogger } from '../../helpers/capture-logger';
import { guarantee } from '../../helpers/guarantee';
import { mountedBucketStore } from '../../helpers/mounted-bucket';

const BOUNDS = { maxItems: 30, maxBytes: 4096, maxFactChars: 300 };
const merge = mergeStates(BOUNDS);

/**
 * Another run's view of `inner` that stops at the first `get` or `put` `holds` matches until `release()`:
 * a writer paused in the middle of its commit while other runs go on. `reached` resolves once it stopped.
 */
function pausedRun(inner: ObjectStore, holds: (method: 'get' | 'put', key: string) => boolean) {
  let release = (): void => undefined;
  let stopped = (): void => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (stopped = resolve));
  let held = false;
  const pause = async (method: 'get' | 'put', key: string): Promise<void> => {
    if (held || !holds(method, key)) return;
    held = true;
    stopped();
    await gate;
  };
  const store: ObjectStore = {
    description: inner.description,
    list: (prefix, limit) => inner.list(prefix, limit),
    get: async (key) => {
      await pause('get', key);
      return inner.get(key);
    },
    put: async (key, body, options) => {
      await pause('put', key);
      return inner.put(key, body, options);
    },
    deleteMany: (keys) => inner.deleteMany(keys),
  };
  return { store, reached, release };
}

const isHead = (key: string): boolean => key.endsWith(`/${HEAD_NAME}`);

describe('MemoryVersions', () => {
  it('keeps each person under <prefix>memory/<user>/, beside the conversations, with names that list newest first', () => {
    expect(memoryFolder('/history/', '../../etc')).toMatch(/^history\/memory\/etc-[0-9a-f]{24}\/$/);
    expect(memoryFolder('', 'staff01')).toMatch(/^memory\/staff01-[0-9a-f]{24}\/$/);
    expect(versionName(1)).toBe('9999999999998.json');
    expect(versionName(2) < versionName(1)).toBe(true);
  });

  it('reads an empty memory (version 0) for someone it never saw, with one LIST and no GET', async () => {
    const store = new MemoryObjectStore();
    const list = jest.spyOn(store, 'list');
    const get = jest.spyOn(store, 'get');
    expect(await new MemoryVersions(store, 'history/').read('u1')).toEqual({ seq: 0, items: [], learnedUntil: 0 });
    expect(list).toHaveBeenCalledTimes(1);
    expect(get).not.toHaveBeenCalled();
  });

  it('writes each change as a new create-only version and reads the newest with one LIST and one GET', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    const put = jest.spyOn(store, 'put');
    const first = await versions.commit('u1', await versions.read('u1'), { items: ['Likes tea'], learnedUntil: 5 }, merge);
    expect(first).toEqual({ version: { seq: 1, items: ['Likes tea'], learnedUntil: 5 }, written: true, conflicts: 0 });
    expect(put).toHaveBeenCalledWith(`${memoryFolder('history/', 'u1')}${versionName(1)}`, expect.any(Buffer), { ifAbsent: true });
    const stored = JSON.parse(store.objects.get(`${memoryFolder('history/', 'u1')}${versionName(1)}`)?.toString('utf8') ?? '{}') as unknown;
    expect(stored).toEqual({ v: 1, seq: 1, items: ['Likes tea'], learnedUntil: 5 });
    await versions.commit('u1', await versions.read('u1'), { items: ['Likes tea', 'Team payments'], learnedUntil: 6 }, merge);
    const get = jest.spyOn(store, 'get');
    expect(await versions.read('u1')).toEqual({ seq: 2, items: ['Likes tea', 'Team payments'], learnedUntil: 6 });
    expect(get).toHaveBeenCalledTimes(1);
  });

  it('writes nothing when the change is already there', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    const base = await versions.read('u1');
    expect(await versions.commit('u1', base, { items: [], learnedUntil: 0 }, merge)).toEqual({ version: base, written: false, conflicts: 0 });
    expect(store.objects.size).toBe(0);
  });

  it('keeps the eight newest versions and deletes older ones in one request every fourth write, beside the head', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    const deleteMany = jest.spyOn(store, 'deleteMany');
    for (let i = 1; i <= 12; i += 1) await versions.commit('u1', await versions.read('u1'), { items: [`fact ${i}`], learnedUntil: i }, merge);
    const folder = memoryFolder('history/', 'u1');
    expect([...store.objects.keys()].sort()).toEqual([...[12, 11, 10, 9, 8, 7, 6, 5].map((seq) => `${folder}${versionName(seq)}`), `${folder}${HEAD_NAME}`]);
    expect(deleteMany).toHaveBeenCalledTimes(1);
    for (let i = 13; i <= 15; i += 1) await versions.commit('u1', await versions.read('u1'), { items: [`fact ${i}`], learnedUntil: i }, merge);
    expect([...store.objects.keys()].filter((key) => key !== `${folder}${HEAD_NAME}`)).toHaveLength(11);
  });

  it('merges what was written since an old base before writing, so a slow writer never lands in a deleted slot', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    const old = await versions.read('u1');
    // Twelve writes while the slow writer waits (an LLM call): versions 1 to 4 are deleted meanwhile.
    for (let i = 1; i <= 12; i += 1) await versions.commit('u1', await versions.read('u1'), { items: [...(await versions.read('u1')).items, `fact ${i}`], learnedUntil: i }, merge);
    const result = await versions.commit('u1', old, { items: ['slow fact'], learnedUntil: 13 }, merge);
    expect(result?.version.seq).toBe(13);
    expect((await versions.read('u1')).items).toEqual([...Array.from({ length: 12 }, (_, i) => `fact ${i + 1}`), 'slow fact']);
  });

  it('reads the version before an unreadable one and writes above both, saying so in the log', async () => {
    const store = new MemoryObjectStore();
    const { logger, find } = captureLogger();
    const versions = new MemoryVersions(store, 'history/', { logger });
    await versions.commit('u1', await versions.read('u1'), { items: ['Likes tea'], learnedUntil: 1 }, merge);
    store.objects.set(`${memoryFolder('history/', 'u1')}${versionName(2)}`, Buffer.from('{"v":1,"items":'));
    const read = await versions.read('u1');
    expect(read).toEqual({ seq: 2, items: ['Likes tea'], learnedUntil: 1 });
    expect(find('memory.version_unreadable')).toMatchObject({ level: 'warn' });
    expect((await versions.commit('u1', read, { items: ['Likes tea', 'Team payments'], learnedUntil: 2 }, merge))?.version.seq).toBe(3);
  });

  it('keeps each person apart: one person\'s memory is never read for another', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    await versions.commit('alice', await versions.read('alice'), { items: ['Alice likes tea'], learnedUntil: 1 }, merge);
    expect((await versions.read('bob')).items).toEqual([]);
    expect((await versions.read('alice/../bob')).items).toEqual([]);
  });

  it('erases every version of one person only', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    for (const user of ['alice', 'bob']) await versions.commit(user, await versions.read(user), { items: [`${user} fact`], learnedUntil: 1 }, merge);
    expect(await versions.erase('alice')).toBe(2);
    expect((await versions.read('alice')).items).toEqual([]);
    expect(await versions.readHead('alice')).toEqual({ seq: 0, items: [], learnedUntil: 0 });
    expect((await versions.read('bob')).items).toEqual(['bob fact']);
  });
});

describe('MemoryVersions: the head', () => {
  it('reads the facts for a question with one GET and no LIST, and none where nothing was written', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    await versions.commit('u1', await versions.read('u1'), { items: ['Likes tea'], learnedUntil: 5 }, merge);
    const list = jest.spyOn(store, 'list');
    const get = jest.spyOn(store, 'get');
    expect(await versions.readHead('u1')).toEqual({ seq: 1, items: ['Likes tea'], learnedUntil: 5 });
    expect(await versions.readHead('u2')).toEqual({ seq: 0, items: [], learnedUntil: 0 });
    expect(get.mock.calls.map(([key]) => key)).toEqual([`${memoryFolder('history/', 'u1')}${HEAD_NAME}`, `${memoryFolder('history/', 'u2')}${HEAD_NAME}`]);
    expect(list).not.toHaveBeenCalled();
  });

  it('copies each change of the facts into the head after creating its version, with its seq', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    for (const items of [['one'], ['one', 'two'], ['two']]) await versions.commit('u1', await versions.read('u1'), { items, learnedUntil: items.length }, merge);
    expect(await versions.readHead('u1')).toEqual(await versions.read('u1'));
    const head = JSON.parse(store.objects.get(`${memoryFolder('history/', 'u1')}${HEAD_NAME}`)?.toString('utf8') ?? '{}') as unknown;
    expect(head).toEqual({ v: 1, seq: 3, items: ['two'], learnedUntil: 1 });
  });

  it('leaves the head alone when a commit changes no fact (only what was learned from), since a question reads the same', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    await versions.commit('u1', await versions.read('u1'), { items: ['one'], learnedUntil: 1 }, merge);
    const put = jest.spyOn(store, 'put');
    await versions.commit('u1', await versions.read('u1'), { items: ['one'], learnedUntil: 2 }, merge);
    expect(put.mock.calls.map(([key]) => isHead(key))).toEqual([false]);
    expect((await versions.readHead('u1')).items).toEqual(['one']);
    // No facts yet and none learned: no head is needed either.
    await versions.commit('u2', await versions.read('u2'), { items: [], learnedUntil: 1 }, merge);
    expect(store.objects.has(`${memoryFolder('history/', 'u2')}${HEAD_NAME}`)).toBe(false);
  });

  it('never writes a head older than the one there: a writer that reads a newer head leaves it', async () => {
    const inner = new MemoryObjectStore();
    const slow = pausedRun(inner, (method, key) => method === 'get' && isHead(key));
    const puts = jest.spyOn(inner, 'put');
    const writing = new MemoryVersions(slow.store, 'history/').commit('u1', { seq: 0, items: [], learnedUntil: 0 }, { items: ['one'], learnedUntil: 1 }, merge);
    await slow.reached;
    // Version 1 is written; its writer stopped before reading the head. Another run writes version 2 and its head.
    const other = new MemoryVersions(inner, 'history/');
    await other.commit('u1', await other.read('u1'), { items: ['one', 'two'], learnedUntil: 2 }, merge);
    slow.release();
    expect((await writing)?.version.seq).toBe(1);
    expect(puts.mock.calls.filter(([key]) => isHead(key))).toHaveLength(1);
    expect(await other.readHead('u1')).toEqual({ seq: 2, items: ['one', 'two'], learnedUntil: 2 });
  });

  it('puts the newest version back into the head when a slower writer\'s head write landed after it', async () => {
    const inner = new MemoryObjectStore();
    const slow = pausedRun(inner, (method, key) => method === 'put' && isHead(key));
    const writing = new MemoryVersions(slow.store, 'history/').commit('u1', { seq: 0, items: [], learnedUntil: 0 }, { items: ['one'], learnedUntil: 1 }, merge);
    await slow.reached;
    // The slow writer read no head and is about to write version 1's; meanwhile version 2 and its head are written.
    const other = new MemoryVersions(inner, 'history/');
    await other.commit('u1', await other.read('u1'), { items: ['one', 'two'], learnedUntil: 2 }, merge);
    expect((await other.readHead('u1')).seq).toBe(2);
    slow.release();
    await writing;
    expect(await other.readHead('u1')).toEqual({ seq: 2, items: ['one', 'two'], learnedUntil: 2 });
  });

  it('keeps a commit whose head write failed, logs it, and the next commit brings the head up to date', async () => {
    const inner = new MemoryObjectStore();
    const { logger, find } = captureLogger();
    let failures = 1;
    const store: ObjectStore = {
      description: inner.description,
      list: (prefix, limit) => inner.list(prefix, limit),
      get: (key) => inner.get(key),
      put: async (key, body, options) => {
        if (isHead(key) && failures > 0) {
          failures -= 1;
          throw new StorageError('write', 'the head could not be written');
        }
        return inner.put(key, body, options);
      },
      deleteMany: (keys) => inner.deleteMany(keys),
    };
    const versions = new MemoryVersions(store, 'history/', { logger });
    expect(await versions.commit('u1', await versions.read('u1'), { items: ['one'], learnedUntil: 1 }, merge)).toMatchObject({ written: true, version: { seq: 1 } });
    expect(find('memory.head_failed')).toMatchObject({ level: 'warn' });
    expect((await versions.readHead('u1')).items).toEqual([]);
    await versions.commit('u1', await versions.read('u1'), { items: ['one', 'two'], learnedUntil: 2 }, merge);
    expect(await versions.readHead('u1')).toEqual(await versions.read('u1'));
  });

  it('reads the versions instead of a damaged head, saying so in the log', async () => {
    const store = new MemoryObjectStore();
    const { logger, find } = captureLogger();
    const versions = new MemoryVersions(store, 'history/', { logger });
    await versions.commit('u1', await versions.read('u1'), { items: ['Likes tea'], learnedUntil: 1 }, merge);
    store.objects.set(`${memoryFolder('history/', 'u1')}${HEAD_NAME}`, Buffer.from('{"v":1,"items":'));
    expect((await versions.readHead('u1')).items).toEqual(['Likes tea']);
    expect(find('memory.head_unreadable')).toMatchObject({ level: 'warn' });
  });
});

describe(guarantee('No lost history'), () => {
  const folders: string[] = [];
  const tempFolder = (): string => {
    const folder = mkdtempSync(path.join(tmpdir(), 'memory-versions-'));
    folders.push(folder);
    return folder;
  };
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });
  const stores: Array<[string, () => ObjectStore]> = [
    ['memory', () => new MemoryObjectStore()],
    ['filesystem', () => createFsObjectStore(tempFolder())],
    ['filesystem without hard links, with slow writes', () => mountedBucketStore(tempFolder(), 10)],
  ];

  it.each(stores)('ten concurrent writers of one person on the %s store each keep their fact: conflicts are merged, never overwritten', async (_name, make) => {
    const versions = new MemoryVersions(make(), 'history/');
    const base = await versions.read('u1');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => versions.commit('u1', base, { items: [`fact ${i}`], learnedUntil: i + 1 }, merge)),
    );
    expect(results.every((result) => result?.written === true)).toBe(true);
    expect(results.reduce((sum, result) => sum + (result?.conflicts ?? 0), 0)).toBeGreaterThan(0);
    const final = await versions.read('u1');
    expect([...final.items].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `fact ${i}`).sort());
    expect(final.learnedUntil).toBe(10);
    expect(final.seq).toBe(10);
    // The head a question reads has caught up with the newest version.
    expect((await versions.readHead('u1')).items).toEqual(final.items);
  });
});
