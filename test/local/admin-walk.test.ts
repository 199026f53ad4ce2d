/**
 * The admin's listing of a whole prefix: over a store that lists one page of keys with no "start after"
 * (split prefixes), and over a HISTORY_DIR folder (files only, temporary files and empty folders left out).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { createFsObjectStore } from '../../shared/adapters/fs-object-store';
import { MemoryObjectStore } from '../../shared/adapters/memory-object-store';
import { folderWalker, prefixWalker } from '../../local/admin-walk';

const byteOrder = (keys: Iterable<string>): string[] => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('prefixWalker', () => {
  it('finds every key under the prefix, however small a listing is', async () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,6}$/).filter((value) => value !== '.' && value !== '..');
    const key = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => `history/${parts.join('/')}`);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(key, { maxLength: 40 }), fc.integer({ min: 2, max: 6 }), async (keys, page) => {
        const store = new MemoryObjectStore();
        for (const item of keys) store.objects.set(item, Buffer.alloc(0));
        store.objects.set('elsewhere/x', Buffer.alloc(0));
        // Keys that are also another key's folder (`history/a` and `history/a/b`) are found too.
        await expect(prefixWalker(store, page).keys('history/')).resolves.toEqual(byteOrder(keys));
      }),
      { numRuns: 60 },
    );
  });

  it('reports progress as keys are found', async () => {
    const store = new MemoryObjectStore();
    for (let index = 0; index < 30; index += 1) store.objects.set(`history/c/u/${String(index).padStart(3, '0')}.json`, Buffer.alloc(0));
    const seen: number[] = [];
    const keys = await prefixWalker(store, 4).keys('history/', (found) => seen.push(found));
    expect(keys).toHaveLength(30);
    expect(seen.length).toBeGreaterThan(1);
    expect(Math.max(...seen)).toBe(30);
  });
});

describe('folderWalker', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'admin-walk-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the files written through the filesystem store, not folders or temporary files', async () => {
    const store = createFsObjectStore(dir);
    await store.put('history/conv/user/0001-a.json', Buffer.from('{}'));
    await store.put('history/usage/user/2024-11-19/0001-m', Buffer.alloc(0));
    await store.put('history/settings/conv.json', Buffer.from('{}'));
    mkdirSync(path.join(dir, 'history', 'empty', 'folder'), { recursive: true });
    writeFileSync(path.join(dir, 'history', 'conv', 'user', '.tmp-0123'), 'partial');
    await expect(folderWalker(dir).keys('history/')).resolves.toEqual(['history/conv/user/0001-a.json', 'history/settings/conv.json', 'history/usage/user/2024-11-19/0001-m']);
    await expect(folderWalker(dir).keys('history/usage/')).resolves.toEqual(['history/usage/user/2024-11-19/0001-m']);
    await expect(folderWalker(dir).keys('history/s')).resolves.toEqual(['history/settings/conv.json']);
    await expect(folderWalker(dir).keys('nothing-here/')).resolves.toEqual([]);
  });
});
