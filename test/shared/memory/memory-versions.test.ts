import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { open, type FileHandle } from 'node:fs/promises';
import { createFsObjectStore, type FsOperations } from '../../../shared/adapters/fs-object-store';
import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import { mergeStates } from '../../../shared/memory/facts';
import { MemoryVersions, memoryFolder, versionName } from '../../../shared/memory/memory-versions';
import type { ObjectStore } from '../../../shared/ports';
import { captureLogger } from '../../helpers/capture-logger';
import { guarantee } from '../../helpers/guarantee';

const BOUNDS = { maxItems: 30, maxBytes: 4096, maxFactChars: 300 };
const merge = mergeStates(BOUNDS);

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

  it('keeps the eight newest versions and deletes older ones as it writes', async () => {
    const store = new MemoryObjectStore();
    const versions = new MemoryVersions(store, 'history/');
    for (let i = 1; i <= 12; i += 1) await versions.commit('u1', await versions.read('u1'), { items: [`fact ${i}`], learnedUntil: i }, merge);
    const folder = memoryFolder('history/', 'u1');
    expect([...store.objects.keys()].sort()).toEqual([12, 11, 10, 9, 8, 7, 6, 5].map((seq) => `${folder}${versionName(seq)}`));
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
    expect(await versions.erase('alice')).toBe(1);
    expect((await versions.read('alice')).items).toEqual([]);
    expect((await versions.read('bob')).items).toEqual(['bob fact']);
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
  /** `link` as a filesystem without hard links (an OSS mount) answers it. */
  const noLinks: FsOperations['link'] = () => Promise.reject(Object.assign(new Error('operation not permitted'), { code: 'EPERM' }));
  /** `open` whose handles wait a little before each write, so a created file shows empty for a while, as on a mount. */
  const slowOpen = (async (file: Parameters<typeof open>[0], flags?: Parameters<typeof open>[1]) => {
    const handle = await open(file, flags);
    return new Proxy(handle, {
      get(target, property) {
        if (property === 'writeFile') {
          return async (...args: Parameters<FileHandle['writeFile']>) => {
            await new Promise((resolve) => setTimeout(resolve, 10));
            return target.writeFile(...args);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }) as FsOperations['open'];
  const stores: Array<[string, () => ObjectStore]> = [
    ['memory', () => new MemoryObjectStore()],
    ['filesystem', () => createFsObjectStore(tempFolder())],
    ['filesystem without hard links, with slow writes', () => createFsObjectStore(tempFolder(), { fs: { link: noLinks, open: slowOpen } })],
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
  });
});
